import { u16be, u32be } from './bytes.js';

/** Dotted-quad text of 4 bytes at off. */
export function ipv4Text(b: Buffer, off: number): string {
  return b[off] + '.' + b[off + 1] + '.' + b[off + 2] + '.' + b[off + 3];
}

/** RFC 5952 canonical text of 16 bytes at off (lower case, longest zero run compressed). */
export function ipv6Text(b: Buffer, off: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(b.readUInt16BE(off + i * 2));
  // IPv4-mapped ::ffff:a.b.c.d keeps its dotted tail, as Wireshark and inet_ntop print it.
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0 && words[5] === 0xffff) {
    return '::ffff:' + ipv4Text(b, off + 12);
  }
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
}

/** 48-bit MAC at off as a number (exact in a double). */
export function macAt(b: Buffer, off: number): number {
  // Not readUIntBE: it validates its arguments on every call, and this runs twice per frame.
  return u16be(b, off) * 0x100000000 + u32be(b, off + 2);
}

export function macText(mac: number): string {
  const h = mac.toString(16).padStart(12, '0');
  return h.slice(0, 2) + ':' + h.slice(2, 4) + ':' + h.slice(4, 6) + ':' + h.slice(6, 8) + ':' + h.slice(8, 10) + ':' + h.slice(10, 12);
}

/** Parses dotted-quad or IPv6 text into bytes; null when it is neither. */
export function parseIp(text: string): Buffer | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const n = v4.slice(1).map(Number);
    return n.every((x) => x <= 255) ? Buffer.from(n) : null;
  }
  if (!text.includes(':')) return null;
  let t = text;
  // A dotted IPv4 tail (::ffff:1.2.3.4) becomes two hex words before the general parse; it
  // must follow a colon (RFC 4291 §2.2), or '::a1.2.3.4' would pass as '::a102:304'.
  const dotted = /:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(t);
  if (dotted) {
    const b = parseIp(dotted[1]);
    if (!b) return null;
    t = t.slice(0, -dotted[1].length) + b.readUInt16BE(0).toString(16) + ':' + b.readUInt16BE(2).toString(16);
  }
  const parts = t.split('::');
  if (parts.length > 2) return null;
  const parse = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const w of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return null;
      out.push(parseInt(w, 16));
    }
    return out;
  };
  const head = parse(parts[0]);
  const rest = parts.length === 2 ? parse(parts[1]) : [];
  if (!head || !rest) return null;
  const given = head.length + rest.length;
  if (parts.length === 1 && given !== 8) return null;
  if (given > 8 || (parts.length === 2 && given === 8)) return null;
  const words = [...head, ...new Array(8 - given).fill(0), ...rest];
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

/** Canonical text for any IPv4/IPv6 text, or null. */
export function canonicalIp(text: string): string | null {
  const b = parseIp(text);
  if (!b) return null;
  return b.length === 4 ? ipv4Text(b, 0) : ipv6Text(b, 0);
}
