/**
 * Helpers for the live-capture tests: frames of a capture file in memory, the live analysis
 * driven over them as a sniffer would (snapshots committed between frames), the offline
 * analysis of the same file, and a comparable dump of what either stored in SQLite.
 */
import { readCapture } from '../../src/source/open.js';
import type { Frame } from '../../src/source/frame.js';
import { analyzeCapture } from '../../src/analysis/pipeline.js';
import { DEFAULT_OPTIONS, type AnalyzeOptions } from '../../src/analysis/context.js';
import { LiveAnalysis, snapshotParts, type LiveAnalysisOptions, type LiveSnapshot } from '../../src/analysis/live.js';
import type { Db } from '../../src/store/db.js';
import { CaptureWriter } from '../../src/store/writer.js';
import { writeProtocolFacts } from '../../src/store/facts.js';
import { PROTOCOLS } from '../../src/protocols.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';

/** The recorded lab sessions (test/lab/record.ts) and what each must and must not show. */
export const LAB = join(repoRoot, 'captures', 'lab');

export interface LabCapture { file: string; keylog: string | null; options: { passiveRange: [number, number] | null }; must: string[]; mustNot: string[] }

export function labCaptures(): LabCapture[] {
  const expected = JSON.parse(readFileSync(join(LAB, 'expected.json'), 'utf8')) as { scenarios: Record<string, { captures: Record<string, LabCapture> }> };
  return Object.values(expected.scenarios).flatMap((s) => Object.values(s.captures));
}

/** The analysis options a lab capture was recorded for (its passive range, its key log). */
export function labOptions(c: LabCapture): AnalyzeOptions {
  return { ...DEFAULT_OPTIONS, passiveRange: c.options.passiveRange, keylog: c.keylog ? readFileSync(join(LAB, c.keylog), 'utf8') : null };
}

/** Every frame of a capture, its bytes copied (the reader's views die with their chunk). */
export async function readFrames(path: string): Promise<Frame[]> {
  const frames: Frame[] = [];
  await readCapture(path, { frame: (f) => frames.push({ ...f, data: Buffer.from(f.data) }), warning: () => undefined });
  return frames;
}

export interface ReplayResult {
  captureId: number;
  snapshots: number;
  /** Every finding published or cleared along the way, in order. */
  published: Array<{ code: string; cleared: boolean; session: number | undefined; frame: number }>;
  last: LiveSnapshot;
  maxOpenFlows: number;
}

/**
 * Frames through the live analysis, a snapshot committed each time capture time passes
 * `everyUs` (and at the end), as `faultline sniff` does each second.
 */
export function liveReplay(frames: Iterable<Frame>, options: AnalyzeOptions, db: Db, everyUs: number, name = 'replay', tuning: Pick<LiveAnalysisOptions, 'settleUs' | 'l2EveryUs'> = {}): ReplayResult {
  const writer = new CaptureWriter(db, name, name);
  const live = new LiveAnalysis(options, { file: name, name, flowSink: writer, ...tuning });
  const published: ReplayResult['published'] = [];
  let next = -1, snapshots = 0, frameNo = 0, maxOpenFlows = 0;
  const record = (s: LiveSnapshot): void => {
    for (const f of s.changes.added) published.push({ code: f.code, cleared: false, session: f.subject.session, frame: frameNo });
    for (const f of s.changes.cleared) published.push({ code: f.code, cleared: true, session: f.subject.session, frame: frameNo });
  };
  for (const f of frames) {
    if (live.ctx.facts.capture.linkTypes.length === 0) live.ctx.facts.capture.linkTypes = [f.linkType];
    if (next < 0) next = f.ts + everyUs;
    if (f.ts >= next) {
      const s = live.snapshot(f.ts);
      writer.commitSnapshot(s.facts, snapshotParts(s));
      live.release(s);
      record(s);
      snapshots++;
      next = f.ts + everyUs;
      if (live.openFlows > maxOpenFlows) maxOpenFlows = live.openFlows;
    }
    frameNo = f.no;
    live.frame(f);
  }
  const last = live.finish();
  writer.commitSnapshot(last.facts, snapshotParts(last));
  record(last);
  return { captureId: writer.captureId, snapshots, published, last, maxOpenFlows };
}

/**
 * The lab FTP recordings' client ports (32768 and up, outside the server's passive range
 * 40000–40009) in an Ethernet/IPv4/TCP frame, moved in place by `move`; other frames untouched.
 * Copies of one recorded session made this way are other connections to the flow table.
 */
export function moveClientPorts(data: Buffer, move: (port: number) => number): void {
  if (data.readUInt16BE(12) !== 0x0800 || data[23] !== 6) return;
  for (const at of [34, 36]) {
    const port = data.readUInt16BE(at);
    if (port >= 32768 && !(port >= 40000 && port <= 40009)) data.writeUInt16BE(move(port), at);
  }
}

/**
 * The offline analysis with everything kept to the end (no settling during the run, unlike
 * analyzeAndStore): the baseline that live replays and settled analyses must equal.
 */
export async function offline(path: string, options: AnalyzeOptions, db: Db): Promise<number> {
  const writer = new CaptureWriter(db, path, path);
  const r = await analyzeCapture(path, options, { flowSink: writer });
  writer.finish(r.facts, r.findings, (d, cid) => writeProtocolFacts(d, cid, r.facts, PROTOCOLS.map((p) => p.writeFacts)));
  return writer.captureId;
}

/**
 * What a capture left in SQLite, comparable between two analyses: every table keyed by
 * capture_id, rows without their row ids, sorted; and the capture row's counts and times.
 */
export function dump(db: Db, captureId: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const c = db.prepare(`SELECT frames, bytes, first_ts, last_ts, link_types FROM captures WHERE id = ?`).get(captureId);
  out.capture = c;
  const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as Array<{ name: string }>).map((t) => t.name);
  for (const t of tables) {
    const cols = (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(t) as Array<{ name: string }>).map((x) => x.name);
    if (!cols.includes('capture_id')) continue;
    const keep = cols.filter((x) => x !== 'id' && x !== 'capture_id');
    const rows = db.prepare(`SELECT ${keep.map((x) => `"${x}"`).join(', ')} FROM "${t}" WHERE capture_id = ?`).all(captureId) as Array<Record<string, unknown>>;
    out[t] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}
