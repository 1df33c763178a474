import { createRequire } from 'node:module';
import { createReadStream, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { EventEmitter } from 'node:events';
import { readCapture } from '../src/source/open.js';
import { PcapParser } from '../src/source/pcap.js';
import { decodePacket } from '../src/decode/packet.js';
import { tupleHash } from '../src/flow/table.js';

/**
 * A bare walk of a capture, frames counted and nothing else, so the two readers compare alone:
 * `node dist/bench/walk.js own|own-parser|pcap-parser FILE` prints one JSON line. 'own' is
 * readCapture as analyze uses it (sha256 of the file beside it, by openssl or a worker, included); 'own-parser'
 * is our PcapParser alone on the same 4 MiB chunks, the like-for-like match for pcap-parser.
 * 'decode' is the reference loop: our PcapParser, faultline's own decoders down to TCP/UDP
 * and a count per flow in a Map keyed by the 5-tuple hash (no sha256, no flow state, no storage).
 */
export interface WalkResult { reader: string; frames: number; bytes: number; seconds: number }

interface PcapParserModule { parse(input: string): EventEmitter }

export async function walkOwn(file: string): Promise<WalkResult> {
  const t0 = performance.now();
  let frames = 0;
  await readCapture(file, { frame: () => { frames++; }, warning: () => undefined });
  return { reader: 'own (readCapture)', frames, bytes: statSync(file).size, seconds: (performance.now() - t0) / 1000 };
}

export async function walkOwnParser(file: string): Promise<WalkResult> {
  const t0 = performance.now();
  let frames = 0;
  const parser = new PcapParser({ frame: () => { frames++; }, warning: () => undefined });
  for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) parser.push(chunk as Buffer);
  parser.end();
  return { reader: 'own PcapParser (no hash)', frames, bytes: statSync(file).size, seconds: (performance.now() - t0) / 1000 };
}

export async function walkDecode(file: string): Promise<WalkResult> {
  const t0 = performance.now();
  let frames = 0;
  const perFlow = new Map<number, number>();
  const parser = new PcapParser({
    frame: (f) => {
      frames++;
      const pkt = decodePacket(f);
      const net = pkt.net, t = pkt.transport;
      if (net === null || net.kind !== 'ipv4' || t === null || (t.kind !== 'tcp' && t.kind !== 'udp')) return;
      const h = tupleHash(net.protocol, net.srcNum, t.srcPort, net.dstNum, t.dstPort);
      perFlow.set(h, (perFlow.get(h) ?? 0) + 1);
    },
    warning: () => undefined,
  });
  for await (const chunk of createReadStream(file, { highWaterMark: 256 << 10 })) parser.push(chunk as Buffer);
  parser.end();
  return { reader: `decode + flow hash (${perFlow.size} flows)`, frames, bytes: statSync(file).size, seconds: (performance.now() - t0) / 1000 };
}

export function walkPcapParser(file: string): Promise<WalkResult> {
  const pcapParser = createRequire(import.meta.url)('pcap-parser') as PcapParserModule;
  const t0 = performance.now();
  let frames = 0;
  return new Promise((resolve, reject) => {
    const parser = pcapParser.parse(file);
    parser.on('packet', () => { frames++; });
    parser.on('error', reject);
    parser.on('end', () => resolve({ reader: 'pcap-parser 0.2.1', frames, bytes: statSync(file).size, seconds: (performance.now() - t0) / 1000 }));
  });
}

async function main(args: string[]): Promise<void> {
  const [reader, file] = args;
  if (!file || !['own', 'own-parser', 'pcap-parser', 'decode'].includes(reader)) {
    process.stderr.write('usage: node dist/bench/walk.js own|own-parser|pcap-parser|decode FILE\n');
    process.exitCode = 2;
    return;
  }
  const r = reader === 'own' ? await walkOwn(file) : reader === 'own-parser' ? await walkOwnParser(file)
    : reader === 'decode' ? await walkDecode(file) : await walkPcapParser(file);
  process.stdout.write(JSON.stringify(r) + '\n');
}

if (process.argv[1]?.endsWith('walk.js')) void main(process.argv.slice(2));
