/**
 * Handshake reassembly and message decoding. Expected values are read off the RFC 8448 §3 bytes
 * by the RFC 8446 wire format, or stated by the RFCs (HelloRetryRequest random, downgrade
 * sentinel, alert codes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  HELLO_RETRY_REQUEST_RANDOM, decodeHandshake, newHandshakeAssembler, parseAlerts, parseCertificate, parseChangeCipherSpec,
  parseClientHello, parseKeyUpdate, parseNewSessionTicket, parseServerHello, pushHandshake, type HandshakeMessage,
} from '../../../src/proto/tls/handshake.js';
import {
  RFC8448, alpnExt, clientHelloBody, ext, groupsExt, handshake, serverHelloBody, sniExt, u16, u24, u32, u8, vec16, vec24, vec8,
  versionsExt,
} from './builders.test.js';

test('RFC 8448 ClientHello: every field and extension', () => {
  const ch = parseClientHello(RFC8448.clientHello.subarray(4));
  assert.ok(ch.kind === 'client_hello');
  assert.equal(ch.legacyVersion, 0x0303);
  assert.equal(ch.random.toString('hex'), 'cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7');
  assert.equal(ch.sessionId.length, 0);
  assert.deepEqual(ch.cipherSuites, [0x1301, 0x1303, 0x1302]);
  assert.deepEqual(ch.compressionMethods, [0]);
  // server_name, renegotiation_info, supported_groups, session_ticket, key_share,
  // supported_versions, signature_algorithms, psk_key_exchange_modes, record_size_limit.
  assert.deepEqual(ch.extensions.map((e) => e.type), [0, 0xff01, 10, 35, 51, 43, 13, 45, 28]);
  assert.equal(ch.serverName, 'server');
  assert.deepEqual(ch.supportedGroups, [0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104]);
  assert.equal(ch.sessionTicket?.length, 0);
  assert.deepEqual(ch.keyShareGroups, [0x001d]);
  assert.deepEqual(ch.supportedVersions, [0x0304]);
  assert.deepEqual(ch.signatureAlgorithms, [0x0403, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501,
    0x0601, 0x0201, 0x0402, 0x0502, 0x0602, 0x0202]);
  assert.deepEqual(ch.pskKeyExchangeModes, [1]);
  assert.equal(ch.extensions[8].data.toString('hex'), '4001');
  assert.equal(ch.alpn, undefined);
  assert.deepEqual(ch.extensionProblems, []);
});

test('RFC 8448 ServerHello: TLS 1.3 by supported_versions, x25519 key share', () => {
  const sh = parseServerHello(RFC8448.serverHello.subarray(4));
  assert.ok(sh.kind === 'server_hello');
  assert.equal(sh.legacyVersion, 0x0303);
  assert.equal(sh.negotiatedVersion, 0x0304);
  assert.equal(sh.supportedVersion, 0x0304);
  assert.equal(sh.cipherSuite, 0x1301);
  assert.equal(sh.keyShareGroup, 0x001d);
  assert.equal(sh.helloRetryRequest, false);
  assert.equal(sh.downgradeSentinel, undefined);
  assert.equal(sh.random.toString('hex'), 'a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e26928');
});

test('HelloRetryRequest: the SHA-256("HelloRetryRequest") random, key_share carries only the group', () => {
  assert.equal(HELLO_RETRY_REQUEST_RANDOM.toString('hex'), 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c');
  assert.deepEqual(HELLO_RETRY_REQUEST_RANDOM, createHash('sha256').update('HelloRetryRequest').digest());
  const body = serverHelloBody({
    random: HELLO_RETRY_REQUEST_RANDOM, sessionId: Buffer.alloc(32, 9), cipher: 0x1302,
    extensions: [ext(43, u16(0x0304)), ext(51, u16(0x0017))],
  });
  const sh = parseServerHello(body);
  assert.ok(sh.kind === 'server_hello');
  assert.equal(sh.helloRetryRequest, true);
  assert.equal(sh.keyShareGroup, 0x0017);
  assert.equal(sh.sessionId.length, 32);
  assert.deepEqual(sh.extensionProblems, []);
});

test('ServerHello: downgrade sentinels, selected PSK, session id echo, ALPN', () => {
  const random = (last: number) => Buffer.concat([Buffer.alloc(24, 1), Buffer.from('444f574e475244', 'hex'), u8(last)]);
  const tls12 = parseServerHello(serverHelloBody({ random: random(1), cipher: 0xc02f }));
  assert.ok(tls12.kind === 'server_hello' && tls12.downgradeSentinel === 'tls12' && tls12.hasExtensionBlock === false);
  const tls11 = parseServerHello(serverHelloBody({ random: random(0), cipher: 0xc02f }));
  assert.ok(tls11.kind === 'server_hello' && tls11.downgradeSentinel === 'tls11');
  const resumed = parseServerHello(serverHelloBody({
    sessionId: Buffer.alloc(32, 0x5a), cipher: 0x1301,
    extensions: [ext(43, u16(0x0304)), ext(41, u16(0)), alpnExt('h2'), ext(23), ext(35)],
  }));
  assert.ok(resumed.kind === 'server_hello');
  assert.equal(resumed.selectedIdentity, 0);
  assert.equal(resumed.sessionId.toString('hex'), '5a'.repeat(32));
  assert.equal(resumed.alpn, 'h2');
  assert.equal(resumed.extendedMasterSecret, true);
  assert.equal(resumed.sessionTicketAck, true);
});

test('ClientHello: PSK identities, ALPN list, point formats, SNI, no extensions block', () => {
  const ticket = Buffer.alloc(40, 0xee);
  const psk = vec16(vec16(ticket), u32(12345)); // identities
  const binders = vec16(vec8(Buffer.alloc(32, 1)));
  const body = clientHelloBody({
    ciphers: [0x0a0a, 0x1301, 0xc02b], extensions: [
      sniExt('ftp.example.com'), alpnExt('h2', 'http/1.1'), ext(11, vec8(Buffer.from([0, 1, 2]))),
      groupsExt([0x2a2a, 29, 23]), versionsExt([0x3a3a, 0x0304, 0x0303]), ext(45, vec8(Buffer.from([1]))),
      ext(42), ext(35, Buffer.alloc(16, 3)), ext(41, Buffer.concat([psk, binders])),
    ],
  });
  const ch = parseClientHello(body);
  assert.ok(ch.kind === 'client_hello');
  assert.equal(ch.serverName, 'ftp.example.com');
  assert.deepEqual(ch.alpn, ['h2', 'http/1.1']);
  assert.deepEqual(ch.ecPointFormats, [0, 1, 2]);
  assert.deepEqual(ch.supportedVersions, [0x3a3a, 0x0304, 0x0303]);
  assert.equal(ch.earlyData, true);
  assert.equal(ch.sessionTicket?.length, 16);
  assert.deepEqual(ch.preSharedKey?.identities.map((i) => [i.identity.length, i.obfuscatedTicketAge]), [[40, 12345]]);
  assert.deepEqual(ch.preSharedKey?.binderLengths, [32]);
  const bare = parseClientHello(clientHelloBody({ version: 0x0301, ciphers: [4, 5] }));
  assert.ok(bare.kind === 'client_hello' && !bare.hasExtensionBlock && bare.extensions.length === 0);
});

test('a broken extension body is a problem on the hello, not a lost hello', () => {
  const body = clientHelloBody({ ciphers: [0x1301], extensions: [sniExt('a.example'), ext(43, Buffer.from([5, 3, 4])), alpnExt('h2')] });
  const ch = parseClientHello(body);
  assert.ok(ch.kind === 'client_hello');
  assert.equal(ch.supportedVersions, undefined);
  assert.deepEqual(ch.alpn, ['h2']);
  assert.equal(ch.extensionProblems.length, 1);
  assert.equal(ch.extensionProblems[0].type, 43);
  // An extensions length beyond the message: what fits is kept, the damage noted.
  const cut = Buffer.concat([clientHelloBody({ ciphers: [0x1301] }), u16(500), sniExt('b.example')]);
  const partial = parseClientHello(cut);
  assert.ok(partial.kind === 'client_hello');
  assert.equal(partial.serverName, 'b.example');
  assert.equal(partial.extensionProblems[0].type, -1);
});

test('truncated or corrupted hellos never throw', () => {
  const ch = RFC8448.clientHello.subarray(4);
  for (let n = 0; n < ch.length; n++) {
    const r = parseClientHello(ch.subarray(0, n));
    assert.ok(r.kind === 'malformed' || r.kind === 'client_hello');
  }
  assert.equal(parseClientHello(ch.subarray(0, 30)).kind, 'malformed');
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    const copy = Buffer.from(ch);
    for (let k = 0; k < 4; k++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      copy[seed % copy.length] = seed & 0xff;
    }
    assert.doesNotThrow(() => { parseClientHello(copy); parseServerHello(copy); parseCertificate(copy); parseNewSessionTicket(copy); });
  }
});

test('assembler: a message over three records, then two messages in one record', () => {
  const asm = newHandshakeAssembler();
  const msg = RFC8448.clientHello;
  const out: unknown[] = [];
  out.push(...pushHandshake(asm, msg.subarray(0, 2), 5));
  out.push(...pushHandshake(asm, msg.subarray(2, 100), 12));
  assert.equal(out.length, 0);
  const done = pushHandshake(asm, msg.subarray(100), 115);
  assert.equal(done.length, 1);
  const m = done[0] as HandshakeMessage;
  assert.equal(m.msgType, 1);
  assert.equal(m.streamOffset, 5);
  assert.ok(m.body.equals(msg.subarray(4)));
  const two = pushHandshake(asm, Buffer.concat([handshake(14, Buffer.alloc(0)), handshake(20, Buffer.alloc(12, 1))]), 1000);
  assert.deepEqual(two.map((x) => x.kind === 'handshake' && [x.msgType, x.body.length, x.streamOffset]), [[14, 0, 1000], [20, 12, 1004]]);
  const decoded = decodeHandshake(m);
  assert.equal(decoded.kind, 'client_hello');
});

test('assembler: an absurd length is malformed and stops the direction', () => {
  const asm = newHandshakeAssembler();
  const out = pushHandshake(asm, Buffer.from([11, 0xff, 0xff, 0xff, 0, 0]), 40);
  assert.equal(out.length, 1);
  assert.equal(out[0].kind, 'malformed');
  assert.equal(out[0].kind === 'malformed' && out[0].offset, 40);
  assert.deepEqual(pushHandshake(asm, handshake(14, Buffer.alloc(0)), 46), []);
});

test('Certificate: TLS 1.2 list and TLS 1.3 entries with extensions', () => {
  const a = Buffer.from('3003020101', 'hex');
  const b = Buffer.from('300402020102', 'hex');
  const v12 = parseCertificate(vec24(vec24(a), vec24(b)), false);
  assert.ok(v12.kind === 'certificate');
  assert.deepEqual(v12.entries.map((e) => e.der.toString('hex')), [a.toString('hex'), b.toString('hex')]);
  const v13body = Buffer.concat([vec8(), vec24(vec24(a), vec16(ext(5, Buffer.from([1, 0, 0, 0]))), vec24(b), vec16())]);
  const v13 = parseCertificate(v13body);
  assert.ok(v13.kind === 'certificate');
  assert.equal(v13.tls13, true);
  assert.deepEqual(v13.entries.map((e) => e.extensions?.map((x) => x.type)), [[5], []]);
  assert.equal(parseCertificate(vec24(vec24(a)), false).kind, 'certificate');
  assert.equal(parseCertificate(Buffer.concat([u24(100), a]), false).kind, 'malformed');
});

test('NewSessionTicket (RFC 5077) and KeyUpdate', () => {
  const nst = parseNewSessionTicket(Buffer.concat([u32(7200), vec16(Buffer.alloc(160, 4))]));
  assert.ok(nst.kind === 'new_session_ticket' && nst.tls13 === false && nst.lifetime === 7200 && nst.ticket.length === 160);
  assert.deepEqual(parseKeyUpdate(Buffer.from([1])), { kind: 'key_update', updateRequested: true });
  assert.deepEqual(parseKeyUpdate(Buffer.from([0])), { kind: 'key_update', updateRequested: false });
  assert.equal(parseKeyUpdate(Buffer.from([2])).kind, 'malformed');
});

test('alerts and ChangeCipherSpec', () => {
  assert.deepEqual(parseAlerts(Buffer.from([2, 40])), [{ kind: 'alert', level: 2, description: 40, levelName: 'fatal', descriptionName: 'handshake_failure' }]);
  const two = parseAlerts(Buffer.from([1, 0, 2, 112]));
  assert.ok(Array.isArray(two));
  assert.deepEqual(two.map((a) => `${a.levelName}:${a.descriptionName}`), ['warning:close_notify', 'fatal:unrecognized_name']);
  assert.equal((parseAlerts(Buffer.from([2])) as { kind: string }).kind, 'malformed');
  assert.deepEqual(parseChangeCipherSpec(Buffer.from([1])), { kind: 'change_cipher_spec' });
  assert.equal(parseChangeCipherSpec(Buffer.from([2])).kind, 'malformed');
  assert.equal(parseChangeCipherSpec(Buffer.from([1, 1])).kind, 'malformed');
});
