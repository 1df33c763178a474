import { closeSync, createReadStream, openSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createGunzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { leanHeapAgain, leanHeapTick } from '../heap.js';
import type { CaptureParser, CaptureSink } from './parser.js';
import { PcapParser, pcapMagic } from './pcap.js';
import { PcapngParser } from './pcapng.js';

/** The input is not a capture at all: the CLI prints this one line and exits 1. */
export class NotACaptureError extends Error {}

/**
 * Read size. Frames are views into these chunks, so every live view pins its chunk: 256 KiB
 * chunks keep the resident set near 70 MB on a 1.2 GB file where 4 MiB chunks needed 150 MB,
 * at the same speed (measured; see docs/decisions.md).
 */
const READ_CHUNK = 256 << 10;

export type CaptureFormat = 'pcap' | 'pcapng';

/** What the first bytes (after decompression) say the format is. */
export function sniffFormat(head: Buffer): CaptureFormat | null {
  if (pcapMagic(head)) return 'pcap';
  if (head.length >= 4 && head.readUInt32LE(0) === 0x0a0d0d0a) return 'pcapng';
  return null;
}

export function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

export interface ReadResult {
  format: CaptureFormat;
  compressed: boolean;
  linkTypes: number[];
  /** Input bytes read (compressed size for gzip). */
  bytesRead: number;
  /** sha256 of the file as stored (before decompression). */
  sha256: string;
  damaged: boolean;
}

export interface ReadOptions {
  /** Called with bytes read so far and the total (null when unknown, e.g. stdin). */
  progress?: (read: number, total: number | null) => void;
  chunkSize?: number;
}

/**
 * Streams a capture (path or '-' for stdin, gzip or not) through the right parser.
 * On-disk files are hashed beside the parsing (hashBeside) so the hash costs no time on its core.
 */
export async function readCapture(path: string, sink: CaptureSink, opts: ReadOptions = {}): Promise<ReadResult> {
  const fromStdin = path === '-';
  const total = fromStdin ? null : statSync(path).size;
  const raw: Readable = fromStdin ? process.stdin : createReadStream(path, { highWaterMark: opts.chunkSize ?? READ_CHUNK });
  const hash = !fromStdin && (total ?? 0) > 8 << 20 ? hashBeside(path) : hashInline();
  try {
    return await readThrough(path, raw, total, hash, sink, opts);
  } catch (e) {
    hash.cancel();
    throw e;
  }
}

async function readThrough(path: string, raw: Readable, total: number | null, hash: FileHash, sink: CaptureSink, opts: ReadOptions): Promise<ReadResult> {
  let bytesRead = 0;
  let parser: CaptureParser | null = null;
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let damaged = false;
  const wrapped: CaptureSink = {
    frame: (f) => sink.frame(f),
    warning: (w) => { damaged = true; sink.warning(w); },
    secrets: (t, d, o) => sink.secrets?.(t, d, o),
  };
  const onRaw = (chunk: Buffer): void => {
    bytesRead += chunk.length;
    hash.update(chunk);
    opts.progress?.(bytesRead, total);
    leanHeapTick();
  };
  const input = decompressed(raw, onRaw);

  const feed = (chunk: Buffer): void => {
    if (parser) { parser.push(chunk); return; }
    pending.push(chunk);
    pendingLen += chunk.length;
    if (pendingLen < 4) return;
    const head = Buffer.concat(pending, pendingLen);
    pending = [];
    const format = sniffFormat(head);
    if (!format) throw new NotACaptureError(describeNonCapture(path, head, input.compressed));
    parser = format === 'pcap' ? new PcapParser(wrapped) : new PcapngParser(wrapped);
    parser.push(head);
  };

  try {
    for await (const chunk of input.chunks) {
      feed(chunk);
      if ((parser as CaptureParser | null)?.stopped) break;
    }
  } catch (e) {
    if (e instanceof NotACaptureError) throw e;
    // Only zlib throws here (damaged or truncated gzip): analyse what was inflated.
    if (!parser) throw new NotACaptureError(`${path}: damaged gzip file: ${(e as Error).message}`);
    wrapped.warning({ offset: bytesRead, message: `gzip stream damaged near compressed byte ${bytesRead}: ${(e as Error).message}; analysed up to there` });
  } finally {
    if (raw !== process.stdin) raw.destroy();
  }
  if (!parser) {
    if (bytesRead === 0) throw new NotACaptureError(`${path}: empty file (0 bytes), not a capture`);
    throw new NotACaptureError(describeNonCapture(path, Buffer.concat(pending, pendingLen), input.compressed));
  }
  const p = parser as CaptureParser;
  p.end();
  if (p.headerError !== null) throw new NotACaptureError(`${path}: ${p.headerError}: not a capture faultline (or libpcap) can read`);
  const sha256 = await hash.digest;
  return { format: p.format, compressed: input.compressed, linkTypes: [...p.linkTypes], bytesRead, sha256, damaged };
}

interface Decompressed { compressed: boolean; chunks: AsyncGenerator<Buffer> }

/** Raw chunks, or their gunzipped form when the input starts with the gzip magic. */
function decompressed(raw: Readable, onRaw: (c: Buffer) => void): Decompressed {
  const state: Decompressed = { compressed: false, chunks: gen() };
  async function* gen(): AsyncGenerator<Buffer> {
    const it = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const first = await it.next();
    if (first.done) return;
    onRaw(first.value);
    if (!isGzip(first.value)) {
      yield first.value;
      for (let r = await it.next(); !r.done; r = await it.next()) {
        onRaw(r.value);
        yield r.value;
      }
      return;
    }
    state.compressed = true;
    const gz = createGunzip();
    let feedError: unknown = null;
    const feeding = (async () => {
      try {
        if (!gz.write(first.value)) await once(gz, 'drain');
        for (let r = await it.next(); !r.done; r = await it.next()) {
          onRaw(r.value);
          if (!gz.write(r.value)) await once(gz, 'drain');
        }
        gz.end();
      } catch (e) {
        feedError = e;
        gz.destroy(e as Error);
      }
    })();
    try {
      for await (const out of gz) yield out as Buffer;
    } finally {
      gz.destroy();
      await feeding.catch(() => undefined);
    }
    if (feedError) throw feedError;
  }
  return state;
}

const OTHER_COMPRESSION: Array<[string, string, string]> = [
  ['28b52ffd', 'zstd', 'zstd -d'], ['04224d18', 'lz4', 'lz4 -d'], ['425a68', 'bzip2', 'bunzip2'], ['fd377a585a00', 'xz', 'unxz'],
];

function describeNonCapture(path: string, head: Buffer, compressed: boolean): string {
  const magic = head.toString('hex');
  for (const [prefix, name, cmd] of OTHER_COMPRESSION) {
    if (magic.startsWith(prefix)) return `${path}: ${name}-compressed; decompress it first (${cmd}), or give faultline a gzip or plain capture`;
  }
  const hex = head.subarray(0, 8).toString('hex').replace(/(..)/g, '$1 ').trim();
  return `${path}: not a pcap or pcapng capture${compressed ? ' (after gunzip)' : ''}: it starts with ${hex || 'nothing'}`;
}

/**
 * The sha256 of the input as stored: fed the raw chunks as they are read (inline), or computed
 * apart from them (update does nothing). cancel() stops the work when the read failed.
 */
interface FileHash {
  update(chunk: Buffer): void;
  readonly digest: Promise<string>;
  cancel(): void;
}

/** Small files, gzip and stdin: hashed on the reading thread as the chunks go by. */
function hashInline(): FileHash {
  const h = createHash('sha256');
  let done: Promise<string> | null = null;
  return {
    update: (chunk) => { h.update(chunk); },
    // Read at the end of the read, after the last update.
    get digest() { return done ??= Promise.resolve(h.digest('hex')); },
    cancel: () => undefined,
  };
}

/**
 * The sha256 of a file on disk, computed beside the parsing: by `openssl dgst` in a child process
 * when there is one, whose ~6 MB are its own where a worker thread added ~14 MiB to faultline's
 * resident set; by a worker thread when there is no openssl or it fails (docs/decisions.md).
 */
function hashBeside(path: string): FileHash {
  const child = opensslSha256(path);
  let cancelled = false;
  let cancelWorker = (): void => undefined;
  const digest = child.digest.then(async (d) => {
    if (d !== null || cancelled) return d ?? '';
    const worker = await hashFileInWorker(path);
    cancelWorker = () => worker.cancel();
    if (cancelled) { worker.cancel(); return ''; } // the read failed while the worker started
    return worker.digest;
  });
  // A failure is reported where the digest is awaited, at the end of the read; until then it
  // must not count as an unhandled rejection (which would end the process).
  digest.catch(() => undefined);
  return { update: () => undefined, digest, cancel: () => { cancelled = true; child.cancel(); cancelWorker(); } };
}

/** `openssl dgst -sha256` reading the file as its stdin; null when openssl is missing or fails. */
function opensslSha256(path: string): { digest: Promise<string | null>; cancel(): void } {
  let fd: number;
  try { fd = openSync(path, 'r'); } catch { return { digest: Promise.resolve(null), cancel: () => undefined }; }
  let kill = (): void => undefined;
  const digest = new Promise<string | null>((resolve) => {
    try {
      const c = spawn('openssl', ['dgst', '-sha256', '-r'], { stdio: [fd, 'pipe', 'ignore'] });
      kill = () => { c.kill(); };
      let out = '';
      c.stdout!.setEncoding('latin1');
      c.stdout!.on('data', (s: string) => { if (out.length < 4096) out += s; });
      c.once('error', () => resolve(null)); // not installed (ENOENT) or not runnable
      c.once('close', (code) => {
        const m = /^([0-9a-f]{64}) /.exec(out);
        resolve(code === 0 && m ? m[1] : null);
      });
    } catch {
      resolve(null);
    } finally {
      closeSync(fd); // the child holds its own copy
    }
  });
  return { digest, cancel: () => kill() };
}

/** Starts the hash; resolves once the worker runs (see leanHeapAgain), with its digest to come. */
async function hashFileInWorker(path: string): Promise<FileHash> {
  // One reused read buffer and synchronous reads: a read stream allocates a fresh buffer per
  // chunk on the worker's own malloc arena, which grew the resident set by ~35 MB (measured).
  const src = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { createHash } = require('node:crypto');
    const fs = require('node:fs');
    try {
      const h = createHash('sha256');
      const fd = fs.openSync(workerData, 'r');
      try {
        const buf = Buffer.allocUnsafeSlow(1 << 20);
        for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(n === buf.length ? buf : buf.subarray(0, n));
      } finally { fs.closeSync(fd); }
      parentPort.postMessage(h.digest('hex'));
    } catch (e) { parentPort.postMessage({ error: String(e) }); }`;
  // A small heap is plenty for hashing; it keeps the worker's share of the resident set low.
  // None of node's own options: a worker inherits them, and with --input-type=module (a script
  // run by `node -e`) this CommonJS source would not run.
  const w = new Worker(src, { eval: true, workerData: path, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 16 } });
  const digest = new Promise<string>((resolve, reject) => {
    w.once('message', (m: unknown) => {
      void w.terminate();
      if (typeof m === 'string') resolve(m); else reject(new Error(String((m as { error: string }).error)));
    });
    w.once('error', reject);
  });
  // Before the first chunk is parsed (~15 ms): the worker's start reset V8's heap flags.
  await Promise.race([once(w, 'online'), digest.catch(() => undefined)]);
  leanHeapAgain();
  return { update: () => undefined, digest, cancel: () => { void w.terminate(); } };
}
