import type { Db } from './db.js';
import type { Finding } from '../findings/types.js';
import { storedFlow, type FlowDbRow } from './rows.js';
import { concatLazy, inBatches, inOrder, mapLazy, materialize, writeJson } from './json-stream.js';

/** ISO 8601 with microseconds, from epoch microseconds. */
export function isoTime(micros: number | null): string | null {
  if (micros === null || micros === undefined || !Number.isFinite(micros)) return null;
  const ms = Math.floor(micros / 1000);
  // Corrupt timestamps can lie outside what a Date can represent (±273,790 years): no ISO form.
  if (Math.abs(ms) > 8.64e15) return null;
  const frac = Math.round(micros - ms * 1000);
  const iso = new Date(ms).toISOString();
  return iso.slice(0, 23) + String(frac).padStart(3, '0') + 'Z';
}

export interface CaptureRow {
  id: number; file: string; name: string; sha256: string; format: string; compressed: number;
  link_types: string; frames: number; bytes: number; first_ts: number | null; last_ts: number | null;
  damaged: number; stats: string; analyzed_at: string;
}

export function captureRows(db: Db, ids?: number[]): CaptureRow[] {
  const all = db.prepare(`SELECT * FROM captures WHERE complete = 1 ORDER BY id`).all() as CaptureRow[];
  return ids ? all.filter((c) => ids.includes(c.id)) : all;
}

export function captureJson(c: CaptureRow): Record<string, unknown> {
  return {
    id: c.id, file: c.file, name: c.name, sha256: c.sha256, format: c.format, compressed: c.compressed === 1,
    linktypes: JSON.parse(c.link_types) as number[], frames: c.frames, bytes: c.bytes,
    firstTs: isoTime(c.first_ts), lastTs: isoTime(c.last_ts), damaged: c.damaged === 1,
  };
}

interface FindingRow { id: number; capture_id: number; code: string; severity: string; title: string; explanation: string; mitigation: string; frames: string; first_ts: number | null; subject: string; details: string }

/** Rows of a long list are read this many at a time when the document is streamed. */
export const DOCUMENT_BATCH = 500;

const FINDING_ORDER = `ORDER BY json_extract(frames, '$[0]') IS NULL, json_extract(frames, '$[0]'), code, id`;

function findingOf(r: FindingRow): Finding & { id: number; capture: number } {
  return {
    id: r.id, capture: r.capture_id, code: r.code, severity: r.severity as Finding['severity'], title: r.title,
    explanation: r.explanation, mitigation: r.mitigation, frames: JSON.parse(r.frames) as number[],
    firstTs: r.first_ts, subject: JSON.parse(r.subject) as Finding['subject'], details: JSON.parse(r.details) as Record<string, unknown>,
  };
}

/**
 * In order of first evidence frame (then code), as the rules engine orders them: findings of
 * units settled during the run are stored before the rest, so insertion order is not that.
 */
export function findingsFor(db: Db, captureId: number): Array<Finding & { id: number; capture: number }> {
  return (db.prepare(`SELECT * FROM findings WHERE capture_id = ? ${FINDING_ORDER}`).all(captureId) as FindingRow[]).map(findingOf);
}

/** findingsFor as a lazy list: the order is read first (ids only), the rows a batch at a time. */
export function findingsLazy(db: Db, captureId: number, batch = DOCUMENT_BATCH): Iterable<Finding & { id: number; capture: number }> {
  const ids = (db.prepare(`SELECT id FROM findings WHERE capture_id = ? ${FINDING_ORDER}`).pluck().all(captureId)) as number[];
  const rows = db.prepare(`SELECT * FROM findings WHERE id IN (SELECT value FROM json_each(?))`);
  return inBatches(ids, batch, (some) => inOrder(some, rows.all(JSON.stringify(some)) as FindingRow[], (r) => r.id).map(findingOf));
}

/** One finding code of a capture, as the summary prints it: how many, the first few in order, whether there is more evidence. */
export interface FindingCodeDigest {
  code: string;
  severity: Finding['severity'];
  count: number;
  /** The first findings by evidence frame (at most `firstN`): title, explanation, mitigation and frames. */
  first: Array<Pick<Finding, 'title' | 'explanation' | 'mitigation' | 'frames'>>;
  /** Evidence frames of the code's findings, counting four of each at most (what the summary would list). */
  evidenceFrames: number;
  /** The most frames any one of them names. */
  maxFrames: number;
}

/**
 * The findings of a capture by code, counted in SQL: what a summary prints without loading every
 * finding (tens of thousands on a large capture) with its details.
 */
export function findingDigest(db: Db, captureId: number, firstN = 12): FindingCodeDigest[] {
  const codes = db.prepare(`SELECT code, severity, COUNT(*) AS n, SUM(MIN(json_array_length(frames), 4)) AS ev,
    MAX(json_array_length(frames)) AS mx FROM findings WHERE capture_id = ? GROUP BY code, severity`).all(captureId) as
    Array<{ code: string; severity: string; n: number; ev: number; mx: number }>;
  const first = db.prepare(`SELECT title, explanation, mitigation, frames FROM findings WHERE capture_id = ? AND code = ? AND severity = ?
    ${FINDING_ORDER} LIMIT ?`);
  return codes.map((c) => ({
    code: c.code, severity: c.severity as Finding['severity'], count: c.n, evidenceFrames: c.ev, maxFrames: c.mx,
    first: (first.all(captureId, c.code, c.severity, firstN) as Array<{ title: string; explanation: string; mitigation: string; frames: string }>)
      .map((r) => ({ title: r.title, explanation: r.explanation, mitigation: r.mitigation, frames: JSON.parse(r.frames) as number[] })),
  }));
}

