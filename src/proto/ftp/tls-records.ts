/**
 * Just enough TLS framing for FTPS: recognise a ClientHello at the start of a data connection,
 * and walk record headers on an encrypted control stream so the point where clear text comes
 * back (CCC, RFC 4217 §6) is found without decrypting anything. FTP text never begins with
 * bytes 20–24, and a TLS record never begins with a letter or digit, so the two cannot be confused.
 */

/** RFC 8446 §5.1: change_cipher_spec 20, alert 21, handshake 22, application_data 23, heartbeat 24. */
function isContentType(b: number): boolean {
  return b >= 20 && b <= 24;
}

/** 2^14 plaintext plus the most any cipher adds (RFC 5246 §6.2.3 allows 2048). */
const MAX_RECORD = 16384 + 2048;

export type RecordHeaderCheck = 'valid' | 'invalid' | 'short';

/** Checks a record header at `off` (SSL 3.0 to TLS 1.3 record versions 3.0–3.4). */
export function checkRecordHeader(b: Buffer, off = 0): RecordHeaderCheck {
  const n = b.length - off;
  if (n < 1) return 'short';
  if (!isContentType(b[off])) return 'invalid';
  if (n < 2) return 'short';
  if (b[off + 1] !== 3) return 'invalid';
  if (n < 3) return 'short';
  if (b[off + 2] > 4) return 'invalid';
  if (n < 5) return 'short';
  return b.readUInt16BE(off + 3) <= MAX_RECORD ? 'valid' : 'invalid';
}

/** A TCP payload that opens with a handshake record: what an FTPS client's first bytes are. */
export function startsWithTlsHandshake(payload: Buffer): boolean {
  return payload.length >= 3 && payload[0] === 22 && checkRecordHeader(payload) !== 'invalid';
}

/** Handshake record whose first message is a ClientHello (handshake type 1). */
export function isClientHello(payload: Buffer): boolean {
  return startsWithTlsHandshake(payload) && (payload.length < 6 || payload[5] === 1);
}

/** Record-walking state for one direction; `offset` is the absolute stream offset consumed (held header bytes included). */
export interface RecordWalker {
  offset: number;
  header: Buffer;
  have: number;
  /** Body bytes of the current record still to skip. */
  remaining: number;
  records: number;
  /** Alert records seen in clear framing (close_notify before CCC's clear text is one). */
  alerts: number;
}

export function newRecordWalker(offset: number): RecordWalker {
  return { offset, header: Buffer.alloc(5), have: 0, remaining: 0, records: 0, alerts: 0 };
}

/** Where clear text starts again, with header bytes held over from earlier chunks that belong to it. */
export interface ClearResume {
  offset: number;
  carried: Buffer;
  /** Index in the chunk from which the rest is clear text. */
  index: number;
}

/**
 * Skips whole records; returns null while the chunk is all TLS, or where a record header
 * should start but what follows is not one (the stream went back to clear text).
 */
export function walkRecords(w: RecordWalker, chunk: Buffer): ClearResume | null {
  let i = 0;
  while (i < chunk.length) {
    if (w.remaining > 0) {
      const take = Math.min(w.remaining, chunk.length - i);
      w.remaining -= take;
      i += take;
      w.offset += take;
      continue;
    }
    const start = i;
    const carriedLen = w.have;
    const headerStart = w.offset - carriedLen;
    while (w.have < 5 && i < chunk.length) w.header[w.have++] = chunk[i++];
    w.offset += i - start;
    const check = checkRecordHeader(w.header.subarray(0, w.have));
    if (check === 'invalid') {
      const carried = Buffer.from(w.header.subarray(0, carriedLen));
      w.have = 0;
      w.offset = headerStart;
      return { offset: headerStart, carried, index: start };
    }
    if (check === 'short') return null;
    if (w.header[0] === 21) w.alerts++;
    w.remaining = w.header.readUInt16BE(3);
    w.records++;
    w.have = 0;
  }
  return null;
}
