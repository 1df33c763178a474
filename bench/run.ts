import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { benchRoot, DEFAULT_CAPTURE, DEFAULT_SIZE_MB, generateCapture, parseFlag, type GenerateResult } from './generate.js';
import { measure, type Measurement } from './measure.js';
import { formatProfile, summariseProfile, type ProfileSummary } from './profile.js';
import type { WalkResult } from './walk.js';

/**
 * The ingest benchmark: faultline `analyze` against a tshark pass that dissects the same
 * protocols, on one generated mixed capture. `node dist/bench/run.js [--file F] [--size-mb N]
 * [--runs N] [--pcap-parser] [--profile] [--skip-tshark]`; results also go to bench/out/results-*.json.
 */
const TSHARK_FILTER = 'ftp || tls.handshake || arp';
const TSHARK_FIELDS = ['frame.number', 'ip.src', 'ip.dst', 'ftp.request.command', 'ftp.response.code', 'tls.handshake.type', 'arp.opcode'];
const cli = resolve(benchRoot, 'dist', 'src', 'cli', 'main.js');
const walker = resolve(benchRoot, 'dist', 'bench', 'walk.js');

interface ToolRow { tool: string; m: Measurement; runs: number[]; packets: number; bytes: number }

/** Runs a measurement n times and keeps the median run (by wall time); all wall times are reported. */
async function repeated(n: number, once: () => Promise<Measurement>): Promise<{ m: Measurement; runs: number[] }> {
  const all: Measurement[] = [];
  for (let i = 0; i < n; i++) all.push(await once());
  const sorted = [...all].sort((a, b) => a.wallSeconds - b.wallSeconds);
  return { m: sorted[Math.floor((sorted.length - 1) / 2)], runs: all.map((x) => x.wallSeconds) };
}

