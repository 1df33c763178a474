import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRecordHeader, isClientHello, newRecordWalker, startsWithTlsHandshake, walkRecords } from '../../../src/proto/ftp/tls-records.js';

// RFC 8446 §5.1 record header: type (20-24), legacy_record_version 0x03 0x0N, 2-byte length.
const record = (type: number, len: number, minor = 3): Buffer => Buffer.concat([Buffer.from([type, 3, minor, len >> 8, len & 0xff]), Buffer.alloc(len, 0x42)]);

test('record headers: content types 20-24, version 3.x, length within 2^14 + 2048', () => {
  assert.equal(checkRecordHeader(Buffer.from([22, 3, 1, 0, 200])), 'valid');
  assert.equal(checkRecordHeader(Buffer.from([23, 3, 3, 0x48, 0x00])), 'valid'); // 18432 = 16384 + 2048
  assert.equal(checkRecordHeader(Buffer.from([23, 3, 3, 0x48, 0x01])), 'invalid');
  assert.equal(checkRecordHeader(Buffer.from('220 ')), 'invalid');
  assert.equal(checkRecordHeader(Buffer.from('PASV')), 'invalid');
  assert.equal(checkRecordHeader(Buffer.from([22, 2])), 'invalid');
  assert.equal(checkRecordHeader(Buffer.from([22, 3])), 'short');
  assert.equal(checkRecordHeader(Buffer.from([22, 3, 5, 0, 1])), 'invalid');
});

test('ClientHello recognition: handshake record whose first message is type 1', () => {
  const hello = Buffer.concat([Buffer.from([22, 3, 1, 0, 60, 1, 0, 0, 56]), Buffer.alloc(56)]);
  assert.ok(isClientHello(hello));
  assert.ok(startsWithTlsHandshake(hello));
  const serverHello = Buffer.from(hello);
  serverHello[5] = 2;
  assert.ok(!isClientHello(serverHello));
  assert.ok(startsWithTlsHandshake(serverHello));
  assert.ok(!startsWithTlsHandshake(Buffer.from('150 Opening BINARY mode\r\n')));
});

test('walking records across chunk boundaries finds where clear text resumes (CCC)', () => {
  const tls = Buffer.concat([record(22, 100), record(20, 1), record(23, 40), record(21, 26)]);
  const clear = Buffer.from('PASV\r\n');
  const stream = Buffer.concat([tls, clear]);
  // Every split point, including inside a header, gives the same answer.
  for (let cut = 1; cut < stream.length; cut++) {
    const w = newRecordWalker(1000);
    const a = walkRecords(w, stream.subarray(0, cut));
    const resume = a ?? walkRecords(w, stream.subarray(cut));
    assert.ok(resume, `cut ${cut}`);
    assert.equal(resume.offset, 1000 + tls.length, `cut ${cut}`);
    // Clear text = held header bytes + the chunk from `index` on (+ the second chunk if it resumed in the first).
    const rest = a ? Buffer.concat([a.carried, stream.subarray(a.index)]) : Buffer.concat([resume.carried, stream.subarray(cut).subarray(resume.index)]);
    assert.equal(rest.toString(), 'PASV\r\n', `cut ${cut}`);
    assert.equal(w.records, 4, `cut ${cut}`);
    assert.equal(w.alerts, 1, `cut ${cut}`);
  }
});

test('a stream that stays TLS never resumes', () => {
  const w = newRecordWalker(0);
  assert.equal(walkRecords(w, Buffer.concat([record(23, 500), record(23, 16000)])), null);
  assert.equal(w.offset, 5 + 500 + 5 + 16000);
});
