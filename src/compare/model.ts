/**
 * What `compare` reads back from SQLite for each of the two captures: FTP sessions with their
 * commands and data-channel announcements, and every TCP/UDP flow. Plain records; timestamps
 * are µs since the epoch, frames are the capture's own (1-based, Wireshark's numbering).
 */

/** Which vantage point a capture was taken at: the router's interface facing the private side, or the other one. */
export type Side = 'inside' | 'outside';

export function otherSide(s: Side): Side {
  return s === 'inside' ? 'outside' : 'inside';
}

export interface FlowRecord {
  capture: number;
  /** The flow's index in its capture (tcp.stream order). */
  index: number;
  protocol: number;
  /** The initiator (SYN sender, else first sender) and the responder. */
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  firstTs: number;
  lastTs: number;
  firstFrame: number;
  lastFrame: number;
  /** Packets initiator→responder and responder→initiator. */
  packets: [number, number];
  state: string;
  synFrame: number | null;
  synRetransmissions: number;
  /** TCP: the responder answered a SYN with SYN-ACK. */
  synAckSeen: boolean;
}

export interface CommandRecord {
  seq: number;
  verb: string;
  frame: number;
  ts: number;
  replyCode: number | null;
  replyFrame: number | null;
  replyTs: number | null;
}

export interface ChannelRecord {
  id: number;
  kind: string;
  mode: 'passive' | 'active';
  /** The announcement's frame: the 227/229 reply for passive mode, the PORT/EPRT command for active mode. */
  frame: number;
  ts: number;
  announcedIp: string;
  announcedPort: number;
  /** The announcement line's text (reply text without the code, or the command's argument). */
  text: string;
  /** seq of the PASV/EPSV or PORT/EPRT command. */
  command: number | null;
  via: string;
  outcome: string;
  /** Flow indexes of the data connections tied to this announcement, in order. */
  connections: number[];
}

export interface SessionRecord {
  capture: number;
  /** The control connection's flow index: the session's key. */
  flow: number;
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  firstFrame: number;
  lastFrame: number;
  firstTs: number;
  lastTs: number;
  greetingCode: number | null;
  tlsMode: string;
  commandCount: number;
  commands: CommandRecord[];
  channels: ChannelRecord[];
}

export interface CaptureView {
  id: number;
  file: string;
  name: string;
  sha256: string;
  frames: number;
  firstTs: number | null;
  lastTs: number | null;
  sessions: SessionRecord[];
  /** TCP and UDP flows (ICMP is left out: its errors are already tied to the flows they quote). */
  flows: FlowRecord[];
}

export function endpointText(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function protocolName(p: number): string {
  return p === 6 ? 'tcp' : p === 17 ? 'udp' : `ip-proto-${p}`;
}
