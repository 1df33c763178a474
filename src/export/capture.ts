/**
 * Which stored capture an export is about: `--capture ID`, `--capture FILE` (the path it was
 * analysed under, or any file with the same sha256), or by default the latest analysed one.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { Db } from '../store/db.js';
import { captureRows, type CaptureRow } from '../store/queries.js';

export class ExportError extends Error {
  /** 1: nothing to export from (bad input); 2: the command line itself is wrong. */
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message);
  }
}

/** sha256 of a file as stored (gzip included), as the captures table records it. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

export interface ResolvedCapture {
  row: CaptureRow;
  /** The file the user named, when it was matched by content: the place to slice from. */
  givenFile: string | null;
}

export async function resolveCapture(db: Db, arg: string | undefined): Promise<ResolvedCapture> {
  const rows = captureRows(db);
  if (rows.length === 0) throw new ExportError('the database holds no analysed capture (run faultline analyze first)');
  if (arg === undefined) return { row: rows[rows.length - 1], givenFile: null };
  if (/^\d+$/.test(arg)) {
    const row = rows.find((r) => r.id === Number(arg));
    if (row) return { row, givenFile: null };
    if (!existsSync(arg)) throw new ExportError(`no capture with id ${arg} in the database (ids: ${rows.map((r) => r.id).join(', ')})`);
  }
  if (/^[0-9a-f]{64}$/i.test(arg)) {
    const row = [...rows].reverse().find((r) => r.sha256 === arg.toLowerCase());
    if (row) return { row, givenFile: null };
  }
  const byPath = [...rows].reverse().find((r) => r.file === arg || (r.file !== '-' && resolve(r.file) === resolve(arg)));
  if (existsSync(arg) && statSync(arg).isFile()) {
    const sha = await sha256File(arg);
    const byHash = [...rows].reverse().find((r) => r.sha256 === sha);
    if (byHash) return { row: byHash, givenFile: arg };
    if (byPath) throw new ExportError(`${arg} changed since it was analysed as capture ${byPath.id} (sha256 now ${sha}, was ${byPath.sha256}); analyse it again`);
    throw new ExportError(`${arg} was never analysed into this database (no capture has sha256 ${sha})`);
  }
  if (byPath) return { row: byPath, givenFile: null };
  throw new ExportError(`no capture '${arg}' in the database: give a capture id, an analysed file or its sha256`);
}
