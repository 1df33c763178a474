/**
 * V8's heap growth as faultline sets it (src/heap.ts): the user's own flags win, and the CLI
 * really keeps its young generation at YOUNG_MIB through an analysis of a capture over 8 MiB,
 * hashed by openssl or, without it, by a worker thread whose start resets V8's flags, unless
 * node's command line says otherwise; a live analysis (no file reader) keeps it there too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LEAN_HEAP_FLAGS, leanHeapFlags, YOUNG_MIB } from '../../../src/heap.js';
import { generateCapture } from '../../../bench/generate.js';
import { CLI, repoRoot } from '../../helpers.js';

test('both settings apply unless node was started with its own, in either spelling', () => {
  assert.deepEqual(leanHeapFlags([]), LEAN_HEAP_FLAGS);
  assert.deepEqual(leanHeapFlags(['--enable-source-maps', '--heap-growing-percent=100']), ['--semi-space-growth-factor=1']);
  assert.deepEqual(leanHeapFlags(['--semi_space_growth_factor=4']), ['--heap-growing-percent=50']);
  assert.deepEqual(leanHeapFlags(['--heap_growing_percent', '30', '--semi-space-growth-factor=2']), []);
});

test('the CLI keeps the young generation at its size through an analysis, with or without a hash worker; node\'s own flag wins', { timeout: 180_000 }, (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'faultline-heap-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const capture = join(tmp, 'mixed.pcap');
  generateCapture({ out: capture, sizeMb: 80, concurrency: 300, seed: 3 });
  assert.ok(statSync(capture).size > 8 << 20, 'large enough to be hashed apart from the reading thread');
  // Without openssl on the PATH the hash falls back to a worker thread.
  const noOpenssl = join(tmp, 'bin');
  mkdirSync(noOpenssl);
  // Reports the main thread's young generation at its largest during the run (V8 shrinks it
  // again when the process goes idle; -r runs in worker threads too, which stay silent).
  const report = join(tmp, 'report.cjs');
  writeFileSync(report, `if (require('worker_threads').isMainThread) { const v8 = require('v8'); let max = 0;
    const look = () => { const n = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space'); max = Math.max(max, n.space_size); };
    setInterval(look, 2).unref();
    process.on('exit', () => { look(); process.stderr.write('young ' + max + '\\n'); }); }`);
  const young = (nodeArgs: string[], path = process.env.PATH): number => {
    const r = spawnSync(process.execPath, [...nodeArgs, '-r', report, CLI, 'analyze', capture, '--db', join(tmp, 'x.db')], { encoding: 'utf8', env: { ...process.env, PATH: path } });
    assert.equal(r.status, 0, r.stderr);
    const m = /young (\d+)/.exec(r.stderr);
    assert.ok(m, r.stderr);
    return Number(m[1]) / 2 ** 20;
  };
  const lean = young([]);
  assert.ok(lean <= YOUNG_MIB, `young generation ${lean} MiB with faultline's setting`);
  const leanWorker = young([], noOpenssl);
  assert.ok(leanWorker <= YOUNG_MIB, `young generation ${leanWorker} MiB with faultline's setting, hashed by a worker thread`);
  const own = young(['--semi-space-growth-factor=2']);
  assert.ok(own > YOUNG_MIB, `young generation ${own} MiB when node's command line sets its own growth`);
});

test('a live analysis keeps the young generation at its size too, without the file reader', { timeout: 180_000 }, (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'faultline-heap-live-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const capture = join(tmp, 'mixed.pcap');
  generateCapture({ out: capture, sizeMb: 60, concurrency: 300, seed: 4 });
  // Frames go straight from the parser into a LiveAnalysis, as sniff's capture source hands them
  // over: nothing of the file reader (which stops the young generation's growth itself) runs.
  const script = join(tmp, 'live.mjs');
  const dist = join(repoRoot, 'dist', 'src');
  writeFileSync(script, `
    import { readFileSync } from 'node:fs';
    import v8 from 'node:v8';
    import { useLeanHeap } from ${JSON.stringify(join(dist, 'heap.js'))};
    import { PcapParser } from ${JSON.stringify(join(dist, 'source', 'pcap.js'))};
    import { LiveAnalysis } from ${JSON.stringify(join(dist, 'analysis', 'live.js'))};
    import { DEFAULT_OPTIONS } from ${JSON.stringify(join(dist, 'analysis', 'context.js'))};
    if (process.argv[2] === 'lean') useLeanHeap();
    let max = 0;
    const look = () => { max = Math.max(max, v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size); };
    const live = new LiveAnalysis(DEFAULT_OPTIONS, { file: 'iface:test', name: 'test' });
    let n = 0;
    const parser = new PcapParser({ frame: (f) => { live.frame(f); if ((++n & 255) === 0) look(); }, warning: () => {} });
    const data = readFileSync(${JSON.stringify(capture)});
    for (let i = 0; i < data.length; i += 1 << 18) parser.push(data.subarray(i, i + (1 << 18)));
    parser.end();
    look();
    process.stdout.write(String(max / 2 ** 20) + ' ' + n);
  `);
  const young = (mode: string): number => {
    const r = spawnSync(process.execPath, [script, mode], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const [mib, frames] = r.stdout.split(' ').map(Number);
    assert.ok(frames > 50_000, `frames: ${frames}`);
    return mib;
  };
  const lean = young('lean');
  assert.ok(lean <= YOUNG_MIB, `young generation ${lean} MiB with faultline's setting, live`);
  const plain = young('plain');
  assert.ok(plain > YOUNG_MIB, `young generation ${plain} MiB without it: the analysis allocates enough to grow it`);
});
