import type { Command } from 'commander';
import { accessSync, closeSync, constants, existsSync, openSync, unlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LiveAnalysis, snapshotParts, type LiveSnapshot } from '../analysis/live.js';
import type { AnalyzeOptions } from '../analysis/context.js';
import { DEFAULT_BUFFER_BYTES, LiveCaptureError, openLiveSource, type LiveSource, type LiveStats, type LiveVia } from '../source/live.js';
import { PcapngRing, PcapngWriter, DEFAULT_RING_FILES, type CaptureFileSink, type PcapngHeader } from '../source/pcapng-writer.js';
import type { Frame } from '../source/frame.js';
import type { Db } from '../store/db.js';
import { CaptureWriter } from '../store/writer.js';
import type { Finding } from '../findings/types.js';
import { parseSize, formatSize } from '../server/config.js';
import { addAnalysisOptions, analysisOptions, openDbOrFail } from './analyze.js';
import { usageError, UserError } from './errors.js';
import { human, printSummary } from './summary.js';

export type StopReason = 'interrupted' | 'duration' | 'count' | 'source-failed' | 'requested';

export interface SnifferOptions {
  iface: string;
  filter: string;
  via: LiveVia;
  db: Db;
  analyze: AnalyzeOptions;
  /** pcapng file to write (null: none); with `ring`, the base name of the ring's files. */
  write: string | null;
  ring: { bytes: number; files: number } | null;
  durationS: number | null;
  count: number | null;
  /** Kernel capture buffer (null: the source's default). */
  bufferBytes?: number | null;
  commitMs?: number;
}

export interface SnifferEvents {
  /** After every commit: the snapshot just stored and the source's counters. */
  committed?(s: LiveSnapshot, stats: LiveStats, final: boolean): void;
}

export interface SniffResult {
  reason: StopReason;
  stats: LiveStats;
  files: string[];
  failure: string | null;
}

/**
 * One live capture: source → pcapng file (optional) → live analysis → SQLite, committed every
 * `commitMs`, stopped by stop(), a limit or the source's failure with everything committed and
 * the file closed.
 */
export class Sniffer {
  readonly captureId: number;
  readonly done: Promise<SniffResult>;
  private source: LiveSource | null = null;
  private file: CaptureFileSink | null = null;
  private analysis: LiveAnalysis;
  private writer: CaptureWriter;
  private timers: NodeJS.Timeout[] = [];
  private lastCommit = 0;
  private stopping: Promise<SniffResult> | null = null;
  private failure: string | null = null;
  private broken = false;
  private resolveDone!: (r: SniffResult) => void;
  private readonly startedAt = new Date();

  private constructor(private o: SnifferOptions, private events: SnifferEvents) {
    const name = `live ${o.iface}${o.filter ? ` (${o.filter})` : ''} ${this.startedAt.toISOString()}`;
    this.writer = new CaptureWriter(o.db, o.write ?? `iface:${o.iface}`, name);
    this.captureId = this.writer.captureId;
    this.analysis = new LiveAnalysis(o.analyze, { file: o.write ?? `iface:${o.iface}`, name, flowSink: this.writer });
    this.done = new Promise((resolve) => { this.resolveDone = resolve; });
  }

  static async start(o: SnifferOptions, events: SnifferEvents = {}): Promise<Sniffer> {
    const s = new Sniffer(o, events);
    try {
      s.source = await openLiveSource({
        iface: o.iface, filter: o.filter, via: o.via, bufferBytes: o.bufferBytes ?? undefined,
        sink: { frame: (f) => s.frame(f), failed: (m) => { s.failure ??= m; void s.stop('source-failed'); } },
      });
    } catch (e) {
      s.writer.abort();
      throw e;
    }
    const cap = s.analysis.ctx.facts.capture;
    cap.format = o.write ? 'pcapng' : 'pcap';
    if (s.source.linkType !== null) cap.linkTypes = [s.source.linkType];
    s.lastCommit = Date.now();
    const commitMs = o.commitMs ?? 1000;
    s.timers.push(setInterval(() => s.commit(), commitMs));
    if (o.durationS !== null) s.timers.push(setTimeout(() => void s.stop('duration'), o.durationS * 1000));
    // The first commit makes the capture visible at once; after the caller has it in hand.
    setImmediate(() => s.commit());
    return s;
  }