async function main(args: string[]): Promise<void> {
  const file = resolve(parseFlag(args, '--file') ?? DEFAULT_CAPTURE);
  const sizeMb = Number(parseFlag(args, '--size-mb') ?? DEFAULT_SIZE_MB);
  const runs = Math.max(1, Number(parseFlag(args, '--runs') ?? 1));
  const log = (l: string): void => { process.stderr.write(l + '\n'); };
  let generated: GenerateResult | null = null;
  if (!existsSync(file)) {
    log(`${file} missing: generating ${sizeMb} MiB`);
    generated = generateCapture({ out: file, sizeMb, log });
    log(`generated ${generated.packets} packets, ${(generated.bytes / 1e6).toFixed(0)} MB in ${generated.seconds.toFixed(1)} s`);
  }
  const meta = existsSync(`${file}.meta.json`) ? JSON.parse(readFileSync(`${file}.meta.json`, 'utf8')) as GenerateResult : null;
  const bytes = statSync(file).size;
  log(`warming the page cache (${(bytes / 1e6).toFixed(0)} MB)`);
  await warm(file);

  const source = gitState();
  // Other work on the machine inflates wall times: the load average before the runs says how much.
  const loadBefore = loadavg();
  const work = mkdtempSync(join(tmpdir(), 'faultline-bench-'));
  const db = join(work, 'bench.db');
  let stored = { frames: 0, flows: 0, peakFlows: 0 };
  const fl = await repeated(runs, async () => {
    log('faultline analyze ...');
    rmSync(db, { force: true });
    const m = await measure('faultline', [process.execPath, cli, 'analyze', file, '--db', db]);
    if (m.exitCode !== 0) throw new Error(`faultline failed (${m.exitCode}): ${m.stderrTail}`);
    stored = readDb(db);
    return m;
  });
  const packets = stored.frames;
  const rows: ToolRow[] = [{ tool: 'faultline analyze', ...fl, packets, bytes }];

  if (!args.includes('--skip-tshark')) {
    const ts = await repeated(runs, async () => {
      log('tshark ... (a minute or more)');
      const m = await measure('tshark', ['tshark', '-r', file, '-Y', TSHARK_FILTER, '-T', 'fields', ...TSHARK_FIELDS.flatMap((f) => ['-e', f])]);
      if (m.exitCode !== 0) throw new Error(`tshark failed (${m.exitCode}): ${m.stderrTail}`);
      return m;
    });
    rows.push({ tool: 'tshark -Y … -T fields', ...ts, packets, bytes });
  }

  const walks: Array<{ result: WalkResult; m: Measurement; runs: number[] }> = [];
  // The reference loop (read, decode, hash flows) always: it calibrates the machine, as the
  // issue's own figures do (tshark's time and the loop's time there against here).
  for (const reader of args.includes('--pcap-parser') ? ['decode', 'own', 'own-parser', 'pcap-parser'] : ['decode']) {
    const w = await repeated(runs, async () => {
      log(`walk with ${reader} ...`);
      const m = await measure(`walk ${reader}`, [process.execPath, walker, reader, file], { captureStdout: true });
      if (m.exitCode !== 0) throw new Error(`walk ${reader} failed: ${m.stderrTail}`);
      return m;
    });
    walks.push({ result: JSON.parse(w.m.stdout) as WalkResult, ...w });
  }

  let profile: ProfileSummary | null = null;
  if (args.includes('--profile')) {
    log('faultline analyze under --cpu-prof ...');
    const profDir = join(work, 'prof');
    execFileSync(process.execPath, ['--cpu-prof', '--cpu-prof-interval=250', `--cpu-prof-dir=${profDir}`, cli, 'analyze', file, '--db', join(work, 'prof.db')], { stdio: ['ignore', 'ignore', 'inherit'] });
    // One profile per thread (a sha256 worker, when openssl is missing, writes its own): the main thread's is the big one.
    const prof = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'))
      .sort((a, b) => statSync(join(profDir, b)).size - statSync(join(profDir, a)).size)[0];
    if (prof) profile = summariseProfile(join(profDir, prof), 15, benchRoot);
  }
  rmSync(work, { recursive: true, force: true });

  const out: string[] = [];
  out.push(`file      ${file}`);
  out.push(`          ${(bytes / 1e6).toFixed(1)} MB, ${packets} packets, ${stored.flows} flows (peak ${stored.peakFlows} concurrent in faultline's flow table)${meta ? `, seed ${meta.seed}` : ''}`);
  out.push(`machine   ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, node ${process.version}`);
  out.push(`source    ${source}`);
  out.push(`load      1-min load average ${loadBefore[0].toFixed(2)} before the runs, ${loadavg()[0].toFixed(2)} after (${cpus().length} cores: above ~0.5, other processes were competing)`);
  out.push('');
  if (runs > 1) out.push(`median of ${runs} runs (all wall times listed)`);
  out.push(table(['tool', 'wall s', 'packets/s', 'MB/s', 'peak RSS MiB', 'CPU s (user+sys)', 'runs (wall s)'], rows.map((r) => [
    r.tool, r.m.wallSeconds.toFixed(2), fmtInt(r.packets / r.m.wallSeconds), (r.bytes / 1e6 / r.m.wallSeconds).toFixed(1),
    r.m.peakRssKb === null ? '?' : (r.m.peakRssKb / 1024).toFixed(0), cpu(r.m), r.runs.map((x) => x.toFixed(2)).join(' '),
  ])));
  if (rows.length === 2) {
    const [f, t] = rows;
    out.push(`\nratio     faultline / tshark throughput = ${(t.m.wallSeconds / f.m.wallSeconds).toFixed(1)}× (median runs)`);
    if (runs > 1) out.push(`          ${(Math.min(...t.runs) / Math.min(...f.runs)).toFixed(1)}× (best runs)`);
    const fc = (f.m.userSeconds ?? NaN) + (f.m.systemSeconds ?? NaN), tc = (t.m.userSeconds ?? NaN) + (t.m.systemSeconds ?? NaN);
    if (Number.isFinite(fc) && Number.isFinite(tc)) out.push(`          ${(tc / fc).toFixed(1)}× in CPU time (user+sys of the median runs; faultline's counts its sha256 (openssl child) too)`);
  }
  const loop = walks.find((w) => w.result.reader.startsWith('decode'));
  if (loop) {
    const l = loop.m.wallSeconds;
    out.push(`\nreference loop (read, decode to TCP/UDP, count per flow hash; nothing stored): ${l.toFixed(2)} s`);
    for (const r of rows) out.push(`          ${r.tool}: ${(r.m.wallSeconds / l).toFixed(1)}× the loop's time`);
  }
  if (walks.length > 0) {
    out.push('\nwalks of the file, no analysis (\'own\' also hashes the file beside the reading, as analyze does; the others count frames only, but \'decode\')');
    out.push(table(['reader', 'frames', 'wall s', 'MB/s', 'peak RSS MiB', 'CPU s (user+sys)', 'runs (wall s)'], walks.map((w) => [
      w.result.reader, String(w.result.frames), w.m.wallSeconds.toFixed(2), (bytes / 1e6 / w.m.wallSeconds).toFixed(1),
      w.m.peakRssKb === null ? '?' : (w.m.peakRssKb / 1024).toFixed(0), cpu(w.m), w.runs.map((x) => x.toFixed(2)).join(' '),
    ])));
  }
  if (profile) out.push('\nfaultline CPU profile, top self time\n' + formatProfile(profile));
  process.stdout.write(out.join('\n') + '\n');

  const results = {
    date: new Date().toISOString(), file, bytes, packets, flows: stored.flows, peakFlows: stored.peakFlows, meta,
    source,
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: totalmem() / 2 ** 30, node: process.version, loadBefore, loadAfter: loadavg() },
    tools: rows.map((r) => ({ tool: r.tool, argv: r.m.argv, runs: r.runs, wallSeconds: r.m.wallSeconds, userSeconds: r.m.userSeconds, systemSeconds: r.m.systemSeconds, peakRssKb: r.m.peakRssKb, rssSource: r.m.rssSource })),
    walks: walks.map((w) => ({ ...w.result, runs: w.runs, wallSeconds: w.m.wallSeconds, userSeconds: w.m.userSeconds, systemSeconds: w.m.systemSeconds, peakRssKb: w.m.peakRssKb })),
    profile,
  };
  const resultsDir = resolve(benchRoot, 'bench', 'out');
  mkdirSync(resultsDir, { recursive: true });
  const resultsFile = join(resultsDir, `results-${results.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(resultsFile, JSON.stringify(results, null, 2) + '\n');
  log(`results written to ${resultsFile}`);
}

/** Which code was measured: the commit, and how many files differ from it (the tree moves while people work). */
function gitState(): string {
  try {
    const head = execFileSync('git', ['-C', benchRoot, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const changed = execFileSync('git', ['-C', benchRoot, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
    return `commit ${head}${changed ? ` + ${changed} changed/untracked paths under src/` : ''}`;
  } catch {
    return 'not a git checkout';
  }
}

function readDb(path: string): { frames: number; flows: number; peakFlows: number } {
  const db = new Database(path, { readonly: true });
  try {
    const cap = db.prepare('SELECT frames, stats FROM captures ORDER BY id DESC LIMIT 1').get() as { frames: number; stats: string };
    const flows = (db.prepare('SELECT count(*) AS n FROM flows').get() as { n: number }).n;
    const stats = JSON.parse(cap.stats) as { peakConcurrentFlows?: number };
    return { frames: cap.frames, flows, peakFlows: stats.peakConcurrentFlows ?? 0 };
  } finally {
    db.close();
  }
}

/** Read the file once so every tool starts from the page cache, not the first one from disk. */
async function warm(file: string): Promise<void> {
  for await (const chunk of createReadStream(file, { highWaterMark: 8 << 20 })) void chunk;
}

function cpu(m: Measurement): string {
  return m.userSeconds === null || m.systemSeconds === null ? '?' : (m.userSeconds + m.systemSeconds).toFixed(2);
}

function fmtInt(n: number): string { return Math.round(n).toLocaleString('en-US'); }

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
