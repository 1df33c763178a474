/**
 * The web view never shows FTP passwords. A database written by `faultline analyze
 * --show-passwords` holds them (the session row, PASS arguments, a finding's details), so every
 * API answer about a capture goes through here: `password` fields are dropped and the known
 * passwords of those captures are masked wherever they appear in text.
 */
import type { Db } from '../store/db.js';
import { hasTable } from './facts-queries.js';

export const MASK = '••••••';
/** Shorter secrets are too likely to match ordinary text to be replaced inside strings. */
const MIN_TEXT_SECRET = 3;

export function knownSecrets(db: Db, captureIds: number[]): string[] {
  const found = new Set<string>();
  for (const id of captureIds) {
    if (hasTable(db, 'ftp_sessions')) {
      for (const r of db.prepare(`SELECT password FROM ftp_sessions WHERE capture_id = ? AND password IS NOT NULL`).all(id) as Array<{ password: string }>) found.add(r.password);
    }
    if (hasTable(db, 'ftp_commands')) {
      for (const r of db.prepare(`SELECT arg FROM ftp_commands WHERE capture_id = ? AND upper(verb) IN ('PASS', 'ACCT') AND arg IS NOT NULL`).all(id) as Array<{ arg: string }>) found.add(r.arg);
    }
  }
  return [...found].filter((s) => s.length >= MIN_TEXT_SECRET).sort((a, b) => b.length - a.length);
}

export function redact<T>(value: T, secrets: string[]): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      let s = v;
      for (const secret of secrets) if (s.includes(secret)) s = s.split(secret).join(MASK);
      return s;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (/^(password|passwd|pass)$/i.test(k)) continue;
      out[k] = walk(x);
    }
    return out;
  };
  return walk(value) as T;
}
