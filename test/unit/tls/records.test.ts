/**
 * The record splitter: any chunking of a stream gives the same records at the same offsets
 * (RFC 5246 §6.2.1: records are independent of transport segmentation), garbage and oversized
 * records stop it, application data can be skipped without buffering, and SSL 2.0-compatible
 * hellos (RFC 5246 E.2) are recognised.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_RECORD_LENGTH, looksLikeTls, newRecordSplitter, pushRecords, type RecordOutput } from '../../../src/proto/tls/records.js';
import { RFC8448, handshake, record, u16, u8 } from './builders.test.js';

const clientHelloRecord = record(22, 0x0301, RFC8448.clientHello);
// A stream: ClientHello, a handshake message split over two records, a CCS, two app-data records.
const bigMessage = handshake(11, Buffer.alloc(300, 0xab));
const stream = Buffer.concat([
  clientHelloRecord,
  record(22, 0x0303, bigMessage.subarray(0, 100)),
  record(22, 0x0303, bigMessage.subarray(100)),
  record(20, 0x0303, u8(1)),
  record(23, 0x0303, Buffer.alloc(1000, 1)),
  record(23, 0x0303, Buffer.alloc(0)),
]);
const expected = [
  { contentType: 22, version: 0x0301, length: 196, streamOffset: 0 },
  { contentType: 22, version: 0x0303, length: 100, streamOffset: 201 },
  { contentType: 22, version: 0x0303, length: 204, streamOffset: 306 },
  { contentType: 20, version: 0x0303, length: 1, streamOffset: 515 },
  { contentType: 23, version: 0x0303, length: 1000, streamOffset: 521 },
  { contentType: 23, version: 0x0303, length: 0, streamOffset: 1526 },
];

const summary = (out: RecordOutput[]) => out.map((r) => (r.kind === 'record'
  ? { contentType: r.contentType, version: r.version, length: r.length, streamOffset: r.streamOffset } : r));

test('records come out whole and at their stream offsets, however the stream is chunked', () => {
  const whole = pushRecords(newRecordSplitter(), stream);
  assert.deepEqual(summary(whole), expected);
  const first = whole[0];
  assert.ok(first.kind === 'record' && first.fragment.equals(RFC8448.clientHello));

  const byteByByte = newRecordSplitter();
  const out: RecordOutput[] = [];
  for (let i = 0; i < stream.length; i++) out.push(...pushRecords(byteByByte, stream.subarray(i, i + 1)));
  assert.deepEqual(summary(out), expected);

  for (const size of [2, 3, 5, 7, 64, 333, 1460]) {
    const s = newRecordSplitter();
    const chunked: RecordOutput[] = [];
    for (let i = 0; i < stream.length; i += size) chunked.push(...pushRecords(s, stream.subarray(i, i + size)));
    assert.deepEqual(summary(chunked), expected, `chunk size ${size}`);
  }
});

test('fragments are copies: reusing the caller\'s buffer does not change them', () => {
  const s = newRecordSplitter();
  const buf = Buffer.from(clientHelloRecord);
  const [r] = pushRecords(s, buf.subarray(0, 100));
  assert.equal(r, undefined);
  const mid = Buffer.from(buf.subarray(100));
  const [done] = pushRecords(s, mid);
  buf.fill(0);
  mid.fill(0);
  assert.ok(done.kind === 'record' && done.fragment.equals(RFC8448.clientHello));
});

test('stream offset starts where told (after a STARTTLS exchange)', () => {
  const out = pushRecords(newRecordSplitter({ streamOffset: 1000 }), clientHelloRecord);
  assert.equal(out[0].kind === 'record' && out[0].streamOffset, 1000);
});

test('an oversized record means not TLS: malformed at the header, then silence', () => {
  const s = newRecordSplitter();
  const bad = Buffer.concat([clientHelloRecord, u8(23), u16(0x0303), u16(MAX_RECORD_LENGTH + 1), Buffer.alloc(10)]);
  const out = pushRecords(s, bad);
  assert.equal(out.length, 2);
  assert.deepEqual(out[1], { kind: 'malformed', offset: 201, reason: `record length ${MAX_RECORD_LENGTH + 1} exceeds ${MAX_RECORD_LENGTH}` });
  assert.deepEqual(pushRecords(s, clientHelloRecord), []);
  // Exactly 2^14 + 2048 is allowed.
  const edge = pushRecords(newRecordSplitter(), record(23, 0x0303, Buffer.alloc(MAX_RECORD_LENGTH)));
  assert.equal(edge[0].kind, 'record');
});

test('plaintext where a record should be is malformed at its offset', () => {
  const out = pushRecords(newRecordSplitter(), Buffer.from('220 ProFTPD Server ready.\r\n'));
  assert.equal(out.length, 1);
  assert.equal(out[0].kind, 'malformed');
  assert.equal(out[0].kind === 'malformed' && out[0].offset, 0);
  const afterTls = pushRecords(newRecordSplitter(), Buffer.concat([clientHelloRecord, Buffer.from('QUIT\r\n')]));
  assert.equal(afterTls[1].kind === 'malformed' && afterTls[1].offset, 201);
});

test('application data can be counted without being buffered', () => {
  const s = newRecordSplitter({ keepApplicationData: false });
  const big = record(23, 0x0303, Buffer.alloc(16000, 7));
  const out: RecordOutput[] = [];
  let maxBuffered = 0;
  for (let i = 0; i < big.length; i += 1000) {
    out.push(...pushRecords(s, big.subarray(i, i + 1000)));
    maxBuffered = Math.max(maxBuffered, s.buffered);
  }
  out.push(...pushRecords(s, clientHelloRecord));
  assert.ok(maxBuffered < 1000, `buffered ${maxBuffered}`);
  assert.deepEqual(out.map((r) => r.kind === 'record' && [r.contentType, r.length, r.kept, r.fragment.length, r.streamOffset]),
    [[23, 16000, false, 0, 0], [22, 196, true, 196, 16005]]);
});

/** SSLv2 CLIENT-HELLO per RFC 5246 E.2: 2-byte header, msg_type 1, version, lengths, specs, challenge. */
function sslv2ClientHello(version: number, specs: number[], challenge: Buffer): Buffer {
  const specBytes = Buffer.concat(specs.map((s) => Buffer.from([s >> 16, (s >> 8) & 0xff, s & 0xff])));
  const body = Buffer.concat([u8(1), u16(version), u16(specBytes.length), u16(0), u16(challenge.length), specBytes, challenge]);
  return Buffer.concat([u16(0x8000 | body.length), body]);
}

