/**
 * A copy of `src` in memory of its own, for bytes kept beyond the packet that carried them.
 * Buffer.from() and Buffer.allocUnsafe() carve small buffers out of a shared 8 KiB pool slab,
 * and one long-lived slice keeps the whole slab alive: thousands of sessions each holding a
 * line fragment or a hello that way pinned megabytes (measured on the benchmark capture).
 */
export function ownedCopy(src: Uint8Array): Buffer {
  const out = Buffer.allocUnsafeSlow(src.length);
  out.set(src);
  return out;
}

// Big- and little-endian reads for the per-packet path. Buffer's readUInt16BE and friends
// validate their offset on every call; here the callers have checked the length already.
export function u16be(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function u32be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

export function u32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

/**
 * The same text as one flat string, for text kept beyond the moment it was built. V8 keeps a
 * string made with `+` or a template literal as a tree of its pieces (a "cons string", from 13
 * characters up), which for a finding's 300-character explanation costs several times its
 * length in heap. A JSON round trip is the portable way to get a sequential copy.
 */
export function flatString(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}
