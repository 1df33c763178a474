/**
 * A bounds-checked cursor over a Buffer for the TLS presentation language (RFC 8446 §3).
 *
 * Reads past the end never throw: they return zeros / empty buffers and record the first
 * failure, so a parser reads a whole structure straight through and checks `failure` once.
 */
export interface Malformed {
  kind: 'malformed';
  /** Byte offset of the problem, relative to the start of the buffer given to the decoder. */
  offset: number;
  reason: string;
}

export function malformed(offset: number, reason: string): Malformed {
  return { kind: 'malformed', offset, reason };
}

export function isMalformed(value: unknown): value is Malformed {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'malformed';
}

const EMPTY = Buffer.alloc(0);

export class ByteReader {
  pos: number;
  failure: Malformed | undefined;

  constructor(readonly buf: Buffer, start = 0, readonly end = buf.length, readonly base = 0) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Offset of the cursor as reported in malformed results. */
  get offset(): number {
    return this.base + this.pos;
  }

  fail(reason: string, at = this.pos): void {
    if (!this.failure) this.failure = malformed(this.base + at, reason);
  }

  private take(n: number, what: string): number {
    if (this.failure) return -1;
    if (n > this.end - this.pos) {
      this.fail(`truncated ${what}: need ${n} bytes, have ${this.end - this.pos}`);
      this.pos = this.end;
      return -1;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(what = 'u8'): number {
    const at = this.take(1, what);
    return at < 0 ? 0 : this.buf[at];
  }

  u16(what = 'u16'): number {
    const at = this.take(2, what);
    return at < 0 ? 0 : this.buf.readUInt16BE(at);
  }

  u24(what = 'u24'): number {
    const at = this.take(3, what);
    return at < 0 ? 0 : this.buf.readUIntBE(at, 3);
  }

  u32(what = 'u32'): number {
    const at = this.take(4, what);
    return at < 0 ? 0 : this.buf.readUInt32BE(at);
  }

  bytes(n: number, what = 'bytes'): Buffer {
    const at = this.take(n, what);
    return at < 0 ? EMPTY : this.buf.subarray(at, at + n);
  }

  /** opaque x<0..2^8-1> */
  vec8(what = 'vector'): Buffer {
    return this.bytes(this.u8(what), what);
  }

  /** opaque x<0..2^16-1> */
  vec16(what = 'vector'): Buffer {
    return this.bytes(this.u16(what), what);
  }

  /** opaque x<0..2^24-1> */
  vec24(what = 'vector'): Buffer {
    return this.bytes(this.u24(what), what);
  }

  /** A sub-reader over the next n bytes, keeping offsets relative to the same base. */
  sub(n: number, what = 'vector'): ByteReader {
    const at = this.take(n, what);
    if (at < 0) {
      const r = new ByteReader(this.buf, this.pos, this.pos, this.base);
      r.failure = this.failure;
      return r;
    }
    return new ByteReader(this.buf, at, at + n, this.base);
  }
}

/** Reads a list of fixed-size big-endian integers filling a vector exactly. */
export function uintList(data: Buffer, size: 1 | 2): number[] | undefined {
  if (data.length % size !== 0) return undefined;
  const out: number[] = [];
  for (let i = 0; i < data.length; i += size) out.push(size === 1 ? data[i] : data.readUInt16BE(i));
  return out;
}
