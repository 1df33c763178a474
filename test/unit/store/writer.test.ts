/**
 * CaptureWriter: flows stream into SQLite in batches while the capture is read; facts and
 * findings at the end; a second analysis of the same file (same sha256) replaces the first.
 * The last test runs the real CLI twice on a capture and counts rows in every table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDb, type Db } from '../../../src/store/db.js';
import { CaptureWriter } from '../../../src/store/writer.js';
import { isoTime, flowsFor } from '../../../src/store/queries.js';
import { AnalysisContext, DEFAULT_OPTIONS, type FactSet } from '../../../src/analysis/context.js';
import type { Flow } from '../../../src/flow/flow.js';
import type { Finding } from '../../../src/findings/types.js';
import { repoRoot, thirdParty } from '../../helpers.js';

function withDb(run: (db: Db, dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-writer-'));
  const db = openDb(join(dir, 'w.db'));
  try { run(db, dir); } finally { db.close(); rmSync(dir, { recursive: true, force: true }); }
}

function count(db: Db, sql: string, ...args: unknown[]): number {
  return (db.prepare(sql).get(...args) as { n: number }).n;
}

/** A flow as the table would hand it over; TCP when `tcp` is set. */
function flow(index: number, tcp: Partial<NonNullable<Flow['tcp']>> | null = null): Flow {
  return {
    index, key: `k${index}`, srcNum: 0x0a000001, dstNum: 0x0a000002, numKey: -1, protocol: tcp ? 6 : 17,
    srcIp: '10.0.0.1', srcPort: 1024 + (index % 60000), dstIp: '10.0.0.2', dstPort: 21,
    firstTs: 1_600_000_000_000_000 + index + 0.25, lastTs: 1_600_000_000_000_500 + index + 0.75,
    firstFrame: index * 2 + 1, lastFrame: index * 2 + 2,
    packets: [3, 2], bytes: [300, 200], payloadBytes: [30, 20],
    tcp: tcp ? {
      synSeen: false, synFrame: 0, synRetransmissions: 0, synAckSeen: false, synAckFrame: 0, rstFrom: -1, rstFrame: 0,
      handshakeComplete: false, finFrom: [false, false], isn: [-1, -1], baseSeq: [-1, -1], nextSeq: [-1, -1], ...tcp,
    } : null,
    icmpErrors: [], communityId: `1:id${index}=`, app: null,
    consumers: [], streams: null, sinks: null, detected: [false, false], ended: true,
  };
}

function facts(sha256: string): FactSet {
  const f = new AnalysisContext(DEFAULT_OPTIONS, 'x.pcap', 'x.pcap').facts;
  Object.assign(f.capture, { sha256, format: 'pcapng', compressed: true, linkTypes: [1, 101], frames: 42, bytes: 4200, firstTs: 1_600_000_000_000_000.7, lastTs: 1_600_000_001_000_000, damaged: true });
  f.warnings.push({ offset: 1234, frame: 7, message: 'capture truncated' }, { offset: -1, frame: null, message: 'not about a position' });
  f.hosts.push({ ip: '10.0.0.1', packetsSent: 3, packetsReceived: 2, bytesSent: 300, bytesReceived: 200, flows: 1, firstTs: 1, lastTs: 2 });
  return f;
}

const FINDING: Finding = {
  code: 'FTP_ANONYMOUS_LOGIN', severity: 'info', title: 't', explanation: 'e', mitigation: 'm',
  frames: [6, 14], firstTs: 1_600_000_000_000_123.5, subject: { session: 0 }, details: { user: 'anonymous' },
};

