/**
 * End-to-end decryption of real TLS sessions made on loopback: node:tls (OpenSSL) client and
 * server talk through a recording TCP proxy, the client's key log is kept, and the recorded
 * byte streams must decrypt to exactly what the application wrote, for every suite family
 * TlsDecryptor supports. A KeyUpdate session is made with `openssl s_client`, whose key log also
 * carries the updated secrets (…_TRAFFIC_SECRET_N) to compare our "traffic upd" derivation with.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { constants } from 'node:crypto';
import { TlsDecryptor } from '../../../src/proto/tls/decrypt.js';
import { type ClientHello, type ServerHello, decodeHandshake, newHandshakeAssembler, pushHandshake } from '../../../src/proto/tls/handshake.js';
import { parseKeyLog } from '../../../src/proto/tls/keylog.js';
import { tls13NextTrafficSecret } from '../../../src/proto/tls/kdf.js';
import { newRecordSplitter, pushRecords, type TlsRecord } from '../../../src/proto/tls/records.js';

let dir = '';
let key: Buffer;
let cert: Buffer;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'faultline-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'),
    '-out', join(dir, 'cert.pem'), '-days', '30', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  key = readFileSync(join(dir, 'key.pem'));
  cert = readFileSync(join(dir, 'cert.pem'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Recording { client: Buffer; server: Buffer; keyLog: string }

/** A TLS echo server behind a proxy that records both directions. */
async function withRecordingProxy(
  serverOptions: tls.TlsOptions, drive: (port: number) => Promise<string>,
): Promise<Recording> {
  const server = tls.createServer({ key, cert, ...serverOptions }, (s) => {
    s.on('data', (d) => s.write(d));
    s.on('end', () => s.end());
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const upstreamPort = (server.address() as net.AddressInfo).port;
  const fromClient: Buffer[] = [];
  const fromServer: Buffer[] = [];
  const proxy = net.createServer((c) => {
    const u = net.connect(upstreamPort, '127.0.0.1');
    c.on('data', (d) => { fromClient.push(Buffer.from(d)); u.write(d); });
    u.on('data', (d) => { fromServer.push(Buffer.from(d)); c.write(d); });
    c.on('end', () => u.end());
    u.on('end', () => c.end());
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  try {
    const keyLog = await drive((proxy.address() as net.AddressInfo).port);
    await new Promise((r) => setTimeout(r, 50));
    return { client: Buffer.concat(fromClient), server: Buffer.concat(fromServer), keyLog };
  } finally {
    proxy.close();
    server.close();
  }
}

const payload = Buffer.from(Array.from({ length: 40000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));

/** node:tls client: sends the payload, waits for the full echo, closes. */
function nodeClient(options: tls.ConnectionOptions) {
  return (port: number): Promise<string> => new Promise((resolve, reject) => {
    const lines: string[] = [];
    let echoed = 0;
    const c = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, ...options });
    c.on('keylog', (line) => lines.push(line.toString()));
    c.on('secureConnect', () => c.write(payload));
    c.on('data', (d) => { echoed += d.length; if (echoed >= payload.length) c.end(); });
    c.on('close', () => resolve(lines.join('')));
    c.on('error', reject);
  });
}

interface Decrypted {
  hello: ClientHello;
  serverHello: ServerHello;
  appData: { client: Buffer; server: Buffer };
  failures: string[];
  records: number;
  /** Highest TLS 1.3 key generation that opened a record, per sender. */
  generation: { client: number; server: number };
}

function handshakeOf(records: TlsRecord[]) {
  const asm = newHandshakeAssembler();
  for (const r of records) {
    if (r.contentType !== 22) continue;
    for (const m of pushHandshake(asm, r.fragment, r.streamOffset + 5)) {
      if (m.kind === 'handshake') {
        const v = decodeHandshake(m);
        if (v.kind === 'client_hello' || v.kind === 'server_hello') return v;
      }
    }
  }
  throw new Error('no hello');
}

/** What the analyzer will do: split, read the hellos, decrypt each direction in order. */
function decryptRecording(rec: Recording): Decrypted {
  const split = (b: Buffer) => pushRecords(newRecordSplitter(), b).filter((r): r is TlsRecord => r.kind === 'record');
  const client = split(rec.client);
  const server = split(rec.server);
  const hello = handshakeOf(client) as ClientHello;
  const serverHello = handshakeOf(server) as ServerHello;
  const d = TlsDecryptor.create({
    clientRandom: hello.random, serverRandom: serverHello.random, cipherSuite: serverHello.cipherSuite,
    version: serverHello.negotiatedVersion, keyLog: parseKeyLog(rec.keyLog), encryptThenMac: serverHello.encryptThenMac,
  });
  if (!(d instanceof TlsDecryptor)) throw new Error(`setup: ${d.reason} ${d.detail}`);
  const failures: string[] = [];
  const appData = { client: [] as Buffer[], server: [] as Buffer[] };
  const generation = { client: 0, server: 0 };
  for (const [sender, list] of [['client', client], ['server', server]] as const) {
    for (const r of list) {
      const out = d.decrypt(sender, r);
      if (out.kind === 'failure') failures.push(`${sender} ${out.epoch} seq ${out.seq}: ${out.reason}`);
      if (out.kind === 'plaintext' && out.contentType === 23) appData[sender].push(out.data);
      if (out.kind === 'plaintext') generation[sender] = Math.max(generation[sender], out.generation);
    }
  }
  return {
    hello, serverHello, failures, records: client.length + server.length, generation,
    appData: { client: Buffer.concat(appData.client), server: Buffer.concat(appData.server) },
  };
}

const CASES: Array<{ name: string; suite: number; version: number; server: tls.TlsOptions; client: tls.ConnectionOptions; etm?: boolean }> = [
  { name: 'TLS 1.3 AES-128-GCM', suite: 0x1301, version: 0x0304, server: { ciphers: 'TLS_AES_128_GCM_SHA256' }, client: { minVersion: 'TLSv1.3' } },
  { name: 'TLS 1.3 AES-256-GCM', suite: 0x1302, version: 0x0304, server: { ciphers: 'TLS_AES_256_GCM_SHA384' }, client: { minVersion: 'TLSv1.3' } },
  { name: 'TLS 1.3 ChaCha20-Poly1305', suite: 0x1303, version: 0x0304, server: { ciphers: 'TLS_CHACHA20_POLY1305_SHA256' }, client: { minVersion: 'TLSv1.3' } },
  { name: 'TLS 1.3 AES-128-CCM', suite: 0x1304, version: 0x0304, server: { ciphers: 'TLS_AES_128_CCM_SHA256' }, client: { minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_CCM_SHA256' } },
  { name: 'TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256', suite: 0xc02f, version: 0x0303, server: { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' }, client: {} },
  { name: 'TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384', suite: 0xc030, version: 0x0303, server: { ciphers: 'ECDHE-RSA-AES256-GCM-SHA384', maxVersion: 'TLSv1.2' }, client: {} },
  { name: 'TLS 1.2 ECDHE-RSA-CHACHA20-POLY1305', suite: 0xcca8, version: 0x0303, server: { ciphers: 'ECDHE-RSA-CHACHA20-POLY1305', maxVersion: 'TLSv1.2' }, client: {} },
  { name: 'TLS 1.2 DHE-RSA-AES128-GCM-SHA256', suite: 0x009e, version: 0x0303, server: { ciphers: 'DHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2', dhparam: 'auto' as unknown as Buffer }, client: { ciphers: 'DHE-RSA-AES128-GCM-SHA256' } },
  { name: 'TLS 1.2 AES128-CCM (RSA key exchange)', suite: 0xc09c, version: 0x0303, server: { ciphers: 'AES128-CCM', maxVersion: 'TLSv1.2' }, client: { ciphers: 'AES128-CCM' } },
  { name: 'TLS 1.2 AES128-CCM8', suite: 0xc0a0, version: 0x0303, server: { ciphers: 'AES128-CCM8:@SECLEVEL=0', maxVersion: 'TLSv1.2' }, client: { ciphers: 'AES128-CCM8:@SECLEVEL=0' } },
  { name: 'TLS 1.2 ECDHE-RSA-AES128-SHA (CBC, encrypt-then-MAC)', suite: 0xc013, version: 0x0303, etm: true, server: { ciphers: 'ECDHE-RSA-AES128-SHA', maxVersion: 'TLSv1.2' }, client: {} },
  {
    name: 'TLS 1.2 ECDHE-RSA-AES256-SHA384 (CBC, MAC-then-encrypt)', suite: 0xc028, version: 0x0303, etm: false,
    server: { ciphers: 'ECDHE-RSA-AES256-SHA384', maxVersion: 'TLSv1.2', secureOptions: constants.SSL_OP_NO_ENCRYPT_THEN_MAC }, client: {},
  },
  {
    name: 'TLS 1.1 ECDHE-RSA-AES128-SHA (explicit CBC IV)', suite: 0xc013, version: 0x0302, etm: false,
    server: { ciphers: 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0', minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', secureOptions: constants.SSL_OP_NO_ENCRYPT_THEN_MAC },
    client: { ciphers: 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0', minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' },
  },
  {
    name: 'TLS 1.0 AES256-SHA (chained CBC IV)', suite: 0x0035, version: 0x0301, etm: false,
    server: { ciphers: 'AES256-SHA:@SECLEVEL=0', minVersion: 'TLSv1', maxVersion: 'TLSv1', secureOptions: constants.SSL_OP_NO_ENCRYPT_THEN_MAC },
    client: { ciphers: 'AES256-SHA:@SECLEVEL=0', minVersion: 'TLSv1', maxVersion: 'TLSv1' },
  },
];

for (const c of CASES) {
  test(`live loopback: ${c.name} decrypts to exactly what was sent`, async () => {
    const rec = await withRecordingProxy(c.server, nodeClient(c.client));
    const out = decryptRecording(rec);
    assert.equal(out.serverHello.cipherSuite, c.suite);
    assert.equal(out.serverHello.negotiatedVersion, c.version);
    if (c.etm !== undefined) assert.equal(out.serverHello.encryptThenMac, c.etm);
    assert.deepEqual(out.failures, []);
    assert.ok(out.appData.client.equals(payload), `client data: ${out.appData.client.length} of ${payload.length} bytes`);
    assert.ok(out.appData.server.equals(payload), `server data: ${out.appData.server.length} of ${payload.length} bytes`);
  });
}

test('live loopback: TLS 1.2 resumed session decrypts with the first session\'s master secret', async () => {
  let session: Buffer | undefined;
  let reused = false;
  // Same ticket keys on both servers: the second connection resumes by session ticket (RFC 5077).
  const options = { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' as const, ticketKeys: Buffer.alloc(48, 7) };
  const first = await withRecordingProxy(options, (port) => new Promise((resolve, reject) => {
    const lines: string[] = [];
    const c = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false });
    c.on('keylog', (l) => lines.push(l.toString()));
    c.on('session', (s) => { session = s; });
    c.on('secureConnect', () => c.write('one'));
    c.on('data', () => c.end());
    c.on('close', () => resolve(lines.join('')));
    c.on('error', reject);
  }));
  const firstOut = decryptRecording(first);
  assert.deepEqual(firstOut.failures, []);
  const second = await withRecordingProxy(options, (port) => new Promise((resolve, reject) => {
    const c = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, session });
    c.on('secureConnect', () => { reused = c.isSessionReused(); c.write('two'); });
    c.on('data', () => c.end());
    c.on('close', () => resolve(''));
    c.on('error', reject);
  }));
  assert.ok(reused);
  // No key log for the second connection: its secret is the first one's (RFC 5246 §7.3 abbreviated handshake).
  const split = (b: Buffer) => pushRecords(newRecordSplitter(), b).filter((r): r is TlsRecord => r.kind === 'record');
  const ch = handshakeOf(split(second.client)) as ClientHello;
  const sh = handshakeOf(split(second.server)) as ServerHello;
  const firstMaster = parseKeyLog(first.keyLog).byClientRandom.get(firstOut.hello.random.toString('hex'))?.get('CLIENT_RANDOM');
  const d = TlsDecryptor.create({
    clientRandom: ch.random, serverRandom: sh.random, cipherSuite: sh.cipherSuite, version: sh.negotiatedVersion,
    keyLog: parseKeyLog(''), masterSecret: firstMaster,
  });
  assert.ok(d instanceof TlsDecryptor);
  const got: string[] = [];
  for (const [sender, bytes] of [['client', second.client], ['server', second.server]] as const) {
    for (const r of split(bytes)) {
      const out = d.decrypt(sender, r);
      assert.notEqual(out.kind, 'failure');
      if (out.kind === 'plaintext' && out.contentType === 23) got.push(`${sender}:${out.data}`);
    }
  }
  assert.deepEqual(got, ['client:two', 'server:two']);
});

test('live loopback: TLS 1.3 KeyUpdate (openssl s_client "K") is followed in both directions', async () => {
  const keyLogFile = join(dir, 'keyupdate.keylog');
  const rec = await withRecordingProxy({ ciphers: 'TLS_AES_256_GCM_SHA384' }, (port) => new Promise((resolve, reject) => {
    const p = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_3', '-keylogfile', keyLogFile],
      { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString('latin1'); });
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 250 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
    };
    p.on('error', reject);
    p.on('exit', () => resolve(readFileSync(keyLogFile, 'utf8')));
    void (async () => {
      p.stdin.write('before-update\n');
      await until(() => out.includes('before-update'));
      p.stdin.write('K\n'); // s_client: KeyUpdate with update_requested, so the server updates too
      await new Promise((r) => setTimeout(r, 300));
      p.stdin.write('after-update\n');
      await until(() => out.includes('after-update'));
      p.stdin.end();
    })();
  }));
  const out = decryptRecording(rec);
  assert.deepEqual(out.failures, []);
  assert.equal(out.appData.client.toString(), 'before-update\nafter-update\n');
  assert.equal(out.appData.server.toString(), 'before-update\nafter-update\n');
  assert.deepEqual(out.generation, { client: 1, server: 1 });
  // OpenSSL logs the updated secrets; ours derive the same from generation 0.
  const secrets = parseKeyLog(rec.keyLog).byClientRandom.get(out.hello.random.toString('hex'))!;
  for (const side of ['CLIENT', 'SERVER']) {
    const next = tls13NextTrafficSecret('sha384', secrets.get(`${side}_TRAFFIC_SECRET_0`)!);
    assert.equal(next.toString('hex'), secrets.get(`${side}_TRAFFIC_SECRET_N`)?.toString('hex'));
  }
});
