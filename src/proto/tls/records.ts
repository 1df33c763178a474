/**
 * Incremental TLS record splitter for one direction of a reassembled TCP stream
 * (RFC 5246 §6.2, RFC 8446 §5.1), with SSL 2.0-compatible hello detection (RFC 5246 E.2).
 *
 * The state is an explicit object; pushRecords() feeds it chunks of the stream in order and
 * returns the records completed by each chunk. Memory is bounded: at most one record
 * (≤ 2^14 + 2048 + 5 bytes) is buffered, and application data can be skipped unbuffered.
 */
import { type ClientHello, parseSslv2ClientHello } from './hello.js';
import { type Malformed, malformed } from './reader.js';
import { ownedCopy } from '../../decode/bytes.js';

export const CONTENT = {
  CHANGE_CIPHER_SPEC: 20, ALERT: 21, HANDSHAKE: 22, APPLICATION_DATA: 23, HEARTBEAT: 24,
} as const;

/** TLSCiphertext.length may exceed 2^14 by the cipher's expansion, at most 2048 (RFC 5246 §6.2.3). */
export const MAX_RECORD_LENGTH = 16384 + 2048;

export interface TlsRecord {
  kind: 'record';
  contentType: number;
  version: number;
  /** Length field of the record header (fragment length on the wire). */
  length: number;
  /** The record body. Empty when application data was skipped (keepApplicationData: false). */
  fragment: Buffer;
  /** False when the body was skipped instead of kept. */
  kept: boolean;
  /** Stream offset of the record's first header byte. */
  streamOffset: number;
}

export interface Sslv2Record {
  kind: 'sslv2';
  /** 2 (no padding) or 3 (with padding) byte header. */
  headerLength: 2 | 3;
  length: number;
  /** msg_type of a cleartext SSLv2 message (1 CLIENT-HELLO, 4 SERVER-HELLO …); encrypted otherwise. */
  msgType: number;
  message: Buffer;
  streamOffset: number;
  /** Set when the record is a CLIENT-HELLO: its TLS ClientHello view, or why it did not parse. */
  clientHello?: ClientHello | Malformed;
}

export type RecordOutput = TlsRecord | Sslv2Record | Malformed;

export interface RecordSplitter {
  chunks: Buffer[];
  buffered: number;
  /** Stream offset of the first buffered byte. */
  offset: number;
  keepApplicationData: boolean;
  framing: 'unknown' | 'tls' | 'sslv2';
  failed: boolean;
  /** Application-data body bytes still to skip, and the header of the record being skipped. */
  skip: { remaining: number; record: TlsRecord } | undefined;
}

export interface RecordSplitterOptions {
  /** Stream offset of the first byte fed (default 0), e.g. after a STARTTLS exchange. */
  streamOffset?: number;
  /** Keep application-data bodies (needed to decrypt); default true. */
  keepApplicationData?: boolean;
}

export function newRecordSplitter(options: RecordSplitterOptions = {}): RecordSplitter {
  return {
    chunks: [], buffered: 0, offset: options.streamOffset ?? 0,
    keepApplicationData: options.keepApplicationData ?? true, framing: 'unknown', failed: false,
    skip: undefined,
  };
}

const NO_BYTES = Buffer.alloc(0);

function isTlsHeader(b0: number, b1: number, b2: number): boolean {
  return b0 >= 20 && b0 <= 24 && b1 === 3 && b2 <= 4;
}

/**
 * Whether the first bytes a client sends start a TLS handshake: a handshake record of
 * version 3.0–3.4, or an SSL 2.0-compatible CLIENT-HELLO. Used to spot implicit FTPS.
 */
export function looksLikeTls(firstBytes: Buffer): boolean {
  if (firstBytes.length < 3) return false;
  const [b0, b1, b2] = firstBytes;
  if (b0 === 0x16 && b1 === 0x03 && b2 <= 0x04) {
    if (firstBytes.length >= 5) {
      const length = firstBytes.readUInt16BE(3);
      return length > 0 && length <= MAX_RECORD_LENGTH;
    }
    return true;
  }
  if ((b0 & 0x80) !== 0 && b2 === 0x01) {
    // SSLv2 CLIENT-HELLO: version 0x0002 or 3.x follows the message type.
    return firstBytes.length < 4 || firstBytes[3] === 0x00 || firstBytes[3] === 0x03;
  }
  return false;
}

/** Buffered byte i (i < buffered), without joining chunks. */
function byteAt(state: RecordSplitter, i: number): number {
  for (const c of state.chunks) {
    if (i < c.length) return c[i];
    i -= c.length;
  }
  return -1;
}

