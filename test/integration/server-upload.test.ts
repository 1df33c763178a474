/**
 * `faultline serve` uploads: size limits enforced before the body is stored (and, for a declared
 * length, before it is even sent), magic checked before analysis, damaged captures analysed with
 * their warning, concurrent uploads each analysed into their own capture, and nothing left on
 * disk by refused or abandoned uploads.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startServer, leftoverUploads, upload, waitForJob, getJson, rawRequest } from '../e2e/harness.js';
import { writeFailingPasv, writeXssCapture, writeNlbCapture, writeDamaged, writePasvHelperPair } from '../e2e/captures.js';

const KiB = 1024;
const MiB = 1024 * KiB;
let dir: string;
const file = (n: string): string => join(dir, n);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'faultline-upload-test-'));
  writeFailingPasv(file('pasv.pcap'));
  writeXssCapture(file('xss.pcap'));
  writeNlbCapture(file('nlb.pcap'));
  writeDamaged(file('damaged.pcap'), file('pasv.pcap'));
  writePasvHelperPair(file('inside.pcap'), file('outside.pcap'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A valid pcap header (LE, µs, Ethernet) followed by filler: passes the magic check. */
function* pcapBody(total: number, chunk = 64 * KiB): Generator<Buffer> {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  yield head;
  for (let sent = head.length; sent < total; sent += chunk) yield Buffer.alloc(Math.min(chunk, total - sent));
}

function uploadHead(port: number, extra: string): string {
  return `POST /api/uploads?name=big.pcap HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/octet-stream\r\n${extra}\r\n`;
}

function errorOf(raw: string): { code: string; message: string } {
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  return (JSON.parse(body) as { error: { code: string; message: string } }).error;
}

