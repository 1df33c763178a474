/**
 * pcapng reader (draft-ietf-opsawg-pcapng, FACTS.md §5.2). Synthetic files are built here from
 * the block layouts; expected times follow from if_tsresol/if_tsoffset by hand. The same files
 * and every file of the pcapng-test-generator corpus are compared with tshark 4.0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapngParser } from '../../../src/source/pcapng.js';
import { readCapture, NotACaptureError } from '../../../src/source/open.js';
import { LINKTYPE, type Frame, type SourceWarning } from '../../../src/source/frame.js';
import { thirdParty } from '../../helpers.js';
import { tshark } from '../../tshark.js';

// ---- block builders (FACTS.md §5.2) ----

function pad4(b: Buffer): Buffer {
  return b.length % 4 === 0 ? b : Buffer.concat([b, Buffer.alloc(4 - (b.length % 4))]);
}
function u16(le: boolean, v: number): Buffer { const b = Buffer.alloc(2); if (le) b.writeUInt16LE(v); else b.writeUInt16BE(v); return b; }
function u32(le: boolean, v: number): Buffer { const b = Buffer.alloc(4); if (le) b.writeUInt32LE(v >>> 0); else b.writeUInt32BE(v >>> 0); return b; }
function i64(le: boolean, v: bigint): Buffer { const b = Buffer.alloc(8); if (le) b.writeBigInt64LE(v); else b.writeBigInt64BE(v); return b; }

/** Generic block: type, total length, body padded to 32 bits, total length again. */
function block(le: boolean, type: number, body: Buffer, trailer?: number): Buffer {
  const p = pad4(body);
  const total = 12 + p.length;
  return Buffer.concat([u32(le, type), u32(le, total), p, u32(le, trailer ?? total)]);
}
function option(le: boolean, code: number, value: Buffer): Buffer {
  return Buffer.concat([u16(le, code), u16(le, value.length), pad4(value)]);
}
const END_OF_OPT = (le: boolean): Buffer => Buffer.concat([u16(le, 0), u16(le, 0)]);

function shb(le: boolean): Buffer {
  const body = Buffer.concat([u32(le, 0x1a2b3c4d), u16(le, 1), u16(le, 0), i64(le, -1n), option(le, 4, Buffer.from('faultline test')), END_OF_OPT(le)]);
  return block(le, 0x0a0d0d0a, body);
}
function idb(le: boolean, linkType: number, snaplen: number, opts: { tsresol?: number; tsoffset?: bigint } = {}): Buffer {
  const o: Buffer[] = [option(le, 2, Buffer.from('eth0'))];
  if (opts.tsresol !== undefined) o.push(option(le, 9, Buffer.from([opts.tsresol])));
  if (opts.tsoffset !== undefined) o.push(option(le, 14, i64(le, opts.tsoffset)));
  o.push(END_OF_OPT(le));
  return block(le, 1, Buffer.concat([u16(le, linkType), u16(le, 0), u32(le, snaplen), ...o]));
}
function epb(le: boolean, iface: number, units: bigint, data: Buffer, origLen = data.length): Buffer {
  const hi = Number(units >> 32n), lo = Number(units & 0xffffffffn);
  const opts = Buffer.concat([option(le, 2, u32(le, 1)), END_OF_OPT(le)]); // epb_flags: inbound
  return block(le, 6, Buffer.concat([u32(le, iface), u32(le, hi), u32(le, lo), u32(le, data.length), u32(le, origLen), pad4(data), opts]));
}
function obsoletePb(le: boolean, iface: number, units: bigint, data: Buffer): Buffer {
  const hi = Number(units >> 32n), lo = Number(units & 0xffffffffn);
  return block(le, 2, Buffer.concat([u16(le, iface), u16(le, 0xffff), u32(le, hi), u32(le, lo), u32(le, data.length), u32(le, data.length), pad4(data)]));
}
function spb(le: boolean, data: Buffer, origLen = data.length): Buffer {
  return block(le, 3, Buffer.concat([u32(le, origLen), data]));
}
function nrb(le: boolean): Buffer {
  const rec = Buffer.concat([u16(le, 1), u16(le, 4 + 12), Buffer.from([192, 0, 2, 1]), Buffer.from('example.net\0')]);
  return block(le, 4, Buffer.concat([rec, u16(le, 0), u16(le, 0)]));
}
function isb(le: boolean, iface: number): Buffer {
  return block(le, 5, Buffer.concat([u32(le, iface), u32(le, 0), u32(le, 0), option(le, 4, Buffer.alloc(8, 1)), END_OF_OPT(le)]));
}
function customBlock(le: boolean, copyable: boolean, pen: number, data: Buffer): Buffer {
  return block(le, copyable ? 0x00000bad : 0x40000bad, Buffer.concat([u32(le, pen), data]));
}
function dsb(le: boolean, secretsType: number, data: Buffer): Buffer {
  return block(le, 0x0a, Buffer.concat([u32(le, secretsType), u32(le, data.length), pad4(data)]));
}

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 13 + i * 5) & 0xff;
  return b;
}

