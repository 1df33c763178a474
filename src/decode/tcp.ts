import { malformed, type Malformed } from './malformed.js';
import { u16be, u32be } from './bytes.js';

export const TCP_FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export interface TcpHeader {
  kind: 'tcp';
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  headerLength: number;
  payloadOffset: number;
  /** Captured payload bytes. */
  payloadLength: number;
  /** Payload bytes the IP header declares (Wireshark's tcp.len); more than payloadLength when the snaplen cut the segment. */
  segmentLength: number;
}

/** `end` is where the IP payload ends within the captured bytes, `declaredEnd` where the IP header says it ends. */
export function decodeTcp(b: Buffer, off: number, end: number, declaredEnd = end): TcpHeader | Malformed {
  if (end < off + 20) return malformed('tcp', off, `TCP header needs 20 bytes, ${Math.max(0, end - off)} captured`);
  const hl = (b[off + 12] >> 4) * 4;
  if (hl < 20) return malformed('tcp', off + 12, `TCP header length ${hl} below 20`);
  // Options cut by the snaplen or a lying data offset: keep ports and flags (Wireshark does too).
  const hdrEnd = Math.min(off + hl, end);
  return {
    kind: 'tcp',
    srcPort: u16be(b, off),
    dstPort: u16be(b, off + 2),
    seq: u32be(b, off + 4),
    ack: u32be(b, off + 8),
    flags: b[off + 13],
    window: u16be(b, off + 14),
    headerLength: hl,
    payloadOffset: hdrEnd,
    payloadLength: end - hdrEnd,
    segmentLength: Math.max(0, Math.max(end, declaredEnd) - off - hl),
  };
}

export interface TcpOptions {
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  sack?: Array<[number, number]>;
  timestamp?: [number, number];
  /** Kinds seen, in order (for fingerprints and diagnostics). */
  kinds: number[];
}

/** TCP options of a header decoded by decodeTcp (RFC 9293 §3.2, RFC 7323, RFC 2018). */
export function decodeTcpOptions(b: Buffer, tcpOff: number, headerLength: number): TcpOptions | Malformed {
  const out: TcpOptions = { kinds: [] };
  let p = tcpOff + 20;
  const hdrEnd = tcpOff + headerLength;
  // A snaplen may cut the options: an option reaching past the captured bytes is malformed,
  // never read (reading it would throw or yield undefined kinds).
  const end = Math.min(hdrEnd, b.length);
  while (p < end) {
    const kind = b[p];
    out.kinds.push(kind);
    if (kind === 0) break;
    if (kind === 1) { p++; continue; }
    if (p + 1 >= end) return malformed('tcp.options', p, end < hdrEnd ? `option ${kind} cut short by the capture` : 'option length missing');
    const len = b[p + 1];
    if (len < 2 || p + len > hdrEnd) return malformed('tcp.options', p, `option ${kind} has bad length ${len}`);
    if (p + len > end) return malformed('tcp.options', p, `option ${kind} cut short by the capture`);
    if (kind === 2 && len === 4) out.mss = b.readUInt16BE(p + 2);
    else if (kind === 3 && len === 3) out.windowScale = b[p + 2];
    else if (kind === 4) out.sackPermitted = true;
    else if (kind === 5) {
      out.sack = [];
      for (let q = p + 2; q + 8 <= p + len; q += 8) out.sack.push([b.readUInt32BE(q), b.readUInt32BE(q + 4)]);
    } else if (kind === 8 && len === 10) out.timestamp = [b.readUInt32BE(p + 2), b.readUInt32BE(p + 6)];
    p += len;
  }
  return out;
}
