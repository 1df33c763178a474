/**
 * `faultline export --format pcap`: evidence slices of real captures. Each slice is read back
 * by tshark (which frames it holds, compared with the frames tshark assigns to the same
 * connections in the original) and analysed again by faultline, which must name the same
 * problems. The original is found by path and sha256 (gzip too) and refused when it moved or
 * changed; FTP passwords are masked in the slice with valid TCP checksums; a pcapng that mixes
 * link types is sliced to pcapng with every frame byte-identical.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { repoRoot, thirdParty, runCli as cli } from '../helpers.js';
import { tshark } from '../tshark.js';
import { writeSlice } from '../../src/export/pcap-slice.js';

const FTP = join(repoRoot, 'captures', 'lab', 'pasv-nat-no-helper-no-pasv_address.outside.pcap');
const NLB = join(repoRoot, 'captures', 'nlb', 'nlb-heartbeat-loss.pcap');
const ARP = join(repoRoot, 'captures', 'nlb', 'l2-arp-duplicate.pcap');
const TLS = thirdParty('files/zeek/testing/btest/Traces/tls/certificate-request-failed.pcap');
const ZEEK_FTP = thirdParty('files/zeek/testing/btest/Traces/ftp/ipv4.pcap');
const SLL_TLS = thirdParty('files/zeek/testing/btest/Traces/tls/irc-starttls.pcap');
const RC4 = thirdParty('files/zeek/testing/btest/Traces/tls/missing-intermediate.pcap');
const MIXED = thirdParty('files/pcapng-test-generator/output_le/basic/test006.pcapng');
const LAB_PASSWORD = 'lab-pass-1';

const tmp = mkdtempSync(join(tmpdir(), 'faultline-export-pcap-'));
const db = join(tmp, 'p.db');
const FTP_GZ = join(tmp, 'pasv-nat.pcap.gz');
const ids: Record<string, number> = {};

function slice(capture: string, out: string, extra: string[] = []): void {
  const r = cli(['export', '--db', db, '--capture', capture, '--format', 'pcap', '--out', out, ...extra]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
}

/** Finding codes of a fresh analysis (own database, so nothing is shared with the export's). */
function codesOf(path: string, extra: string[] = []): Set<string> {
  const r = cli(['analyze', path, '--db', join(tmp, `re-${Math.random().toString(36).slice(2)}.db`), '--json', ...extra]);
  assert.equal(r.status, 0, r.stderr);
  return new Set((JSON.parse(r.stdout) as { findings: Array<{ code: string }> }).findings.map((f) => f.code));
}

function storedCodes(id: number): Set<string> {
  const conn = new Database(db, { readonly: true });
  const rows = conn.prepare('SELECT DISTINCT code FROM findings WHERE capture_id = ?').all(id) as Array<{ code: string }>;
  conn.close();
  return new Set(rows.map((r) => r.code));
}

function lines(text: string): string[] {
  return text.trim() === '' ? [] : text.trim().split('\n');
}

/** tshark's per-frame view: what the frames are, independent of numbering. */
function frameKeys(path: string, filter?: string): string[] {
  return lines(tshark(['-r', path, ...(filter ? ['-Y', filter] : []), '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.protocols']));
}

before(() => {
  writeFileSync(FTP_GZ, gzipSync(readFileSync(FTP)));
  for (const f of [FTP_GZ, NLB, ARP, TLS, ZEEK_FTP, SLL_TLS, RC4]) {
    const r = cli(['analyze', f, '--db', db]);
    assert.equal(r.status, 0, r.stderr);
  }
  const conn = new Database(db, { readonly: true });
  for (const r of conn.prepare('SELECT id, file FROM captures').all() as Array<{ id: number; file: string }>) ids[r.file] = r.id;
  conn.close();
});

after(() => rmSync(tmp, { recursive: true, force: true }));

