/**
 * `analyze --json` streams its document: findings, FTP sessions and TLS handshakes are read from
 * SQLite a batch at a time and written as they are read. The text must be exactly the document
 * built whole in memory (what the web API serves), across batch boundaries and for several
 * captures in one document, and the CLI must print that same text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../src/store/db.js';
import { analyzeAndStore } from '../../src/store/ingest.js';
import { analysisDocument, writeAnalysisDocument } from '../../src/store/queries.js';
import { DEFAULT_OPTIONS } from '../../src/analysis/context.js';
import { PROTOCOLS } from '../../src/protocols.js';
import { generateCapture } from '../../bench/generate.js';
import { repoRoot, runCli } from '../helpers.js';

const SECTIONS = PROTOCOLS.map((p) => p.document);

test('the streamed document is the whole document, batch by batch, for one capture and for several', { timeout: 300_000 }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'faultline-json-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  // The benchmark's mix, small: FTP (active, passive, refused, FTPS), TLS with alerts, bulk, DNS, ARP.
  const gen = generateCapture({ out: join(tmp, 'mixed.pcap'), sizeMb: 4, concurrency: 40, seed: 3 });
  const lab = join(repoRoot, 'captures', 'lab', 'ftps-no-session-reuse-tls12.inside.pcap');
  const dbPath = join(tmp, 'doc.db');
  const db = openDb(dbPath);
  t.after(() => db.close());
  const a = (await analyzeAndStore(db, gen.file, DEFAULT_OPTIONS)).captureId;
  const b = (await analyzeAndStore(db, lab, DEFAULT_OPTIONS)).captureId;

  for (const ids of [[a], [a, b]]) {
    const whole = JSON.stringify(analysisDocument(db, ids, {}, SECTIONS), null, 2) + '\n';
    const doc = JSON.parse(whole) as { findings: unknown[]; ftp: { sessions: unknown[] }; tls: { handshakes: Array<{ alerts: unknown[]; certs: unknown[] }> } };
    // Lists long enough that batches of 2 and 7 have boundaries inside them, and handshakes with certificates and alerts.
    assert.ok(doc.findings.length > 10 && doc.ftp.sessions.length > 10 && doc.tls.handshakes.length > 10,
      `${doc.findings.length} findings, ${doc.ftp.sessions.length} sessions, ${doc.tls.handshakes.length} handshakes`);
    assert.ok(doc.tls.handshakes.some((h) => h.alerts.length > 0) && doc.tls.handshakes.some((h) => h.certs.length > 0));
    for (const batch of [1, 2, 7, 500]) {
      const parts: string[] = [];
      writeAnalysisDocument((s) => parts.push(s), db, ids, { batch }, SECTIONS);
      assert.equal(parts.join(''), whole, `captures ${ids.join(',')}, batches of ${batch}`);
    }
  }

  // The CLI prints the streamed document: the same text, re-analysing into the same database.
  const cli = runCli(['analyze', gen.file, lab, '--db', dbPath, '--json']);
  assert.equal(cli.status, 0, cli.stderr);
  const ids = (JSON.parse(cli.stdout) as { captures: Array<{ id: number }> }).captures.map((c) => c.id);
  assert.equal(cli.stdout, JSON.stringify(analysisDocument(db, ids, {}, SECTIONS), null, 2) + '\n');
});
