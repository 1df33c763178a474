/**
 * FTPS through the TLS analyzer on the recorded lab (captures/lab): with each scenario's key log
 * the encrypted control connection comes back as FTP commands and replies, line for line and
 * frame for frame what tshark decrypts with the same keys; the data connections' `resumed`
 * verdicts equal what tshark's decode shows (TLS 1.3: pre_shared_key in the ServerHello; TLS 1.2:
 * the offered session ID echoed and no server Certificate); the 522 "session reuse required" and
 * the encrypted 227 reply come out; a pcapng Decryption Secrets Block works like --keylog; and
 * without keys the TLS facts alone still show the missing reuse.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCapture } from '../../src/analysis/pipeline.js';
import { DEFAULT_OPTIONS } from '../../src/analysis/context.js';
import type { FtpSessionFact } from '../../src/proto/ftp/facts.js';
import { dataFlowTls } from '../../src/proto/tls/facts.js';
import { repoRoot } from '../helpers.js';
import { tshark } from '../tshark.js';

const LAB = join(repoRoot, 'captures', 'lab');
const tmp = mkdtempSync(join(tmpdir(), 'faultline-ftps-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const captures = readdirSync(LAB).filter((f) => /^ftps-.*\.pcap$/.test(f)).sort();
const keysOf = (file: string): string => join(LAB, `${file.replace(/\.(inside|outside)\.pcap$/, '')}.keys`);
const controlPort = (file: string): number => (file.startsWith('ftps-implicit-990') ? 990 : 21);

/** tshark's decryption of the control connection: every FTP line with its frame and sender. */
function tsharkLines(file: string): string[] {
  const port = controlPort(file);
  const out = tshark(['-r', join(LAB, file), '-o', `tls.keylog_file:${keysOf(file)}`, '-d', `tcp.port==${port},tls`, '-d', `tls.port==${port},data`,
    '-o', 'data.show_as_text:TRUE', '-Y', `data && tcp.port==${port}`, '-T', 'fields', '-e', 'frame.number', '-e', 'tcp.srcport', '-e', 'data.text']);
  const lines: string[] = [];
  for (const row of out.split('\n').filter(Boolean)) {
    const [frame, sport, text] = row.split('\t');
    const from = Number(sport) === port ? 'S' : 'C';
    for (const l of text.split('\\r\\n').filter(Boolean)) lines.push(`${frame} ${from} ${l.startsWith('PASS ') ? 'PASS' : l}`);
  }
  return lines;
}

/** The same, from the FTP facts: greeting, each command, its preliminary and final replies. */
function ourLines(s: FtpSessionFact): string[] {
  const out: Array<[number, number, string]> = [];
  let k = 0;
  if (s.greeting) out.push([s.greeting.frame, k++, `S ${s.greeting.code} ${s.greeting.text}`]);
  for (const c of s.commands) {
    out.push([c.frame, k++, `C ${c.verb}${c.arg !== null ? ` ${c.arg}` : ''}`]);
    for (const r of [c.preliminary, c.final]) if (r) out.push([r.frame, k++, `S ${r.code} ${r.text}`]);
  }
  return out.sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([f, , t]) => `${f} ${t}`);
}

/** tshark's view of each data connection's handshake: resumed or not, per TCP stream. */
function tsharkResumption(file: string): Map<string, boolean> {
  const out = tshark(['-r', join(LAB, file), '-Y', `tls.handshake.type && tcp.port != ${controlPort(file)}`, '-T', 'fields', '-E', 'occurrence=a',
    '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tls.handshake.type', '-e', 'tls.handshake.session_id', '-e', 'tls.handshake.extension.type']);
  const streams = new Map<string, { chSession?: string; shSession?: string; psk?: boolean; tls13?: boolean; cert?: boolean }>();
  for (const row of out.split('\n').filter(Boolean)) {
    const [sport, dport, types, sessions, exts] = row.split('\t');
    const key = [sport, dport].sort().join('|');
    const st = streams.get(key) ?? {};
    streams.set(key, st);
    const t = types.split(',');
    if (t.includes('1')) st.chSession = sessions.split(',')[0] ?? '';
    // A ServerHello with supported_versions (43) negotiated TLS 1.3, where the session ID is only echoed for middleboxes.
    if (t.includes('2')) { const e = exts.split(','); st.shSession = sessions.split(',')[0] ?? ''; st.psk = e.includes('41'); st.tls13 = e.includes('43'); }
    if (t.includes('11')) st.cert = true;
  }
  const verdicts = new Map<string, boolean>();
  for (const [key, st] of streams) {
    if (st.shSession === undefined) continue;
    verdicts.set(key, st.tls13 ? st.psk === true : !!st.chSession && st.chSession === st.shSession && !st.cert);
  }
  return verdicts;
}

