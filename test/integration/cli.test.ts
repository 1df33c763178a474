import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { generateCapture } from '../../bench/generate.js';
import { CLI, thirdParty, runCli as cli } from '../helpers.js';

const FTP = thirdParty('files/zeek/testing/btest/Traces/ftp/ipv4.pcap');
const FTP_FRAMES = 95; // capinfos/tshark: 95 frames
const tmp = mkdtempSync(join(tmpdir(), 'faultline-cli-'));

function noStack(stderr: string): void {
  assert.ok(!/\n\s+at .+\(.*:\d+:\d+\)/.test(stderr), `no stack trace expected, got: ${stderr}`);
}

test('analyze prints a readable summary and stores the capture', () => {
  const db = join(tmp, 'a.db');
  const r = cli(['analyze', FTP, '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /95 frames/);
  assert.match(r.stdout, /2012-02-21T16:52:41\.968492Z/);
  assert.match(r.stdout, /hosts\s+2/);
  assert.match(r.stdout, /findings/);
  const rows = new Database(db, { readonly: true }).prepare('SELECT frames, format FROM captures').all() as Array<{ frames: number; format: string }>;
  assert.deepEqual(rows, [{ frames: FTP_FRAMES, format: 'pcap' }]);
});

test('--json prints only the contract document on stdout', () => {
  const r = cli(['analyze', FTP, '--db', join(tmp, 'j.db'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as Record<string, unknown>;
  for (const key of ['captures', 'findings', 'ftp', 'tls', 'nlb']) assert.ok(key in doc, `key ${key}`);
  const cap = (doc.captures as Array<Record<string, unknown>>)[0];
  assert.equal(cap.frames, FTP_FRAMES);
  assert.equal(cap.format, 'pcap');
  assert.deepEqual(cap.linktypes, [1]);
  assert.equal(cap.firstTs, '2012-02-21T16:52:41.968492Z');
  assert.equal(cap.lastTs, '2012-02-21T16:53:20.079930Z');
  assert.ok(Array.isArray(doc.findings));
  for (const f of doc.findings as Array<Record<string, unknown>>) {
    for (const k of ['code', 'severity', 'title', 'explanation', 'mitigation', 'frames', 'firstTs', 'subject', 'details']) assert.ok(k in f, `finding key ${k}`);
  }
});

test('a missing file, garbage and an empty file: one clear line, exit 1, no stack trace', () => {
  const garbage = join(tmp, 'garbage.bin');
  writeFileSync(garbage, Buffer.from('this is not a capture at all, just text\n'));
  const empty = join(tmp, 'empty.pcap');
  writeFileSync(empty, Buffer.alloc(0));
  for (const [file, msg] of [[join(tmp, 'nope.pcap'), /no such file/], [garbage, /not a pcap or pcapng capture/], [empty, /empty file/]] as const) {
    const r = cli(['analyze', file, '--db', join(tmp, 'e.db')]);
    assert.equal(r.status, 1, `${file}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    noStack(r.stderr);
  }
});

test('a truncated capture is analysed up to the damage, with the offset, and exits 0', () => {
  const whole = readFileSync(FTP);
  const cut = join(tmp, 'cut.pcap');
  writeFileSync(cut, whole.subarray(0, whole.length - 37));
  const r = cli(['analyze', cut, '--db', join(tmp, 'c.db'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { captures: Array<{ frames: number; damaged: boolean; warnings: Array<{ offset: number; message: string }> }> };
  assert.equal(doc.captures[0].frames, FTP_FRAMES - 1);
  assert.equal(doc.captures[0].damaged, true);
  // The last record starts where the 94 complete records end; that is the offset we must name.
  let off = 24;
  for (let i = 0; i < FTP_FRAMES - 1; i++) off += 16 + whole.readUInt32LE(off + 8);
  assert.ok(doc.captures[0].warnings.some((w) => w.offset === off && /truncated/.test(w.message)), JSON.stringify(doc.captures[0].warnings));
});

test('usage errors exit 2', () => {
  assert.equal(cli(['analyze', FTP, '--passive-range', 'lots', '--db', join(tmp, 'u.db')]).status, 2);
  assert.equal(cli(['analyze', FTP, '--trusted', '300.1.1.1/8', '--db', join(tmp, 'u.db')]).status, 2);
  assert.equal(cli(['analyze', '--no-such-option']).status, 2);
  assert.equal(cli(['frobnicate']).status, 2);
  assert.equal(cli(['analyze']).status, 2);
});

test('stdin and gzip read the same frames as the plain file', () => {
  const plain = readFileSync(FTP);
  const fromStdin = cli(['analyze', '-', '--db', join(tmp, 's.db'), '--json'], plain);
  assert.equal(fromStdin.status, 0, fromStdin.stderr);
  assert.equal((JSON.parse(fromStdin.stdout) as { captures: Array<{ frames: number; name: string }> }).captures[0].frames, FTP_FRAMES);
  const gz = join(tmp, 'ftp.pcap.gz');
  writeFileSync(gz, gzipSync(plain));
  const r = cli(['analyze', gz, '--db', join(tmp, 'g.db'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const cap = (JSON.parse(r.stdout) as { captures: Array<{ frames: number; compressed: boolean }> }).captures[0];
  assert.equal(cap.frames, FTP_FRAMES);
  assert.equal(cap.compressed, true);
  const gzStdin = cli(['analyze', '-', '--db', join(tmp, 'gs.db'), '--json'], gzipSync(plain));
  assert.equal((JSON.parse(gzStdin.stdout) as { captures: Array<{ frames: number }> }).captures[0].frames, FTP_FRAMES);
});

test('analysing the same file twice replaces its rows; several files make several captures', () => {
  const db = join(tmp, 'twice.db');
  assert.equal(cli(['analyze', FTP, '--db', db]).status, 0);
  assert.equal(cli(['analyze', FTP, '--db', db]).status, 0);
  const other = thirdParty('files/zeek/testing/btest/Traces/arp-who-has.pcap');
  const r = cli(['analyze', FTP, other, '--db', db, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { captures: unknown[] }).captures.length, 2);
  const d = new Database(db, { readonly: true });
  assert.equal((d.prepare('SELECT COUNT(*) AS n FROM captures').get() as { n: number }).n, 2);
  const flows = d.prepare('SELECT COUNT(*) AS n FROM flows f JOIN captures c ON c.id = f.capture_id WHERE c.frames = ?').get(FTP_FRAMES) as { n: number };
  assert.equal(flows.n, 5); // tshark: 5 TCP streams, no other flows
});

test('one bad file among good ones: the good ones are analysed, exit 1', () => {
  const r = cli(['analyze', join(tmp, 'missing.pcap'), FTP, '--db', join(tmp, 'm.db'), '--json']);
  assert.equal(r.status, 1);
  assert.equal((JSON.parse(r.stdout) as { captures: unknown[] }).captures.length, 1);
});

test('a reader that stops early (`analyze --json | head`): no stack trace, exit 0, the capture stored', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-pipe-'));
  const capture = join(dir, 'mixed.pcap');
  generateCapture({ out: capture, sizeMb: 8, concurrency: 100, seed: 2 });
  const db = join(dir, 'x.db');
  for (const args of [['--json'], []]) {
    const child = spawn(process.execPath, [CLI, 'analyze', capture, '--db', db, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    // Read the first bytes only, then close the pipe, as `head -c 100` does.
    const first = await new Promise<Buffer>((resolve) => child.stdout.once('data', resolve));
    child.stdout.destroy();
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.ok(first.length > 0);
    assert.equal(status, 0, `analyze ${args.join(' ')}: ${stderr}`);
    assert.doesNotMatch(stderr, /EPIPE|Error|\n\s+at /, `analyze ${args.join(' ')}: ${stderr}`);
    const rows = new Database(db, { readonly: true });
    try {
      assert.equal((rows.prepare(`SELECT complete FROM captures`).get() as { complete: number }).complete, 1);
    } finally {
      rows.close();
    }
  }
});
