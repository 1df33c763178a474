import { analyzeCapture, type AnalysisResult } from '../analysis/pipeline.js';
import type { AnalyzeOptions } from '../analysis/context.js';
import type { ReadOptions } from '../source/open.js';
import { PROTOCOLS } from '../protocols.js';
import type { Db } from './db.js';
import { CaptureWriter } from './writer.js';
import { writeProtocolFacts } from './facts.js';

export interface StoredAnalysis {
  captureId: number;
  result: AnalysisResult;
  /** Findings stored during the run (units settled early); `result.findings` holds the rest. */
  settledFindings: number;
}

export interface IngestOptions {
  /** Capture name shown (defaults to the path; '-' is stdin). */
  name?: string;
  progress?: ReadOptions['progress'];
  /** Called when reading is done and the final rows are being written. */
  storing?: () => void;
}

/**
 * Analyses one capture into the database: flows as they end, settled units (closed FTP
 * sessions) as soon as nothing can change them, the rest at the end, all under one capture
 * row that replaces earlier analyses of the same file. On any failure the partial capture is
 * removed and the error rethrown (NotACaptureError for input that is not a capture).
 */
export async function analyzeAndStore(db: Db, path: string, options: AnalyzeOptions, o: IngestOptions = {}): Promise<StoredAnalysis> {
  const name = o.name ?? (path === '-' ? 'stdin' : path);
  const writer = new CaptureWriter(db, o.name ?? path, name);
  const writers = new Map(PROTOCOLS.map((p) => [p.name, p.writeFacts] as const));
  try {
    const result = await analyzeCapture(path, options, {
      flowSink: writer, settle: writer.settleSink(writers), progress: o.progress, name: o.name,
    });
    o.storing?.();
    writer.finish(result.facts, result.findings, (d, cid) => writeProtocolFacts(d, cid, result.facts, PROTOCOLS.map((p) => p.writeFacts)));
    return { captureId: writer.captureId, result, settledFindings: writer.settledFindings };
  } catch (e) {
    writer.abort();
    throw e;
  }
}