for (const file of captures) {
  test(`${file}: decrypted control lines and data-connection resumption equal tshark's`, async () => {
    const { facts, findings } = await analyzeCapture(join(LAB, file), { ...DEFAULT_OPTIONS, keylog: readFileSync(keysOf(file), 'utf8') });
    assert.equal(facts.ftp.sessions.length, 1);
    const s = facts.ftp.sessions[0];
    assert.equal(s.tls.partial, false);
    assert.deepEqual(ourLines(s), tsharkLines(file));
    assert.ok(!facts.warnings.some((w) => w.message.startsWith('TLS')), facts.warnings.map((w) => w.message).join('\n'));
    const control = facts.tls.handshakes.find((h) => h.flow === s.flow)!;
    assert.equal(control.origin, 'ftps-control');
    assert.equal(control.decrypted, 'yes');
    const truth = tsharkResumption(file);
    const data = facts.tls.handshakes.filter((h) => h.flow !== s.flow);
    assert.equal(data.length, truth.size);
    for (const h of data) {
      assert.equal(h.resumed, truth.get([String(h.clientPort), String(h.serverPort)].sort().join('|')), `flow ${h.flow}`);
      // A resumed data connection names the control connection as the session it resumed.
      if (h.resumed) assert.equal(h.resumptionSource?.flow, s.flow);
    }
    assert.ok(!findings.some((f) => f.code === 'TLS_HANDSHAKE_FAILED' && f.subject.flow === s.flow));
  });
}

test('the 522 "session reuse required" and the encrypted 227 come out of TLS as FTP replies', async () => {
  for (const side of ['inside', 'outside']) {
    for (const scenario of ['ftps-no-session-reuse', 'ftps-no-session-reuse-tls12']) {
      const file = `${scenario}.${side}.pcap`;
      const { facts, findings } = await analyzeCapture(join(LAB, file), { ...DEFAULT_OPTIONS, keylog: readFileSync(keysOf(file), 'utf8') });
      const retr = facts.ftp.sessions[0].commands.find((c) => c.verb === 'RETR')!;
      assert.equal(retr.via, 'decrypted');
      assert.equal(retr.final?.code, 522, file);
      assert.match(retr.final!.text, /session reuse required/);
      const reuse = findings.find((f) => f.code === 'FTPS_SESSION_REUSE_MISSING')!;
      assert.ok(reuse.frames.includes(retr.final!.frame));
      assert.ok(findings.some((f) => f.code === 'FTP_TRANSFER_FAILED'));
    }
    const file = `ftps-nat-helper-blind.${side}.pcap`;
    const { facts, findings } = await analyzeCapture(join(LAB, file), { ...DEFAULT_OPTIONS, keylog: readFileSync(keysOf(file), 'utf8') });
    const [ch] = facts.ftp.sessions[0].channels;
    assert.deepEqual([ch.kind, ch.announcedIp, ch.via], ['PASV', '10.0.0.21', 'decrypted']);
    const pasv = findings.find((f) => f.code === 'FTP_PASV_PRIVATE_ADDRESS')!;
    assert.ok(pasv.frames.includes(ch.frame));
  }
});

test('without keys: the data connection\'s own handshake shows the missing reuse', async () => {
  for (const scenario of ['ftps-no-session-reuse', 'ftps-no-session-reuse-tls12']) {
    const file = `${scenario}.outside.pcap`;
    const { facts, findings } = await analyzeCapture(join(LAB, file), DEFAULT_OPTIONS);
    const s = facts.ftp.sessions[0];
    assert.equal(s.tls.partial, true);
    const data = facts.tls.handshakes.find((h) => h.flow !== s.flow)!;
    assert.equal(data.resumed, false);
    assert.equal(data.resumptionSource, null);
    assert.equal(data.offeredPsk, false);
    assert.equal(data.offeredTicket, false);
    const reuse = findings.find((f) => f.code === 'FTPS_SESSION_REUSE_MISSING')!;
    assert.equal(reuse.subject.flow, data.flow);
    assert.ok(reuse.frames.includes(data.clientHelloFrame!));
  }
});

