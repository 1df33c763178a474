/**
 * Classic pcap reader (draft-ietf-opsawg-pcap, FACTS.md §5.1). Synthetic files are built here
 * from the format description, so every expected value (timestamps, offsets, lengths) follows
 * from the layout: 24-byte file header, then 16-byte record headers with unpadded data.
 * Real files are checked against tshark.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { PcapParser } from '../../../src/source/pcap.js';
import { readCapture, NotACaptureError, type ReadResult } from '../../../src/source/open.js';
import type { Frame, SourceWarning } from '../../../src/source/frame.js';
import { repoRoot, thirdParty } from '../../helpers.js';
import { tshark } from '../../tshark.js';

interface Form { le: boolean; nanos: boolean }
const FORMS: Array<Form & { name: string; onDisk: string }> = [
  // On-disk first four bytes, per FACTS.md §5.1.
  { name: 'µs little-endian', le: true, nanos: false, onDisk: 'd4c3b2a1' },
  { name: 'µs big-endian', le: false, nanos: false, onDisk: 'a1b2c3d4' },
  { name: 'ns little-endian', le: true, nanos: true, onDisk: '4d3cb2a1' },
  { name: 'ns big-endian', le: false, nanos: true, onDisk: 'a1b23c4d' },
];

interface Rec { sec: number; frac: number; data: Buffer; origLen?: number; caplen?: number }

function u32(le: boolean, v: number): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v >>> 0); else b.writeUInt32BE(v >>> 0);
  return b;
}
function u16(le: boolean, v: number): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(v); else b.writeUInt16BE(v);
  return b;
}

function fileHeader(f: Form, snaplen = 65535, linkType = 1, version: [number, number] = [2, 4]): Buffer {
  return Buffer.concat([
    u32(f.le, f.nanos ? 0xa1b23c4d : 0xa1b2c3d4), u16(f.le, version[0]), u16(f.le, version[1]),
    u32(f.le, 0), u32(f.le, 0), u32(f.le, snaplen), u32(f.le, linkType),
  ]);
}

/** `frac` is in the file's unit (µs or ns). */
function record(f: Form, r: Rec): Buffer {
  return Buffer.concat([u32(f.le, r.sec), u32(f.le, r.frac), u32(f.le, r.caplen ?? r.data.length), u32(f.le, r.origLen ?? r.data.length), r.data]);
}

function pcapFile(f: Form, recs: Rec[], snaplen = 65535, linkType = 1): Buffer {
  return Buffer.concat([fileHeader(f, snaplen, linkType), ...recs.map((r) => record(f, r))]);
}

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

/** Records in microseconds; ns files get frac * 1000 so both must give the same times. */
const RECS: Array<{ sec: number; usec: number; data: Buffer; origLen?: number }> = [
  { sec: 1600000000, usec: 0, data: bytes(60, 1) },
  { sec: 1600000000, usec: 1, data: bytes(0, 2), origLen: 0 },
  { sec: 1600000001, usec: 999999, data: bytes(1, 3) },
  { sec: 0, usec: 123456, data: bytes(15, 4), origLen: 1514 },
  { sec: 0xffffffff, usec: 500000, data: bytes(16, 5) },
  { sec: 1700000000, usec: 42, data: bytes(1514, 6) },
];

function recsFor(f: Form): Rec[] {
  return RECS.map((r) => ({ sec: r.sec, frac: f.nanos ? r.usec * 1000 : r.usec, data: r.data, origLen: r.origLen }));
}

interface Got { frames: Frame[]; warnings: SourceWarning[]; parser: PcapParser }

/** Frames with their data copied (the parser hands out views into its chunk). */
function parse(buf: Buffer, chunkSizes: number | number[] = buf.length || 1): Got {
  const frames: Frame[] = [];
  const warnings: SourceWarning[] = [];
  const parser = new PcapParser({ frame: (f) => frames.push({ ...f, data: Buffer.from(f.data) }), warning: (w) => warnings.push(w) });
  const sizes = Array.isArray(chunkSizes) ? chunkSizes : [chunkSizes];
  let pos = 0, i = 0;
  while (pos < buf.length) {
    const n = sizes[i++ % sizes.length];
    parser.push(buf.subarray(pos, pos + n));
    pos += n;
  }
  parser.end();
  return { frames, warnings, parser };
}