  get liveSource(): LiveSource {
    return this.source!;
  }

  get files(): string[] {
    return this.file?.files ?? [];
  }

  private frame(f: Frame): void {
    const limit = this.o.count;
    if ((limit !== null && f.no > limit) || this.broken) return;
    try {
      if (this.file === null && this.o.write !== null) this.file = this.openFile(f.linkType, f.ts);
      this.file?.write(f.ts, f.data, f.origLen);
      this.analysis.frame(f);
    } catch (e) {
      // A capture that runs for hours should not die without its final commit: stop cleanly.
      this.broken = true;
      this.failure ??= `stopped at frame ${f.no}: ${(e as Error).message}`;
      void this.stop('source-failed');
      return;
    }
    if (limit !== null && f.no === limit) { void this.stop('count'); return; }
    // cap delivers a burst in one native loop that the event loop cannot interrupt: under a
    // sustained flood the commit timer would starve, so the packet path commits as well.
    if ((f.no & 4095) === 0 && Date.now() - this.lastCommit >= (this.o.commitMs ?? 1000)) this.commit();
  }

  private openFile(linkType: number, ts: number): CaptureFileSink {
    const src = this.source!;
    const header: PcapngHeader = {
      linkType, snaplen: src.snaplen, ifName: this.o.iface, application: 'faultline 0.1.0',
      comment: timestampNote(src) + (this.o.filter ? ` Capture filter: ${this.o.filter}` : ''),
    };
    const r = this.o.ring;
    return r ? new PcapngRing(this.o.write!, header, r.bytes, r.files, ts) : new PcapngWriter(this.o.write!, header);
  }

  private liveStats(stats: LiveStats, running: boolean): Record<string, unknown> {
    const src = this.source!;
    return {
      live: {
        iface: this.o.iface, via: src.via, filter: this.o.filter, timestamps: src.timestamps, snaplen: src.snaplen, running,
        startedAt: this.startedAt.toISOString(), packets: stats.packets, received: stats.received, dropped: stats.dropped,
        ifDropped: stats.ifDropped, interfacePackets: stats.interfacePackets, files: this.files,
      },
    };
  }

  private commit(): void {
    if (this.stopping || this.source === null) return;
    this.lastCommit = Date.now();
    const src = this.source;
    const cap = this.analysis.ctx.facts.capture;
    if (cap.linkTypes.length === 0 && src.linkType !== null) cap.linkTypes = [src.linkType];
    const snap = this.analysis.snapshot(src.now());
    const stats = src.stats();
    this.writer.commitSnapshot(snap.facts, snapshotParts(snap), this.liveStats(stats, true));
    this.analysis.release(snap);
    this.file?.flush();
    src.refreshStats();
    this.events.committed?.(snap, stats, false);
  }

  /** Stops capturing, commits the rest and closes the file; safe to call more than once. */
  stop(reason: StopReason = 'requested'): Promise<SniffResult> {
    this.stopping ??= this.finish(reason);
    return this.stopping;
  }

  private async finish(reason: StopReason): Promise<SniffResult> {
    for (const t of this.timers) clearTimeout(t);
    const src = this.source!;
    // The source delivers what it still holds (tcpdump's last packets) before this resolves.
    const stats = await src.stop();
    const cap = this.analysis.ctx.facts.capture;
    if (cap.linkTypes.length === 0 && src.linkType !== null) cap.linkTypes = [src.linkType];
    if (this.file === null && this.o.write !== null && src.linkType !== null && !this.broken) this.file = this.openFile(src.linkType, src.now());
    const snap = this.analysis.finish();
    this.file?.close({
      received: stats.received, dropped: stats.dropped, ifDropped: stats.ifDropped, delivered: stats.packets,
      startTs: this.startedAt.getTime() * 1000, endTs: src.now(),
    });
    this.writer.commitSnapshot(snap.facts, snapshotParts(snap), this.liveStats(stats, false));
    this.events.committed?.(snap, stats, true);
    const result: SniffResult = { reason, stats, files: this.files, failure: this.failure };
    this.resolveDone(result);
    return result;
  }
}

