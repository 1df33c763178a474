/**
 * Settings of `faultline serve` and the parsing of its flags. Binding beyond loopback exposes
 * captures (credentials, internal addresses) to the network, so it always needs a token.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';

export interface ServeOptions {
  host: string;
  port: number;
  dbPath: string;
  /** Bearer token every /api request must carry; null = none (loopback only). */
  token: string | null;
  /** Upload size limit in bytes. */
  maxUpload: number;
  /** Directory for uploads in flight; null = a fresh one under the OS temp directory. */
  uploadDir: string | null;
  /** Analyses running at once (each in its own worker thread). */
  workers: number;
}

export const DEFAULT_MAX_UPLOAD = 2 * 1024 ** 3;

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** "2G", "500M", "64k", "1048576" → bytes (binary units); null when unreadable. */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return null;
  const unit = UNITS[m[2].toLowerCase()];
  if (unit === undefined) return null;
  const bytes = Math.floor(Number(m[1]) * unit);
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : null;
}

export function formatSize(bytes: number): string {
  for (const [u, n] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as Array<[string, number]>) {
    if (bytes >= n) return `${Number((bytes / n).toFixed(1))} ${u}`;
  }
  return `${bytes} bytes`;
}

/** localhost, 127.0.0.0/8 and ::1 (also as ::ffff:127.x) reach only this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h) || h === '0:0:0:0:0:0:0:1';
  return false;
}

/** The token to use: the given one, else a random one when the bind address is not loopback. */
export function resolveToken(host: string, given: string | undefined): { token: string | null; generated: boolean } {
  if (given !== undefined && given !== '') return { token: given, generated: false };
  if (isLoopbackHost(host)) return { token: null, generated: false };
  return { token: randomBytes(24).toString('base64url'), generated: true };
}