test('flows are written in batches while they stream in, then facts and findings at finish', () => {
  withDb((db) => {
    const w = new CaptureWriter(db, '/tmp/x.pcap', 'x.pcap');
    assert.equal(count(db, 'SELECT COUNT(*) AS n FROM captures WHERE complete = 0'), 1, 'the capture row exists from the start, incomplete');
    const n = 12_345;
    for (let i = 0; i < n; i++) w.flow(i % 3 === 0 ? flow(i, { synSeen: true, synFrame: 1, synAckSeen: true, handshakeComplete: true, finFrom: [true, true] }) : flow(i));
    const streamed = count(db, 'SELECT COUNT(*) AS n FROM flows WHERE capture_id = ?', w.captureId);
    assert.ok(streamed >= 10_000 && streamed < n, `${streamed} flows written before the end (batches)`);
    w.finish(facts('ab'.repeat(32)), [FINDING]);
    assert.equal(count(db, 'SELECT COUNT(*) AS n FROM flows WHERE capture_id = ?', w.captureId), n);
    assert.equal(count(db, 'SELECT COUNT(DISTINCT idx) AS n FROM flows'), n);

    const cap = db.prepare('SELECT * FROM captures WHERE id = ?').get(w.captureId) as Record<string, unknown>;
    assert.deepEqual(
      [cap.sha256, cap.format, cap.compressed, cap.link_types, cap.frames, cap.bytes, cap.first_ts, cap.last_ts, cap.damaged, cap.complete, cap.file, cap.name],
      ['ab'.repeat(32), 'pcapng', 1, '[1,101]', 42, 4200, 1_600_000_000_000_001, 1_600_000_001_000_000, 1, 1, '/tmp/x.pcap', 'x.pcap'],
    );
    assert.deepEqual(db.prepare('SELECT byte_offset, frame, message FROM warnings ORDER BY id').all(), [
      { byte_offset: 1234, frame: 7, message: 'capture truncated' }, { byte_offset: -1, frame: null, message: 'not about a position' },
    ]);
    const fi = db.prepare('SELECT * FROM findings').get() as Record<string, unknown>;
    assert.deepEqual([fi.code, fi.frames, fi.first_ts, fi.subject, fi.details], ['FTP_ANONYMOUS_LOGIN', '[6,14]', 1_600_000_000_000_124, '{"session":0}', '{"user":"anonymous"}']);
    assert.equal(count(db, 'SELECT COUNT(*) AS n FROM hosts'), 1);

    // Rows read back as the JSON document shows them.
    const [tcpRow, udpRow] = flowsFor(db, w.captureId, { limit: 2 });
    assert.equal(tcpRow.state, 'closed');
    assert.deepEqual(tcpRow.tcp, { synSeen: true, synFrame: 1, synRetransmissions: 0, synAckSeen: true, synAckFrame: 0, rstFrom: -1, rstFrame: 0, handshakeComplete: true, finFrom: [true, true] });
    assert.equal(tcpRow.firstTs, '2020-09-13T12:26:40.000000Z', 'fractional µs rounded');
    assert.equal(tcpRow.lastTs, '2020-09-13T12:26:40.000501Z');
    assert.equal(udpRow.state, 'seen');
    assert.equal(udpRow.tcp, null);
    assert.deepEqual(udpRow.icmpErrors, []);
    assert.equal(udpRow.communityId, '1:id1=');
  });
});

test('ICMP errors and the app label are stored with the flow', () => {
  withDb((db) => {
    const w = new CaptureWriter(db, 'y.pcap', 'y.pcap');
    const f = flow(0);
    f.icmpErrors.push({ frame: 9, ts: 5, reporter: '203.0.113.1', type: 3, code: 3, version: 4 });
    f.app = 'ftp-data';
    w.flow(f);
    w.finish(facts('cd'.repeat(32)), []);
    const row = db.prepare('SELECT icmp_errors, app FROM flows').get() as { icmp_errors: string; app: string };
    assert.deepEqual(JSON.parse(row.icmp_errors), [{ frame: 9, ts: 5, reporter: '203.0.113.1', type: 3, code: 3, version: 4 }]);
    assert.equal(row.app, 'ftp-data');
  });
});

