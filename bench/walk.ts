import { createRequire } from 'node:module';
import { createReadStream, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { EventEmitter } from 'node:events';
import { readCapture } from '../src/source/open.js';
import { PcapParser } from '../src/source/pcap.js';

/**
 * A bare walk of a capture, frames counted and nothing else, so the two readers compare alone:
 * `node dist/bench/walk.js own|own-parser|pcap-parser FILE` prints one JSON line. 'own' is
 * readCapture as analyze uses it (sha256 of the file in a worker thread included); 'own-parser'
 * is our PcapParser alone on the same 4 MiB chunks, the like-for-like match for pcap-parser.
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
  if (!file || !['own', 'own-parser', 'pcap-parser'].includes(reader)) {
    process.stderr.write('usage: node dist/bench/walk.js own|own-parser|pcap-parser FILE\n');
    process.exitCode = 2;
    return;
  }
  const r = reader === 'own' ? await walkOwn(file) : reader === 'own-parser' ? await walkOwnParser(file) : await walkPcapParser(file);
  process.stdout.write(JSON.stringify(r) + '\n');
}

if (process.argv[1]?.endsWith('walk.js')) void main(process.argv.slice(2));
