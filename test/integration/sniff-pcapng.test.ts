/**
 * The pcapng files `faultline sniff --write` produces, checked against tshark and the pcapng
 * draft: every packet's time, lengths and bytes as the source had them; the SHB comment and
 * the IDB's interface name and resolution; the closing ISB's counters at the option codes the
 * draft assigns (isb_filteraccept 6, isb_osdrop 7, isb_usrdeliv 8); and the ring's rotation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { PcapngRing, PcapngWriter } from '../../src/source/pcapng-writer.js';
import { repoRoot } from '../helpers.js';
import { tshark, TSHARK } from '../tshark.js';
import { readFrames } from '../lab/sniff-support.js';

const tmp = mkdtempSync(join(tmpdir(), 'faultline-sniff-pcapng-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const SOURCE = join(repoRoot, 'captures', 'lab', 'active-nat-no-helper.outside.pcap');

function fields(path: string): string[] {
  return tshark(['-r', path, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.protocols'])
    .trim().split('\n');
}

/** Blocks of a little-endian pcapng file: type and body (between the lengths). */
function blocks(file: Buffer): Array<{ type: number; body: Buffer }> {
  const out: Array<{ type: number; body: Buffer }> = [];
  for (let p = 0; p < file.length;) {
    const len = file.readUInt32LE(p + 4);
    out.push({ type: file.readUInt32LE(p), body: file.subarray(p + 8, p + len - 4) });
    p += len;
  }
  return out;
}

function options(b: Buffer): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  for (let p = 0; p + 4 <= b.length;) {
    const code = b.readUInt16LE(p), len = b.readUInt16LE(p + 2);
    if (code === 0) break;
    m.set(code, b.subarray(p + 4, p + 4 + len));
    p += 4 + ((len + 3) & ~3);
  }
  return m;
}

test('a written pcapng holds every packet as the source had it, in tshark\'s reading', async () => {
  const frames = await readFrames(SOURCE);
  const path = join(tmp, 'copy.pcapng');
  const w = new PcapngWriter(path, { linkType: 1, snaplen: 262144, ifName: 'to-client', application: 'faultline test', comment: 'stamped by the kernel' });
  for (const f of frames) w.write(f.ts, f.data, f.origLen);
  w.close({ received: frames.length + 5, dropped: 5, ifDropped: null, delivered: frames.length, startTs: frames[0].ts - 1e6, endTs: frames[frames.length - 1].ts + 1e6 });
  // tshark reads it without complaint and sees exactly the source's frames.
  const r = spawnSync(TSHARK, ['-r', path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /damaged|corrupt|cut short|invalid/i);
  assert.deepEqual(fields(path), fields(SOURCE));
  // And our own reader gives back the same bytes.
  const back = await readFrames(path);
  assert.equal(back.length, frames.length);
  for (let i = 0; i < frames.length; i++) {
    assert.equal(back[i].ts, frames[i].ts);
    assert.equal(back[i].origLen, frames[i].origLen);
    assert.ok(back[i].data.equals(frames[i].data));
  }
  const bs = blocks(readFileSync(path));
  assert.deepEqual(bs.map((b) => b.type).filter((t, i, a) => a.indexOf(t) === i), [0x0a0d0d0a, 1, 6, 5]);
  assert.equal(bs.filter((b) => b.type === 6).length, frames.length);
  const shb = options(bs[0].body.subarray(16));
  assert.equal(shb.get(1)?.toString(), 'stamped by the kernel');
  assert.equal(shb.get(4)?.toString(), 'faultline test');
  const idb = options(bs[1].body.subarray(8));
  assert.equal(idb.get(2)?.toString(), 'to-client');
  assert.deepEqual([...(idb.get(9) ?? [])], [6]);
  const isb = options(bs[bs.length - 1].body.subarray(12));
  assert.equal(isb.get(6)?.readBigUInt64LE(0), BigInt(frames.length + 5));
  assert.equal(isb.get(7)?.readBigUInt64LE(0), 5n);
  assert.equal(isb.get(8)?.readBigUInt64LE(0), BigInt(frames.length));
  assert.equal(isb.has(5), false, 'interface drops unknown: left out');
  // tshark shows the comment and the interface too.
  const info = spawnSync('capinfos', [path], { encoding: 'utf8' });
  if (info.status === 0) {
    assert.match(info.stdout, /Capture comment:\s+stamped by the kernel/);
    assert.match(info.stdout, /Name = to-client/);
  }
});

test('a ring keeps the newest files, each complete and at most its size', async () => {
  const frames = await readFrames(SOURCE);
  const dir = join(tmp, 'ring');
  rmSync(dir, { recursive: true, force: true });
  spawnSync('mkdir', ['-p', dir]);
  const size = 4096;
  const ring = new PcapngRing(join(dir, 'live.pcapng'), { linkType: 1, snaplen: 262144, ifName: 'eth0', application: 'faultline test' }, size, 3, frames[0].ts);
  const n = 10;
  const all: Array<{ ts: number; len: number }> = [];
  for (let k = 0; k < n; k++) for (const f of frames) { ring.write(f.ts + k * 60e6, f.data, f.origLen); all.push({ ts: f.ts + k * 60e6, len: f.origLen }); }
  ring.close({ received: null, dropped: null, ifDropped: null, delivered: all.length, startTs: frames[0].ts, endTs: all[all.length - 1].ts });
  const files = readdirSync(dir).sort();
  assert.equal(files.length, 3);
  assert.deepEqual(ring.files.map((f) => f.split('/').pop()), files);
  for (const f of files) assert.match(f, /^live_\d{5}_\d{14}\.pcapng$/);
  const seqs = files.map((f) => Number(f.slice(5, 10)));
  assert.deepEqual(seqs, [seqs[0], seqs[0] + 1, seqs[0] + 2]);
  assert.ok(seqs[0] > 3, 'older files were removed');
  // The three files are the tail of the capture, in order, each readable on its own.
  const kept: Array<{ ts: number; len: number }> = [];
  for (const f of files) {
    const p = join(dir, f);
    assert.ok(statSync(p).size <= size + 200, `${f}: ${statSync(p).size} bytes`);
    const r = spawnSync(TSHARK, ['-r', p], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const fr of await readFrames(p)) kept.push({ ts: fr.ts, len: fr.origLen });
  }
  assert.deepEqual(kept, all.slice(all.length - kept.length));
});