interface Got { frames: Frame[]; warnings: SourceWarning[]; secrets: Array<{ type: number; data: Buffer; offset: number }>; parser: PcapngParser }

function parse(buf: Buffer, chunk = buf.length || 1): Got {
  const got: Got = { frames: [], warnings: [], secrets: [], parser: null as unknown as PcapngParser };
  got.parser = new PcapngParser({
    frame: (f) => got.frames.push({ ...f, data: Buffer.from(f.data) }),
    warning: (w) => got.warnings.push(w),
    secrets: (type, data, offset) => got.secrets.push({ type, data: Buffer.from(data), offset }),
  });
  for (let p = 0; p < buf.length; p += chunk) got.parser.push(buf.subarray(p, p + chunk));
  got.parser.end();
  return got;
}

// ---- a two-section synthetic file ----

const KEYLOG = Buffer.from('CLIENT_RANDOM 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20 ' + 'ab'.repeat(48) + '\n');
const TLSK = 0x544c534b;

interface Expect { ts: number | null; iface: number; linkType: number; data: Buffer; origLen: number }

/**
 * Section 1 (little-endian): interfaces with µs (default), ns, 2^-10 s + 1000 s offset and
 * ms resolutions, EPBs on each, an obsolete PB, NRB/ISB/unknown blocks, two custom blocks and
 * a DSB. Section 2 (big-endian): interface ids restart; SPBs, an EPB.
 */