/** What the layout says the frames are: numbers from 1, offsets from 24. */
function expectedFrames(linkType = 1): Frame[] {
  let offset = 24;
  return RECS.map((r, i) => {
    const f: Frame = { no: i + 1, ts: r.sec * 1e6 + r.usec, linkType, caplen: r.data.length, origLen: r.origLen ?? r.data.length, data: r.data, iface: 0, offset };
    offset += 16 + r.data.length;
    return f;
  });
}

function tmp(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-pcap-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

async function readAll(path: string, chunkSize?: number): Promise<{ frames: Frame[]; warnings: SourceWarning[]; result: ReadResult }> {
  const frames: Frame[] = [];
  const warnings: SourceWarning[] = [];
  const result = await readCapture(path, { frame: (f) => frames.push({ ...f, data: Buffer.from(f.data) }), warning: (w) => warnings.push(w) }, { chunkSize });
  return { frames, warnings, result };
}

test('the four magic forms (µs/ns × LE/BE) with the same records give the same frames', () => {
  const expected = expectedFrames();
  for (const form of FORMS) {
    const file = pcapFile(form, recsFor(form));
    assert.equal(file.subarray(0, 4).toString('hex'), form.onDisk, `${form.name}: magic on disk`);
    const { frames, warnings } = parse(file);
    assert.deepEqual(warnings, [], form.name);
    assert.deepEqual(frames, expected, form.name);
  }
});

test('nanosecond fractions are kept, not truncated to the microsecond', () => {
  const ns: Form = { le: true, nanos: true };
  // Small seconds: the double holds the nanoseconds exactly.
  const small = parse(pcapFile(ns, [{ sec: 1, frac: 123456789, data: bytes(4, 1) }])).frames[0];
  assert.equal(Math.round(small.ts * 1000), 1_123_456_789);
  // Epoch-sized seconds: microseconds exact, the nanoseconds within the double's 0.25 µs.
  const big = parse(pcapFile(ns, [
    { sec: 1600000000, frac: 123456789, data: bytes(4, 1) },
    { sec: 1600000000, frac: 999999999, data: bytes(4, 2) },
    { sec: 1600000000, frac: 1, data: bytes(4, 3) },
  ])).frames;
  const base = 1600000000 * 1e6;
  assert.ok(Math.abs(big[0].ts - base - 123456.789) <= 0.25, String(big[0].ts - base));
  assert.ok(big[0].ts - base > 123456.5, 'the .789 µs is not dropped');
  assert.ok(Math.abs(big[1].ts - base - 999999.999) <= 0.25, String(big[1].ts - base));
  assert.ok(Math.abs(big[2].ts - base - 0.001) <= 0.25, String(big[2].ts - base));
});

test('records split across every possible chunk boundary give identical frames', () => {
  for (const form of FORMS) {
    const file = pcapFile(form, recsFor(form));
    const expected = expectedFrames();
    for (const size of [1, 2, 3, 7, 16, 4096]) {
      const got = parse(file, size);
      assert.deepEqual(got.warnings, [], `${form.name} chunk ${size}`);
      assert.deepEqual(got.frames, expected, `${form.name} chunk ${size}`);
    }
    // Irregular chunk sizes, then every two-chunk split of the file.
    assert.deepEqual(parse(file, [5, 1, 17, 3, 40, 2]).frames, expected, `${form.name} irregular chunks`);
    if (form.le && !form.nanos) {
      for (let cut = 0; cut <= file.length; cut++) {
        const got = parse(file, [cut || file.length, file.length]);
        assert.deepEqual(got.frames, expected, `split at ${cut}`);
        assert.deepEqual(got.warnings, [], `split at ${cut}`);
      }
    }
  }
});

test('a truncated last record: earlier frames intact, one warning naming the record offset', () => {
  const form: Form = { le: true, nanos: false };
  const file = pcapFile(form, recsFor(form));
  const expected = expectedFrames();
  const last = expected[expected.length - 1];
  // Cut inside the last record's data, inside its header, and right after its header.
  for (const cutAt of [file.length - 1, last.offset + 16 + 700, last.offset + 1, last.offset + 15, last.offset + 16]) {
    for (const size of [cutAt, 7]) {
      const got = parse(file.subarray(0, cutAt), size);
      assert.deepEqual(got.frames, expected.slice(0, -1), `cut at ${cutAt}`);
      assert.equal(got.warnings.length, 1, `cut at ${cutAt}`);
      assert.equal(got.warnings[0].offset, last.offset, `cut at ${cutAt}: offset of the cut record`);
      assert.match(got.warnings[0].message, /truncated/);
    }
  }
});

test('an absurd captured length stops the parse with a warning at the record, earlier frames intact', () => {
  const form: Form = { le: false, nanos: false };
  const good = recsFor(form).slice(0, 2);
  const recs: Rec[] = [...good, { sec: 5, frac: 0, data: bytes(40, 9), caplen: 0x7fffffff }, { sec: 6, frac: 0, data: bytes(20, 9) }];
  const file = pcapFile(form, recs);
  const badOffset = 24 + 16 + 60 + 16 + 0;
  for (const size of [file.length, 1, 7, 4096]) {
    const got = parse(file, size);
    assert.deepEqual(got.frames, expectedFrames().slice(0, 2), `chunk ${size}`);
    assert.equal(got.warnings.length, 1, `chunk ${size}`);
    assert.equal(got.warnings[0].offset, badOffset);
    assert.match(got.warnings[0].message, /2147483647/);
    assert.ok(got.parser.stopped);
  }
});

test('an absurd captured length stops the parse even when the file header claims a huge snaplen', () => {
  // Without a bound the reader would wait for (and buffer) 2 GB that never come.
  const form: Form = { le: true, nanos: false };
  const head = pcapFile(form, [{ sec: 1, frac: 0, data: bytes(30, 1) }], 0xffffffff);
  const bad = record(form, { sec: 2, frac: 0, data: Buffer.alloc(0), caplen: 0x7ffffff0 });
  const file = Buffer.concat([head, bad, Buffer.alloc(1 << 20)]);
  const got = parse(file, 4096);
  assert.equal(got.frames.length, 1);
  assert.equal(got.warnings.length, 1);
  assert.equal(got.warnings[0].offset, head.length);
  assert.ok(got.parser.stopped, 'stopped at the corrupt record instead of buffering the rest of the file');
});

test('a record longer than the snaplen is kept, with one warning naming it', () => {
  const form: Form = { le: true, nanos: false };
  const recs: Rec[] = [{ sec: 1, frac: 0, data: bytes(64, 1) }, { sec: 2, frac: 0, data: bytes(100, 2) }, { sec: 3, frac: 0, data: bytes(101, 3) }];
  const got = parse(pcapFile(form, recs, 64));
  assert.equal(got.frames.length, 3);
  assert.deepEqual(got.frames[1].data, recs[1].data);
  assert.equal(got.frames[1].caplen, 100);
  assert.equal(got.warnings.length, 1, 'warned once, not per record');
  assert.equal(got.warnings[0].offset, 24 + 16 + 64);
  assert.match(got.warnings[0].message, /snaplen 64/);
});

test('captured length above the original length is kept with a warning', () => {
  const form: Form = { le: true, nanos: false };
  const got = parse(pcapFile(form, [{ sec: 1, frac: 0, data: bytes(10, 1) }, { sec: 1, frac: 0, data: bytes(60, 1), origLen: 50 }]));
  assert.equal(got.frames.length, 2);
  assert.equal(got.frames[1].caplen, 60);
  assert.equal(got.frames[1].origLen, 50);
  assert.equal(got.warnings.length, 1);
  assert.equal(got.warnings[0].offset, 24 + 16 + 10);
});

test('an empty file, garbage and an unsupported version are not captures (NotACaptureError)', async () => {
  const t = tmp();
  try {
    const cases: Array<[string, Buffer, RegExp]> = [
      ['empty', Buffer.alloc(0), /empty/],
      ['three-bytes', Buffer.from([0xd4, 0xc3, 0xb2]), /not a pcap or pcapng/],
      ['text', Buffer.from('GET / HTTP/1.1\r\nHost: example\r\n\r\n'), /not a pcap or pcapng.*47 45 54 20/],
      ['version-3', Buffer.concat([fileHeader({ le: true, nanos: false }, 65535, 1, [3, 0]), record({ le: true, nanos: false }, { sec: 1, frac: 0, data: bytes(20, 1) })]), /unsupported pcap version 3\.0/],
      ['gzip-of-text', gzipSync(Buffer.from('hello, this is not a capture')), /after gunzip/],
    ];
    for (const [name, content, message] of cases) {
      const path = join(t.dir, name);
      writeFileSync(path, content);
      await assert.rejects(readAll(path), (e: unknown) => e instanceof NotACaptureError && message.test((e as Error).message), name);
    }
  } finally { t.done(); }
});

test('readCapture on a truncated file reports damage with the offset and keeps earlier frames', async () => {
  const t = tmp();
  try {
    const form: Form = { le: true, nanos: true };
    const file = pcapFile(form, recsFor(form));
    const expected = expectedFrames();
    const path = join(t.dir, 'cut.pcap');
    writeFileSync(path, file.subarray(0, file.length - 3));
    const r = await readAll(path, 64);
    assert.deepEqual(r.frames, expected.slice(0, -1));
    assert.equal(r.result.damaged, true);
    assert.deepEqual(r.warnings.map((w) => w.offset), [expected[expected.length - 1].offset]);
    assert.equal(r.result.format, 'pcap');
    assert.equal(r.result.sha256, createHash('sha256').update(file.subarray(0, file.length - 3)).digest('hex'));
  } finally { t.done(); }
});

const REAL = thirdParty('files/zeek/testing/btest/Traces/ftp/cwd-navigation.pcap');

test('a gzip-compressed capture gives the same frames as the plain file', async () => {
  const t = tmp();
  try {
    const plain = await readAll(REAL);
    assert.equal(plain.frames.length, 8317, 'tshark counts 8317 frames');
    const gzPath = join(t.dir, 'cwd.pcap.gz');
    const gz = gzipSync(readFileSync(REAL));
    writeFileSync(gzPath, gz);
    for (const chunkSize of [undefined, 1000]) {
      const packed = await readAll(gzPath, chunkSize);
      assert.equal(packed.result.compressed, true);
      assert.equal(packed.result.damaged, false);
      assert.equal(packed.result.bytesRead, gz.length);
      assert.equal(packed.result.sha256, createHash('sha256').update(gz).digest('hex'), 'hash of the file as stored');
      assert.deepEqual(packed.frames, plain.frames);
    }
  } finally { t.done(); }
});

test('a gzip file cut in the middle gives the frames up to the damage and a warning', async () => {
  const t = tmp();
  try {
    const plain = await readAll(REAL);
    const gz = gzipSync(readFileSync(REAL));
    const path = join(t.dir, 'cut.pcap.gz');
    writeFileSync(path, gz.subarray(0, Math.floor(gz.length / 2)));
    const cut = await readAll(path, 4096);
    assert.ok(cut.frames.length > 100 && cut.frames.length < plain.frames.length, `${cut.frames.length} frames`);
    assert.deepEqual(cut.frames, plain.frames.slice(0, cut.frames.length), 'a prefix of the real frames');
    assert.equal(cut.result.damaged, true);
    assert.ok(cut.warnings.some((w) => /gzip/.test(w.message) && w.offset > 0), JSON.stringify(cut.warnings));
  } finally { t.done(); }
});

test('a gzip capture that stops early (corrupt record) still resolves', async () => {
  const t = tmp();
  try {
    const form: Form = { le: true, nanos: false };
    const head = pcapFile(form, [{ sec: 1, frac: 0, data: bytes(60, 1) }]);
    const bad = record(form, { sec: 2, frac: 0, data: Buffer.alloc(0), caplen: 0x7fffffff });
    // Compresses to little, inflates to a lot: the inflater is still busy when the parser stops.
    const path = join(t.dir, 'stop.pcap.gz');
    writeFileSync(path, gzipSync(Buffer.concat([head, bad, Buffer.alloc(64 << 20)]), { level: 1 }));
    const r = await readAll(path, 1 << 16);
    assert.equal(r.frames.length, 1);
    assert.deepEqual(r.warnings.map((w) => w.offset), [head.length]);
  } finally { t.done(); }
});

test("'-' reads the capture from stdin (plain and gzip)", async () => {
  const t = tmp();
  try {
    const openUrl = pathToFileURL(join(repoRoot, 'dist', 'src', 'source', 'open.js')).href;
    const script = `
      import { readCapture } from ${JSON.stringify(openUrl)};
      let frames = 0, bytes = 0;
      const r = await readCapture('-', { frame: (f) => { frames++; bytes += f.caplen; }, warning: () => undefined });
      console.log(JSON.stringify({ frames, bytes, format: r.format, compressed: r.compressed, sha256: r.sha256 }));`;
    const plain = await readAll(REAL);
    const raw = readFileSync(REAL);
    const gz = gzipSync(raw);
    for (const [input, compressed] of [[raw, false], [gz, true]] as Array<[Buffer, boolean]>) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { input, encoding: 'utf8', maxBuffer: 1 << 20 });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim()) as { frames: number; bytes: number; format: string; compressed: boolean; sha256: string };
      assert.equal(out.frames, plain.frames.length);
      assert.equal(out.bytes, plain.frames.reduce((s, f) => s + f.caplen, 0));
      assert.equal(out.format, 'pcap');
      assert.equal(out.compressed, compressed);
      assert.equal(out.sha256, createHash('sha256').update(input).digest('hex'));
    }
  } finally { t.done(); }
});

