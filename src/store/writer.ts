import type { Db } from './db.js';
import type { Flow } from '../flow/flow.js';
import { flowRow, insertFindings, insertFlowRows } from './rows.js';
import type { FactSet } from '../analysis/context.js';
import type { Finding } from '../findings/types.js';
import type { FlowSink, SettleSink, SettledPart } from '../analysis/pipeline.js';
import type { FactWriter } from './facts.js';

const BATCH = 5000;

/** One part of a live commit: its protocol facts (written by the modules' writers) and findings. */
export interface SnapshotPart {
  writeFacts(db: Db, captureId: number): void;
  findings: Finding[];
}

/** Core tables a live commit handles itself: the capture row, appended flows, rewritten warnings and hosts. */
const CORE_TABLES = new Set(['captures', 'flows', 'warnings', 'hosts']);

/** Findings and every protocol table keyed by capture_id: the rows a live commit rewrites. */
function fluxTables(db: Db): string[] {
  const tables = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as Array<{ name: string; sql: string }>;
  const out: string[] = [];
  for (const t of tables) {
    if (CORE_TABLES.has(t.name)) continue;
    const cols = db.prepare(`SELECT name FROM pragma_table_info(?)`).all(t.name) as Array<{ name: string }>;
    if (!cols.some((c) => c.name === 'capture_id')) continue;
    if (/WITHOUT\s+ROWID/i.test(t.sql)) throw new Error(`table ${t.name} is WITHOUT ROWID: live commits find their rows by rowid`);
    out.push(t.name);
  }
  return out;
}

/**
 * Writes one capture's rows. Flows stream in as they end, in batched transactions of prepared
 * inserts; facts and findings go in at the end. Analysing a file again (same sha256) replaces
 * the earlier rows, so a database holds each capture once.
 */
export class CaptureWriter implements FlowSink {
  /** Findings of settled units stored during the run, for the progress report. */
  settledFindings = 0;
  readonly captureId: number;
  private batch: Flow[] = [];
  /** Live commits: tables whose rows of this capture are rewritten, and where the kept rows end. */
  private fluxTables: string[] | null = null;
  private marks: Map<string, number> | null = null;
  private hostsWritten: Map<string, number> | null = null;

  constructor(private db: Db, file: string, name: string) {
    this.captureId = Number(db.prepare(
      `INSERT INTO captures (file, name, analyzed_at) VALUES (?, ?, ?)`,
    ).run(file, name, new Date().toISOString()).lastInsertRowid);
  }

  flow(f: Flow): void {
    this.batch.push(f);
    if (this.batch.length >= BATCH) this.flushFlows();
  }

  private flushFlows(): void {
    if (this.batch.length === 0) return;
    // Rows are taken at flush time: a flow's app label may still be set after it ended (a data
    // connection claimed by an announcement read a moment later).
    const rows = this.batch.map(flowRow);
    this.batch = [];
    insertFlowRows(this.db, this.captureId, rows);
  }

  /**
   * A sink for units settled during the run: their protocol rows (through the module's own fact
   * writer) and findings go in at once, in one transaction, so the analysis can forget them.
   */
  settleSink(writers: Map<string, FactWriter | null>): SettleSink {
    return {
      store: (part: SettledPart) => {
        const write = writers.get(part.protocol);
        if (write === undefined) throw new Error(`no fact writer for settled ${part.protocol} units`);
        this.settledFindings += part.findings.length;
        this.db.transaction(() => {
          write?.(this.db, this.captureId, part.facts);
          insertFindings(this.db, this.captureId, part.findings);
        })();
      },
    };
  }

  /** Facts and findings of the finished capture; replaces earlier analyses of the same file. */
  finish(facts: FactSet, findings: Finding[], extra?: (db: Db, captureId: number) => void): void {
    this.flushFlows();
    const cid = this.captureId;
    const c = facts.capture;
    const db = this.db;
    db.transaction(() => {
      db.prepare(`DELETE FROM captures WHERE sha256 = ? AND id <> ?`).run(c.sha256, cid);
      db.prepare(`UPDATE captures SET sha256 = ?, format = ?, compressed = ?, link_types = ?, frames = ?, bytes = ?,
        first_ts = ?, last_ts = ?, damaged = ?, complete = 1, stats = ? WHERE id = ?`).run(
        c.sha256, c.format, c.compressed ? 1 : 0, JSON.stringify(c.linkTypes), c.frames, c.bytes,
        c.firstTs === null ? null : Math.round(c.firstTs), c.lastTs === null ? null : Math.round(c.lastTs),
        c.damaged ? 1 : 0, JSON.stringify(facts.stats), cid);
      this.writeWarnings(facts);
      this.writeHosts(facts);
      this.writeFindings(findings);
      extra?.(db, cid);
    })();
  }