/** How the frames were stamped and what the loss counters can say, in words. */
export function timestampNote(src: LiveSource): string {
  return src.timestamps === 'kernel'
    ? `Timestamps and drop counts are the kernel's, through tcpdump (libpcap).`
    : `Timestamps were taken by faultline when each packet reached it, from a monotonic clock anchored to the wall clock at start: cap (libpcap binding) hands packets over without the kernel's timestamp, and a burst delivered at once is stamped microseconds apart. cap does not expose libpcap's drop counter either; use --via tcpdump for kernel timestamps and exact drop counts.`;
}

export function findingLine(f: Finding, cleared = false): string {
  const time = new Date().toTimeString().slice(0, 8);
  const frames = f.frames.slice(0, 12).join(', ') + (f.frames.length > 12 ? ', ...' : '');
  return `${time} [${cleared ? 'cleared' : f.severity}] ${f.code}: ${f.title}${frames ? ` (frames ${frames})` : ''}`;
}

export function statsLine(s: LiveSnapshot['counters'], stats: LiveStats, src: LiveSource, elapsedS: number): string {
  let dropped: string;
  if (stats.dropped !== null) dropped = `${stats.dropped} dropped by kernel${stats.ifDropped ? `, ${stats.ifDropped} by interface` : ''}`;
  else if (src.dropsKnown) dropped = 'dropped: not reported yet';
  else {
    // Without a filter every packet the interface counts passes the capture: the difference is
    // what cap never delivered (an estimate: counters are read a moment apart).
    const missed = src.filter === '' && stats.interfacePackets !== null ? Math.max(0, stats.interfacePackets - stats.packets) : null;
    dropped = `dropped: unknown (cap has no drop counter)${missed !== null ? `; interface counted ${stats.interfacePackets}, about ${missed} not delivered` : ''}`;
  }
  const rate = elapsedS > 0 ? ` (${(s.frames / elapsedS).toFixed(0)} pkt/s)` : '';
  return `faultline: ${s.frames} packets, ${human(s.bytes)}${rate}, ${s.flows + s.openFlows} flows (${s.openFlows} open), ${s.findings} findings, ${dropped}`;
}

interface SniffFlags {
  interface: string;
  filter: string;
  duration?: string;
  count?: string;
  write?: string;
  ring?: string;
  via: string;
  db: string;
  stats: string;
  buffer?: string;
  keylog?: string;
  passiveRange?: string;
  trusted?: string;
  showPasswords?: boolean;
}

export function parseVia(v: string): LiveVia {
  if (v !== 'cap' && v !== 'tcpdump') throw usageError(`--via wants cap or tcpdump, got '${v}'`);
  return v;
}

/** --ring SIZE[:FILES]: binary units as --max-upload's (100M = 100 MiB), 10 files unless given. */
export function parseRing(v: string): { bytes: number; files: number } {
  const [size, files] = v.split(':');
  const bytes = parseSize(size);
  const n = files === undefined ? DEFAULT_RING_FILES : /^\d{1,4}$/.test(files) ? Number(files) : NaN;
  if (bytes === null || bytes < 65536 || !(n >= 2)) throw usageError(`--ring wants SIZE[:FILES] with SIZE at least 64k and at least 2 files (e.g. 100M or 100M:20), got '${v}'`);
  return { bytes, files: n };
}

/** The pcapng file (or, for a ring, its directory) must be writable before capturing starts. */
function checkWritable(path: string, ring: boolean): void {
  try {
    if (ring) { accessSync(dirname(resolve(path)), constants.W_OK); return; }
    const existed = existsSync(path);
    closeSync(openSync(path, 'a'));
    if (!existed) unlinkSync(path);
  } catch (e) {
    throw new UserError(`cannot write ${ring ? `the ring's files next to ${path}` : path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message}`);
  }
}

function positive(name: string, v: string | undefined, integer: boolean): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !(n > 0) || (integer && !Number.isInteger(n))) throw usageError(`${name} wants a positive ${integer ? 'whole ' : ''}number, got '${v}'`);
  return n;
}