function syntheticFile(): { file: Buffer; expected: Array<Expect & { offset: number }>; dsbOffset: number } {
  const parts: Array<{ b: Buffer; frame?: Expect; dsb?: true }> = [];
  const LE = true, BE = false;
  const eth0 = bytes(60, 1), raw1 = bytes(40, 2), eth2 = bytes(200, 3), eth3 = bytes(70, 4);
  parts.push({ b: shb(LE) });
  parts.push({ b: idb(LE, 1, 0) });
  parts.push({ b: idb(LE, 101, 65535, { tsresol: 9 }) });
  parts.push({ b: idb(LE, 1, 128, { tsresol: 0x80 | 10, tsoffset: 1000n }) });
  parts.push({ b: idb(LE, 1, 0, { tsresol: 3, tsoffset: -100n }) });
  parts.push({ b: nrb(LE) });
  // 1600000000.123456 s in µs units.
  parts.push({ b: epb(LE, 0, 1600000000123456n, eth0), frame: { ts: 1600000000123456, iface: 0, linkType: 1, data: eth0, origLen: 60 } });
  // 1600000001.123456789 s in ns units.
  parts.push({ b: epb(LE, 1, 1600000001123456789n, raw1), frame: { ts: 1600000001123456.789, iface: 1, linkType: 101, data: raw1, origLen: 40 } });
  parts.push({ b: isb(LE, 0) });
  // 1600000002.5 s in 1/1024 s units, plus the 1000 s offset; 128 bytes captured of 1514.
  parts.push({ b: epb(LE, 2, 1600000002n * 1024n + 512n, eth2.subarray(0, 128), 1514), frame: { ts: 1600001002500000, iface: 2, linkType: 1, data: eth2.subarray(0, 128), origLen: 1514 } });
  parts.push({ b: customBlock(LE, true, 32473, Buffer.from('custom block data...')), frame: { ts: null, iface: -1, linkType: LINKTYPE.PCAPNG_CUSTOM_BLOCK, data: Buffer.from('custom block data...'), origLen: 20 } });
  parts.push({ b: block(LE, 0x00000bee, bytes(24, 9)) });
  parts.push({ b: dsb(LE, TLSK, KEYLOG), dsb: true });
  // 1600000003.250 s in ms units, minus 100 s.
  parts.push({ b: epb(LE, 3, 1600000003250n, eth3), frame: { ts: 1600000003250000 - 100e6, iface: 3, linkType: 1, data: eth3, origLen: 70 } });
  parts.push({ b: obsoletePb(LE, 0, 1600000004000001n, eth0), frame: { ts: 1600000004000001, iface: 0, linkType: 1, data: eth0, origLen: 60 } });
  parts.push({ b: customBlock(LE, false, 32473, Buffer.from('no-copy!')), frame: { ts: null, iface: -1, linkType: LINKTYPE.PCAPNG_CUSTOM_BLOCK, data: Buffer.from('no-copy!'), origLen: 8 } });
  parts.push({ b: shb(BE) });
  parts.push({ b: idb(BE, 1, 100, { tsresol: 6 }) });
  parts.push({ b: spb(BE, eth0), frame: { ts: null, iface: 0, linkType: 1, data: eth0, origLen: 60 } });
  // A 300-byte packet of which the snaplen (100) kept 100.
  parts.push({ b: spb(BE, eth2.subarray(0, 100), 300), frame: { ts: null, iface: 0, linkType: 1, data: eth2.subarray(0, 100), origLen: 300 } });
  parts.push({ b: epb(BE, 0, 1600000005000007n, eth3), frame: { ts: 1600000005000007, iface: 0, linkType: 1, data: eth3, origLen: 70 } });
  const expected: Array<Expect & { offset: number }> = [];
  let offset = 0, dsbOffset = -1;
  for (const p of parts) {
    if (p.frame) expected.push({ ...p.frame, offset });
    if (p.dsb) dsbOffset = offset;
    offset += p.b.length;
  }
  return { file: Buffer.concat(parts.map((p) => p.b)), expected, dsbOffset };
}

function checkFrames(got: Frame[], expected: Array<Expect & { offset: number }>, what: string): void {
  assert.equal(got.length, expected.length, `${what}: frame count`);
  let lastTs = 0;
  expected.forEach((e, i) => {
    const f = got[i];
    const at = `${what}: frame ${i + 1}`;
    assert.equal(f.no, i + 1, at);
    assert.equal(f.iface, e.iface, at);
    assert.equal(f.linkType, e.linkType, at);
    assert.equal(f.offset, e.offset, at);
    assert.equal(f.origLen, e.origLen, at);
    assert.equal(f.caplen, e.data.length, at);
    assert.deepEqual(f.data, e.data, at);
    if (e.ts === null) {
      assert.equal(f.noTimestamp, true, `${at}: no timestamp`);
      assert.equal(f.ts, lastTs, `${at}: repeats the previous time`);
    } else {
      assert.ok(!f.noTimestamp, at);
      assert.ok(Math.abs(f.ts - e.ts) < 0.5, `${at}: ${f.ts} vs ${e.ts}`);
      lastTs = f.ts;
    }
  });
}

test('sections of both byte orders, interfaces with different if_tsresol/if_tsoffset, every block kind', () => {
  const { file, expected, dsbOffset } = syntheticFile();
  const got = parse(file);
  assert.deepEqual(got.warnings, []);
  checkFrames(got.frames, expected, 'whole');
  assert.deepEqual([...got.parser.linkTypes].sort((a, b) => a - b), [1, 101]);
  assert.equal(got.secrets.length, 1);
  assert.equal(got.secrets[0].type, TLSK);
  assert.deepEqual(got.secrets[0].data, KEYLOG, 'secrets without padding');
  assert.equal(got.secrets[0].offset, dsbOffset);
});

