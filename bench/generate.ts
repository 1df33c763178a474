import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PcapWriter } from '../src/source/pcap-writer.js';
import { arpSession } from './arp.js';
import { bulkSession } from './bulk.js';
import { dnsSession } from './dns.js';
import { Emitter } from './frames.js';
import { ftpSession } from './ftp.js';
import { Prng } from './prng.js';
import type { Ctx, Session } from './session.js';
import { tlsSession } from './tls.js';
import { World } from './world.js';

export const benchRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_CAPTURE = resolve(benchRoot, 'bench', 'out', 'mixed.pcap');
export const DEFAULT_SIZE_MB = 1150;
/** Packets per MiB of target size: 1150 MiB gives about 2.1 million packets. */
const PACKETS_PER_MB = 1850;

export interface GenerateOptions {
  out: string;
  sizeMb: number;
  /** Minimum packet count (default: sizeMb × 1850). */
  minPackets?: number;
  seed?: number;
  /** Sessions in progress at once (each holds one or two flows). */
  concurrency?: number;
  clients?: number;
  /** Mean capture time between two turns of the sessions, µs (default 1000). Longer spreads the same traffic over more time. */
  thinkUs?: number;
  log?: (line: string) => void;
}

export interface KindStats { sessions: number; flows: number; packets: number; bytes: number }

export interface GenerateResult {
  file: string;
  seed: number;
  bytes: number;
  packets: number;
  flows: number;
  sessions: number;
  concurrency: number;
  firstTs: number;
  lastTs: number;
  seconds: number;
  byKind: Record<string, KindStats>;
}

type Maker = (ctx: Ctx) => Session;
// Byte-heavy sessions carry the volume; packet-heavy ones bring the small-packet share (ACKs,
// control lines, lookups) that real mixed links have. The scheduler draws from whichever menu is
// behind its target, so both the size and the packet count are met.
const BYTE_HEAVY: Array<[number, Maker]> = [
  [0.55, bulkSession],
  [0.3, (c) => ftpSession(c, false)],
  [0.15, (c) => tlsSession(c, false)],
];
const PACKET_HEAVY: Array<[number, Maker]> = [
  [0.35, dnsSession],
  [0.1, arpSession],
  [0.3, (c) => tlsSession(c, true)],
  [0.25, (c) => ftpSession(c, true)],
];

function draw(rng: Prng, menu: Array<[number, Maker]>): Maker {
  let r = rng.float();
  for (const [w, make] of menu) { if ((r -= w) < 0) return make; }
  return menu[menu.length - 1][1];
}

export function generateCapture(opts: GenerateOptions): GenerateResult {
  const started = Date.now();
  const seed = opts.seed ?? 1;
  const targetBytes = opts.sizeMb * 1024 * 1024;
  const targetPackets = opts.minPackets ?? Math.round(opts.sizeMb * PACKETS_PER_MB);
  const concurrency = opts.concurrency ?? 3000;
  const think2 = Math.max(1, Math.round(2 * (opts.thinkUs ?? 1000)));
  const log = opts.log ?? (() => undefined);
  mkdirSync(dirname(opts.out), { recursive: true });
  const rng = new Prng(seed);
  const world = new World(rng, opts.clients ?? 2500);
  const writer = new PcapWriter(opts.out, 1);
  const firstTs = Date.UTC(2025, 2, 3, 9, 0, 0) * 1000;
  const em = new Emitter(writer, firstTs);
  const ctx: Ctx = { world, em, rng };

  const byKind: Record<string, KindStats> = {};
  const active: Session[] = [];
  let committedBytes = 0, committedPackets = 0, sessions = 0, flows = 0;
  let nextReport = 0.05;
  const wanting = (): boolean => committedBytes < targetBytes || committedPackets < targetPackets
    || (active.length === 0 && (em.fileBytes < targetBytes || em.frames < targetPackets));

  while (true) {
    while (active.length < concurrency && wanting()) {
      const behindOnPackets = committedPackets / targetPackets < committedBytes / targetBytes;
      const s = draw(rng, behindOnPackets ? PACKET_HEAVY : BYTE_HEAVY)(ctx);
      committedBytes += s.estBytes;
      committedPackets += s.estPackets;
      sessions++;
      flows += s.flows;
      const k = (byKind[s.kind] ??= { sessions: 0, flows: 0, packets: 0, bytes: 0 });
      k.sessions++;
      k.flows += s.flows;
      active.push(s);
    }
    if (active.length === 0) break;
    const i = rng.int(active.length);
    const s = active[i];
    const frames0 = em.frames, bytes0 = em.fileBytes;
    const r = s.steps.next();
    const k = byKind[s.kind];
    k.packets += em.frames - frames0;
    k.bytes += em.fileBytes - bytes0;
    if (r.done) { active[i] = active[active.length - 1]; active.pop(); }
    // Hosts think between bursts: about a millisecond of capture time per turn (by default).
    em.advance(rng.int(think2));
    if (em.fileBytes / targetBytes >= nextReport) {
      log(`generate: ${(em.fileBytes / 1e6).toFixed(0)} MB, ${em.frames} packets, ${active.length} sessions active`);
      nextReport += 0.05;
    }
  }
  writer.close();
  const result: GenerateResult = {
    file: opts.out, seed, bytes: em.fileBytes, packets: em.frames, flows, sessions, concurrency,
    firstTs, lastTs: em.ts, seconds: (Date.now() - started) / 1000, byKind,
  };
  writeFileSync(`${opts.out}.meta.json`, JSON.stringify(result, null, 2) + '\n');
  return result;
}

export function parseFlag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function main(args: string[]): void {
  const sizeMb = Number(parseFlag(args, '--size-mb') ?? DEFAULT_SIZE_MB);
  const minPackets = parseFlag(args, '--min-packets');
  const res = generateCapture({
    out: resolve(parseFlag(args, '--out') ?? DEFAULT_CAPTURE),
    sizeMb,
    minPackets: minPackets === undefined ? undefined : Number(minPackets),
    seed: Number(parseFlag(args, '--seed') ?? 1),
    concurrency: Number(parseFlag(args, '--concurrency') ?? 3000),
    thinkUs: Number(parseFlag(args, '--think-us') ?? 1000),
    log: (l) => process.stderr.write(l + '\n'),
  });
  process.stdout.write(JSON.stringify(res, null, 2) + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main(process.argv.slice(2));
