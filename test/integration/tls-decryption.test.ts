/**
 * Decryption through the pipeline on the third-party captures that come with their secrets:
 * Zeek's tls12-decryption.pcap (one master secret in its test script) and
 * tls-1.2-stream-keylog.pcap (a key log of 21 sessions, of which the capture holds one). Zeek keys a secret by the last 28 bytes of the client random; the
 * full randoms come from tshark, making an ordinary NSS key log. What counts as decrypted is
 * checked against tshark given the same key log: the connections whose HTTP it can read.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/analysis/pipeline.js';
import { DEFAULT_OPTIONS } from '../../src/analysis/context.js';
import { repoRoot, thirdParty } from '../helpers.js';
import { tshark } from '../tshark.js';

const tmp = mkdtempSync(join(tmpdir(), 'faultline-tls-keys-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const expected = (rel: string): string => readFileSync(join(repoRoot, 'captures', 'third-party', 'expected', rel), 'utf8');
const zeekBytes = (s: string): Buffer => Buffer.from([...s.matchAll(/\\x([0-9a-fA-F]{2})/g)].map((m) => parseInt(m[1], 16)));

/** Client randoms of every ClientHello, by TCP ports (tshark). */
function clientRandoms(capture: string): Array<{ ports: string; random: string }> {
  return tshark(['-r', capture, '-Y', 'tls.handshake.type == 1', '-T', 'fields', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tls.handshake.random'])
    .split('\n').filter(Boolean).map((l) => { const [a, b, r] = l.split('\t'); return { ports: [a, b].sort().join('|'), random: r.replace(/:/g, '') }; });
}

/** Zeek's (random suffix → master secret) pairs as NSS CLIENT_RANDOM lines for the randoms in the capture. */
function nssKeyLog(capture: string, pairs: Array<[Buffer, Buffer]>): { text: string; lines: Array<{ random: string; secret: string; ports: string }> } {
  const lines: Array<{ random: string; secret: string; ports: string }> = [];
  for (const { random, ports } of clientRandoms(capture)) {
    const hit = pairs.find(([suffix]) => random.endsWith(suffix.toString('hex')));
    if (hit) lines.push({ random, secret: hit[1].toString('hex'), ports });
  }
  return { text: lines.map((l) => `CLIENT_RANDOM ${l.random} ${l.secret}`).join('\n') + '\n', lines };
}

/** TCP port pairs of the connections tshark decrypts with a key log (it reads HTTP in them). */
function tsharkDecrypted(capture: string, keyLog: string): Set<string> {
  const file = join(tmp, 'keys.log');
  writeFileSync(file, keyLog);
  return new Set(tshark(['-r', capture, '-o', `tls.keylog_file:${file}`, '-Y', 'http', '-T', 'fields', '-e', 'tcp.srcport', '-e', 'tcp.dstport'])
    .split('\n').filter(Boolean).map((l) => l.split('\t').sort().join('|')));
}

test('zeek tls12-decryption.pcap: the session decrypts with Zeek\'s master secret, both Finished messages read', async () => {
  const capture = thirdParty('files/zeek/testing/btest/Traces/tls/tls12-decryption.pcap');
  const m = /\["([^"]+)"\] = "([^"]+)"/.exec(expected('zeek/tls/tls12-decryption.pcap/tests/scripts/policy/protocols/ssl/decryption.zeek'))!;
  const { text } = nssKeyLog(capture, [[zeekBytes(m[1]), zeekBytes(m[2])]]);
  const { facts } = await analyzeCapture(capture, { ...DEFAULT_OPTIONS, keylog: text });
  assert.equal(facts.tls.handshakes.length, 1);
  const [h] = facts.tls.handshakes;
  assert.deepEqual(tsharkDecrypted(capture, text), new Set([[String(h.clientPort), String(h.serverPort)].sort().join('|')]));
  assert.equal(h.decrypted, 'yes');
  assert.equal(h.state, 'completed');
  assert.deepEqual(h.messages.filter((x) => x.decrypted).map((x) => `${x.from} ${x.name}`), ['client finished', 'server finished']);
  assert.deepEqual(facts.warnings.filter((w) => w.message.startsWith('TLS')), []);
});

test('zeek tls-1.2-stream-keylog.pcap: decrypted exactly where tshark decrypts with the same key log', async () => {
  const capture = thirdParty('files/zeek/testing/btest/Traces/tls/tls-1.2-stream-keylog.pcap');
  const script = expected('zeek/tls/tls-1.2-stream-keylog.pcap/tests/scripts/policy/protocols/ssl/decryption-keylog.zeek');
  const body = script.split('# @TEST-START-FILE keylogfile.log')[1].split('# @TEST-END-FILE')[0];
  const pairs = body.trim().split('\n').filter((l) => !l.startsWith('#')).map((l) => l.split('\t').map(zeekBytes) as [Buffer, Buffer]);
  assert.equal(pairs.length, 21);
  const { text, lines } = nssKeyLog(capture, pairs);
  assert.ok(lines.length >= 1);
  const theirs = tsharkDecrypted(capture, text);
  assert.ok(theirs.size >= 1);
  const { facts } = await analyzeCapture(capture, { ...DEFAULT_OPTIONS, keylog: text });
  const ours = new Set(facts.tls.handshakes.filter((h) => h.decrypted === 'yes').map((h) => [String(h.clientPort), String(h.serverPort)].sort().join('|')));
  assert.deepEqual(ours, theirs);
  assert.deepEqual(facts.tls.handshakes.filter((h) => h.decrypted === 'failed'), []);
  // The key log's other 20 entries name connections this capture does not hold: no warning for them.
  assert.deepEqual(facts.warnings.filter((w) => w.message.startsWith('TLS')), []);
});

test('a key log that does not fit: one warning per connection naming its flow, and no decryption', async () => {
  const capture = thirdParty('files/zeek/testing/btest/Traces/tls/tls12-decryption.pcap');
  const m = /\["([^"]+)"\] = "([^"]+)"/.exec(expected('zeek/tls/tls12-decryption.pcap/tests/scripts/policy/protocols/ssl/decryption.zeek'))!;
  const secret = zeekBytes(m[2]);
  secret[0] ^= 0x01;
  const { text } = nssKeyLog(capture, [[zeekBytes(m[1]), secret]]);
  const { facts } = await analyzeCapture(capture, { ...DEFAULT_OPTIONS, keylog: text });
  const [h] = facts.tls.handshakes;
  assert.equal(h.decrypted, 'failed');
  const warnings = facts.warnings.filter((w) => w.message.startsWith('TLS'));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0].message, new RegExp(`^TLS flow ${h.flow} \\(`));
  // Garbage in the key log itself is reported, and spoils nothing else.
  const noisy = await analyzeCapture(capture, { ...DEFAULT_OPTIONS, keylog: `not a key log line\nCLIENT_RANDOM zz 00\n${nssKeyLog(capture, [[zeekBytes(m[1]), zeekBytes(m[2])]]).text}` });
  assert.equal(noisy.facts.tls.handshakes[0].decrypted, 'yes');
  assert.equal(noisy.facts.warnings.filter((w) => /key log from --keylog: 2 lines not understood/.test(w.message)).length, 1);
});
