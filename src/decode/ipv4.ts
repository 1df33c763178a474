import { ipv4Text } from './addr.js';
import { malformed, type Malformed } from './malformed.js';

export interface Ipv4Header {
  kind: 'ipv4';
  src: string;
  dst: string;
  /** The addresses as unsigned 32-bit numbers (cheap keys for the flow table). */
  srcNum: number;
  dstNum: number;
  protocol: number;
  ttl: number;
  id: number;
  headerLength: number;
  totalLength: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** Fragment offset in bytes. */
  fragmentOffset: number;
  /** Offset of the transport header in the frame. */
  payloadOffset: number;
  /** End of the IP payload within the captured bytes (min of total length and caplen). */
  payloadEnd: number;
  /** End of the datagram as its header declares it (may lie beyond the captured bytes). */
  declaredEnd: number;
  /** Raw options bytes (offset, length), present when the header is longer than 20 bytes. */
  optionsLength: number;
  /** The captured bytes stop before the datagram's total length (snaplen). */
  truncated: boolean;
}

export function decodeIpv4(b: Buffer, off: number): Ipv4Header | Malformed {
  if (b.length < off + 20) return malformed('ipv4', off, `IPv4 header needs 20 bytes, ${Math.max(0, b.length - off)} captured`);
  const vihl = b[off];
  if (vihl >> 4 !== 4) return malformed('ipv4', off, `IP version ${vihl >> 4} in an IPv4 header`);
  const ihl = (vihl & 0x0f) * 4;
  if (ihl < 20) return malformed('ipv4', off, `IPv4 header length ${ihl} below 20`);
  if (b.length < off + ihl) return malformed('ipv4', off, 'IPv4 options cut short');
  const total = b.readUInt16BE(off + 2);
  // TSO/offloaded captures show total length 0; trust the captured bytes then, as Wireshark does.
  const effectiveTotal = total === 0 ? b.length - off : total;
  if (effectiveTotal < ihl) return malformed('ipv4', off + 2, `IPv4 total length ${total} shorter than its header`);
  const ff = b.readUInt16BE(off + 6);
  const end = Math.min(b.length, off + effectiveTotal);
  return {
    kind: 'ipv4',
    src: ipv4Text(b, off + 12),
    dst: ipv4Text(b, off + 16),
    srcNum: b.readUInt32BE(off + 12),
    dstNum: b.readUInt32BE(off + 16),
    protocol: b[off + 9],
    ttl: b[off + 8],
    id: b.readUInt16BE(off + 4),
    headerLength: ihl,
    totalLength: total,
    dontFragment: (ff & 0x4000) !== 0,
    moreFragments: (ff & 0x2000) !== 0,
    fragmentOffset: (ff & 0x1fff) * 8,
    payloadOffset: off + ihl,
    payloadEnd: end,
    declaredEnd: off + effectiveTotal,
    optionsLength: ihl - 20,
    truncated: off + effectiveTotal > b.length,
  };
}
