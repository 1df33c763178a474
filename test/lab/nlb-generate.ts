/**
 * Writes the generated NLB / layer-2 captures: `node dist/test/lab/nlb-generate.js [--out DIR]`.
 * Same code, same bytes: the scenarios are deterministic, and the tests rebuild them in memory
 * to check the committed files. Also keeps captures/nlb/MANIFEST.tsv and expected.json in step
 * (the lab recording, test/lab/nlb-bridge.ts, adds its own entries through the same helpers).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../helpers.js';
import { writeEthernetPcap } from '../../src/proto/l2/nlb-encode.js';
import { pcapFrames } from './pcap.js';
import { GENERATED, type ExpectedCapture } from './nlb-scenarios.js';

export const NLB_DIR = join(repoRoot, 'captures', 'nlb');

export interface ExpectedFile {
  about: string;
  captures: Record<string, ExpectedCapture>;
}

export function readExpected(dir = NLB_DIR): ExpectedFile {
  const path = join(dir, 'expected.json');
  if (!existsSync(path)) return { about: ABOUT, captures: {} };
  return JSON.parse(readFileSync(path, 'utf8')) as ExpectedFile;
}

const ABOUT = 'What each capture in this folder must show, derived from how it was built (generated: counted while building; lab: from the frames injected). Shares are fractions of all frames/bytes with an Ethernet destination; shareTolerance is absolute. must/mustNot list finding codes.';

export function writeExpected(file: ExpectedFile, dir = NLB_DIR): void {
  const sorted: Record<string, ExpectedCapture> = {};
  for (const k of Object.keys(file.captures).sort()) sorted[k] = file.captures[k];
  writeFileSync(join(dir, 'expected.json'), JSON.stringify({ about: ABOUT, captures: sorted }, null, 2) + '\n');
}

/** One line per capture: file, source, sha256, size, frames, description. */
export function writeManifest(dir = NLB_DIR): void {
  const expected = readExpected(dir).captures;
  const lines = ['file\tsource\tsha256\tsize_bytes\tframes\tdescription'];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.pcap')).sort()) {
    const bytes = readFileSync(join(dir, f));
    const e = expected[f];
    lines.push([f, e?.source ?? 'unknown', createHash('sha256').update(bytes).digest('hex'), bytes.length, pcapFrames(join(dir, f)), e?.description ?? ''].join('\t'));
  }
  writeFileSync(join(dir, 'MANIFEST.tsv'), lines.join('\n') + '\n');
}

export function generateAll(dir = NLB_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  const expected = readExpected(dir);
  const written: string[] = [];
  for (const sc of GENERATED) {
    const built = sc.build();
    writeEthernetPcap(join(dir, sc.file), built.frames);
    expected.captures[sc.file] = built.expected;
    written.push(sc.file);
  }
  writeExpected(expected, dir);
  writeManifest(dir);
  return written;
}

// node --test runs every .js under dist/test/ as a test file: never regenerate captures/ from there.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url) && !process.env.NODE_TEST_CONTEXT) {
  const i = process.argv.indexOf('--out');
  const dir = i > 0 ? resolve(process.argv[i + 1]) : NLB_DIR;
  for (const f of generateAll(dir)) console.log(join(dir, f));
}
