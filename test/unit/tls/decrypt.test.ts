/**
 * Key derivation and record decryption against published vectors: the TLS 1.2 PRF vector
 * (FACTS §6.2) and RFC 8448 §3 (every record of the "Simple 1-RTT Handshake"). A record that
 * decrypts proves key, IV, nonce and AAD at once: the AEAD tag would fail otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { TlsDecryptor, type DecryptResult, hkdfExpandLabel, openTls13, prf12, suiteParams, tls13TrafficKeys } from '../../../src/proto/tls/decrypt.js';
import { parseKeyLog } from '../../../src/proto/tls/keylog.js';
import { newRecordSplitter, pushRecords, type TlsRecord } from '../../../src/proto/tls/records.js';
import { decodeHandshake, newHandshakeAssembler, parseClientHello, parseServerHello, pushHandshake } from '../../../src/proto/tls/handshake.js';
import { RFC8448, hex } from './builders.test.js';

function records(bytes: Buffer): TlsRecord[] {
  return pushRecords(newRecordSplitter(), bytes).filter((r): r is TlsRecord => r.kind === 'record');
}
const one = (bytes: Buffer): TlsRecord => records(bytes)[0];

test('TLS 1.2 PRF: P_SHA256 test vector', () => {
  const out = prf12('sha256', hex('9bbe436ba940f017b17652849a71db35'), 'test label', hex('a0ba9f936cda311827a6f796ffd5198c'), 100);
  assert.equal(out.length, 100);
  assert.equal(out.subarray(0, 16).toString('hex'), 'e3f229ba727be17b8d122620557cd453');
});

test('RFC 8448: traffic keys and IVs from the logged traffic secrets', () => {
  const keys = (secret: Buffer) => {
    const k = tls13TrafficKeys('sha256', secret, 16);
    return [k.key.toString('hex'), k.iv.toString('hex')];
  };
  assert.deepEqual(keys(RFC8448.serverHandshakeTrafficSecret), ['3fce516009c21727d0f2e4e86ee403bc', '5d313eb2671276ee13000b30']);
  assert.deepEqual(keys(RFC8448.clientHandshakeTrafficSecret), ['dbfaa693d1762c5b666af5d950258d01', '5bd3c71b836e0b76bb73265f']);
  assert.deepEqual(keys(RFC8448.serverApplicationTrafficSecret), ['9f02283b6c9c07efc26bb9f2ac92e356', 'cf782b88dd83549aadf1e984']);
  assert.deepEqual(keys(RFC8448.clientApplicationTrafficSecret), ['17422dda596ed5d9acd890e3c63f5051', '5b78923dee08579033e523d9']);
});

test('RFC 8448: the server flight decrypts under the server handshake key', () => {
  const p = suiteParams(0x1301)!;
  const k = tls13TrafficKeys('sha256', RFC8448.serverHandshakeTrafficSecret, 16);
  const opened = openTls13(p, k.key, k.iv, 0, one(RFC8448.serverFlightRecord));
  assert.ok(opened.ok);
  assert.equal(opened.contentType, 22);
  assert.equal(opened.data.length, 657); // "{server} send handshake record: payload (657 octets)"
  assert.equal(opened.data.subarray(0, 8).toString('hex'), '080000240022000a');
  assert.deepEqual(opened.data.subarray(opened.data.length - 36), RFC8448.serverFinished);
  // The decrypted flight is EncryptedExtensions, Certificate, CertificateVerify, Finished.
  const msgs = pushHandshake(newHandshakeAssembler(), opened.data, 0);
  assert.deepEqual(msgs.map((m) => (m.kind === 'handshake' ? m.msgType : -1)), [8, 11, 15, 20]);
  // RFC 8446 §4.4.4: verify_data = HMAC(finished_key, Transcript-Hash(ClientHello … CertificateVerify))
  // with finished_key = HKDF-Expand-Label(server handshake secret, "finished", "", 32). Matching
  // the published Finished checks HKDF-Expand-Label with a non-key label too.
  const finishedKey = hkdfExpandLabel('sha256', RFC8448.serverHandshakeTrafficSecret, 'finished', Buffer.alloc(0), 32);
  const transcript = createHash('sha256').update(RFC8448.clientHello).update(RFC8448.serverHello)
    .update(opened.data.subarray(0, opened.data.length - 36)).digest();
  assert.deepEqual(createHmac('sha256', finishedKey).update(transcript).digest(), RFC8448.serverFinished.subarray(4));
  const cert = msgs[1].kind === 'handshake' ? decodeHandshake(msgs[1], true) : undefined;
  assert.equal(cert?.kind, 'certificate');
  if (cert?.kind === 'certificate') {
    assert.equal(cert.tls13, true);
    assert.equal(cert.requestContext?.length, 0);
    assert.equal(cert.entries.length, 1);
    assert.equal(cert.entries[0].der[0], 0x30); // a DER SEQUENCE
  }
});

test('RFC 8448: a flipped bit fails the tag instead of producing plaintext', () => {
  const p = suiteParams(0x1301)!;
  const k = tls13TrafficKeys('sha256', RFC8448.serverHandshakeTrafficSecret, 16);
  const damaged = Buffer.from(RFC8448.serverFlightRecord);
  damaged[100] ^= 1;
  const opened = openTls13(p, k.key, k.iv, 0, one(damaged));
  assert.deepEqual(opened.ok ? 'plaintext' : opened.reason, 'bad-tag');
  // Right key, wrong sequence number: also a tag failure.
  const wrongSeq = openTls13(p, k.key, k.iv, 1, one(RFC8448.serverFlightRecord));
  assert.equal(wrongSeq.ok, false);
});

function rfc8448KeyLog(labels = ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0']) {
  const random = parseClientHello(RFC8448.clientHello.subarray(4));
  assert.ok(random.kind === 'client_hello');
  const secrets: Record<string, Buffer> = {
    CLIENT_HANDSHAKE_TRAFFIC_SECRET: RFC8448.clientHandshakeTrafficSecret,
    SERVER_HANDSHAKE_TRAFFIC_SECRET: RFC8448.serverHandshakeTrafficSecret,
    CLIENT_TRAFFIC_SECRET_0: RFC8448.clientApplicationTrafficSecret,
    SERVER_TRAFFIC_SECRET_0: RFC8448.serverApplicationTrafficSecret,
  };
  const text = labels.map((l) => `${l} ${random.random.toString('hex')} ${secrets[l].toString('hex')}`).join('\n');
  return { keyLog: parseKeyLog(text), clientRandom: random.random };
}

function rfc8448Decryptor(labels?: string[]): TlsDecryptor {
  const { keyLog, clientRandom } = rfc8448KeyLog(labels);
  const sh = parseServerHello(RFC8448.serverHello.subarray(4));
  assert.ok(sh.kind === 'server_hello');
  const d = TlsDecryptor.create({ clientRandom, serverRandom: sh.random, cipherSuite: sh.cipherSuite, version: sh.negotiatedVersion, keyLog });
  assert.ok(d instanceof TlsDecryptor);
  return d;
}

const plain = (r: DecryptResult) => (r.kind === 'plaintext' ? { type: r.contentType, epoch: r.epoch, seq: r.seq, data: r.data.toString('hex') } : r);
const counting = Buffer.from(Array.from({ length: 50 }, (_, i) => i)).toString('hex');

test('RFC 8448: TlsDecryptor follows both directions through handshake and application keys', () => {
  const d = rfc8448Decryptor();
  const clientHelloRecord = Buffer.concat([hex('1603010' + '0c4'), RFC8448.clientHello]);
  assert.deepEqual(d.decrypt('client', one(clientHelloRecord)), { kind: 'cleartext', contentType: 22 });
  assert.deepEqual(d.decrypt('server', one(RFC8448.serverHelloRecord)), { kind: 'cleartext', contentType: 22 });
  const flight = plain(d.decrypt('server', one(RFC8448.serverFlightRecord)));
  assert.equal('epoch' in flight && flight.epoch, 'handshake');
  // The server Finished moves the server to its application key, sequence 0: the ticket.
  const ticket = plain(d.decrypt('server', one(RFC8448.ticketRecord)));
  assert.deepEqual({ ...ticket, data: undefined }, { type: 22, epoch: 'application', seq: 0, data: undefined });
  assert.ok('data' in ticket && typeof ticket.data === 'string' && ticket.data.startsWith('040000c9'));
  const fin = plain(d.decrypt('client', one(RFC8448.clientFinishedRecord)));
  assert.deepEqual(fin, { type: 22, epoch: 'handshake', seq: 0, data: RFC8448.clientFinished.toString('hex') });
  assert.deepEqual(plain(d.decrypt('client', one(RFC8448.clientAppRecord))), { type: 23, epoch: 'application', seq: 0, data: counting });
  assert.deepEqual(plain(d.decrypt('server', one(RFC8448.serverAppRecord))), { type: 23, epoch: 'application', seq: 1, data: counting });
  assert.deepEqual(plain(d.decrypt('client', one(RFC8448.clientAlertRecord))), { type: 21, epoch: 'application', seq: 1, data: '0100' });
  assert.deepEqual(plain(d.decrypt('server', one(RFC8448.serverAlertRecord))), { type: 21, epoch: 'application', seq: 2, data: '0100' });
});

test('TlsDecryptor: the RFC 8448 NewSessionTicket reads as RFC 8446 §4.6.1 says', () => {
  const d = rfc8448Decryptor();
  d.decrypt('server', one(RFC8448.serverFlightRecord));
  const r = d.decrypt('server', one(RFC8448.ticketRecord));
  assert.ok(r.kind === 'plaintext');
  const [msg] = pushHandshake(newHandshakeAssembler(), r.data, 0);
  assert.ok(msg.kind === 'handshake');
  const nst = decodeHandshake(msg, true);
  assert.ok(nst.kind === 'new_session_ticket');
  assert.equal(nst.lifetime, 30);
  assert.equal(nst.ageAdd, 0xfad6aac5);
  assert.equal(nst.nonce?.toString('hex'), '0000');
  assert.equal(nst.ticket.length, 178);
  assert.deepEqual(nst.extensions?.map((e) => e.type), [42]); // early_data
});

test('TlsDecryptor: damaged record gives a typed failure and the next record still decrypts', () => {
  const d = rfc8448Decryptor();
  d.decrypt('server', one(RFC8448.serverFlightRecord));
  const damaged = Buffer.from(RFC8448.ticketRecord);
  damaged[50] ^= 0x80;
  const r = d.decrypt('server', one(damaged));
  assert.equal(r.kind, 'failure');
  assert.ok(r.kind === 'failure' && r.reason === 'bad-tag' && r.epoch === 'application' && r.seq === 0);
  // The failed record used sequence 0, so the application data at sequence 1 still opens.
  assert.deepEqual(plain(d.decrypt('server', one(RFC8448.serverAppRecord))), { type: 23, epoch: 'application', seq: 1, data: counting });
});

test('TlsDecryptor: without the handshake secrets, application data is still found by trying the next key', () => {
  const d = rfc8448Decryptor(['CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0']);
  const flight = d.decrypt('server', one(RFC8448.serverFlightRecord));
  assert.ok(flight.kind === 'failure' && flight.reason === 'missing-secret' && flight.epoch === 'handshake');
  const ticket = d.decrypt('server', one(RFC8448.ticketRecord));
  assert.ok(ticket.kind === 'plaintext' && ticket.contentType === 22 && ticket.epoch === 'application' && ticket.seq === 0);
  assert.deepEqual(plain(d.decrypt('server', one(RFC8448.serverAppRecord))), { type: 23, epoch: 'application', seq: 1, data: counting });
});

test('TlsDecryptor.create: typed setup failures', () => {
  const { keyLog, clientRandom } = rfc8448KeyLog();
  const base = { clientRandom, serverRandom: Buffer.alloc(32), keyLog };
  assert.equal((TlsDecryptor.create({ ...base, cipherSuite: 0x0005, version: 0x0303 }) as { reason: string }).reason, 'unsupported-suite');
  assert.equal((TlsDecryptor.create({ ...base, cipherSuite: 0x1302, version: 0x0304 }) as { reason: string }).reason, 'bad-secret-length');
  assert.equal((TlsDecryptor.create({ ...base, clientRandom: Buffer.alloc(32), cipherSuite: 0x1301, version: 0x0304 }) as { reason: string }).reason, 'no-secrets');
  assert.equal((TlsDecryptor.create({ ...base, cipherSuite: 0xc02f, version: 0x0303 }) as { reason: string }).reason, 'no-secrets');
  assert.equal((TlsDecryptor.create({ ...base, cipherSuite: 0xc02f, version: 0x0300 }) as { reason: string }).reason, 'unsupported-version');
});
