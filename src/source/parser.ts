import type { Frame, SourceWarning } from './frame.js';

/** Where a capture parser delivers what it finds. */
export interface CaptureSink {
  frame(frame: Frame): void;
  warning(warning: SourceWarning): void;
  /** pcapng Decryption Secrets Block: type (e.g. 0x544c534b "TLSK") and its bytes. */
  secrets?(secretsType: number, data: Buffer, offset: number): void;
}

/**
 * A push parser: chunks of the (decompressed) input go in, frames come out synchronously.
 * Push parsing lets one code path serve files, gzip, stdin and `tcpdump -w -` pipes.
 */
export interface CaptureParser {
  readonly format: 'pcap' | 'pcapng';
  /** Link types seen so far (one for pcap, one per interface for pcapng). */
  readonly linkTypes: Set<number>;
  push(chunk: Buffer): void;
  /** End of input: a partial record left over is reported as truncation. */
  end(): void;
  /** Set when the file header itself is unusable (bad version, broken first block): not a capture we can read. */
  readonly headerError: string | null;
  /** True once the parser met damage it cannot resynchronise from; later chunks are ignored. */
  readonly stopped: boolean;
}

/**
 * Carries the unconsumed tail of one chunk over to the next. Records rarely straddle chunks,
 * so the copy is small; `consumedBase` keeps absolute offsets for warnings.
 */
export class ChunkCarry {
  buf: Buffer = Buffer.alloc(0);
  /** Absolute input offset of buf[0]. */
  base = 0;

  append(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** Drop the first n bytes of buf. */
  consume(n: number): void {
    this.base += n;
    this.buf = n >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(n);
  }
}