test('a declared length over the limit is refused with 413 before any of the body is sent', async () => {
  const s = await startServer({ maxUpload: MiB });
  try {
    const r = await rawRequest(s.port, uploadHead(s.port, `Content-Length: ${64 * MiB}\r\n`), [], 2000);
    assert.equal(r.status, 413);
    assert.equal(errorOf(r.response).code, 'too-large');
    assert.match(errorOf(r.response).message, /\(64 MiB\).*\(1 MiB;.*--max-upload/);
    assert.match(r.response, /\r\nConnection: close\r\n/i);
    assert.equal(r.bodyBytesSent, 0);
    assert.deepEqual(leftoverUploads(s), []);
    assert.deepEqual((await getJson<{ jobs: unknown[] }>(s, '/api/jobs')).json.jobs, []);
  } finally {
    await s.close();
  }
});

test('Expect: 100-continue with an oversize length gets 413 instead of 100 Continue', async () => {
  const s = await startServer({ maxUpload: MiB });
  try {
    const r = await rawRequest(s.port, uploadHead(s.port, `Content-Length: ${3 * MiB}\r\nExpect: 100-continue\r\n`), [], 2000);
    assert.equal(r.continued, false, 'the server must not invite the body');
    assert.equal(r.status, 413);
    assert.deepEqual(leftoverUploads(s), []);
  } finally {
    await s.close();
  }
});

test('a chunked upload that grows past the limit is cut off with 413, and nothing of it is kept', async () => {
  const limit = MiB;
  const s = await startServer({ maxUpload: limit });
  try {
    const r = await rawRequest(s.port, uploadHead(s.port, 'Transfer-Encoding: chunked\r\n'),
      (function* () {
        for (const c of pcapBody(256 * MiB)) yield Buffer.concat([Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')]);
      })(), 1500);
    assert.equal(r.status, 413);
    assert.equal(errorOf(r.response).code, 'too-large');
    // The server read the limit, at most 1 MiB more while lingering, plus what socket buffers
    // hold: far less than the 256 MiB the client had to send.
    assert.ok(r.bodyBytesSent > limit, `the client did send past the limit (${r.bodyBytesSent})`);
    assert.ok(r.bodyBytesSent < limit + 24 * MiB, `client got ${r.bodyBytesSent} bytes out`);
    assert.ok(r.closedByServer, 'the server closes the connection');
    await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(leftoverUploads(s), []);
    assert.deepEqual((await getJson<{ jobs: unknown[] }>(s, '/api/jobs')).json.jobs, []);
  } finally {
    await s.close();
  }
});

test('a body that is not a capture is refused with 415 and a message saying what it is', async () => {
  const s = await startServer();
  try {
    const cases: Array<[string, Buffer, RegExp]> = [
      ['notes.txt', Buffer.from('{\n  "name": "not a capture"\n}\n'), /not a pcap or pcapng capture: it starts with 7b 0a 20 20 22 6e 61 6d \(text\)/],
      ['trace.pcap.zst', Buffer.from('28b52ffd0458a10000', 'hex'), /zstd archive/],
      ['trace.pcap.gz', gzipSync(Buffer.from('hello, this is text and not a capture file\n'.repeat(10))), /\(after gunzip\)/],
      ['empty.pcap', Buffer.alloc(0), /empty \(0 bytes\)/],
      ['tiny.pcap', Buffer.from([0xd4, 0xc3]), /too short/],
    ];
    for (const [name, body, message] of cases) {
      const r = await upload(s, name, body);
      assert.equal(r.status, 415, name);
      const err = r.json.error as { code: string; message: string };
      assert.equal(err.code, 'not-a-capture', name);
      assert.match(err.message, message, name);
    }
    assert.deepEqual((await getJson<{ jobs: unknown[] }>(s, '/api/jobs')).json.jobs, []);
    assert.deepEqual(leftoverUploads(s), []);
  } finally {
    await s.close();
  }
});

/** Offset of the first pcap record that does not fit in the file (classic LE pcap). */
function truncatedRecordOffset(buf: Buffer): number {
  let off = 24;
  while (off + 16 <= buf.length) {
    const caplen = buf.readUInt32LE(off + 8);
    if (off + 16 + caplen > buf.length) return off;
    off += 16 + caplen;
  }
  return off;
}

test('a damaged capture is analysed up to the damage and its warning names the byte offset', async () => {
  const s = await startServer();
  try {
    const body = readFileSync(file('damaged.pcap'));
    const r = await upload(s, 'damaged.pcap', body);
    assert.equal(r.status, 202);
    const job = await waitForJob(s, (r.json.job as { id: string }).id);
    assert.equal(job.state, 'done');
    assert.equal(job.damaged, true);
    assert.ok(job.warnings >= 1);
    const doc = (await getJson<{ captures: Array<{ damaged: boolean; warnings: Array<{ offset: number; message: string }> }> }>(s, `/api/captures/${job.captureId}`)).json;
    assert.equal(doc.captures[0].damaged, true);
    assert.ok(doc.captures[0].warnings.some((w) => w.offset === truncatedRecordOffset(body)), JSON.stringify(doc.captures[0].warnings));
    assert.deepEqual(leftoverUploads(s), [], 'the upload file is removed after analysis');
  } finally {
    await s.close();
  }
});

test('a gzip-compressed capture is accepted and analysed like the plain one', async () => {
  const s = await startServer();
  try {
    const r = await upload(s, 'pasv.pcap.gz', gzipSync(readFileSync(file('pasv.pcap'))));
    assert.equal(r.status, 202);
    assert.equal(r.json.format, 'pcap');
    assert.equal(r.json.compressed, true);
    const job = await waitForJob(s, (r.json.job as { id: string }).id);
    assert.equal(job.state, 'done');
    const { json } = await getJson<{ findings: Array<{ code: string }>; captures: Array<{ compressed: boolean }> }>(s, `/api/captures/${job.captureId}`);
    assert.equal(json.captures[0].compressed, true);
    for (const code of ['FTP_CLEARTEXT_LOGIN', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED']) {
      assert.ok(json.findings.some((f) => f.code === code), code);
    }
  } finally {
    await s.close();
  }
});

test('concurrent uploads: five at once, two analysers, each becomes its own capture with its own findings', async () => {
  const s = await startServer({ workers: 2 });
  try {
    // Expected codes follow from how each capture was built (see test/e2e/captures.ts).
    const expected: Record<string, string[]> = {
      'pasv.pcap': ['FTP_PASV_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED'],
      'xss.pcap': ['FTP_CLEARTEXT_LOGIN', 'FTP_TRANSFER_FAILED'],
      'nlb.pcap': ['NLB_UNICAST_FLOODING', 'NLB_HEARTBEAT_LOSS'],
      'inside.pcap': ['FTP_CLEARTEXT_LOGIN'],
      'outside.pcap': ['FTP_CLEARTEXT_LOGIN'],
    };
    const names = Object.keys(expected);
    const posted = await Promise.all(names.map((n) => upload(s, n, readFileSync(file(n)))));
    assert.deepEqual(posted.map((p) => p.status), names.map(() => 202));
    const jobs = await Promise.all(posted.map((p) => waitForJob(s, (p.json.job as { id: string }).id)));
    assert.deepEqual(jobs.map((j) => j.state), names.map(() => 'done'), JSON.stringify(jobs.map((j) => j.message)));
    assert.equal(new Set(jobs.map((j) => j.captureId)).size, names.length);
    const list = (await getJson<{ captures: Array<{ id: number; name: string }> }>(s, '/api/captures')).json.captures;
    assert.deepEqual(list.map((c) => c.name).sort(), [...names].sort());
    for (const [i, name] of names.entries()) {
      const { json } = await getJson<{ findings: Array<{ code: string }> }>(s, `/api/captures/${jobs[i].captureId}/findings`);
      for (const code of expected[name]) assert.ok(json.findings.some((f) => f.code === code), `${name}: ${code}`);
    }
    assert.deepEqual(leftoverUploads(s), []);
  } finally {
    await s.close();
  }
});

test('an upload the client abandons half-way leaves no file and no job', async () => {
  const s = await startServer();
  try {
    const total = 512 * KiB;
    let sent = 0;
    const r = await rawRequest(s.port, uploadHead(s.port, `Content-Length: ${total}\r\n`),
      (function* () { for (const c of pcapBody(total)) { if (sent > total / 2) return; sent += c.length; yield c; } })(), 300);
    assert.equal(r.status, null, 'no answer to an unfinished body');
    await new Promise((res) => setTimeout(res, 300));
    assert.deepEqual(leftoverUploads(s), []);
    assert.deepEqual((await getJson<{ jobs: unknown[] }>(s, '/api/jobs')).json.jobs, []);
  } finally {
    await s.close();
  }
});