test('the same file analysed again (same sha256) replaces the earlier capture and all its rows', () => {
  withDb((db) => {
    const sha = 'ef'.repeat(32);
    const first = new CaptureWriter(db, 'a.pcap', 'a.pcap');
    for (let i = 0; i < 7000; i++) first.flow(flow(i));
    first.finish(facts(sha), [FINDING]);
    const other = new CaptureWriter(db, 'b.pcap', 'b.pcap');
    other.flow(flow(0));
    other.finish(facts('01'.repeat(32)), []);
    const second = new CaptureWriter(db, 'a-copy.pcap', 'a-copy.pcap');
    for (let i = 0; i < 3; i++) second.flow(flow(i));
    second.finish(facts(sha), []);
    assert.deepEqual((db.prepare('SELECT id, name FROM captures ORDER BY id').all() as Array<{ id: number; name: string }>).map((r) => r.name), ['b.pcap', 'a-copy.pcap']);
    for (const table of ['flows', 'warnings', 'hosts', 'findings']) {
      assert.equal(count(db, `SELECT COUNT(*) AS n FROM ${table} WHERE capture_id = ?`, first.captureId), 0, `${table} of the replaced capture`);
    }
    assert.equal(count(db, 'SELECT COUNT(*) AS n FROM flows WHERE capture_id = ?', second.captureId), 3);
    assert.equal(count(db, 'SELECT COUNT(*) AS n FROM flows WHERE capture_id = ?', other.captureId), 1);
  });
});

test('abort removes the partial capture, flows already written included', () => {
  withDb((db) => {
    const w = new CaptureWriter(db, 'bad.pcap', 'bad.pcap');
    for (let i = 0; i < 6000; i++) w.flow(flow(i));
    assert.ok(count(db, 'SELECT COUNT(*) AS n FROM flows') > 0);
    w.abort();
    assert.equal(count(db, 'SELECT COUNT(*) AS n FROM captures'), 0);
    assert.equal(count(db, 'SELECT COUNT(*) AS n FROM flows'), 0);
  });
});

test('isoTime: epoch microseconds to ISO 8601 with microseconds', () => {
  // 1600000000 s is 2020-09-13T12:26:40Z.
  assert.equal(isoTime(1_600_000_000_123_456), '2020-09-13T12:26:40.123456Z');
  assert.equal(isoTime(1_600_000_000_000_001), '2020-09-13T12:26:40.000001Z');
  assert.equal(isoTime(0), '1970-01-01T00:00:00.000000Z');
  assert.equal(isoTime(999_999), '1970-01-01T00:00:00.999999Z');
  assert.equal(isoTime(null), null);
});

/** Row counts of every table, and which capture ids the rows of capture-owned tables belong to. */
function census(path: string): { counts: Record<string, number>; owners: Record<string, number[]>; captures: number[] } {
  const db = new Database(path, { readonly: true });
  try {
    const counts: Record<string, number> = {};
    const owners: Record<string, number[]> = {};
    for (const { name } of db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as Array<{ name: string }>) {
      counts[name] = (db.prepare(`SELECT COUNT(*) AS n FROM "${name}"`).get() as { n: number }).n;
      const cols = (db.prepare(`PRAGMA table_info("${name}")`).all() as Array<{ name: string }>).map((c) => c.name);
      if (cols.includes('capture_id')) owners[name] = (db.prepare(`SELECT DISTINCT capture_id AS c FROM "${name}" ORDER BY 1`).all() as Array<{ c: number }>).map((r) => r.c);
    }
    const captures = (db.prepare('SELECT id FROM captures ORDER BY id').all() as Array<{ id: number }>).map((r) => r.id);
    return { counts, owners, captures };
  } finally { db.close(); }
}

test('the CLI analysing the same capture twice leaves one capture\'s rows in every table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-cli-'));
  try {
    const dbPath = join(dir, 'twice.db');
    const capture = thirdParty('files/zeek/testing/btest/Traces/ftp/ipv4.pcap');
    const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
    const run = (): void => {
      const r = spawnSync(process.execPath, [cli, 'analyze', capture, '--db', dbPath], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    run();
    const once = census(dbPath);
    assert.equal(once.captures.length, 1);
    assert.ok(once.counts.flows > 0, 'flows were stored');
    run();
    const twice = census(dbPath);
    assert.equal(twice.captures.length, 1, 'one capture');
    assert.notEqual(twice.captures[0], once.captures[0], 'the newer analysis is the one kept');
    assert.deepEqual(twice.counts, once.counts, 'same number of rows in every table');
    for (const [table, ids] of Object.entries(twice.owners)) {
      assert.ok(ids.every((id) => id === twice.captures[0]), `${table}: rows of the replaced capture are gone (${ids.join(',')})`);
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
