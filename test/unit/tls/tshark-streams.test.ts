/**
 * Test-only helper (no tests of its own run when imported): the TCP payload of every stream of
 * a capture, per direction, in sequence order. Packets come from the small reader in
 * capture-reader.test.ts, or from tshark for files it does not read (zstd, odd link types), so
 * the TLS tests depend on nothing else in faultline. This file orders segments by sequence
 * number and drops retransmitted bytes.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readTcpPackets } from './capture-reader.test.js';
import { type HandshakeMessage, type HandshakeView, decodeHandshake, newHandshakeAssembler, pushHandshake } from '../../../src/proto/tls/handshake.js';
import { MAX_RECORD_LENGTH, type RecordOutput, newRecordSplitter, pushRecords } from '../../../src/proto/tls/records.js';
import type { Malformed } from '../../../src/proto/tls/reader.js';

const run = promisify(execFile);

export interface Segment {
  /** Offset of the segment's first byte within TcpDirection.data. */
  offset: number;
  frame: number;
  length: number;
}

export interface TcpDirection {
  stream: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  data: Buffer;
  /** Segments that contributed bytes, in stream order. */
  segments: Segment[];
  /** Offset where a sequence gap stopped reassembly, if any. */
  gapAt?: number;
}

export interface TcpStream {
  /** Order of first appearance (tshark's tcp.stream for simple captures). */
  id: number;
  /** The two endpoints, sorted: "addr port|addr port", IPv6 written out in full. */
  endpoints: string;
  directions: TcpDirection[];
}

/** IPv6 text in full (no "::", no leading zeros) so both sources compare equal. */
export function normalizeAddress(a: string): string {
  if (!a.includes(':')) return a;
  const [head, tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g || '0', 16).toString(16)).join(':');
}

export function endpointsKey(a: string, ap: number | string, b: string, bp: number | string): string {
  return [`${normalizeAddress(a)} ${ap}`, `${normalizeAddress(b)} ${bp}`].sort().join('|');
}

interface RawSegment { frame: number; seq: number; syn: boolean; payload: Buffer }

const FIELDS = ['frame.number', 'tcp.stream', 'ip.src', 'ipv6.src', 'tcp.srcport', 'ip.dst', 'ipv6.dst', 'tcp.dstport',
  'tcp.seq_raw', 'tcp.flags.syn', 'tcp.payload'];

interface Row { frame: number; stream: number; src: string; sport: number; dst: string; dport: number; seq: number; syn: boolean; payload: Buffer }

export async function tcpStreams(capture: string): Promise<TcpStream[]> {
  const rows = nativeRows(capture) ?? await tsharkRows(capture);
  const byDir = new Map<string, { dir: Omit<TcpDirection, 'data' | 'segments'>; raw: RawSegment[] }>();
  for (const r of rows) {
    const key = `${r.stream}|${r.src}|${r.sport}|${r.dst}|${r.dport}`;
    let entry = byDir.get(key);
    if (!entry) {
      entry = { dir: { stream: r.stream, src: r.src, sport: r.sport, dst: r.dst, dport: r.dport }, raw: [] };
      byDir.set(key, entry);
    }
    entry.raw.push({ frame: r.frame, seq: r.seq, syn: r.syn, payload: r.payload });
  }
  const streams = new Map<number, TcpStream>();
  for (const { dir, raw } of byDir.values()) {
    const assembled = reassemble(raw);
    let s = streams.get(dir.stream);
    if (!s) streams.set(dir.stream, (s = { id: dir.stream, endpoints: endpointsKey(dir.src, dir.sport, dir.dst, dir.dport), directions: [] }));
    s.directions.push({ ...dir, ...assembled });
  }
  return [...streams.values()].sort((a, b) => a.id - b.id);
}

/** Streams numbered by first appearance; a fresh SYN after data starts a new one (port reuse). */
function nativeRows(capture: string): Row[] | undefined {
  const packets = readTcpPackets(capture);
  if (!packets) return undefined;
  const current = new Map<string, { id: number; syn: Map<string, number>; data: boolean }>();
  let next = 0;
  return packets.map((p) => {
    const pair = endpointsKey(p.src, p.sport, p.dst, p.dport);
    const side = `${p.src} ${p.sport}`;
    let conn = current.get(pair);
    if (conn && p.syn && p.payload.length === 0 && conn.data && conn.syn.has(side) && conn.syn.get(side) !== p.seq) conn = undefined;
    if (!conn) current.set(pair, (conn = { id: next++, syn: new Map(), data: false }));
    if (p.syn) conn.syn.set(side, p.seq);
    if (p.payload.length > 0) conn.data = true;
    return { ...p, stream: conn.id };
  });
}

async function tsharkRows(capture: string): Promise<Row[]> {
  const args = ['-r', capture, '-n', '-o', 'tcp.desegment_tcp_streams:FALSE', '-Y', 'tcp', '-T', 'fields',
    '-E', 'occurrence=f', '-E', 'separator=\t'];
  for (const f of FIELDS) args.push('-e', f);
  let stdout: string;
  try {
    ({ stdout } = await run('tshark', args, { maxBuffer: 1 << 28, encoding: 'utf8' }));
  } catch (err) {
    // Damaged captures: tshark exits non-zero after printing what it could read.
    stdout = (err as { stdout?: string }).stdout ?? '';
  }
  const rows: Row[] = [];
  for (const line of stdout.split('\n')) {
    if (!line) continue;
    const [frame, stream, ip4s, ip6s, sport, ip4d, ip6d, dport, seq, syn, payload] = line.split('\t');
    if (!stream || !seq) continue;
    rows.push({
      frame: Number(frame), stream: Number(stream), src: ip4s || ip6s, sport: Number(sport), dst: ip4d || ip6d,
      dport: Number(dport), seq: Number(seq), syn: syn === '1' || syn === 'True',
      payload: Buffer.from(payload.replace(/:/g, ''), 'hex'),
    });
  }
  return rows;
}