test('a resumed TLS 1.2 data connection decrypts with the control connection\'s master secret (found by session ID)', async () => {
  for (const side of ['inside', 'outside']) {
    const file = `ftps-explicit-prot-p-tls12.${side}.pcap`;
    const keys = readFileSync(keysOf(file), 'utf8');
    const full = await analyzeCapture(join(LAB, file), { ...DEFAULT_OPTIONS, keylog: keys });
    const s = full.facts.ftp.sessions[0];
    const control = full.facts.tls.handshakes.find((h) => h.flow === s.flow)!;
    const data = full.facts.tls.handshakes.find((h) => h.flow !== s.flow)!;
    assert.equal(data.resumed, true);
    assert.equal(data.decrypted, 'yes');
    // Only the control connection's line: Wireshark's order finds the data connection's secret by its session ID.
    const random = execFileSync('tshark', ['-r', join(LAB, file), '-d', 'tcp.port==21,tls', '-Y', `tls.handshake.type == 1 && tcp.stream == ${control.flow}`, '-T', 'fields', '-e', 'tls.handshake.random'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().replace(/:/g, '');
    const only = keys.split('\n').filter((l) => l.startsWith(`CLIENT_RANDOM ${random} `));
    assert.equal(only.length, 1);
    const { facts } = await analyzeCapture(join(LAB, file), { ...DEFAULT_OPTIONS, keylog: only.join('\n') });
    const d = facts.tls.handshakes.find((h) => h.flow === data.flow)!;
    assert.equal(d.decrypted, 'yes');
    assert.match(d.decryptNote ?? '', /found by its session-id/);
    assert.deepEqual(ourLines(facts.ftp.sessions[0]), ourLines(s));
  }
});

test('a pcapng Decryption Secrets Block decrypts like --keylog', async () => {
  const file = 'ftps-no-session-reuse.outside.pcap';
  const withDsb = join(tmp, 'dsb.pcapng');
  execFileSync('editcap', ['--inject-secrets', `tls,${keysOf(file)}`, join(LAB, file), withDsb], { stdio: 'ignore' });
  const viaDsb = await analyzeCapture(withDsb, DEFAULT_OPTIONS);
  const viaFile = await analyzeCapture(join(LAB, file), { ...DEFAULT_OPTIONS, keylog: readFileSync(keysOf(file), 'utf8') });
  assert.equal(viaDsb.facts.capture.format, 'pcapng');
  assert.deepEqual(ourLines(viaDsb.facts.ftp.sessions[0]), ourLines(viaFile.facts.ftp.sessions[0]));
  assert.deepEqual(viaDsb.facts.tls.handshakes.map((h) => h.decrypted), ['yes', 'yes']);
});

test('a wrong key log: one warning per connection, nothing decrypted, no invented FTP lines', async () => {
  const file = 'ftps-no-session-reuse-tls12.outside.pcap';
  // Every master secret with its first byte changed: right client randoms, wrong secrets.
  const wrong = readFileSync(keysOf(file), 'utf8').replace(/^(CLIENT_RANDOM [0-9a-f]{64} )([0-9a-f]{2})/gm,
    (_, head: string, b: string) => `${head}${(parseInt(b, 16) ^ 0xff).toString(16).padStart(2, '0')}`);
  const { facts } = await analyzeCapture(join(LAB, file), { ...DEFAULT_OPTIONS, keylog: wrong });
  const tlsWarnings = facts.warnings.filter((w) => w.message.startsWith('TLS flow'));
  assert.equal(tlsWarnings.length, facts.tls.handshakes.length);
  for (const h of facts.tls.handshakes) {
    assert.equal(h.decrypted, 'failed');
    assert.equal(tlsWarnings.filter((w) => w.message.startsWith(`TLS flow ${h.flow} `)).length, 1);
  }
  const s = facts.ftp.sessions[0];
  assert.equal(s.tls.decryptedLines, 0);
  assert.deepEqual(s.commands.map((c) => c.verb), ['AUTH']);
  // A key log for other connections: each connection says it has no secrets, once.
  const other = await analyzeCapture(join(LAB, file), { ...DEFAULT_OPTIONS, keylog: readFileSync(keysOf('ftps-explicit-prot-p-tls12.outside.pcap'), 'utf8') });
  const missing = other.facts.warnings.filter((w) => /no secrets for this connection/.test(w.message));
  assert.equal(missing.length, other.facts.tls.handshakes.length);
  assert.ok(other.facts.tls.handshakes.every((h) => h.decrypted === 'no'));
});

test('dataFlowTls: what each data connection offered, relative to its control connection', async () => {
  const cases: Array<[string, boolean, boolean | null]> = [
    ['ftps-explicit-prot-p-tls12', true, true],
    ['ftps-explicit-prot-p-tls12', false, true], // TLS 1.2: the session ID offered is the control ServerHello's, in clear
    ['ftps-explicit-prot-p', true, true], // TLS 1.3: the PSK identity is a ticket the decrypted control connection issued
    ['ftps-explicit-prot-p', false, null], // without keys that ticket was never seen
    ['ftps-no-session-reuse-tls12', false, false],
    ['ftps-no-session-reuse', false, false],
  ];
  for (const [scenario, withKeys, expected] of cases) {
    const file = `${scenario}.outside.pcap`;
    const { facts } = await analyzeCapture(join(LAB, file), { ...DEFAULT_OPTIONS, keylog: withKeys ? readFileSync(keysOf(file), 'utf8') : null });
    const s = facts.ftp.sessions[0];
    const dataFlow = facts.tls.handshakes.find((h) => h.flow !== s.flow)!.flow;
    const v = dataFlowTls(facts.tls, s.flow, dataFlow);
    assert.equal(v.carriedTls, true);
    assert.equal(v.offeredControlSession, expected, `${scenario} keys=${withKeys}`);
    assert.equal(dataFlowTls(facts.tls, s.flow, s.flow + 1000).carriedTls, false);
  }
});
