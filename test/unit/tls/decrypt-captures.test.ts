/**
 * Decryption of the third-party captures that come with their secrets. There are no pcapng
 * Decryption Secrets Blocks among them; the secrets found are:
 *  - zeek tls12-decryption.pcap: one master secret in the Zeek test script (SSL::secrets);
 *    Zeek's expected http.log says what the session carried.
 *  - zeek tls-1.2-stream-keylog.pcap: a Zeek-format key log in the test script; tshark, given
 *    the same secrets, says which HTTP requests and responses the session carried.
 *  - PcapPlusPlus pcapng-example.pcapng: a CLIENT_RANDOM line in the capture's section comment
 *    (MySQL over TLS 1.0, DHE-RSA-AES256-SHA, CBC with chained IVs); tshark names the queries.
 * Zeek keys its secrets by the last 28 bytes of the client random (it keeps gmt_unix_time apart).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TlsDecryptor } from '../../../src/proto/tls/decrypt.js';
import type { ClientHello, ServerHello } from '../../../src/proto/tls/handshake.js';
import { type KeyLog, parseKeyLog } from '../../../src/proto/tls/keylog.js';
import { repoRoot, thirdParty, tsharkTruth, manifest } from '../../helpers.js';
import { tcpStreams, walkConnection } from './tshark-streams.test.js';

const expected = (rel: string) => readFileSync(join(repoRoot, 'captures', 'third-party', 'expected', rel), 'utf8');
const zeekBytes = (s: string) => Buffer.from([...s.matchAll(/\\x([0-9a-fA-F]{2})/g)].map((m) => parseInt(m[1], 16)));

interface Session { hello: ClientHello; serverHello: ServerHello; client: Buffer; server: Buffer; failures: string[]; decrypted: number }

/** Every connection of a capture: find the hellos, decrypt each direction in order. */
async function decryptCapture(capture: string, keyLogFor: (hello: ClientHello) => KeyLog): Promise<Session[]> {
  const sessions: Session[] = [];
  for (const stream of await tcpStreams(capture)) {
    const walks = walkConnection(stream).directions;
    const find = <K extends 'client_hello' | 'server_hello'>(kind: K) => {
      for (const w of walks) {
        for (const { view } of w.views) if (view.kind === kind) return { walk: w, view: view as K extends 'client_hello' ? ClientHello : ServerHello };
      }
      return undefined;
    };
    const ch = find('client_hello');
    const sh = find('server_hello');
    if (!ch || !sh) continue;
    const d = TlsDecryptor.create({
      clientRandom: ch.view.random, serverRandom: sh.view.random, cipherSuite: sh.view.cipherSuite,
      version: sh.view.negotiatedVersion, keyLog: keyLogFor(ch.view), encryptThenMac: sh.view.encryptThenMac,
    });
    if (!(d instanceof TlsDecryptor)) continue;
    const out: Session = { hello: ch.view, serverHello: sh.view, client: Buffer.alloc(0), server: Buffer.alloc(0), failures: [], decrypted: 0 };
    for (const [sender, walk] of [['client', ch.walk], ['server', sh.walk]] as const) {
      const data: Buffer[] = [];
      for (const r of walk.records) {
        if (r.kind !== 'record') continue;
        const res = d.decrypt(sender, r);
        if (res.kind === 'failure') out.failures.push(`${sender} seq ${res.seq}: ${res.reason}`);
        if (res.kind === 'plaintext') {
          out.decrypted++;
          if (res.contentType === 23) data.push(res.data);
        }
      }
      out[sender] = Buffer.concat(data);
    }
    sessions.push(out);
  }
  return sessions;
}

/** Zeek keys by client_random[4..32]: write the NSS line for the hello whose random ends so. */
function zeekKeyLog(pairs: Array<[Buffer, Buffer]>) {
  return (hello: ClientHello): KeyLog => {
    const hit = pairs.find(([suffix]) => hello.random.subarray(4).equals(suffix));
    return parseKeyLog(hit ? `CLIENT_RANDOM ${hello.random.toString('hex')} ${hit[1].toString('hex')}\n` : '');
  };
}

