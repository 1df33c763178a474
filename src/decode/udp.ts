import { malformed, type Malformed } from './malformed.js';

export interface UdpHeader {
  kind: 'udp';
  srcPort: number;
  dstPort: number;
  length: number;
  payloadOffset: number;
  payloadLength: number;
}

export function decodeUdp(b: Buffer, off: number, end: number): UdpHeader | Malformed {
  if (end < off + 8) return malformed('udp', off, `UDP header needs 8 bytes, ${Math.max(0, end - off)} captured`);
  const length = b.readUInt16BE(off + 4);
  if (length !== 0 && length < 8) return malformed('udp', off + 4, `UDP length ${length} below 8`);
  const payloadEnd = length === 0 ? end : Math.min(end, off + length);
  return { kind: 'udp', srcPort: b.readUInt16BE(off), dstPort: b.readUInt16BE(off + 2), length, payloadOffset: off + 8, payloadLength: payloadEnd - off - 8 };
}
