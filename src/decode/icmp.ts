import { ipv4Text, ipv6Text } from './addr.js';
import { malformed, type Malformed } from './malformed.js';

/** The original datagram an ICMP error quotes: enough to tie the error to its flow. */
export interface QuotedHeader {
  version: 4 | 6;
  src: string;
  dst: string;
  /** Upper-layer protocol: for IPv6, after the extension headers the quote holds. */
  protocol: number;
  /** Ports when the quote reaches the first 4 bytes of TCP/UDP of a first fragment, else -1. */
  srcPort: number;
  dstPort: number;
  /** TCP sequence number of the quoted segment when quoted, else -1. */
  tcpSeq: number;
}

export interface IcmpMessage {
  kind: 'icmp';
  version: 4 | 6;
  type: number;
  code: number;
  /** True for error messages (unreachable, time exceeded, parameter problem, packet too big). */
  isError: boolean;
  quoted: QuotedHeader | null;
  /** Next-hop MTU of fragmentation-needed / packet-too-big, else -1. */
  mtu: number;
}

const V4_ERRORS = new Set([3, 4, 5, 11, 12]);

/** ICMPv4 (RFC 792) and ICMPv6 (RFC 4443), with the quoted original header of errors. */
export function decodeIcmp(b: Buffer, off: number, end: number, version: 4 | 6): IcmpMessage | Malformed {
  if (end < off + 8) return malformed(version === 4 ? 'icmp' : 'icmpv6', off, 'ICMP header cut short');
  const type = b[off], code = b[off + 1];
  const isError = version === 4 ? V4_ERRORS.has(type) : type < 128;
  let mtu = -1;
  if (version === 4 && type === 3 && code === 4) mtu = b.readUInt16BE(off + 6);
  if (version === 6 && type === 2) mtu = b.readUInt32BE(off + 4);
  const quoted = isError ? decodeQuoted(b, off + 8, end) : null;
  return { kind: 'icmp', version, type, code, isError, quoted, mtu };
}

function decodeQuoted(b: Buffer, off: number, end: number): QuotedHeader | null {
  if (end < off + 1) return null;
  const v = b[off] >> 4;
  let src: string, dst: string, protocol: number, l4: number;
  // Only a first fragment carries the transport header; later ones quote payload bytes.
  let firstFragment = true;
  if (v === 4) {
    if (end < off + 20) return null;
    const ihl = (b[off] & 0x0f) * 4;
    if (ihl < 20) return null;
    src = ipv4Text(b, off + 12);
    dst = ipv4Text(b, off + 16);
    protocol = b[off + 9];
    l4 = off + ihl;
    firstFragment = (b.readUInt16BE(off + 6) & 0x1fff) === 0;
  } else if (v === 6) {
    if (end < off + 40) return null;
    src = ipv6Text(b, off + 8);
    dst = ipv6Text(b, off + 24);
    protocol = b[off + 6];
    l4 = off + 40;
    // Walk the quoted extension headers (RFC 8200 §4) as far as the quote reaches, so the
    // error ties to the transport flow (a quoted fragment or hop-by-hop header is common).
    for (let guard = 0; guard < 8 && end >= l4 + 8; guard++) {
      if (protocol === 0 || protocol === 43 || protocol === 60 || protocol === 135) {
        protocol = b[l4];
        l4 += (b[l4 + 1] + 1) * 8;
      } else if (protocol === 44) {
        firstFragment = (b.readUInt16BE(l4 + 2) & 0xfff8) === 0;
        protocol = b[l4];
        l4 += 8;
        if (!firstFragment) break; // what follows is payload, not headers
      } else if (protocol === 51) {
        protocol = b[l4];
        l4 += (b[l4 + 1] + 2) * 4;
      } else {
        break;
      }
    }
  } else {
    return null;
  }
  const hasPorts = firstFragment && (protocol === 6 || protocol === 17) && end >= l4 + 4;
  return {
    version: v as 4 | 6, src, dst, protocol,
    srcPort: hasPorts ? b.readUInt16BE(l4) : -1,
    dstPort: hasPorts ? b.readUInt16BE(l4 + 2) : -1,
    tcpSeq: hasPorts && protocol === 6 && end >= l4 + 8 ? b.readUInt32BE(l4 + 4) : -1,
  };
}