export function warningsFor(db: Db, captureId: number): Array<{ offset: number; frame: number | null; message: string }> {
  return (db.prepare(`SELECT byte_offset AS offset, frame, message FROM warnings WHERE capture_id = ? ORDER BY id`).all(captureId)) as Array<{ offset: number; frame: number | null; message: string }>;
}

export function hostsFor(db: Db, captureId: number, limit = 1000): Array<Record<string, unknown>> {
  return db.prepare(`SELECT ip, packets_sent AS packetsSent, packets_received AS packetsReceived, bytes_sent AS bytesSent,
    bytes_received AS bytesReceived, flows FROM hosts WHERE capture_id = ? ORDER BY bytes_sent + bytes_received DESC LIMIT ?`).all(captureId, limit) as Array<Record<string, unknown>>;
}

export function protocolsFor(db: Db, captureId: number): Array<{ protocol: string; flows: number; packets: number; bytes: number }> {
  return db.prepare(`SELECT CASE protocol WHEN 6 THEN 'tcp' WHEN 17 THEN 'udp' WHEN 1 THEN 'icmp' WHEN 58 THEN 'icmpv6' WHEN 2 THEN 'igmp' ELSE 'ip-proto-' || protocol END
      || CASE WHEN app IS NULL THEN '' ELSE '/' || app END AS protocol,
    COUNT(*) AS flows, SUM(packets_fwd + packets_rev) AS packets, SUM(bytes_fwd + bytes_rev) AS bytes
    FROM flows WHERE capture_id = ? GROUP BY 1 ORDER BY packets DESC`).all(captureId) as Array<{ protocol: string; flows: number; packets: number; bytes: number }>;
}

export interface FlowJson {
  index: number; protocol: number; src: string; srcPort: number; dst: string; dstPort: number;
  firstFrame: number; lastFrame: number; firstTs: string | null; lastTs: string | null;
  packets: [number, number]; bytes: [number, number]; payloadBytes: [number, number];
  state: string; communityId: string | null; app: string | null;
  tcp: Record<string, unknown> | null; icmpErrors: unknown[];
}

export function flowsFor(db: Db, captureId: number, opts: { limit?: number; app?: string } = {}): FlowJson[] {
  const rows = (opts.app
    ? db.prepare(`SELECT * FROM flows WHERE capture_id = ? AND app = ? ORDER BY idx LIMIT ?`).all(captureId, opts.app, opts.limit ?? 1e9)
    : db.prepare(`SELECT * FROM flows WHERE capture_id = ? ORDER BY idx LIMIT ?`).all(captureId, opts.limit ?? 1e9)) as FlowDbRow[];
  return rows.map((r) => {
    const { tcpJson, icmpJson, ...f } = storedFlow(r);
    return {
      ...f, firstTs: isoTime(f.firstTs), lastTs: isoTime(f.lastTs),
      tcp: tcpJson ? JSON.parse(tcpJson) as Record<string, unknown> : null,
      icmpErrors: icmpJson ? JSON.parse(icmpJson) as unknown[] : [],
    };
  });
}

/** Sections that protocol modules add to the JSON document (ftp, tls, nlb). */
export interface DocumentOptions {
  showPasswords?: boolean;
  /** Rows per read of a lazy list (sections may return lazy lists, see json-stream.ts). */
  batch?: number;
}
export type DocumentSection = (db: Db, captureIds: number[], opts: DocumentOptions) => unknown;

/**
 * The `--json` document of FINDINGS.md for some captures, with its long lists (findings and the
 * protocol sections' lists) lazy: writeJson prints it a batch of rows at a time.
 */
export function documentParts(db: Db, captureIds: number[], opts: DocumentOptions = {}, sections: Array<{ key: string; section: DocumentSection } | null> = []): Record<string, unknown> {
  const batch = opts.batch ?? DOCUMENT_BATCH;
  const caps = captureRows(db, captureIds);
  const doc: Record<string, unknown> = {
    captures: caps.map((c) => ({
      ...captureJson(c),
      warnings: warningsFor(db, c.id),
      protocols: protocolsFor(db, c.id),
      hosts: hostsFor(db, c.id, 100),
      stats: JSON.parse(c.stats) as unknown,
    })),
    findings: concatLazy(caps.map((c) => mapLazy(findingsLazy(db, c.id, batch), (f) => ({ ...f, firstTs: isoTime(f.firstTs) })))),
    ftp: { sessions: [] },
    tls: { handshakes: [] },
    nlb: { clusters: [] },
  };
  for (const s of sections) if (s) doc[s.key] = s.section(db, caps.map((c) => c.id), { ...opts, batch });
  return doc;
}

/** The whole `--json` document in memory (the web API, compare). */
export function analysisDocument(db: Db, captureIds: number[], opts: DocumentOptions = {}, sections: Array<{ key: string; section: DocumentSection } | null> = []): Record<string, unknown> {
  return materialize(documentParts(db, captureIds, opts, sections)) as Record<string, unknown>;
}

/** The `--json` document written to `sink` as it is read, followed by a newline. */
export function writeAnalysisDocument(sink: (text: string) => void, db: Db, captureIds: number[], opts: DocumentOptions = {}, sections: Array<{ key: string; section: DocumentSection } | null> = []): void {
  writeJson(sink, documentParts(db, captureIds, opts, sections));
  sink('\n');
}