test('FTP failure from a gzip capture: the slice keeps the control session and every data connection attempt, nothing else', () => {
  const out = join(tmp, 'ftp.pcap');
  slice(String(ids[FTP_GZ]), out, ['--finding', 'FTP_DATA_CONNECT_FAILED']);
  // The control connection (port 21) and the connections to the announced port, as tshark reads the original.
  const port = tshark(['-r', FTP, '-Y', 'ftp.response.code == 227', '-T', 'fields', '-e', 'ftp.passive.port']).trim();
  const wanted = frameKeys(FTP, `tcp.port == 21 || tcp.port == ${port}`);
  assert.deepEqual(frameKeys(out), wanted);
  assert.ok(lines(tshark(['-r', out, '-Y', `tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == ${port}`])).length >= 2, 'the retried SYNs');
  assert.equal(lines(tshark(['-r', out, '-Y', 'arp'])).length, 0, 'no unrelated frames');
  assert.equal(readFileSync(out).readUInt32LE(20), readFileSync(FTP).readUInt32LE(20), 'the original link type');
  const again = codesOf(out);
  for (const code of ['FTP_DATA_CONNECT_FAILED', 'FTP_PASV_PRIVATE_ADDRESS']) assert.ok(again.has(code), `${code} in ${[...again].join(',')}`);
  assert.ok(!readFileSync(out).includes(LAB_PASSWORD), 'the password is masked in the slice');
  assert.ok(readFileSync(FTP).includes(LAB_PASSWORD), '(the original does carry it)');
});

test('all findings of a capture: the slice analyses to the same finding codes', () => {
  for (const file of [FTP_GZ, NLB, ARP, TLS, ZEEK_FTP, RC4]) {
    const out = join(tmp, `all-${ids[file]}.pcap`);
    slice(String(ids[file]), out);
    const full = storedCodes(ids[file]);
    assert.ok(full.size > 0, file);
    assert.deepEqual([...codesOf(out)].sort(), [...full].sort(), file);
  }
});

test('each layer-2 finding alone still reproduces from its slice', () => {
  for (const file of [NLB, ARP]) {
    for (const code of storedCodes(ids[file])) {
      const out = join(tmp, `l2-${code}.pcap`);
      slice(String(ids[file]), out, ['--finding', code]);
      assert.ok(codesOf(out).has(code), `${file}: ${code}`);
    }
  }
  // The heartbeat-loss slice is the cluster's conversation: every NLB heartbeat, none of the ping flow.
  const out = join(tmp, 'hb.pcap');
  slice(String(ids[NLB]), out, ['--finding', 'NLB_HEARTBEAT_LOSS']);
  assert.deepEqual(frameKeys(out, 'msnlb'), frameKeys(NLB, 'msnlb'));
  assert.equal(lines(tshark(['-r', out, '-Y', 'icmp'])).length, 0);
});

test('TLS handshake failure: the whole connection, tshark still sees the fatal alert, faultline the same failure', () => {
  const out = join(tmp, 'tls.pcap');
  slice(String(ids[TLS]), out, ['--finding', 'TLS_HANDSHAKE_FAILED']);
  assert.deepEqual(frameKeys(out), frameKeys(TLS, 'tcp.stream == 0'));
  assert.equal(tshark(['-r', out, '-Y', 'tls.alert_message', '-T', 'fields', '-e', 'tls.alert_message.desc']).trim(), '40');
  assert.ok(codesOf(out).has('TLS_HANDSHAKE_FAILED'));
});

test('a finding about several connections: the slice holds each of them (every RC4 connection, not the others)', () => {
  const out = join(tmp, 'rc4.pcap');
  slice(String(ids[RC4]), out, ['--finding', 'TLS_WEAK_CIPHER']);
  // tshark: the connections whose ServerHello chose TLS_RSA_WITH_RC4_128_MD5 (0x0004, RFC 5246 appendix A.5).
  const rc4 = [...new Set(lines(tshark(['-r', RC4, '-Y', 'tls.handshake.type == 2 && tls.handshake.ciphersuite == 0x0004', '-T', 'fields', '-e', 'tcp.stream'])))];
  const all = new Set(lines(tshark(['-r', RC4, '-T', 'fields', '-e', 'tcp.stream'])));
  assert.ok(rc4.length > 1 && all.size > rc4.length, 'several RC4 connections and at least one other');
  assert.deepEqual(frameKeys(out), frameKeys(RC4, `tcp.stream in {${rc4.join(', ')}}`));
  assert.ok(codesOf(out).has('TLS_WEAK_CIPHER'));
});