export function registerSniff(program: Command): void {
  addAnalysisOptions(program.command('sniff')
    .description('capture live and diagnose as packets come: each new finding printed as it appears, results committed to SQLite about once a second')
    .requiredOption('-i, --interface <iface>', 'interface to capture on (faultline interfaces lists them)')
    .option('-f, --filter <bpf>', 'BPF capture filter (pcap-filter syntax)', '')
    .option('--duration <seconds>', 'stop after this many seconds')
    .option('--count <packets>', 'stop after this many packets')
    .option('--write <file.pcapng>', 'also write the packets to this pcapng file')
    .option('--ring <size[:files]>', `with --write: rotate files of SIZE (e.g. 100M), keeping the newest FILES (default ${DEFAULT_RING_FILES})`)
    .option('--via <cap|tcpdump>', 'capture through the cap module (libpcap) or through tcpdump (kernel timestamps, exact drop counts)', 'cap')
    .option('--stats <seconds>', 'print capture statistics on stderr this often (0: only at the end)', '10')
    .option('--buffer <size>', `kernel capture buffer, e.g. 512M (default ${formatSize(DEFAULT_BUFFER_BYTES.cap)} via cap, ${formatSize(DEFAULT_BUFFER_BYTES.tcpdump)} via tcpdump)`))
    .action(async (flags: SniffFlags) => {
      const via = parseVia(flags.via);
      const durationS = positive('--duration', flags.duration, false);
      const count = positive('--count', flags.count, true);
      const statsEvery = flags.stats === '0' ? 0 : positive('--stats', flags.stats, false) ?? 10;
      if (flags.ring !== undefined && flags.write === undefined) throw usageError('--ring needs --write FILE (the base name of the ring\'s files)');
      const ring = flags.ring === undefined ? null : parseRing(flags.ring);
      const bufferBytes = flags.buffer === undefined ? null : parseSize(flags.buffer);
      if (bufferBytes === null && flags.buffer !== undefined) throw usageError(`--buffer wants a size such as 128M, got '${flags.buffer}'`);
      const options = analysisOptions(flags);
      if (flags.write !== undefined) checkWritable(flags.write, ring !== null);
      const db = openDbOrFail(flags.db);
      let sniffer: Sniffer;
      const started = Date.now();
      let lastStats = started;
      const err = (line: string): void => { process.stderr.write(`${line}\n`); };
      const events: SnifferEvents = {
        committed: (snap, stats, final) => {
          for (const f of snap.changes.added) process.stdout.write(findingLine(f) + '\n');
          for (const f of snap.changes.cleared) process.stdout.write(findingLine(f, true) + '\n');
          const now = Date.now();
          if (!final && statsEvery > 0 && now - lastStats >= statsEvery * 1000) {
            lastStats = now;
            err(statsLine(snap.counters, stats, sniffer.liveSource, (now - started) / 1000));
          }
          if (final) err(statsLine(snap.counters, stats, sniffer.liveSource, (now - started) / 1000));
        },
      };
      try {
        sniffer = await Sniffer.start({
          iface: flags.interface, filter: flags.filter, via, db, analyze: options,
          write: flags.write ?? null, ring, durationS, count, bufferBytes,
        }, events);
      } catch (e) {
        db.close();
        if (e instanceof LiveCaptureError) throw new UserError(e.message);
        throw e;
      }
      const src = sniffer.liveSource;
      err(`faultline: capturing on ${src.iface} via ${src.via}${src.filter ? ` (filter: ${src.filter})` : ''} into ${flags.db} as capture ${sniffer.captureId}${flags.write ? `, writing ${flags.write}${ring ? ` as a ring of ${ring.files} files of ${formatSize(ring.bytes)}` : ''}` : ''}; Ctrl-C stops`);
      err(`faultline: ${timestampNote(src)}`);
      let signals = 0;
      const onSignal = (): void => {
        if (++signals > 1) { err('faultline: stopping at once, without the final commit'); process.exit(130); }
        err('faultline: stopping: committing the rest');
        void sniffer.stop('interrupted');
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const result = await sniffer.done;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const why = { interrupted: 'interrupted', duration: 'duration reached', count: 'packet count reached', 'source-failed': 'capture failed', requested: 'stopped' }[result.reason];
      err(`faultline: stopped (${why}); everything is committed${result.files.length ? `; written: ${result.files.join(', ')}` : ''}`);
      printSummary(db, sniffer.captureId, flags.db, options);
      db.close();
      if (result.failure !== null) {
        err(`faultline: ${result.failure}`);
        process.exitCode = 1;
      }
    });
}
