/**
 * Read-side helpers: exports look protocol tables up by name and column before reading them,
 * so a database written before a module existed (or while one was changing) yields less
 * output, never an error. JSON columns are parsed leniently for the same reason.
 */
import type { Db } from '../store/db.js';

export function hasTable(db: Db, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

export function hasColumns(db: Db, table: string, wanted: string[]): boolean {
  if (!hasTable(db, table)) return false;
  const have = new Set((db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as Array<{ name: string }>).map((r) => r.name));
  return wanted.every((c) => have.has(c));
}

export type Json = Record<string, unknown>;

export function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export function obj(v: unknown): Json | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Json : null;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

export function bool(v: unknown): boolean | null {
  return typeof v === 'boolean' ? v : v === 1 ? true : v === 0 ? false : null;
}
