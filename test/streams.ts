import { analyzeCapture } from '../src/analysis/pipeline.js';
import { DEFAULT_OPTIONS } from '../src/analysis/context.js';
import type { Analyzer } from '../src/analysis/analyzer.js';
import type { Flow } from '../src/flow/flow.js';

export interface CollectedStream {
  flow: Flow;
  /** Bytes per direction: [initiator→responder, responder→initiator]. */
  bytes: [Buffer[], Buffer[]];
  gaps: [number, number];
  /** Delivered-byte position of the first gap per direction, -1 if none. */
  firstGap: [number, number];
}

/** Runs the real pipeline with a test analyzer that subscribes to every TCP flow's streams. */
export async function collectTcpStreams(path: string, maxPending?: number): Promise<{ streams: CollectedStream[]; warnings: string[] }> {
  const streams: CollectedStream[] = [];
  const collector: Analyzer = {
    name: 'test-collector',
    flowStart(flow, _pkt, table) {
      if (flow.protocol !== 6) return;
      const s: CollectedStream = { flow, bytes: [[], []], gaps: [0, 0], firstGap: [-1, -1] };
      const delivered = [0, 0];
      streams.push(s);
      table.attach(flow, {
        name: 'test-collector',
        data: (dir, bytes) => { s.bytes[dir].push(Buffer.from(bytes)); delivered[dir] += bytes.length; },
        gap: (dir, _off, len) => { s.gaps[dir] += len; if (s.firstGap[dir] < 0) s.firstGap[dir] = delivered[dir]; },
        end: () => undefined,
      });
    },
  };
  const opts = { ...DEFAULT_OPTIONS, ...(maxPending ? { maxPendingPerDirection: maxPending } : {}) };
  const r = await analyzeCapture(path, opts, { analyzers: [() => collector] });
  return { streams: streams.sort((a, b) => a.flow.index - b.flow.index), warnings: r.facts.warnings.map((w) => w.message) };
}
