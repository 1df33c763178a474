/**
 * Schema migrations by PRAGMA user_version: a new database gets every migration, reopening
 * changes nothing, an older one is brought up to date, a newer one is refused with a clear error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDb, schemaVersion } from '../../../src/store/db.js';
import { LATER, MIGRATIONS } from '../../../src/store/schema.js';
import { PROTOCOLS } from '../../../src/protocols.js';

function withDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-db-'));
  try { run(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

function tables(db: Database.Database): string[] {
  return (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
}

test('a new database gets every migration: core tables, one per protocol module, the later ones', () => {
  assert.equal(MIGRATIONS.length, 1 + PROTOCOLS.length + LATER.length);
  withDir((dir) => {
    const path = join(dir, 'new.db');
    const db = openDb(path);
    assert.equal(schemaVersion(db), MIGRATIONS.length);
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
    const names = tables(db);
    for (const t of ['captures', 'flows', 'warnings', 'hosts', 'findings']) assert.ok(names.includes(t), t);
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });
});

test('reopening is idempotent and keeps the data', () => {
  withDir((dir) => {
    const path = join(dir, 'again.db');
    const first = openDb(path);
    first.prepare(`INSERT INTO captures (file, name, analyzed_at) VALUES ('a.pcap', 'a.pcap', 'now')`).run();
    const before = tables(first);
    first.close();
    for (let i = 0; i < 3; i++) {
      const db = openDb(path);
      assert.equal(schemaVersion(db), MIGRATIONS.length);
      assert.deepEqual(tables(db), before);
      assert.equal((db.prepare('SELECT COUNT(*) AS n FROM captures').get() as { n: number }).n, 1);
      db.close();
    }
  });
});

test('an older database is brought up to date from where it stands', () => {
  withDir((dir) => {
    const path = join(dir, 'old.db');
    const raw = new Database(path);
    raw.exec(MIGRATIONS[0]);
    raw.pragma('user_version = 1');
    raw.prepare(`INSERT INTO captures (file, name, analyzed_at) VALUES ('old.pcap', 'old.pcap', 'then')`).run();
    raw.close();
    const db = openDb(path);
    assert.equal(schemaVersion(db), MIGRATIONS.length);
    assert.equal((db.prepare('SELECT name FROM captures').get() as { name: string }).name, 'old.pcap');
    db.close();
  });
});

test('the later migrations drop the FTP tables\' capture_id indexes; the primary keys serve those look-ups and the cascade', () => {
  withDir((dir) => {
    const path = join(dir, 'before-later.db');
    const raw = new Database(path);
    const first = MIGRATIONS.length - LATER.length;
    for (let v = 0; v < first; v++) raw.exec(MIGRATIONS[v]);
    raw.pragma(`user_version = ${first}`);
    const indexes = (d: Database.Database): string[] => (d.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'ftp_%' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
    const redundant = ['ftp_channels_capture', 'ftp_commands_capture', 'ftp_sessions_capture'];
    for (const i of redundant) assert.ok(indexes(raw).includes(i), `${i} before`);
    raw.close();
    const db = openDb(path);
    assert.equal(schemaVersion(db), MIGRATIONS.length);
    for (const i of redundant) assert.ok(!indexes(db).includes(i), `${i} after`);
    assert.ok(indexes(db).includes('ftp_commands_verb'), 'the verb index stays');
    const id = Number(db.prepare(`INSERT INTO captures (file, name, analyzed_at) VALUES ('a.pcap', 'a.pcap', 'now')`).run().lastInsertRowid);
    db.prepare(`INSERT INTO ftp_commands (capture_id, session, seq, verb, arg, known, frame, ts, via) VALUES (?, 3, 0, 'USER', 'bob', 1, 4, 0, 'clear')`).run(id);
    const plan = (db.prepare(`EXPLAIN QUERY PLAN SELECT * FROM ftp_commands WHERE capture_id = ?`).all(id) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    assert.match(plan, /USING INDEX sqlite_autoindex_ftp_commands_1 \(capture_id=\?\)/, plan);
    db.prepare(`DELETE FROM captures WHERE id = ?`).run(id);
    assert.equal((db.prepare(`SELECT COUNT(*) AS n FROM ftp_commands`).get() as { n: number }).n, 0, 'rows go with their capture');
    db.close();
  });
});

test('a database from a newer faultline is refused with a clear error, and left as it was', () => {
  withDir((dir) => {
    const path = join(dir, 'future.db');
    const raw = new Database(path);
    raw.exec('CREATE TABLE from_the_future (x INTEGER)');
    raw.pragma(`user_version = ${MIGRATIONS.length + 3}`);
    raw.close();
    assert.throws(() => openDb(path), (e: unknown) => {
      const m = (e as Error).message;
      return new RegExp(`schema version ${MIGRATIONS.length + 3} is newer than this faultline \\(${MIGRATIONS.length}\\)`).test(m) && /upgrade faultline/.test(m);
    });
    const after = new Database(path);
    assert.equal(after.pragma('user_version', { simple: true }), MIGRATIONS.length + 3);
    assert.deepEqual(tables(after), ['from_the_future']);
    assert.equal(after.pragma('journal_mode', { simple: true }), 'delete', 'not even switched to WAL');
    after.close();
  });
});

test('a file that is not SQLite gives an error, not a crash', () => {
  withDir((dir) => {
    const path = join(dir, 'not.db');
    writeFileSync(path, 'this is a text file, not a database, and it is long enough to have a header.......');
    assert.throws(() => openDb(path), /not a database|file is not a database/i);
  });
});
