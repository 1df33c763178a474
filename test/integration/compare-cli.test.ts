import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { repoRoot, runCli as cli } from '../helpers.js';
import { tshark } from '../tshark.js';
import { openDb } from '../../src/store/db.js';
import { compareDocument } from '../../src/compare/document.js';

/**
 * `faultline compare` end to end: the JSON contract, the readable summary, reuse of stored
 * captures, exit statuses, and two lab captures edited in known ways — the outside clock moved
 * by an hour, one packet removed from the inside — whose effect is known from the edit itself.
 */

const LAB = join(repoRoot, 'captures', 'lab');
const tmp = mkdtempSync(join(tmpdir(), 'faultline-compare-cli-'));
const lab = (f: string): string => join(LAB, f);

interface Endpoint { ip: string; port: number }
interface MissingJson { seenOn: string; missingOn: string; verdict: string; counterpart: { flow: number } | null; from: Endpoint; to: Endpoint; packets: number; frames: number[]; framesExact: boolean }
interface FindingJson { code: string; severity: string; capture: number | null; frames: number[]; details: { inside: { frame: number; value: string }; outside: { frame: number; value: string }; lengthDelta: number } }
interface Doc {
  captures: Array<{ id: number; frames: number }>;
  findings: FindingJson[];
  ftp: { sessions: unknown[] };
  tls: unknown;
  nlb: unknown;
  compare: {
    inside: { capture: number }; outside: { capture: number }; clock: { offsetUs: number };
    pairs: unknown[]; rewrites: Array<{ inside: { announcedIp: string }; outside: { announcedIp: string } }>; missing: MissingJson[];
    mappings: Array<{ translations: Array<{ text: string }> }>; packetDetail: boolean;
  };
}

function fields(file: string, filter: string, names: string[]): string[][] {
  return tshark(['-r', file, '-Y', filter, '-T', 'fields', ...names.flatMap((n) => ['-e', n])])
    .split('\n').filter((l) => l.trim() !== '').map((l) => l.split('\t'));
}

/**
 * Copies a classic little-endian microsecond pcap (what the lab's tcpdump writes), leaving out
 * some frames and/or moving every timestamp by shiftUs.
 */
function editPcap(src: string, dst: string, opts: { drop?: number[]; shiftUs?: number }): void {
  const b = readFileSync(src);
  assert.equal(b.readUInt32LE(0), 0xa1b2c3d4, 'little-endian µs pcap');
  const parts: Buffer[] = [b.subarray(0, 24)];
  let off = 24, no = 0;
  while (off + 16 <= b.length) {
    no++;
    const len = b.readUInt32LE(off + 8);
    const rec = Buffer.from(b.subarray(off, off + 16 + len));
    if (opts.shiftUs) {
      const us = rec.readUInt32LE(0) * 1e6 + rec.readUInt32LE(4) + opts.shiftUs;
      rec.writeUInt32LE(Math.floor(us / 1e6), 0);
      rec.writeUInt32LE(us % 1e6, 4);
    }
    if (!opts.drop?.includes(no)) parts.push(rec);
    off += 16 + len;
  }
  writeFileSync(dst, Buffer.concat(parts));
}