/** Removes n bytes from the front, returning them as an owned copy (or dropping them). */
function take(state: RecordSplitter, n: number, keep: boolean): Buffer {
  const parts: Buffer[] = [];
  let left = n;
  while (left > 0) {
    const c = state.chunks[0];
    if (c.length <= left) {
      if (keep) parts.push(c);
      state.chunks.shift();
      left -= c.length;
    } else {
      if (keep) parts.push(c.subarray(0, left));
      state.chunks[0] = c.subarray(left);
      left = 0;
    }
  }
  state.buffered -= n;
  state.offset += n;
  if (!keep) return NO_BYTES;
  return parts.length === 1 ? Buffer.from(parts[0]) : Buffer.concat(parts, n);
}

function fail(state: RecordSplitter, reason: string): Malformed {
  state.failed = true;
  const m = malformed(state.offset, reason);
  state.chunks = [];
  state.buffered = 0;
  return m;
}

/**
 * Feeds the next chunk of the stream. Returns the records it completed, in order. After a
 * malformed result (garbage where a header should be, an oversized record) the splitter stops:
 * the stream is not (or no longer) TLS.
 */
export function pushRecords(state: RecordSplitter, chunk: Buffer): RecordOutput[] {
  if (state.failed || chunk.length === 0) return [];
  const out: RecordOutput[] = [];
  let data = chunk;
  if (state.skip) {
    const n = Math.min(state.skip.remaining, data.length);
    state.skip.remaining -= n;
    state.offset += n;
    data = data.subarray(n);
    if (state.skip.remaining > 0) return out;
    out.push(state.skip.record);
    state.skip = undefined;
  }
  if (data.length > 0) {
    state.chunks.push(data);
    state.buffered += data.length;
  }
  while (!state.failed && state.buffered > 0) {
    const next = nextRecord(state);
    if (next === undefined) break;
    if (next !== null) out.push(next);
  }
  // The caller may reuse its buffer: keep only owned bytes across calls.
  const last = state.chunks.length - 1;
  if (last >= 0 && state.chunks[last].buffer === chunk.buffer) state.chunks[last] = ownedCopy(state.chunks[last]);
  return out;
}

/** One record, null when a record started being skipped, undefined when more bytes are needed. */
function nextRecord(state: RecordSplitter): RecordOutput | null | undefined {
  if (state.buffered < 3) return undefined;
  const first = state.chunks[0];
  const whole = first.length >= 5;
  const b0 = whole ? first[0] : byteAt(state, 0);
  const b1 = whole ? first[1] : byteAt(state, 1);
  const b2 = whole ? first[2] : byteAt(state, 2);
  if (state.framing !== 'tls' && (b0 & 0x80) !== 0) {
    // A stream may open with an SSLv2 record only as CLIENT-HELLO (1), SERVER-HELLO (4) or ERROR (0).
    if (state.framing === 'unknown' && b2 !== 1 && b2 !== 4 && b2 !== 0) {
      return fail(state, `not a TLS record header: ${Buffer.from([b0, b1, b2]).toString('hex')}`);
    }
    return nextSslv2Record(state, 2, ((b0 & 0x7f) << 8) | b1);
  }
  if (state.framing === 'sslv2' && !isTlsHeader(b0, b1, b2)) {
    return nextSslv2Record(state, 3, ((b0 & 0x3f) << 8) | b1);
  }
  if (!isTlsHeader(b0, b1, b2)) {
    return fail(state, `not a TLS record header: ${Buffer.from([b0, b1, b2]).toString('hex')}`);
  }
  if (state.buffered < 5) return undefined;
  const length = whole ? (first[3] << 8) | first[4] : (byteAt(state, 3) << 8) | byteAt(state, 4);
  if (length > MAX_RECORD_LENGTH) {
    return fail(state, `record length ${length} exceeds ${MAX_RECORD_LENGTH}`);
  }
  state.framing = 'tls';
  const streamOffset = state.offset;
  const record: TlsRecord = {
    kind: 'record', contentType: b0, version: (b1 << 8) | b2, length,
    fragment: NO_BYTES, kept: true, streamOffset,
  };
  if (b0 === CONTENT.APPLICATION_DATA && !state.keepApplicationData) {
    record.kept = false;
    take(state, 5, false);
    const available = Math.min(length, state.buffered);
    take(state, available, false);
    if (available === length) return record;
    state.skip = { remaining: length - available, record };
    return null;
  }
  if (state.buffered < 5 + length) return undefined;
  take(state, 5, false);
  record.fragment = take(state, length, true);
  return record;
}

function nextSslv2Record(state: RecordSplitter, headerLength: 2 | 3, length: number): RecordOutput | undefined {
  if (length === 0) return fail(state, 'SSLv2 record of length 0');
  if (state.buffered < headerLength + length) return undefined;
  state.framing = 'sslv2';
  const streamOffset = state.offset;
  take(state, headerLength, false);
  const message = take(state, length, true);
  const record: Sslv2Record = { kind: 'sslv2', headerLength, length, msgType: message[0], message, streamOffset };
  if (headerLength === 2 && message[0] === 1) {
    const hello = parseSslv2ClientHello(message);
    record.clientHello = hello.kind === 'malformed'
      ? malformed(streamOffset + headerLength + hello.offset, hello.reason) : hello;
  }
  return record;
}