test('SSLv2-compatible ClientHello becomes a ClientHello view', () => {
  const challenge = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const bytes = sslv2ClientHello(0x0301, [0x010080, 0x00002f, 0x0700c0, 0x000035, 0x0000ff], challenge);
  assert.equal(looksLikeTls(bytes), true);
  // Followed by a TLS record from the same client (the rest of an upgraded handshake).
  const out = pushRecords(newRecordSplitter(), Buffer.concat([bytes, record(22, 0x0301, Buffer.alloc(0))]));
  assert.equal(out.length, 2);
  const v2 = out[0];
  assert.ok(v2.kind === 'sslv2');
  assert.equal(v2.msgType, 1);
  assert.equal(v2.streamOffset, 0);
  const hello = v2.clientHello;
  assert.ok(hello && hello.kind === 'client_hello');
  assert.equal(hello.sslv2, true);
  assert.equal(hello.legacyVersion, 0x0301);
  assert.deepEqual(hello.cipherSuites, [0x2f, 0x35, 0xff]);
  assert.deepEqual(hello.sslv2CipherSpecs, [0x010080, 0x00002f, 0x0700c0, 0x000035, 0x0000ff]);
  assert.deepEqual(hello.random, Buffer.concat([Buffer.alloc(16), challenge]));
  assert.equal(out[1].kind === 'record' && out[1].streamOffset, bytes.length);
});

test('garbage never throws; a high-bit first byte is SSLv2 only with a hello or error type', () => {
  const notV2 = pushRecords(newRecordSplitter(), Buffer.from([0x80, 0x10, 0x07, 0, 2, 0, 0, 0, 0]));
  assert.deepEqual(notV2.map((r) => r.kind), ['malformed']);
  let seed = 11;
  for (let i = 0; i < 300; i++) {
    const s = newRecordSplitter();
    const junk = Buffer.alloc(64);
    for (let k = 0; k < junk.length; k++) { seed = (seed * 1103515245 + 12345) & 0x7fffffff; junk[k] = seed >> 16; }
    assert.doesNotThrow(() => { pushRecords(s, junk); pushRecords(s, junk); });
  }
});

test('looksLikeTls: handshake records and SSLv2 hellos only', () => {
  assert.equal(looksLikeTls(clientHelloRecord), true);
  assert.equal(looksLikeTls(Buffer.from([0x16, 0x03, 0x00])), true); // SSL 3.0, header only
  assert.equal(looksLikeTls(Buffer.from([0x16, 0x03, 0x05])), false);
  assert.equal(looksLikeTls(Buffer.from([0x17, 0x03, 0x03, 0x00, 0x10])), false); // not a handshake
  assert.equal(looksLikeTls(Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff])), false); // impossible length
  for (const text of ['220 ready\r\n', 'USER anonymous\r\n', 'GET / HTTP/1.1\r\n', 'SSH-2.0-OpenSSH']) {
    assert.equal(looksLikeTls(Buffer.from(text)), false, text);
  }
  assert.equal(looksLikeTls(Buffer.from([0x16, 0x03])), false);
  assert.equal(looksLikeTls(Buffer.concat([u16(0x8000 | 46), u8(1), u16(0x0002)])), true);
  assert.equal(looksLikeTls(Buffer.concat([u16(0x8000 | 46), u8(1), u16(0x4142)])), false);
});