test('the slice keeps the original link type (Linux cooked capture stays SLL)', () => {
  const codes = storedCodes(ids[SLL_TLS]);
  assert.ok(codes.size > 0, 'the SLL capture has findings to slice');
  const out = join(tmp, 'sll.pcap');
  slice(String(ids[SLL_TLS]), out);
  assert.equal(readFileSync(SLL_TLS).readUInt32LE(20), 113, 'tcpdump LINKTYPE_LINUX_SLL');
  assert.equal(readFileSync(out).readUInt32LE(20), 113);
  assert.deepEqual([...codesOf(out)].sort(), [...codes].sort());
});

test('masked FTP passwords keep valid TCP checksums (tshark verifies them)', () => {
  const out = join(tmp, 'zeek-ftp.pcap');
  slice(String(ids[ZEEK_FTP]), out, ['--finding', 'FTP_CLEARTEXT_LOGIN']);
  const check = (p: string): string[] => lines(tshark(['-r', p, '-o', 'tcp.check_checksum:TRUE', '-Y', 'ftp.request.command == "PASS"', '-T', 'fields', '-e', 'tcp.checksum.status', '-e', 'ftp.request.arg']));
  const [before] = check(ZEEK_FTP);
  const [afterMask] = check(out);
  const [statusBefore, password] = before.split('\t');
  const [statusAfter, masked] = afterMask.split('\t');
  assert.equal(statusBefore, '1', 'tshark: good checksum in the original');
  assert.equal(statusAfter, '1', 'tshark: still good after masking');
  assert.equal(masked, '*'.repeat(password.length));
  assert.equal(lines(tshark(['-r', out, '-o', 'tcp.check_checksum:TRUE', '-Y', 'tcp.checksum.status == 0'])).length, 0, 'no bad checksum anywhere');
});

test('a moved or changed original is refused with one line; --capture FILE points to its new place by sha256', () => {
  const here = join(tmp, 'moving.pcap');
  copyFileSync(TLS, here);
  assert.equal(cli(['analyze', here, '--db', db]).status, 0);
  const out = join(tmp, 'moved.pcap');
  const elsewhere = join(tmp, 'moved-away.pcap');
  renameSync(here, elsewhere);
  let r = cli(['export', '--db', db, '--capture', here, '--format', 'pcap', '--out', out]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /not there any more/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  r = cli(['export', '--db', db, '--capture', elsewhere, '--format', 'pcap', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(frameKeys(out), frameKeys(TLS, 'tcp.stream == 0'));

  // The file at the recorded path changes: its sha256 no longer matches what was analysed.
  renameSync(elsewhere, here);
  appendFileSync(here, Buffer.alloc(16));
  r = cli(['export', '--db', db, '--format', 'pcap', '--out', join(tmp, 'changed.pcap')]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /changed since it was analysed/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.ok(!existsSync(join(tmp, 'changed.pcap')));
  assert.deepEqual(readdirSync(tmp).filter((f) => f.includes('.partial-')), [], 'no partial file left behind');
});

test('no finding selected, or a selection that matches nothing: nothing to slice, exit 1', () => {
  const r = cli(['export', '--db', db, '--capture', String(ids[NLB]), '--format', 'pcap', '--finding', 'FTP_ACTIVE_MODE', '--out', join(tmp, 'none.pcap')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no finding selected/);
  assert.ok(!existsSync(join(tmp, 'none.pcap')));
});

test('a pcapng mixing link types is sliced to pcapng, one interface per link type, every frame byte-identical', async () => {
  const copy = join(tmp, 'mixed.pcapng');
  copyFileSync(MIXED, copy);
  const sha = createHash('sha256').update(readFileSync(copy)).digest('hex');
  const encaps = lines(tshark(['-r', copy, '-T', 'fields', '-e', 'frame.encap_type']));
  assert.ok(new Set(encaps).size > 1, 'the test file mixes link types');
  const out = join(tmp, 'mixed-slice.pcapng');
  const all = new Set(encaps.map((_, i) => i + 1));
  const r = await writeSlice(copy, sha, [1, 0], { frames: all, flows: [], l2: null }, out);
  assert.equal(r.format, 'pcapng');
  assert.equal(r.frames, encaps.length);
  assert.equal(readFileSync(out).readUInt32LE(0), 0x0a0d0d0a, 'a pcapng Section Header Block');
  assert.deepEqual(lines(tshark(['-r', out, '-T', 'fields', '-e', 'frame.encap_type'])), encaps);
  assert.equal(tshark(['-r', out, '-x']), tshark(['-r', copy, '-x']), 'same bytes, same times, same decode');
});