function reassemble(raw: RawSegment[]): Pick<TcpDirection, 'data' | 'segments' | 'gapAt'> {
  const synSeg = raw.find((r) => r.syn);
  const withData = raw.filter((r) => r.payload.length > 0);
  if (withData.length === 0) return { data: Buffer.alloc(0), segments: [] };
  const base = synSeg ? (synSeg.seq + 1) >>> 0 : withData[0].seq;
  const rel = (seq: number): number => {
    const d = (seq - base) >>> 0;
    return d >= 0x80000000 ? d - 0x100000000 : d;
  };
  const ordered = withData.map((r) => ({ ...r, at: rel(r.seq) })).sort((a, b) => a.at - b.at || a.frame - b.frame);
  const parts: Buffer[] = [];
  const segments: Segment[] = [];
  let cursor = ordered[0].at < 0 ? ordered[0].at : 0;
  const origin = cursor;
  let gapAt: number | undefined;
  for (const seg of ordered) {
    const end = seg.at + seg.payload.length;
    if (end <= cursor) continue;
    if (seg.at > cursor) { gapAt = cursor - origin; break; }
    const fresh = seg.payload.subarray(cursor - seg.at);
    segments.push({ offset: cursor - origin, frame: seg.frame, length: fresh.length });
    parts.push(fresh);
    cursor = end;
  }
  return { data: Buffer.concat(parts), segments, gapAt };
}

/** Frame that carried the byte at `offset` of a direction. */
export function frameAt(dir: TcpDirection, offset: number): number | undefined {
  for (const s of dir.segments) if (offset >= s.offset && offset < s.offset + s.length) return s.frame;
  return undefined;
}

/** Runs `fn` over items with at most `limit` in flight. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  });
  await Promise.all(workers);
  return out;
}

// ---- TLS over a reassembled direction, using the modules under test ----


/** First segment boundary where a TLS (or SSLv2 hello) record starts: STARTTLS protocols talk first. */
export function tlsStart(dir: TcpDirection): number | undefined {
  const d = dir.data;
  for (const s of dir.segments) {
    const o = s.offset;
    if (o + 5 > d.length) continue;
    if (d[o] >= 20 && d[o] <= 24 && d[o + 1] === 3 && d[o + 2] <= 4 && d.readUInt16BE(o + 3) <= MAX_RECORD_LENGTH) return o;
    if ((d[o] & 0x80) && (d[o + 2] === 1 || d[o + 2] === 4) && (d[o + 3] === 0 || d[o + 3] === 3)) return o;
  }
  return undefined;
}

export interface TlsDirectionWalk {
  dir: TcpDirection;
  start: number;
  records: RecordOutput[];
  messages: Array<HandshakeMessage | Malformed>;
  views: Array<{ view: HandshakeView | Malformed; message: HandshakeMessage }>;
}

/**
 * Splits a direction into records (fed segment by segment) and its cleartext handshake. In
 * TLS ≤ 1.2 the handshake is cleartext until the direction's ChangeCipherSpec; in TLS 1.3 a
 * ChangeCipherSpec is only middlebox camouflage (a second ClientHello may follow it) and the
 * protected handshake travels in application_data records.
 */
export function walkTls(dir: TcpDirection, tls13 = false): TlsDirectionWalk | undefined {
  const start = tlsStart(dir);
  if (start === undefined) return undefined;
  const splitter = newRecordSplitter({ streamOffset: start });
  const records: RecordOutput[] = [];
  for (const s of dir.segments) {
    const from = Math.max(s.offset, start);
    const to = s.offset + s.length;
    if (to > from) records.push(...pushRecords(splitter, dir.data.subarray(from, to)));
  }
  const assembler = newHandshakeAssembler();
  const messages: Array<HandshakeMessage | Malformed> = [];
  let ccsSeen = false;
  for (const r of records) {
    if (r.kind === 'sslv2') continue;
    if (r.kind === 'malformed') break;
    if (r.contentType === 20) ccsSeen = true;
    // After ChangeCipherSpec the handshake (Finished) is encrypted.
    if (r.contentType === 22 && (!ccsSeen || tls13)) messages.push(...pushHandshake(assembler, r.fragment, r.streamOffset + 5));
  }
  const views = messages.filter((m): m is HandshakeMessage => m.kind === 'handshake')
    .map((message) => ({ view: decodeHandshake(message), message }));
  return { dir, start, records, messages, views };
}

export interface ConnectionWalk {
  directions: TlsDirectionWalk[];
  tls13: boolean;
}

/** Both directions of a TCP stream, walked with the version the ServerHello negotiated. */
export function walkConnection(stream: TcpStream): ConnectionWalk {
  let walks = stream.directions.map((d) => walkTls(d)).filter((w): w is TlsDirectionWalk => w !== undefined);
  const tls13 = walks.some((w) => w.views.some(({ view }) => view.kind === 'server_hello' &&
    (view.negotiatedVersion === 0x0304 || (view.negotiatedVersion & 0xff00) === 0x7f00 || (view.negotiatedVersion & 0xff00) === 0x7e00)));
  if (tls13) walks = stream.directions.map((d) => walkTls(d, true)).filter((w): w is TlsDirectionWalk => w !== undefined);
  return { directions: walks, tls13 };
}
