/**
 * Worker thread: one upload through the same pipeline and store as `faultline analyze`, off
 * the server's event loop. Talks to the server only by messages (WorkerMessage).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AnalyzeOptions } from '../analysis/context.js';
import { NotACaptureError } from '../source/open.js';
import { openDb } from '../store/db.js';
import { analyzeAndStore } from '../store/ingest.js';
import { useLeanHeap } from '../heap.js';

export interface WorkerInput {
  dbPath: string;
  /** The upload on disk. */
  file: string;
  /** The name the user gave it (stored as the capture's name and file). */
  name: string;
  options: AnalyzeOptions;
}

export type WorkerMessage =
  | { type: 'progress'; read: number; total: number | null }
  | { type: 'storing' }
  | { type: 'done'; captureId: number; frames: number; damaged: boolean; warnings: number; findings: number }
  | { type: 'failed'; message: string; notACapture: boolean };

const PROGRESS_INTERVAL_MS = 100;

async function run(input: WorkerInput, post: (m: WorkerMessage) => void): Promise<void> {
  const db = openDb(input.dbPath);
  // Several analyses may finish at once; SQLite has one writer, so wait for it rather than fail.
  db.pragma('busy_timeout = 120000');
  let last = 0;
  try {
    const { captureId, result, settledFindings } = await analyzeAndStore(db, input.file, input.options, {
      name: input.name,
      progress: (read, total) => {
        const now = Date.now();
        if (now - last < PROGRESS_INTERVAL_MS) return;
        last = now;
        post({ type: 'progress', read, total });
      },
      storing: () => post({ type: 'storing' }),
    });
    const c = result.facts.capture;
    post({ type: 'done', captureId, frames: c.frames, damaged: c.damaged, warnings: result.facts.warnings.length, findings: settledFindings + result.findings.length });
  } catch (e) {
    // The pipeline names the file it read; the user knows it by the name they uploaded.
    const message = (e as Error).message.split(input.file).join(input.name);
    post({ type: 'failed', message, notACapture: e instanceof NotACaptureError });
  } finally {
    db.close();
  }
}

if (parentPort) {
  // This worker's start put V8's heap flags back to node's command line: the analysis sets them
  // again, as `faultline analyze` does (src/heap.ts).
  useLeanHeap();
  const port = parentPort;
  void run(workerData as WorkerInput, (m) => port.postMessage(m));
}
