/**
 * A small DER walker (ITU-T X.690) for the parts of X.509 node:crypto does not expose:
 * algorithm OIDs, names attribute by attribute, validity times, SANs.
 */
import { type Malformed, malformed } from './reader.js';

export interface DerNode {
  /** The identifier octet (class, constructed bit, tag number ≤ 30). */
  tag: number;
  /** Offset of the identifier octet. */
  start: number;
  contentStart: number;
  end: number;
}

export const TAG = {
  BOOLEAN: 0x01, INTEGER: 0x02, BIT_STRING: 0x03, OCTET_STRING: 0x04, NULL: 0x05, OID: 0x06,
  UTF8: 0x0c, PRINTABLE: 0x13, T61: 0x14, IA5: 0x16, UTC_TIME: 0x17, GENERALIZED_TIME: 0x18,
  VISIBLE: 0x1a, UNIVERSAL: 0x1c, BMP: 0x1e, SEQUENCE: 0x30, SET: 0x31,
} as const;

/** Reads one TLV at `offset`, which must end by `limit`. Definite lengths only (DER). */
export function derNode(buf: Buffer, offset: number, limit = buf.length): DerNode | Malformed {
  if (offset + 2 > limit) return malformed(offset, 'truncated DER header');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) return malformed(offset, 'multi-byte DER tags are not used in X.509');
  let length = buf[offset + 1];
  let pos = offset + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4) return malformed(offset + 1, `DER length of ${n} octets`);
    if (pos + n > limit) return malformed(offset + 1, 'truncated DER length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[pos + i];
    pos += n;
  }
  if (pos + length > limit) return malformed(offset, `DER value of ${length} bytes overruns its container`);
  return { tag, start: offset, contentStart: pos, end: pos + length };
}

/** The TLVs directly inside a constructed node. */
export function derChildren(buf: Buffer, node: DerNode): DerNode[] | Malformed {
  const out: DerNode[] = [];
  let pos = node.contentStart;
  while (pos < node.end) {
    const child = derNode(buf, pos, node.end);
    if ('kind' in child) return child;
    out.push(child);
    pos = child.end;
  }
  return out;
}

export function derContent(buf: Buffer, node: DerNode): Buffer {
  return buf.subarray(node.contentStart, node.end);
}

export function derBytes(buf: Buffer, node: DerNode): Buffer {
  return buf.subarray(node.start, node.end);
}

/** Dotted OID: the first octet packs the first two arcs (40·a + b), the rest are base-128. */
export function derOid(content: Buffer): string | undefined {
  if (content.length === 0) return undefined;
  const arcs: number[] = [];
  let value = 0;
  for (let i = 0; i < content.length; i++) {
    value = value * 128 + (content[i] & 0x7f);
    if ((content[i] & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        arcs.push(first, value - first * 40);
      } else {
        arcs.push(value);
      }
      value = 0;
    } else if (i === content.length - 1) {
      return undefined;
    }
  }
  return arcs.join('.');
}

/** Text of an X.520 string type; undefined for types that are not strings. */
export function derString(tag: number, content: Buffer): string | undefined {
  switch (tag) {
    case TAG.UTF8: return content.toString('utf8');
    case TAG.PRINTABLE: case TAG.IA5: case TAG.VISIBLE: case TAG.T61: return content.toString('latin1');
    case TAG.BMP: {
      const swapped = Buffer.from(content.subarray(0, content.length & ~1));
      return swapped.swap16().toString('utf16le');
    }
    case TAG.UNIVERSAL: {
      let s = '';
      for (let i = 0; i + 3 < content.length; i += 4) s += String.fromCodePoint(Math.min(content.readUInt32BE(i), 0x10ffff));
      return s;
    }
  }
  return undefined;
}

/**
 * UTCTime / GeneralizedTime to epoch microseconds. RFC 5280 §4.1.2.5: UTCTime years ≥ 50 are
 * 19xx. Old (BER-era) certificates omit seconds or give a ±hhmm offset; both are accepted.
 */
export function derTime(tag: number, content: Buffer): number | undefined {
  const s = content.toString('latin1');
  const m = tag === TAG.UTC_TIME
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?()(Z|[+-]\d{4})$/.exec(s)
    : tag === TAG.GENERALIZED_TIME ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{4})?$/.exec(s) : null;
  if (!m) return undefined;
  let year = Number(m[1]);
  if (tag === TAG.UTC_TIME) year += year >= 50 ? 1900 : 2000;
  const ms = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  const fraction = m[7] ? Number(`0.${m[7]}`) * 1e6 : 0;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone !== 'Z') {
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  }
  return (ms - offsetMinutes * 60_000) * 1000 + Math.round(fraction);
}