test('blocks split across every chunk size give identical frames', () => {
  const { file, expected } = syntheticFile();
  for (const size of [1, 2, 3, 7, 16, 4096]) {
    const got = parse(file, size);
    assert.deepEqual(got.warnings, [], `chunk ${size}`);
    checkFrames(got.frames, expected, `chunk ${size}`);
    assert.equal(got.secrets.length, 1);
    assert.deepEqual(got.secrets[0].data, KEYLOG);
  }
});

/** tshark's frame.time_epoch ("1234.123456789") as µs. */
function epochMicros(text: string): number {
  const [sec, frac = ''] = text.split('.');
  return Number(sec) * 1e6 + Number((frac + '000000000').slice(0, 9)) / 1000;
}

interface TsharkFrame { no: number; ts: number | null; iface: number; len: number; capLen: number }
function tsharkFrames(path: string): TsharkFrame[] {
  const out = tshark(['-r', path, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'frame.interface_id', '-e', 'frame.len', '-e', 'frame.cap_len']);
  return out.split('\n').filter((l) => l.trim() !== '').map((l) => {
    const [no, epoch, iface, len, capLen] = l.split('\t');
    return { no: Number(no), ts: epoch === '' ? null : epochMicros(epoch), iface: iface === '' ? -1 : Number(iface), len: Number(len), capLen: Number(capLen) };
  });
}

function compareWithTshark(path: string, label: string): number {
  const got = parse(readFileSync(path));
  const truth = tsharkFrames(path);
  assert.equal(got.frames.length, truth.length, `${label}: frame count`);
  truth.forEach((t, i) => {
    const f = got.frames[i];
    const at = `${label}: frame ${t.no}`;
    assert.equal(f.no, t.no, at);
    assert.equal(f.iface, t.iface, `${at}: interface id`);
    assert.equal(f.origLen, t.len, `${at}: frame.len`);
    assert.equal(f.caplen, t.capLen, `${at}: frame.cap_len`);
    if (t.ts === null) assert.equal(f.noTimestamp, true, `${at}: tshark shows no time`);
    else {
      assert.ok(!f.noTimestamp, `${at}: tshark shows a time`);
      assert.ok(Math.abs(f.ts - t.ts) < 1, `${at}: ${f.ts} vs tshark ${t.ts}`);
    }
  });
  return truth.length;
}

test('the synthetic file reads the same in tshark (the builders follow the format)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-pcapng-'));
  try {
    const path = join(dir, 'synthetic.pcapng');
    writeFileSync(path, syntheticFile().file);
    assert.equal(compareWithTshark(path, 'synthetic'), syntheticFile().expected.length);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('every pcapng-test-generator file: frame numbers, interfaces, lengths and times equal tshark', (t) => {
  const root = thirdParty('files/pcapng-test-generator');
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.pcapng')) files.push(p);
    }
  };
  walk(root);
  assert.ok(files.length >= 42, `${files.length} files`);
  let frames = 0;
  for (const f of files.sort()) frames += compareWithTshark(f, f.slice(root.length + 1));
  t.diagnostic(`${files.length} files, ${frames} frames compared with tshark`);
  assert.ok(frames > 100);
});

test('a block whose trailing length differs: warning with the block offset, earlier frames intact', () => {
  const { file, expected } = syntheticFile();
  const badAt = expected[2].offset; // the 2^-10 EPB
  const good = parse(file.subarray(0, badAt)).frames;
  const total = file.readUInt32LE(badAt + 4);
  const broken = Buffer.from(file);
  broken.writeUInt32LE(total + 4, badAt + total - 4);
  for (const size of [broken.length, 1, 16]) {
    const got = parse(broken, size);
    checkFrames(got.frames, expected.slice(0, 2), `chunk ${size}`);
    assert.deepEqual(got.frames, good);
    assert.equal(got.warnings.length, 1, `chunk ${size}`);
    assert.equal(got.warnings[0].offset, badAt);
    assert.match(got.warnings[0].message, /mismatched lengths/);
    assert.ok(got.parser.stopped);
  }
});

