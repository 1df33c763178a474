/**
 * Settling during the run (analyze, serve and compare store closed FTP sessions and their
 * findings as soon as nothing later can change them, and forget them) must store exactly what
 * an analysis that keeps everything until the end stores. The capture: the benchmark's traffic
 * mix (FTP with refused data connections, active and passive mode, anonymous logins, FTPS,
 * TLS, bulk TCP, DNS, ARP), 60 MiB spread over about eight minutes of capture time, so the
 * flow table's sweeps (every 32768 packets) end control connections well before the end and
 * the 120 s data-channel window passes for many sessions while later ones are still being read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../src/store/db.js';
import { analyzeAndStore } from '../../src/store/ingest.js';
import { findingsFor } from '../../src/store/queries.js';
import { DEFAULT_OPTIONS } from '../../src/analysis/context.js';
import { generateCapture } from '../../bench/generate.js';
import { dump, LAB, labCaptures, labOptions, offline } from '../lab/sniff-support.js';

/** FTPS sessions stored during the run: those in the database that the analysis did not hold to the end. */
function settledFtps(db: ReturnType<typeof openDb>, captureId: number, held: Array<{ flow: number }>): Set<number> {
  const heldFlows = new Set(held.map((s) => s.flow));
  const rows = db.prepare(`SELECT session FROM ftp_sessions WHERE capture_id = ? AND tls_mode <> 'none'`).all(captureId) as Array<{ session: number }>;
  return new Set(rows.map((r) => r.session).filter((f) => !heldFlows.has(f)));
}

test('sessions settled during the run are stored exactly as an end-of-run analysis stores them', { timeout: 300_000 }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'faultline-settle-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const gen = generateCapture({ out: join(tmp, 'mixed.pcap'), sizeMb: 60, concurrency: 300, thinkUs: 30_000, seed: 7 });
  assert.ok(gen.lastTs - gen.firstTs > 300e6, `capture spans ${(gen.lastTs - gen.firstTs) / 1e6} s`);
  const combined = gen.file;
  const frames = gen.packets;

  const dbSettled = openDb(join(tmp, 'settled.db'));
  const dbEnd = openDb(join(tmp, 'end.db'));
  t.after(() => { dbSettled.close(); dbEnd.close(); });
  const stored = await analyzeAndStore(dbSettled, combined, DEFAULT_OPTIONS);
  const endId = await offline(combined, DEFAULT_OPTIONS, dbEnd);

  const settledDump = dump(dbSettled, stored.captureId);
  const endDump = dump(dbEnd, endId);
  assert.equal((settledDump.capture as { frames: number }).frames, frames);
  // Settling really happened: most sessions and findings left memory before the end...
  const sessions = (endDump.ftp_sessions as string[]).length;
  const heldToEnd = stored.result.facts.ftp.sessions.length;
  assert.ok(sessions >= 100, `sessions: ${sessions}`);
  assert.ok(sessions - heldToEnd >= sessions / 3, `sessions held to the end: ${heldToEnd} of ${sessions}`);
  assert.ok(stored.settledFindings > 0, 'findings stored during the run');
  // ...FTPS sessions too, judged with the handshakes of their flows, and TLS handshakes stored as
  // their connections ended: the TLS rules took them part by part, so neither stays in memory...
  const ftps = settledFtps(dbSettled, stored.captureId, stored.result.facts.ftp.sessions);
  assert.ok(ftps.size >= 10, `FTPS sessions settled: ${ftps.size}`);
  const tls = stored.result.facts.tls;
  const handshakes = (endDump.tls_handshakes as string[]).length;
  assert.ok(tls.handshakes.length + tls.stored.length < handshakes / 4, `TLS handshakes held to the end: ${tls.handshakes.length} + ${tls.stored.length} of ${handshakes}`);
  // ...and the TLS rules at the end still name the FTPS sessions those handshakes belong to.
  assert.ok(stored.result.findings.some((f) => f.code.startsWith('TLS_') && f.subject.session !== undefined && ftps.has(f.subject.session)), 'a TLS finding about a settled FTPS session');
  // ...and every table holds the same rows either way.
  assert.deepEqual(settledDump, endDump);
  // Findings read back in the same order (first evidence frame), whatever order they were stored in.
  const order = (db: typeof dbEnd, id: number): string[] => findingsFor(db, id).map((f) => `${f.frames[0]} ${f.code} ${JSON.stringify(f.subject)}`);
  assert.deepEqual(order(dbSettled, stored.captureId), order(dbEnd, endId));
  const stamps = order(dbEnd, endId).map((s) => Number(s.split(' ')[0]));
  assert.deepEqual(stamps, [...stamps].sort((a, b) => a - b));
});

test('FTPS sessions settle with the handshakes of their flows: the recorded vsftpd sessions store the same rows either way', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'faultline-settle-ftps-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const caps = labCaptures().filter((c) => c.must.some((code) => code.startsWith('FTPS_')));
  assert.ok(caps.length >= 4, `lab captures with FTPS findings: ${caps.length}`);
  for (const c of caps) {
    // Two databases: a second analysis of the same file replaces the first.
    const dbSettled = openDb(join(tmp, `${c.file}.settled.db`));
    const dbEnd = openDb(join(tmp, `${c.file}.end.db`));
    try {
      const stored = await analyzeAndStore(dbSettled, join(LAB, c.file), labOptions(c));
      const end = await offline(join(LAB, c.file), labOptions(c), dbEnd);
      assert.deepEqual(dump(dbSettled, stored.captureId), dump(dbEnd, end), `${c.file}: settled and end-of-run analyses stored different rows`);
      // The FTPS findings came with the settled sessions, not from the judgement at the end.
      for (const code of c.must.filter((x) => x.startsWith('FTPS_'))) {
        assert.ok(findingsFor(dbEnd, end).some((f) => f.code === code), `${c.file}: ${code}`);
        assert.ok(!stored.result.findings.some((f) => f.code === code), `${c.file}: ${code} judged at the end`);
      }
      assert.ok(settledFtps(dbSettled, stored.captureId, stored.result.facts.ftp.sessions).size > 0, `${c.file}: no FTPS session settled`);
    } finally {
      dbSettled.close();
      dbEnd.close();
    }
  }
});
