/**
 * The live analysis against the offline one. Each recorded capture is fed frame by frame
 * through LiveAnalysis with a snapshot committed to SQLite every 200 ms of capture time (five
 * times more often than `faultline sniff` commits); when the capture ends, what SQLite holds
 * must be exactly what `faultline analyze` stores for the same file: every finding, flow, host,
 * FTP session/command/channel and layer-2 row. Snapshots in between must not disturb the
 * analyzers, and the rowid bookkeeping of commitSnapshot must leave no stale or missing rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../src/store/db.js';
import { DEFAULT_OPTIONS, type AnalyzeOptions } from '../../src/analysis/context.js';
import { PcapWriter } from '../../src/source/pcap-writer.js';
import type { Frame } from '../../src/source/frame.js';
import { repoRoot } from '../helpers.js';
import { dump, LAB, labCaptures, labOptions, liveReplay, moveClientPorts, offline, readFrames } from '../lab/sniff-support.js';

const NLB = join(repoRoot, 'captures', 'nlb');
const tmp = mkdtempSync(join(tmpdir(), 'faultline-sniff-replay-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

async function sameAsOffline(path: string, options: AnalyzeOptions, name: string): Promise<{ live: Record<string, unknown>; codes: string[] }> {
  const db = openDb(join(tmp, `${name}.db`));
  try {
    const off = await offline(path, options, db);
    // Layer-2 facts rebuilt at every snapshot here, to show that doing so does not disturb them.
    const r = liveReplay(await readFrames(path), options, db, 200e3, name, { l2EveryUs: 0 });
    const live = dump(db, r.captureId);
    assert.deepEqual(live, dump(db, off), `${name}: live and offline analyses stored different rows`);
    // Whatever was printed along the way and not cleared is what is stored at the end.
    const standing = new Map<string, number>();
    for (const p of r.published) standing.set(`${p.code}|${p.session}`, (standing.get(`${p.code}|${p.session}`) ?? 0) + (p.cleared ? -1 : 1));
    const stored = (live.findings as string[]).map((j) => JSON.parse(j) as { code: string; subject: string });
    for (const f of stored) {
      const key = `${f.code}|${(JSON.parse(f.subject) as { session?: number }).session}`;
      assert.ok((standing.get(key) ?? 0) >= 1, `${name}: ${f.code} stored but never published live`);
    }
    return { live, codes: [...new Set(stored.map((f) => f.code))].sort() };
  } finally {
    db.close();
  }
}

test('every FTP lab capture: live replay stores what the offline analysis stores', async () => {
  const caps = labCaptures();
  assert.ok(caps.length >= 40, `lab captures found: ${caps.length}`);
  for (const c of caps) {
    const { codes } = await sameAsOffline(join(LAB, c.file), labOptions(c), c.file);
    // And the scenario's design holds for the live analysis too.
    for (const code of c.must) assert.ok(codes.includes(code), `${c.file}: ${code} must appear live; got ${codes.join(', ')}`);
    for (const code of c.mustNot) assert.ok(!codes.includes(code), `${c.file}: ${code} must not appear live`);
  }
});

test('every layer-2 / NLB capture: live replay stores what the offline analysis stores', async () => {
  const files = readdirSync(NLB).filter((f) => f.endsWith('.pcap'));
  assert.ok(files.length >= 8);
  for (const f of files) await sameAsOffline(join(NLB, f), DEFAULT_OPTIONS, f);
});

/**
 * One capture of the broken PASV-through-NAT session, repeated: each copy 700 s after the
 * previous, from other client ports. The unanswered data SYN's flow ends when the flow table's
 * 600 s idle timeout expires it, the control connection 10 s after it closed: so every session
 * settles, is stored for good and leaves memory while later ones still come.
 */
function repeated(frames: Frame[], copies: number, gapUs: number): Frame[] {
  const out: Frame[] = [];
  const t0 = frames[0].ts;
  let no = 0;
  for (let k = 0; k < copies; k++) {
    for (const f of frames) {
      const data = Buffer.from(f.data);
      // Checksums are not checked by faultline.
      moveClientPorts(data, (port) => 32768 + ((port - 32768 + 97 * k) % 28000));
      out.push({ ...f, no: ++no, ts: t0 + k * gapUs + (f.ts - t0), data });
    }
  }
  return out;
}

/**
 * `copies` of a lab recording (see repeated) written to a pcap file, replayed live with a commit
 * every second of capture time and analysed offline into one database; the two must store the
 * same rows.
 */
async function replayRepeated(file: string, copies: number, name: string, options: AnalyzeOptions) {
  const frames = repeated(await readFrames(join(LAB, file)), copies, 700e6);
  const path = join(tmp, `${name}.pcap`);
  const w = new PcapWriter(path, frames[0].linkType);
  for (const f of frames) w.write(f.ts, f.data, f.origLen);
  w.close();
  const db = openDb(join(tmp, `${name}.db`));
  const off = await offline(path, options, db);
  const r = liveReplay(frames, options, db, 1e6, name);
  const live = dump(db, r.captureId);
  assert.deepEqual(live, dump(db, off));
  return { frames, db, r, live };
}

test('settled FTP sessions are stored once, leave memory, and the totals match the offline analysis', async () => {
  const { frames, db, r } = await replayRepeated('pasv-nat-no-helper-no-pasv_address.outside.pcap', 12, 'repeated', DEFAULT_OPTIONS);
  const sessions = (db.prepare(`SELECT COUNT(*) AS n FROM ftp_sessions WHERE capture_id = ?`).get(r.captureId) as { n: number }).n;
  assert.equal(sessions, 12);
  // 11 of the 12 sessions settled before the capture ended: stored for good and forgotten.
  assert.equal(r.last.counters.settledSessions, 11);
  assert.equal(r.last.counters.sessions, 1);
  // Each session's three findings were published once, while the capture was still going.
  for (const code of ['FTP_CLEARTEXT_LOGIN', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED']) {
    const events = r.published.filter((p) => p.code === code);
    assert.equal(events.filter((p) => !p.cleared).length, 12, code);
    assert.equal(events.filter((p) => p.cleared).length, 0, code);
    assert.ok(events.filter((p) => p.frame < frames.length).length >= 11, `${code}: published before the end`);
  }
  db.close();
});

test('FTPS sessions wait for the end (their findings need the TLS facts), and match the offline analysis', async () => {
  const name = 'ftps-no-session-reuse-tls12.outside.pcap';
  const c = labCaptures().find((x) => x.file === name)!;
  const { db, r, live } = await replayRepeated(name, 4, 'repeated-ftps', labOptions(c));
  assert.equal(r.last.counters.settledSessions, 0);
  const codes = (live.findings as string[]).map((j) => (JSON.parse(j) as { code: string }).code);
  assert.equal(codes.filter((x) => x === 'FTPS_SESSION_REUSE_MISSING').length, 4, codes.join(', '));
  db.close();
});