test('a block length that is not a multiple of 4 or below 12 stops with the offset', () => {
  const { file, expected } = syntheticFile();
  const badAt = expected[1].offset;
  for (const bogus of [7, 1001, 0]) {
    const broken = Buffer.from(file);
    broken.writeUInt32LE(bogus, badAt + 4);
    const got = parse(broken);
    assert.equal(got.frames.length, 1);
    assert.deepEqual(got.warnings.map((w) => w.offset), [badAt], `length ${bogus}`);
    assert.match(got.warnings[0].message, /invalid length/);
  }
});

test('a truncated last block: warning at its offset, earlier frames intact', () => {
  const { file, expected } = syntheticFile();
  const last = expected[expected.length - 1];
  for (const cut of [file.length - 1, last.offset + 5, last.offset + 12, last.offset + 40]) {
    const got = parse(file.subarray(0, cut), 7);
    checkFrames(got.frames, expected.slice(0, -1), `cut at ${cut}`);
    assert.deepEqual(got.warnings.map((w) => w.offset), [last.offset], `cut at ${cut}`);
    assert.match(got.warnings[0].message, /truncated/);
  }
});

test('a packet on an interface no IDB defined is skipped with a warning (ids restart per section)', () => {
  const LE = true;
  const file = Buffer.concat([
    shb(LE), idb(LE, 1, 0), idb(LE, 1, 0),
    epb(LE, 1, 1n, bytes(20, 1)),
    shb(LE), idb(LE, 1, 0),
    epb(LE, 1, 2n, bytes(20, 2)), // interface 1 existed in the previous section only
    epb(LE, 0, 3n, bytes(20, 3)),
  ]);
  const got = parse(file);
  assert.deepEqual(got.frames.map((f) => [f.no, f.iface, f.ts]), [[1, 1, 1], [2, 0, 3]]);
  assert.equal(got.warnings.length, 1);
  assert.match(got.warnings[0].message, /interface 1/);
  assert.equal(got.warnings[0].offset, file.length - epb(LE, 0, 3n, bytes(20, 3)).length - epb(LE, 1, 2n, bytes(20, 2)).length);
});

test('readCapture: pcapng is sniffed, secrets reach the sink, an empty or broken first block is not a capture', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-pcapng-'));
  try {
    const { file, expected } = syntheticFile();
    const path = join(dir, 'ok.pcapng');
    writeFileSync(path, file);
    const frames: Frame[] = [];
    const secrets: Array<[number, Buffer]> = [];
    const r = await readCapture(path, { frame: (f) => frames.push({ ...f, data: Buffer.from(f.data) }), warning: () => assert.fail('no warnings'), secrets: (t, d) => secrets.push([t, Buffer.from(d)]) }, { chunkSize: 100 });
    assert.equal(r.format, 'pcapng');
    assert.deepEqual(r.linkTypes.sort((a, b) => a - b), [1, 101]);
    checkFrames(frames, expected, 'readCapture');
    assert.deepEqual(secrets, [[TLSK, KEYLOG]]);

    const brokenShb = Buffer.from(file.subarray(0, 200));
    brokenShb.writeUInt32LE(0x11223344, 8); // byte-order magic
    const cases: Array<[string, Buffer, RegExp]> = [
      ['shb-only-start', file.subarray(0, 10), /ends inside the first pcapng block/],
      ['bad-byte-order-magic', brokenShb, /byte-order magic/],
      ['bad-version', (() => { const b = Buffer.from(file); b.writeUInt16LE(2, 12); return b; })(), /unsupported pcapng version 2\.0/],
    ];
    for (const [name, content, message] of cases) {
      const p = join(dir, name);
      writeFileSync(p, content);
      await assert.rejects(readCapture(p, { frame: () => undefined, warning: () => undefined }), (e: unknown) => e instanceof NotACaptureError && message.test((e as Error).message), name);
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
