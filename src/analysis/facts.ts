/** Facts: plain records analyzers emit, the store writes and the rules read. */

export interface CaptureFact {
  file: string;
  name: string;
  sha256: string;
  format: 'pcap' | 'pcapng';
  compressed: boolean;
  linkTypes: number[];
  frames: number;
  bytes: number;
  firstTs: number | null;
  lastTs: number | null;
  damaged: boolean;
}

export interface WarningFact {
  /** Byte offset in the (decompressed) input, or -1 when the warning is not about a position. */
  offset: number;
  frame: number | null;
  message: string;
}

export interface HostFact {
  ip: string;
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  flows: number;
  firstTs: number;
  lastTs: number;
}

export interface ProtocolCount {
  /** Transport protocol name with the application label when known, e.g. 'tcp/ftp', 'udp'. */
  protocol: string;
  flows: number;
  packets: number;
  bytes: number;
}

/** Decode statistics: what was seen and what was not understood (nothing silently dropped). */
export interface DecodeStats {
  frames: number;
  bytes: number;
  linkTypes: Record<string, number>;
  unknownLinkTypes: Record<string, number>;
  etherTypes: Record<string, number>;
  ipv4: number;
  ipv6: number;
  arp: number;
  tcp: number;
  udp: number;
  icmp: number;
  igmp: number;
  otherIp: number;
  fragments: number;
  malformed: Record<string, number>;
  /** Frames cut by the snaplen before their transport header ended. */
  truncatedHeaders: number;
  flows: number;
  peakConcurrentFlows: number;
  reassemblyCapHits: number;
  /** pcapng custom blocks (numbered as frames, like Wireshark does). */
  customBlocks: number;
}

export function emptyStats(): DecodeStats {
  return {
    frames: 0, bytes: 0, linkTypes: {}, unknownLinkTypes: {}, etherTypes: {}, ipv4: 0, ipv6: 0, arp: 0,
    tcp: 0, udp: 0, icmp: 0, igmp: 0, otherIp: 0, fragments: 0, malformed: {}, truncatedHeaders: 0,
    flows: 0, peakConcurrentFlows: 0, reassemblyCapHits: 0, customBlocks: 0,
  };
}