test('files over 8 MiB are hashed apart: by openssl, else by a worker thread (missing, failing or garbled openssl); the digest is the file\'s', () => {
  const t = tmp();
  try {
    const le: Form = { le: true, nanos: false };
    const n = 6000;
    const file = pcapFile(le, Array.from({ length: n }, (_, i) => ({ sec: 1600000000 + i, frac: 0, data: bytes(1514, i) })));
    assert.ok(file.length > 8 << 20);
    const path = join(t.dir, 'big.pcap');
    writeFileSync(path, file);
    const want = createHash('sha256').update(file).digest('hex');
    const openUrl = pathToFileURL(join(repoRoot, 'dist', 'src', 'source', 'open.js')).href;
    const script = `
      import { readCapture } from ${JSON.stringify(openUrl)};
      let frames = 0;
      const r = await readCapture(${JSON.stringify(path)}, { frame: () => { frames++; }, warning: () => undefined });
      console.log(JSON.stringify({ frames, sha256: r.sha256 }));`;
    const bin = (name: string, body: string): string => {
      const dir = join(t.dir, name);
      mkdirSync(dir);
      writeFileSync(join(dir, 'openssl'), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
      return dir;
    };
    const log = join(t.dir, 'calls.log');
    const real = spawnSync('sh', ['-c', 'command -v openssl'], { encoding: 'utf8' }).stdout.trim();
    assert.ok(real, 'openssl is installed (.ci/run installs it)');
    const lying = 'ab'.repeat(32);
    const cases: Array<[string, string, string]> = [
      ['openssl on PATH', bin('wrapped', `echo "$@" >> ${log}; exec ${real} "$@"`), want],
      ['no openssl', bin('none', 'exit 127').replace(/none$/, 'empty'), want],
      ['openssl fails', bin('fails', 'cat > /dev/null; exit 3'), want],
      ['openssl prints no digest', bin('garbled', 'cat > /dev/null; echo "Error: unknown option"'), want],
      // Proof that the digest is openssl's own when it gives one: a well-formed but wrong one comes through.
      ['a well-formed digest is taken as given', bin('lying', `cat > /dev/null; echo "${lying} *stdin"`), lying],
    ];
    mkdirSync(join(t.dir, 'empty'));
    for (const [what, dir, expected] of cases) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, PATH: dir } });
      assert.equal(r.status, 0, `${what}: ${r.stderr}`);
      const out = JSON.parse(r.stdout.trim()) as { frames: number; sha256: string };
      assert.equal(out.frames, n, what);
      assert.equal(out.sha256, expected, what);
    }
    assert.equal(readFileSync(log, 'utf8').trim(), 'dgst -sha256 -r', 'openssl ran once, reading the file as its stdin');
  } finally { t.done(); }
});

