import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function, biggest first.
 * `node dist/bench/profile.js FILE.cpuprofile [N]`.
 */
interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; hitCount?: number; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

export interface HotFunction {
  name: string;
  location: string;
  ms: number;
  /** Share of all sampled time, idle included. */
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  /** By self time: where the CPU actually is. */
  top: HotFunction[];
  /** By inclusive time (self + callees) of functions in files (not node internals), each counted once per sample: which phase costs what. */
  inclusive: HotFunction[];
}


export function summariseProfile(path: string, topN = 15, root = process.cwd()): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, HotFunction>();
  const incl = new Map<string, HotFunction>();
  const describe = (node: ProfileNode): { key: string; name: string; location: string } => {
    const cf = node.callFrame;
    const file = cf.url.startsWith('file://') ? relative(root, new URL(cf.url).pathname) : cf.url;
    const location = file ? `${file}:${cf.lineNumber + 1}` : '';
    return { key: `${cf.functionName}@${location}`, name: cf.functionName || '(anonymous)', location };
  };
  let total = 0, idle = 0;
  // timeDeltas[i] is the time elapsed before sample i; charge it to the function sampled then.
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]);
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    if (!node || dt < 0) continue;
    total += dt;
    if (node.callFrame.functionName === '(idle)') idle += dt;
    const d = describe(node);
    const h = self.get(d.key) ?? { name: d.name, location: d.location, ms: 0, share: 0 };
    h.ms += dt;
    self.set(d.key, h);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      // Only our code (and its npm dependencies): node's stream and microtask frames wrap everything.
      if (!n.callFrame.url.startsWith('file://')) continue;
      const a = describe(n);
      if (seen.has(a.key)) continue;
      seen.add(a.key);
      const e = incl.get(a.key) ?? { name: a.name, location: a.location, ms: 0, share: 0 };
      e.ms += dt;
      incl.set(a.key, e);
    }
  }
  const rank = (m: Map<string, HotFunction>): HotFunction[] => {
    const list = [...m.values()].sort((a, b) => b.ms - a.ms).slice(0, topN);
    for (const h of list) h.share = total > 0 ? h.ms / total : 0;
    return list;
  };
  return { totalMs: total, idleMs: idle, top: rank(self), inclusive: rank(incl) };
}

export function formatProfile(s: ProfileSummary, inclusiveN = 12): string {
  const row = (h: HotFunction): string => `${h.ms.toFixed(0).padStart(8)}  ${(h.share * 100).toFixed(1).padStart(5)}%  ${h.name}${h.location ? ` (${h.location})` : ''}`;
  return [
    `sampled ${(s.totalMs / 1000).toFixed(2)} s (idle ${(s.idleMs / 1000).toFixed(2)} s)`,
    ' self ms   share  function (location)', ...s.top.map(row),
    '', ' incl ms   share  function (location), self + callees', ...s.inclusive.slice(0, inclusiveN).map(row),
  ].join('\n');
}

if (process.argv[1]?.endsWith('profile.js')) {
  const [file, n] = process.argv.slice(2);
  if (!file) { process.stderr.write('usage: node dist/bench/profile.js FILE.cpuprofile [N]\n'); process.exitCode = 2; }
  else process.stdout.write(formatProfile(summariseProfile(file, Number(n ?? 15))) + '\n');
}
