/**
 * The TLS analyzer's stream consumer. On a flow that opened with TLS it feeds both directions
 * to the connection from their first byte. On any other TCP flow it watches the first bytes
 * for TLS starting inside a plain-text conversation (SMTP/IMAP/POP3/XMPP/LDAP STARTTLS,
 * PostgreSQL SSLRequest...): a client write that begins with a ClientHello record starts TLS
 * there, and the server's side starts at its first write that begins with a record header.
 * The watch is bounded, then the consumer detaches and reassembly of that flow stops.
 */
import type { Dir, Flow, StreamConsumer } from '../../flow/flow.js';
import type { FlowTable } from '../../flow/table.js';
import type { TlsConnection } from './connection.js';
import { MAX_RECORD_LENGTH } from './records.js';

/** Bytes and writes per direction watched for a late ClientHello. */
export const WATCH_BYTES = 64 * 1024;
export const WATCH_CHUNKS = 64;

export interface StreamHooks {
  /** TLS starts on this flow with a ClientHello from `clientDir`: the connection to feed, or null to stop. */
  startTls(flow: Flow, clientDir: Dir): TlsConnection | null;
  /** Still worth watching (false once another analyzer owns the flow, e.g. FTP control). */
  watchable(flow: Flow): boolean;
}

/** A write that starts with a handshake record carrying a ClientHello (RFC 8446 §5.1, §4.1.2). */
export function startsWithClientHello(b: Buffer): boolean {
  if (b.length < 6 || b[0] !== 22 || b[1] !== 3 || b[2] > 4) return false;
  const length = b.readUInt16BE(3);
  if (length < 4 || length > MAX_RECORD_LENGTH || b[5] !== 1) return false;
  // client_version (after the 4-byte handshake header) is 3.x for SSL 3.0 to TLS 1.3.
  return b.length < 10 || b[9] === 3;
}

/** A write that starts with a TLS record header (a server's ServerHello or alert). */
function startsWithRecord(b: Buffer): boolean {
  return b.length >= 3 && b[0] >= 20 && b[0] <= 23 && b[1] === 3 && b[2] <= 4;
}

export class TlsStream implements StreamConsumer {
  readonly name = 'tls';
  private watched: [number, number] = [0, 0];
  private writes: [number, number] = [0, 0];
  /** Offset from which each direction is TLS (-1: not yet). */
  private from: [number, number] = [-1, -1];

  constructor(private flow: Flow, private table: FlowTable, private hooks: StreamHooks, private conn: TlsConnection | null) {
    if (conn) this.from = [0, 0];
  }

  get connection(): TlsConnection | null {
    return this.conn;
  }

  detach(): void {
    this.table.detach(this.flow, this);
  }

  data(dir: Dir, bytes: Buffer, offset: number, frameNo: number, ts: number): void {
    const conn = this.conn;
    if (conn === null) { this.watch(dir, bytes, offset, frameNo, ts); return; }
    if (this.from[dir] < 0) {
      if (!startsWithRecord(bytes)) return;
      this.from[dir] = offset;
    }
    conn.data(conn.roleOf(dir), bytes, offset, frameNo, ts);
  }

  gap(dir: Dir, offset: number, length: number, frameNo: number): void {
    const conn = this.conn;
    if (conn === null || this.from[dir] < 0) return;
    conn.gap(conn.roleOf(dir), offset, length, frameNo);
  }

  end(): void {
    // The analyzer's flowEnd judges the connection once the flow table is done with it.
  }

  private watch(dir: Dir, bytes: Buffer, offset: number, frameNo: number, ts: number): void {
    if (!this.hooks.watchable(this.flow)) { this.detach(); return; }
    if (startsWithClientHello(bytes)) {
      const conn = this.hooks.startTls(this.flow, dir);
      if (conn === null) { this.detach(); return; }
      this.conn = conn;
      this.from[dir] = offset;
      conn.data('client', bytes, offset, frameNo, ts);
      return;
    }
    this.watched[dir] += bytes.length;
    this.writes[dir]++;
    // STARTTLS comes within the first exchanges; this much plain text in one direction means none.
    if (this.watched[dir] >= WATCH_BYTES || this.writes[dir] >= WATCH_CHUNKS) this.detach();
  }
}