test('compare --json: the analyze document for both captures plus the compare key, FTP_ADDRESS_REWRITTEN among the findings', () => {
  const r = cli(['compare', lab('pasv-nat-helper.inside.pcap'), lab('pasv-nat-helper.outside.pcap'), '--db', join(tmp, 'j.db'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as Doc;
  for (const k of ['captures', 'findings', 'ftp', 'tls', 'nlb', 'compare']) assert.ok(k in doc, k);
  // capinfos/tshark: both files hold 37 frames.
  assert.deepEqual(doc.captures.map((c) => c.frames), [37, 37]);
  assert.equal(doc.ftp.sessions.length, 2, 'one session per capture');
  const rw = doc.findings.filter((f) => f.code === 'FTP_ADDRESS_REWRITTEN');
  assert.equal(rw.length, 1);
  assert.equal(rw[0].severity, 'info');
  // tshark: inside frame 16 `227 (10,0,0,21,156,71)`, outside frame 16 `227 (203,0,113,1,156,71)`; 156*256+71 = 40007.
  assert.deepEqual(rw[0].details.inside.frame, 16);
  assert.equal(rw[0].details.inside.value, '10.0.0.21:40007');
  assert.equal(rw[0].details.outside.frame, 16);
  assert.equal(rw[0].details.outside.value, '203.0.113.1:40007');
  assert.equal(rw[0].details.lengthDelta, 2, '"203,0,113,1" is 2 characters longer than "10,0,0,21"');
  assert.equal(rw[0].capture, doc.compare.inside.capture);
  assert.equal(doc.compare.packetDetail, true);
  assert.ok(doc.compare.mappings.some((m) => m.translations.some((t) => t.text === 'DNAT 203.0.113.1:21 → 10.0.0.21:21')));
  // Per-capture findings of both captures are there too.
  assert.ok(doc.findings.filter((f) => f.code === 'FTP_CLEARTEXT_LOGIN').length === 2);
});

test('compare prints a readable summary: sides, the rewritten line, the NAT and the missing packets', () => {
  const r = cli(['compare', lab('pasv-nat-no-helper-no-pasv_address.outside.pcap'), lab('pasv-nat-no-helper-no-pasv_address.inside.pcap'), '--db', join(tmp, 's.db')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /SWAPPED: the first argument is the outside capture/);
  assert.match(r.stdout, /DNAT 203\.0\.113\.1:21 → 10\.0\.0\.21:21/);
  assert.match(r.stdout, /203\.0\.113\.10:\d+ → 10\.0\.0\.21:40007 \(outside frames 17, 19, 20\).*seen outside, not inside: dropped between/);
  const h = cli(['compare', lab('pasv-nat-helper.inside.pcap'), lab('pasv-nat-helper.outside.pcap'), '--db', join(tmp, 's.db')]);
  assert.equal(h.status, 0, h.stderr);
  assert.match(h.stdout, /PASV REWRITTEN \(\+2 bytes\)/);
  assert.match(h.stdout, /inside\s+frame 16: 227 Entering Passive Mode \(10,0,0,21,156,71\)\./);
  assert.match(h.stdout, /outside frame 16: 227 Entering Passive Mode \(203,0,113,1,156,71\)\./);
  assert.match(h.stdout, /\[info\] FTP_ADDRESS_REWRITTEN: NAT helper rewrote the PASV reply: 10\.0\.0\.21:40007 inside, 203\.0\.113\.1:40007 outside/);
});

test('compare reuses captures already stored with the same sha256', () => {
  const db = join(tmp, 'reuse.db');
  const args = ['compare', lab('epsv-nat.inside.pcap'), lab('epsv-nat.outside.pcap'), '--db', db, '--json'];
  assert.equal(cli(['analyze', lab('epsv-nat.inside.pcap'), '--db', db]).status, 0);
  const first = JSON.parse(cli(args).stdout) as Doc;
  const second = JSON.parse(cli(args).stdout) as Doc;
  assert.deepEqual(second.captures.map((c) => c.id), first.captures.map((c) => c.id));
  const rows = new Database(db, { readonly: true }).prepare('SELECT COUNT(*) AS n FROM captures').get() as { n: number };
  assert.equal(rows.n, 2);
});

test('compare exit statuses: 1 for a missing file or a non-capture, 2 for usage errors', () => {
  const garbage = join(tmp, 'garbage.pcap');
  writeFileSync(garbage, 'not a capture at all\n');
  const db = join(tmp, 'e.db');
  const inside = lab('pasv-nat-helper.inside.pcap');
  for (const [args, status, msg] of [
    [[inside, join(tmp, 'nope.pcap')], 1, /no such file/],
    [[inside, garbage], 1, /not a pcap or pcapng capture/],
    [[inside], 2, /missing required argument/],
    [[inside, lab('pasv-nat-helper.outside.pcap'), '--window', '-1'], 2, /--window/],
    [[inside, '-'], 2, /stdin/],
  ] as const) {
    const r = cli(['compare', ...args, '--db', db]);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.equal(r.stdout, '');
  }
});

test('compare finds the clock offset: the outside capture an hour and a quarter second late still pairs, same rewrite', () => {
  const SHIFT = 3600_250_000;
  const shifted = join(tmp, 'helper-outside-late.pcap');
  editPcap(lab('pasv-nat-helper.outside.pcap'), shifted, { shiftUs: SHIFT });
  const db = join(tmp, 'clock.db');
  const straight = JSON.parse(cli(['compare', lab('pasv-nat-helper.inside.pcap'), lab('pasv-nat-helper.outside.pcap'), '--db', db, '--json']).stdout) as Doc;
  const r = cli(['compare', lab('pasv-nat-helper.inside.pcap'), shifted, '--db', db, '--json', '--window', '0.5']);
  assert.equal(r.status, 0, r.stderr);
  const late = JSON.parse(r.stdout) as Doc;
  assert.equal(late.compare.pairs.length, 1);
  assert.ok(Math.abs(late.compare.clock.offsetUs - (straight.compare.clock.offsetUs + SHIFT)) <= 1, `offset ${late.compare.clock.offsetUs}`);
  assert.deepEqual(late.compare.rewrites, straight.compare.rewrites);
  assert.deepEqual(late.compare.missing, []);
});

test('compare names the one packet removed from the inside capture: seen outside only, dropped between', () => {
  // Inside frame 27 is the client's ACK 203.0.113.10:33938 → 10.0.0.21:40007 on the data connection (tshark).
  const [[src, sport, dport, ipId]] = fields(lab('pasv-nat-helper.inside.pcap'), 'frame.number == 27', ['ip.src', 'tcp.srcport', 'tcp.dstport', 'ip.id']);
  assert.deepEqual([src, sport, dport], ['203.0.113.10', '33938', '40007']);
  // Its copy outside: same ports and IP identification (the router keeps both).
  const [[outFrame]] = fields(lab('pasv-nat-helper.outside.pcap'), `tcp.srcport == ${sport} && tcp.dstport == ${dport} && ip.id == ${ipId}`, ['frame.number']);
  const cut = join(tmp, 'helper-inside-without-27.pcap');
  editPcap(lab('pasv-nat-helper.inside.pcap'), cut, { drop: [27] });
  const db = join(tmp, 'drop.db');
  const r = cli(['compare', cut, lab('pasv-nat-helper.outside.pcap'), '--db', db, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as Doc;
  assert.equal(doc.compare.missing.length, 1);
  const m = doc.compare.missing[0];
  assert.equal(m.seenOn, 'outside');
  assert.equal(m.missingOn, 'inside');
  assert.equal(m.packets, 1);
  assert.deepEqual(m.frames, [Number(outFrame)]);
  assert.equal(m.framesExact, true);
  assert.ok(m.counterpart !== null, 'the connection itself is on both sides');
  assert.deepEqual(m.from, { ip: '203.0.113.10', port: 33938 });
  assert.equal(m.verdict, 'dropped-between', 'the client sits outside: its packet reached the router and never left it');

  // The web server's entry point works from SQLite alone: per-flow counts, no frame-exact detail.
  const handle = openDb(db);
  try {
    const server = compareDocument(handle, doc.compare.inside.capture, doc.compare.outside.capture) as unknown as Doc;
    assert.equal(server.compare.packetDetail, false);
    assert.equal(server.compare.missing.length, 1);
    assert.equal(server.compare.missing[0].packets, 1);
    assert.equal(server.compare.missing[0].seenOn, 'outside');
    assert.equal(server.compare.missing[0].framesExact, false);
    assert.equal(server.compare.missing[0].verdict, 'dropped-between');
    assert.deepEqual(server.compare.rewrites.map((x) => [x.inside.announcedIp, x.outside.announcedIp]), [['10.0.0.21', '203.0.113.1']]);
  } finally {
    handle.close();
  }
});
