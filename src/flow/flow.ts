import type { StreamSink, DirectionStream } from './reassembly.js';

/** Direction within a flow: 0 = initiator → responder, 1 = responder → initiator. */
export type Dir = 0 | 1;

export interface TcpState {
  /** SYN (without ACK) seen from the initiator. */
  synSeen: boolean;
  synFrame: number;
  /** SYNs beyond the first with the same ISN (the peer never answered in time). */
  synRetransmissions: number;
  synAckSeen: boolean;
  synAckFrame: number;
  /** RST seen, and from which side, in answer to the SYN or later. */
  rstFrom: Dir | -1;
  rstFrame: number;
  /** Final ACK of the three-way handshake seen. */
  handshakeComplete: boolean;
  finFrom: [boolean, boolean];
  isn: [number, number];
  /** First sequence number seen per direction (the ISN, or the first segment's when joined mid-stream). */
  baseSeq: [number, number];
  /** Sequence number after the highest byte seen per direction (SYN included, FIN not), -1 until known. */
  nextSeq: [number, number];
}

export interface IcmpErrorRef {
  frame: number;
  ts: number;
  /** Who sent the ICMP error (a router or the destination). */
  reporter: string;
  type: number;
  code: number;
  version: 4 | 6;
}

/** Something that wants the reassembled bytes of a TCP flow (FTP, TLS, data-channel counters). */
export interface StreamConsumer {
  readonly name: string;
  data(dir: Dir, bytes: Buffer, offset: number, frameNo: number, ts: number): void;
  gap(dir: Dir, offset: number, length: number, frameNo: number): void;
  /** The flow ended (FIN/RST, expiry or end of capture). */
  end(flow: Flow): void;
}

export interface Flow {
  /** 0-based, in order of first packet, unique within a capture (like Wireshark's tcp.stream, across protocols). */
  index: number;
  /** The direction-independent text key (flowKey) of flows filed by it; '' for those filed by `numKey`. */
  key: string;
  /** IPv4 flows: the endpoint addresses as numbers and the hash they are filed under (-1 when filed by `key`). */
  srcNum: number;
  dstNum: number;
  numKey: number;
  protocol: number;
  /** Initiator: the SYN sender for TCP, else the first packet's source. */
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  firstTs: number;
  lastTs: number;
  firstFrame: number;
  lastFrame: number;
  packets: [number, number];
  /** Frame bytes (original lengths), per direction, as Wireshark's conversation table counts them. */
  bytes: [number, number];
  /** Transport payload bytes per direction (captured). */
  payloadBytes: [number, number];
  tcp: TcpState | null;
  icmpErrors: IcmpErrorRef[];
  communityId: string;
  /** Application protocol label set by analyzers ('ftp', 'ftp-data', 'tls', ...). */
  app: string | null;
  consumers: StreamConsumer[];
  /** Reassemblers, created when the first consumer attaches. */
  streams: [DirectionStream, DirectionStream] | null;
  sinks: [StreamSink, StreamSink] | null;
  /** First payload of each direction already offered to protocol detectors. */
  detected: [boolean, boolean];
  ended: boolean;
}

/** A TCP connection both sides closed with FIN, or one side reset. */
export function tcpClosed(f: Flow): boolean {
  const t = f.tcp;
  return t !== null && (t.rstFrom !== -1 || (t.finFrom[0] && t.finFrom[1]));
}

export function flowState(f: Flow): string {
  const t = f.tcp;
  if (!t) return 'seen';
  // Rejected: the responder answered our SYN with a RST. A RST on a flow joined mid-stream, or
  // from the initiator itself, resets a connection nobody refused.
  if (t.synSeen && t.rstFrom === 1 && !t.synAckSeen) return 'rejected';
  if (t.synSeen && !t.synAckSeen && t.rstFrom === -1) return f.packets[1] === 0 ? 'syn-unanswered' : 'syn-no-synack';
  if (t.rstFrom !== -1) return 'reset';
  if (t.finFrom[0] || t.finFrom[1]) return 'closed';
  if (t.handshakeComplete || t.synAckSeen) return 'established';
  return 'midstream';
}