/** tshark's frame.time_epoch ("1234.123456789") as µs, exactly enough for a 0.5 µs comparison. */
function epochMicros(text: string): number {
  const [sec, frac = ''] = text.split('.');
  return Number(sec) * 1e6 + Number((frac + '000000000').slice(0, 9)) / 1000;
}

test('real files of every magic form: times, lengths and count equal tshark', async () => {
  const files = [
    'files/zeek/testing/btest/Traces/http/get-to-ssh-server.pcap', // ns LE
    'files/tcpdump/tests/tcp-handshake-nano.pcap', // ns LE
    'files/PcapPlusPlus/Tests/Pcap++Test/PcapExamples/nanosecs_big_endian.pcap', // ns BE
    'files/PcapPlusPlus/Tests/Pcap++Test/PcapExamples/microsecs_big_endian.pcap', // µs BE
    'files/tcpdump/tests/pptp.pcap', // µs BE
    'files/arkime/tests/pcap/bigendian.pcap', // µs BE
    'files/zeek/testing/btest/Traces/ftp/bruteforce.pcap', // µs LE
  ];
  for (const local of files) {
    const path = thirdParty(local);
    const ours = await readAll(path);
    const lines = tshark(['-r', path, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len']).trim().split('\n');
    assert.equal(ours.frames.length, lines.length, local);
    lines.forEach((line, i) => {
      const [no, epoch, len, capLen] = line.split('\t');
      const f = ours.frames[i];
      assert.equal(f.no, Number(no), local);
      assert.ok(Math.abs(f.ts - epochMicros(epoch)) < 0.5, `${local} frame ${no}: ${f.ts} vs ${epoch}`);
      assert.equal(f.origLen, Number(len), `${local} frame ${no}`);
      assert.equal(f.caplen, Number(capLen), `${local} frame ${no}`);
    });
  }
});

test('synthetic files of the four forms read the same in tshark (the builder follows the format)', () => {
  const t = tmp();
  try {
    for (const form of FORMS) {
      const path = join(t.dir, `${form.le ? 'le' : 'be'}-${form.nanos ? 'ns' : 'us'}.pcap`);
      // tshark 4.0 reads seconds as signed: keep this comparison below 2^31.
      const recs = recsFor(form).filter((r) => r.sec < 2 ** 31);
      writeFileSync(path, pcapFile(form, recs));
      const lines = tshark(['-r', path, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len']).trim().split('\n');
      const ours = parse(pcapFile(form, recs)).frames;
      assert.equal(lines.length, ours.length);
      lines.forEach((line, i) => {
        const [epoch, len, capLen] = line.split('\t');
        assert.ok(Math.abs(ours[i].ts - epochMicros(epoch)) < 0.5, `${form.name} ${i}: ${ours[i].ts} vs ${epoch}`);
        assert.equal(ours[i].origLen, Number(len));
        assert.equal(ours[i].caplen, Number(capLen));
      });
    }
  } finally { t.done(); }
});
