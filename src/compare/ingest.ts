/**
 * Gets both captures of a comparison into the database the way `analyze` stores them, or
 * reuses a stored analysis of the same file (same sha256) when no option could change it, and
 * reads the packet detail the comparison needs back from the files.
 */
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import type { AnalyzeOptions } from '../analysis/context.js';
import type { Db } from '../store/db.js';
import { analyzeAndStore as analyzeInto } from '../store/ingest.js';
import type { ReadOptions } from '../source/open.js';
import type { Comparison } from './compare.js';
import { flowsForDetail, type ComparePacketDetail } from './document.js';
import { collectPackets } from './packets.js';

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export function storedCaptureId(db: Db, sha256: string): number | null {
  const row = db.prepare(`SELECT id FROM captures WHERE sha256 = ? AND complete = 1 ORDER BY id DESC LIMIT 1`).get(sha256) as { id: number } | undefined;
  return row?.id ?? null;
}

/** Analyses and stores one capture as `analyze` does; returns its capture id. Throws NotACaptureError for non-captures. */
export async function analyzeAndStore(db: Db, path: string, options: AnalyzeOptions, progress?: ReadOptions['progress']): Promise<number> {
  return (await analyzeInto(db, path, options, { progress })).captureId;
}

/** Reads the packets of the flows the comparison looks into; a file that is no longer the stored capture gives no detail. */
export async function packetDetail(cmp: Comparison, paths: Map<number, string>): Promise<ComparePacketDetail> {
  const need = flowsForDetail(cmp);
  const read = async (id: number, sha: string, flows: typeof need.inside) => {
    const path = paths.get(id);
    if (!path) return null;
    const r = await collectPackets(path, flows);
    return r.sha256 === sha ? r.detail : null;
  };
  if (cmp.inside.id === cmp.outside.id) {
    const d = await read(cmp.inside.id, cmp.inside.sha256, [...new Set([...need.inside, ...need.outside])]);
    return { inside: d, outside: d };
  }
  return { inside: await read(cmp.inside.id, cmp.inside.sha256, need.inside), outside: await read(cmp.outside.id, cmp.outside.sha256, need.outside) };
}
