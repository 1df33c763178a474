import Database from 'better-sqlite3';
import { MIGRATIONS } from './schema.js';

export type Db = Database.Database;

/**
 * SQLite's own default page cache, 2 MiB (negative: KiB). better-sqlite3 builds SQLite with
 * 16 MiB, which analyze's appends and the summary's counting scans fill for no gain: measured
 * on the benchmark capture, 15 MB less peak RSS at the same speed (docs/decisions.md).
 */
const PAGE_CACHE_KIB = 2000;

/** Opens (creating if needed) a faultline database and brings its schema up to date. */
export function openDb(path: string): Db {
  const db = new Database(path);
  try {
    db.pragma('foreign_keys = ON');
    // Migrate first: a database from a newer faultline is refused before anything (even its
    // journal mode) is changed.
    migrate(db);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  } catch (e) {
    // Not a database, or one from a newer faultline: do not leave the file open behind the error.
    db.close();
    throw e;
  }
  return db;
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this faultline (${MIGRATIONS.length}); upgrade faultline`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}