test('zeek tls12-decryption.pcap: the HTTP exchange Zeek logged', async () => {
  const script = expected('zeek/tls/tls12-decryption.pcap/tests/scripts/policy/protocols/ssl/decryption.zeek');
  const m = /\["([^"]+)"\] = "([^"]+)"/.exec(script);
  assert.ok(m);
  const sessions = await decryptCapture(thirdParty('files/zeek/testing/btest/Traces/tls/tls12-decryption.pcap'),
    zeekKeyLog([[zeekBytes(m[1]), zeekBytes(m[2])]]));
  assert.equal(sessions.length, 1);
  const [s] = sessions;
  assert.deepEqual(s.failures, []);
  // http.log: GET heise.de / HTTP 1.1, Firefox 78 user agent, 301 Moved Permanently, 229-byte body.
  const request = s.client.toString('latin1');
  assert.match(request, /^GET \/ HTTP\/1\.1\r\n/);
  assert.match(request, /\r\nHost: heise\.de\r\n/i);
  assert.match(request, /\r\nUser-Agent: Mozilla\/5\.0 \(X11; Linux x86_64; rv:78\.0\) Gecko\/20100101 Firefox\/78\.0\r\n/);
  const response = s.server.toString('latin1');
  assert.match(response, /^HTTP\/1\.1 301 Moved Permanently\r\n/);
  const [head, body] = response.split('\r\n\r\n');
  assert.match(head, /\r\nContent-Length: 229\r\n/i);
  assert.equal(body.length, 229);
});

test('zeek tls-1.2-stream-keylog.pcap: the same HTTP requests and statuses tshark decrypts', async (t) => {
  const script = expected('zeek/tls/tls-1.2-stream-keylog.pcap/tests/scripts/policy/protocols/ssl/decryption-keylog.zeek');
  const body = script.split('# @TEST-START-FILE keylogfile.log')[1].split('# @TEST-END-FILE')[0];
  const pairs = body.trim().split('\n').filter((l) => !l.startsWith('#')).map((l) => {
    const [random, secret] = l.split('\t').map(zeekBytes);
    return [random, secret] as [Buffer, Buffer];
  });
  assert.equal(pairs.length, 21);
  const capture = thirdParty('files/zeek/testing/btest/Traces/tls/tls-1.2-stream-keylog.pcap');
  const lines: string[] = [];
  const sessions = await decryptCapture(capture, (hello) => {
    const log = zeekKeyLog(pairs)(hello);
    for (const [random, secrets] of log.byClientRandom) lines.push(`CLIENT_RANDOM ${random} ${secrets.get('CLIENT_RANDOM')!.toString('hex')}`);
    return log;
  });
  assert.ok(sessions.length >= 1);
  assert.deepEqual(sessions.flatMap((s) => s.failures), []);
  const ours = {
    requests: sessions.flatMap((s) => [...s.client.toString('latin1').matchAll(/(?:^|\n)(GET|POST|HEAD) (\S+) HTTP\/1\.1\r\n/g)].map((x) => `${x[1]} ${x[2]}`)),
    // A body need not end in a newline, so a status line may follow it directly.
    statuses: sessions.flatMap((s) => [...s.server.toString('latin1').matchAll(/HTTP\/1\.1 (\d{3}) [^\r\n]*\r\n/g)].map((x) => x[1])),
  };
  // Ground truth: tshark with the same secrets as an NSS key log.
  const dir = mkdtempSync(join(tmpdir(), 'faultline-keylog-'));
  try {
    const keyLogFile = join(dir, 'keys.log');
    writeFileSync(keyLogFile, `${lines.join('\n')}\n`);
    const out = execFileSync('tshark', ['-r', capture, '-n', '-o', `tls.keylog_file:${keyLogFile}`, '-Y', 'http', '-T', 'fields',
      '-e', 'http.request.method', '-e', 'http.request.uri', '-e', 'http.response.code'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const rows = out.split('\n').filter(Boolean).map((l) => l.split('\t'));
    const theirs = {
      requests: rows.filter((r) => r[0]).map((r) => `${r[0]} ${r[1]}`),
      statuses: rows.filter((r) => r[2]).map((r) => r[2]),
    };
    assert.ok(theirs.requests.length > 10);
    assert.deepEqual(ours, theirs);
    t.diagnostic(`${theirs.requests.length} requests and ${theirs.statuses.length} responses match tshark; ${sessions.reduce((n, s) => n + s.decrypted, 0)} records decrypted`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('PcapPlusPlus pcapng-example.pcapng: TLS 1.0 CBC MySQL session from the section-comment key', async () => {
  const entry = manifest().find((e) => e.localPath === 'files/PcapPlusPlus/Tests/Pcap++Test/PcapExamples/pcapng-example.pcapng')!;
  const truth = tsharkTruth(entry) as { capinfos: Record<string, string> };
  const keyLog = parseKeyLog(truth.capinfos['Capture comment']);
  assert.equal(keyLog.entries, 1);
  const sessions = await decryptCapture(thirdParty(entry.localPath), () => keyLog);
  const s = sessions.find((x) => keyLog.byClientRandom.has(x.hello.random.toString('hex')));
  assert.ok(s);
  assert.equal(s.serverHello.negotiatedVersion, 0x0301);
  assert.equal(s.serverHello.cipherSuite, 0x0039);
  assert.deepEqual(s.failures, []);
  // MySQL packets: 3-byte length, sequence id, then COM_QUERY (0x03) and the query text.
  const queries: string[] = [];
  for (let at = 0; at + 4 <= s.client.length;) {
    const length = s.client.readUIntLE(at, 3);
    const payload = s.client.subarray(at + 4, at + 4 + length);
    if (payload[0] === 0x03) queries.push(payload.subarray(1).toString('utf8'));
    at += 4 + length;
  }
  const dir = mkdtempSync(join(tmpdir(), 'faultline-keylog-'));
  let theirs: string[];
  try {
    writeFileSync(join(dir, 'keys.log'), `${truth.capinfos['Capture comment']}\n`);
    theirs = execFileSync('tshark', ['-r', thirdParty(entry.localPath), '-n', '-o', `tls.keylog_file:${join(dir, 'keys.log')}`,
      '-Y', 'mysql.query', '-T', 'fields', '-e', 'mysql.query'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n').filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(theirs.length >= 5);
  assert.deepEqual(queries, theirs);
  assert.match(s.client.toString('latin1'), /test/); // Login Request user=test
});
