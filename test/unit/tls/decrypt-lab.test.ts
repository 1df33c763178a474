/**
 * The recorded FTPS lab sessions (captures/lab: vsftpd 3.0.3 and curl 7.88.1, with curl's
 * SSLKEYLOGFILE): decrypting the control connection must give back the FTP dialogue the lab
 * recorded in expected.json (commands and reply codes, clear part and TLS part together), and
 * every protected data connection must decrypt to as many bytes as the SIZE reply announced.
 * No record may fail to decrypt. Covers TLS 1.3 and 1.2, session-ID and PSK resumption on the
 * data channel, implicit FTPS on 990, PROT C, refused CCC and refused session reuse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TlsDecryptor } from '../../../src/proto/tls/decrypt.js';
import type { ClientHello, ServerHello } from '../../../src/proto/tls/handshake.js';
import { type KeyLog, parseKeyLog } from '../../../src/proto/tls/keylog.js';
import { repoRoot } from '../../helpers.js';
import { type TcpDirection, type TcpStream, frameAt, tcpStreams, walkConnection } from './tshark-streams.test.js';

const lab = (f: string) => join(repoRoot, 'captures', 'lab', f);

interface LabCapture { scenario: string; file: string; keylog: string; dialogue: string }

function labCaptures(): LabCapture[] {
  const expected = JSON.parse(readFileSync(lab('expected.json'), 'utf8')) as {
    scenarios: Record<string, { captures: Record<string, { file: string; keylog?: string; dialogue?: string[] }> }>;
  };
  const out: LabCapture[] = [];
  for (const [scenario, s] of Object.entries(expected.scenarios)) {
    for (const c of Object.values(s.captures)) {
      if (c.keylog && c.dialogue?.length === 1) out.push({ scenario, file: c.file, keylog: c.keylog, dialogue: c.dialogue[0] });
    }
  }
  return out;
}

/** Text of one direction with the frame that completed each byte range. */
interface Chunk { frame: number; data: Buffer }

interface Decrypted { chunks: Record<'client' | 'server', Chunk[]>; failures: string[]; tls: boolean; resumedFrom?: Buffer }

function decryptConnection(stream: TcpStream, keyLog: KeyLog): Decrypted {
  const walks = walkConnection(stream).directions;
  const byDir = new Map<TcpDirection, (typeof walks)[number]>(walks.map((w) => [w.dir, w]));
  let ch: ClientHello | undefined;
  let sh: ServerHello | undefined;
  let clientDir: TcpDirection | undefined;
  for (const w of walks) {
    for (const { view } of w.views) {
      if (view.kind === 'client_hello' && !ch) { ch = view; clientDir = w.dir; }
      if (view.kind === 'server_hello' && !sh) sh = view;
    }
  }
  const out: Decrypted = { chunks: { client: [], server: [] }, failures: [], tls: ch !== undefined };
  const clearPart = (dir: TcpDirection, end: number): Chunk[] => dir.segments
    .filter((s) => s.offset < end)
    .map((s) => ({ frame: s.frame, data: dir.data.subarray(s.offset, Math.min(s.offset + s.length, end)) }));
  for (const dir of stream.directions) {
    const sender = (clientDir ? dir === clientDir : dir.dport === 21 || dir.dport === 990) ? 'client' : 'server';
    const walk = byDir.get(dir);
    out.chunks[sender].push(...clearPart(dir, walk ? walk.start : dir.data.length));
  }
  if (!ch || !sh || !clientDir) return out;
  const d = TlsDecryptor.create({
    clientRandom: ch.random, serverRandom: sh.random, cipherSuite: sh.cipherSuite, version: sh.negotiatedVersion,
    keyLog, encryptThenMac: sh.encryptThenMac,
  });
  if (!(d instanceof TlsDecryptor)) {
    out.failures.push(`setup: ${d.reason}`);
    return out;
  }
  for (const w of walks) {
    const sender = w.dir === clientDir ? 'client' : 'server';
    for (const r of w.records) {
      if (r.kind !== 'record') continue;
      const res = d.decrypt(sender, r);
      if (res.kind === 'failure') out.failures.push(`${sender} ${res.epoch} seq ${res.seq}: ${res.reason}`);
      if (res.kind === 'plaintext' && res.contentType === 23) {
        out.chunks[sender].push({ frame: frameAt(w.dir, r.streamOffset + 4 + r.length) ?? 0, data: res.data });
      }
    }
  }
  return out;
}

/** Lines with the frame that carried their last byte. */
function lines(chunks: Chunk[]): Array<{ frame: number; text: string }> {
  const out: Array<{ frame: number; text: string }> = [];
  let pending = '';
  for (const c of chunks) {
    pending += c.data.toString('latin1');
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      out.push({ frame: c.frame, text: pending.slice(0, nl).replace(/\r$/, '') });
      pending = pending.slice(nl + 1);
    }
  }
  return out;
}

/** The lab's dialogue notation: command verbs and final reply codes in wire order. */
function dialogue(d: Decrypted): string {
  const events = [
    ...lines(d.chunks.server).filter((l) => /^\d{3} /.test(l.text)).map((l) => ({ frame: l.frame, token: l.text.slice(0, 3) })),
    ...lines(d.chunks.client).map((l) => ({ frame: l.frame, token: l.text.split(' ')[0].toUpperCase() })),
  ];
  return events.sort((a, b) => a.frame - b.frame).map((e) => e.token).join(' ');
}

for (const c of labCaptures()) {
  test(`lab ${c.file}: decrypted control dialogue and data sizes`, async () => {
    const keyLog = parseKeyLog(readFileSync(lab(c.keylog), 'utf8'));
    assert.deepEqual(keyLog.problems, []);
    const streams = await tcpStreams(lab(c.file));
    const isControl = (s: TcpStream) => s.directions.some((d) => d.dport === 21 || d.dport === 990);
    const control = streams.find(isControl);
    assert.ok(control);
    const ctl = decryptConnection(control, keyLog);
    assert.deepEqual(ctl.failures, []);
    assert.equal(dialogue(ctl), c.dialogue);
    // Every transfer here is the 33-byte hello.txt; check it against what the server said.
    const size = lines(ctl.chunks.server).map((l) => /^213 (\d+)$/.exec(l.text)).find(Boolean);
    const transferred = c.dialogue.includes('RETR 150 226');
    let checked = 0;
    for (const s of streams.filter((x) => !isControl(x) && x.directions.some((d) => d.data.length > 0))) {
      const data = decryptConnection(s, keyLog);
      assert.deepEqual(data.failures, [], `data connection ${s.endpoints}`);
      if (!transferred) continue;
      const bytes = data.chunks.server.reduce((n, x) => n + x.data.length, 0);
      assert.equal(bytes, Number(size?.[1]), `data connection ${s.endpoints} (${data.tls ? 'TLS' : 'clear'})`);
      assert.equal(data.tls, !c.scenario.includes('prot-c'));
      checked++;
    }
    assert.equal(checked > 0, transferred);
  });
}

test('the lab has the FTPS captures these tests expect', () => {
  const files = labCaptures().map((c) => c.scenario);
  for (const s of ['ftps-explicit-prot-p', 'ftps-explicit-prot-p-tls12', 'ftps-implicit-990', 'ftps-ccc-refused', 'ftps-no-session-reuse-tls12']) {
    assert.ok(files.includes(s), s);
  }
});