  private writeWarnings(facts: FactSet): void {
    const w = this.db.prepare(`INSERT INTO warnings (capture_id, byte_offset, frame, message) VALUES (?, ?, ?, ?)`);
    for (const x of facts.warnings) w.run(this.captureId, x.offset, x.frame, x.message);
  }

  /** Host rows: all of them at the end; in live commits (`replace`) those whose totals changed. */
  private writeHosts(facts: FactSet, replace = false): void {
    const h = this.db.prepare(`INSERT${replace ? ' OR REPLACE' : ''} INTO hosts (capture_id, ip, packets_sent, packets_received, bytes_sent, bytes_received, flows, first_ts, last_ts) VALUES (?,?,?,?,?,?,?,?,?)`);
    const seen = replace ? this.hostsWritten ??= new Map() : null;
    for (const x of facts.hosts) {
      if (seen) {
        // Hosts never go away and their totals only grow; every flow that ends adds packets, so
        // the packet total tells a change.
        const sig = x.packetsSent + x.packetsReceived;
        if (seen.get(x.ip) === sig) continue;
        seen.set(x.ip, sig);
      }
      h.run(this.captureId, x.ip, x.packetsSent, x.packetsReceived, x.bytesSent, x.bytesReceived, x.flows, Math.round(x.firstTs), Math.round(x.lastTs));
    }
  }

  private writeFindings(findings: Finding[]): void {
    insertFindings(this.db, this.captureId, findings);
  }

  /**
   * Live capture: one commit of the analysis so far, in one transaction. Flows that ended since
   * the last commit are appended; the capture row and its warnings are rewritten, hosts whose
   * totals changed are upserted.
   * Facts come in two parts. `settled` (units that cannot change any more, e.g. FTP sessions
   * closed long enough ago, and their findings) is written once and kept; the analysis then
   * forgets it, which is what bounds its memory. `current` (everything still in flux, and
   * capture-wide facts) replaces what the previous commit wrote as current: those rows are the
   * capture's rows in each table with a capture_id column whose rowid is above the mark taken
   * between the two parts — so protocol tables need no cleanup code of their own, and rows of
   * other captures written meanwhile are never touched.
   */
  commitSnapshot(facts: FactSet, parts: { settled: SnapshotPart | null; current: SnapshotPart }, extraStats: Record<string, unknown> = {}): void {
    const db = this.db;
    const cid = this.captureId;
    const tables = this.fluxTables ??= fluxTables(db);
    db.transaction(() => {
      this.flushFlows();
      const c = facts.capture;
      // complete = 1 from the first commit: a live capture is shown (and read) as it grows.
      db.prepare(`UPDATE captures SET format = ?, link_types = ?, frames = ?, bytes = ?, first_ts = ?, last_ts = ?, damaged = ?,
        complete = 1, stats = ? WHERE id = ?`).run(
        c.format, JSON.stringify(c.linkTypes), c.frames, c.bytes,
        c.firstTs === null ? null : Math.round(c.firstTs), c.lastTs === null ? null : Math.round(c.lastTs),
        c.damaged ? 1 : 0, JSON.stringify({ ...facts.stats, ...extraStats }), cid);
      db.prepare(`DELETE FROM warnings WHERE capture_id = ?`).run(cid);
      this.writeWarnings(facts);
      this.writeHosts(facts, true);
      if (this.marks !== null) {
        for (const t of tables) db.prepare(`DELETE FROM "${t}" WHERE capture_id = ? AND rowid > ?`).run(cid, this.marks.get(t) ?? 0);
      }
      if (parts.settled) {
        parts.settled.writeFacts(db, cid);
        this.writeFindings(parts.settled.findings);
      }
      const marks = new Map<string, number>();
      for (const t of tables) marks.set(t, (db.prepare(`SELECT COALESCE(MAX(rowid), 0) AS m FROM "${t}"`).get() as { m: number }).m);
      this.marks = marks;
      parts.current.writeFacts(db, cid);
      this.writeFindings(parts.current.findings);
    })();
  }

  /** The analysis failed: remove the partial capture. */
  abort(): void {
    this.batch = [];
    this.db.prepare(`DELETE FROM captures WHERE id = ?`).run(this.captureId);
  }
}
