import { ipv6Text } from './addr.js';
import { malformed, type Malformed } from './malformed.js';

export interface Ipv6Header {
  kind: 'ipv6';
  src: string;
  dst: string;
  /** The upper-layer protocol after all extension headers. */
  protocol: number;
  hopLimit: number;
  flowLabel: number;
  /** Extension header types walked, in order. */
  extensions: number[];
  /** Set when a Fragment header is present. */
  fragment: { offset: number; moreFragments: boolean; id: number } | null;
  payloadOffset: number;
  payloadEnd: number;
  declaredEnd: number;
  truncated: boolean;
}

const HOP_BY_HOP = 0, ROUTING = 43, FRAGMENT = 44, DEST_OPTS = 60, AH = 51, MOBILITY = 135, NO_NEXT = 59;

export function decodeIpv6(b: Buffer, off: number): Ipv6Header | Malformed {
  if (b.length < off + 40) return malformed('ipv6', off, `IPv6 header needs 40 bytes, ${Math.max(0, b.length - off)} captured`);
  const w0 = b.readUInt32BE(off);
  if (w0 >>> 28 !== 6) return malformed('ipv6', off, `IP version ${w0 >>> 28} in an IPv6 header`);
  const payloadLength = b.readUInt16BE(off + 4);
  // Payload length 0 is legal only for jumbograms (RFC 2675, hop-by-hop option); otherwise the
  // datagram is empty (Wireshark flags TSO captures like that as malformed too).
  const jumbo = payloadLength === 0 && b[off + 6] === HOP_BY_HOP;
  const declaredEnd = jumbo ? b.length : off + 40 + payloadLength;
  const end = Math.min(b.length, declaredEnd);
  let next = b[off + 6];
  let p = off + 40;
  const extensions: number[] = [];
  let fragment: Ipv6Header['fragment'] = null;
  // Walk extension headers (RFC 8200 §4); a bounded loop guards against hostile chains.
  for (let guard = 0; guard < 16; guard++) {
    // A length that jumped past the payload is reported below, at the header's start: the next
    // header's offset would lie outside the captured bytes.
    if (p > end) break;
    if (next === HOP_BY_HOP || next === ROUTING || next === DEST_OPTS || next === MOBILITY) {
      if (end < p + 8) return malformed('ipv6', p, 'IPv6 extension header cut short');
      extensions.push(next);
      const len = (b[p + 1] + 1) * 8;
      next = b[p];
      p += len;
    } else if (next === FRAGMENT) {
      if (end < p + 8) return malformed('ipv6', p, 'IPv6 fragment header cut short');
      extensions.push(next);
      const fo = b.readUInt16BE(p + 2);
      fragment = { offset: fo & 0xfff8, moreFragments: (fo & 1) === 1, id: b.readUInt32BE(p + 4) };
      next = b[p];
      p += 8;
    } else if (next === AH) {
      if (end < p + 8) return malformed('ipv6', p, 'IPv6 AH header cut short');
      extensions.push(next);
      const len = (b[p + 1] + 2) * 4;
      next = b[p];
      p += len;
    } else {
      break;
    }
  }
  if (p > end) return malformed('ipv6', off, 'IPv6 extension headers run past the payload');
  return {
    kind: 'ipv6',
    src: ipv6Text(b, off + 8),
    dst: ipv6Text(b, off + 24),
    protocol: next === NO_NEXT ? -1 : next,
    hopLimit: b[off + 7],
    flowLabel: w0 & 0xfffff,
    extensions,
    fragment,
    payloadOffset: p,
    payloadEnd: end,
    declaredEnd: Math.max(declaredEnd, p),
    truncated: declaredEnd > b.length,
  };
}
