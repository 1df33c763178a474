import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const TSHARK = '/usr/bin/tshark';

/** tshark is part of the test toolchain (.ci/run installs it); its absence is a setup error, not a skip. */
export function tshark(args: string[]): string {
  if (!existsSync(TSHARK)) throw new Error('tshark is not installed: apt-get install -y tshark (.ci/run does this)');
  // tshark exits non-zero on damaged files after printing what it read: that output still counts.
  const r = spawnSync(TSHARK, ['-n', ...args], { encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw r.error;
  if (r.status !== 0 && !r.stdout) throw new Error(`tshark ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

export interface FollowedStream {
  stream: number;
  node0: string;
  node1: string;
  /** Bytes sent by node 0 and by node 1, in stream order. */
  data0: Buffer;
  data1: Buffer;
}

/** `tshark -z follow,tcp,raw,N` for several streams in one pass. */
export function followTcp(path: string, streams: number[]): FollowedStream[] {
  if (streams.length === 0) return [];
  const out = tshark(['-r', path, '-q', ...streams.flatMap((n) => ['-z', `follow,tcp,raw,${n}`])]);
  const result: FollowedStream[] = [];
  for (const block of out.split('===================================================================')) {
    const m = /Filter: tcp\.stream eq (\d+)/.exec(block);
    if (!m) continue;
    const n0 = /Node 0: (.*)/.exec(block)?.[1] ?? '';
    const n1 = /Node 1: (.*)/.exec(block)?.[1] ?? '';
    const d0: Buffer[] = [], d1: Buffer[] = [];
    for (const line of block.split('\n')) {
      if (/^\t[0-9a-f]+$/.test(line)) d1.push(Buffer.from(line.slice(1), 'hex'));
      else if (/^[0-9a-f]+$/.test(line)) d0.push(Buffer.from(line, 'hex'));
    }
    result.push({ stream: Number(m[1]), node0: n0, node1: n1, data0: Buffer.concat(d0), data1: Buffer.concat(d1) });
  }
  return result.sort((a, b) => a.stream - b.stream);
}
