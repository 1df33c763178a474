import { malformed, type Malformed } from './malformed.js';
import { u16be, u32be } from './bytes.js';

export interface Ipv4Header {
  readonly kind: 'ipv4';
  readonly src: string;
  readonly dst: string;
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
  const total = u16be(b, off + 2);
  // TSO/offloaded captures show total length 0; trust the captured bytes then, as Wireshark does.
  const effectiveTotal = total === 0 ? b.length - off : total;
  if (effectiveTotal < ihl) return malformed('ipv4', off + 2, `IPv4 total length ${total} shorter than its header`);
  const ff = u16be(b, off + 6);
  const end = Math.min(b.length, off + effectiveTotal);
  return new Ipv4View(
    u32be(b, off + 12), u32be(b, off + 16), b[off + 9], b[off + 8], u16be(b, off + 4),
    ihl, total, ff, off + ihl, end, off + effectiveTotal, off + effectiveTotal > b.length,
  );
}

function numText(n: number): string {
  return (n >>> 24) + '.' + ((n >>> 16) & 255) + '.' + ((n >>> 8) & 255) + '.' + (n & 255);
}

/**
 * The decoded header. Address text is made on first use: most packets are only counted into
 * flows (by the numeric addresses), so formatting two strings per packet would be waste.
 * Holds no reference to the frame's bytes.
 */
class Ipv4View implements Ipv4Header {
  readonly kind = 'ipv4' as const;
  private srcText: string | null = null;
  private dstText: string | null = null;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  readonly fragmentOffset: number;
  readonly optionsLength: number;

  constructor(
    readonly srcNum: number, readonly dstNum: number, readonly protocol: number, readonly ttl: number,
    readonly id: number, readonly headerLength: number, readonly totalLength: number, flagsFragment: number,
    readonly payloadOffset: number, readonly payloadEnd: number, readonly declaredEnd: number, readonly truncated: boolean,
  ) {
    this.dontFragment = (flagsFragment & 0x4000) !== 0;
    this.moreFragments = (flagsFragment & 0x2000) !== 0;
    this.fragmentOffset = (flagsFragment & 0x1fff) * 8;
    this.optionsLength = headerLength - 20;
  }

  get src(): string { return this.srcText ??= numText(this.srcNum); }
  get dst(): string { return this.dstText ??= numText(this.dstNum); }

  /** Plain-object form (JSON, spreading), with the text addresses. */
  toJSON(): Omit<Ipv4Header, never> {
    return {
      kind: 'ipv4', src: this.src, dst: this.dst, srcNum: this.srcNum, dstNum: this.dstNum, protocol: this.protocol,
      ttl: this.ttl, id: this.id, headerLength: this.headerLength, totalLength: this.totalLength,
      dontFragment: this.dontFragment, moreFragments: this.moreFragments, fragmentOffset: this.fragmentOffset,
      payloadOffset: this.payloadOffset, payloadEnd: this.payloadEnd, declaredEnd: this.declaredEnd,
      optionsLength: this.optionsLength, truncated: this.truncated,
    };
  }
}
