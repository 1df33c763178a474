/**
 * JA3 / JA3S / JA4 on hand-built hellos, against the published vectors (FACTS §4.8, §4.9:
 * salesforce/ja3 README, FoxIO JA4.md worked example), and JA4 against Arkime's and nDPI's
 * expectations for the third-party captures they ship.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ja3, ja3s, ja4 } from '../../../src/proto/tls/fingerprint.js';
import { type ClientHello, parseClientHello, parseServerHello } from '../../../src/proto/tls/handshake.js';
import { manifest, repoRoot, thirdParty } from '../../helpers.js';
import {
  alpnExt, clientHelloBody, ext, groupsExt, pointFormatsExt, serverHelloBody, sigAlgsExt, sniExt, u16, vec8, versionsExt,
} from './builders.test.js';
import { mapLimit, tcpStreams, walkConnection } from './tshark-streams.test.js';

function hello(body: Buffer): ClientHello {
  const ch = parseClientHello(body);
  assert.ok(ch.kind === 'client_hello');
  return ch;
}

test('JA3 README vectors', () => {
  const a = hello(clientHelloBody({
    version: 0x0301, ciphers: [47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4],
    extensions: [sniExt('example.com'), groupsExt([23, 24, 25]), pointFormatsExt([0])],
  }));
  assert.deepEqual(ja3(a), { string: '769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0', md5: 'ada70206e40642a3e4461f35503241d5' });
  const b = hello(clientHelloBody({ version: 0x0301, ciphers: [4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99] }));
  assert.deepEqual(ja3(b), { string: '769,4-5-10-9-100-98-3-6-19-18-99,,,', md5: 'de350869b8c85de67a350c8d186f11e6' });
});

test('JA3 drops GREASE from ciphers, extensions and groups; uses the handshake version', () => {
  const withGrease = hello(clientHelloBody({
    version: 0x0301, ciphers: [0x0a0a, 47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4],
    extensions: [ext(0x1a1a), sniExt('example.com'), groupsExt([0x2a2a, 23, 24, 25]), pointFormatsExt([0]), ext(0xfafa, Buffer.from([0]))],
  }));
  assert.equal(ja3(withGrease).md5, 'ada70206e40642a3e4461f35503241d5');
});

test('JA3S: version, chosen cipher, extension types in order', () => {
  const sh = parseServerHello(serverHelloBody({ version: 0x0303, cipher: 0xc02f, extensions: [ext(0xff01, vec8()), ext(11, vec8(Buffer.from([0]))), ext(35)] }));
  assert.ok(sh.kind === 'server_hello');
  const s = '771,49199,65281-11-35';
  assert.deepEqual(ja3s(sh), { string: s, md5: createHash('md5').update(s).digest('hex') });
});

/** The Chrome ClientHello of FoxIO's JA4.md worked example, lists in wire order. */
function ja4Example(sigalgs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]): ClientHello {
  const byType: Record<number, Buffer> = {
    0x001b: ext(0x001b, Buffer.from([2, 0, 2])), 0x0000: sniExt('www.example.com'),
    0x0033: ext(0x0033, Buffer.concat([u16(36), u16(29), u16(32), Buffer.alloc(32, 1)])), 0x0010: alpnExt('h2', 'http/1.1'),
    0x4469: ext(0x4469, Buffer.from([0, 3, 2, 0x68, 0x32])), 0x0017: ext(0x0017), 0x002d: ext(0x002d, vec8(Buffer.from([1]))),
    0x000d: sigAlgsExt(sigalgs), 0x0005: ext(0x0005, Buffer.from([1, 0, 0, 0, 0])), 0x0023: ext(0x0023),
    0x0012: ext(0x0012), 0x002b: versionsExt([0x0304, 0x0303]), 0xff01: ext(0xff01, vec8()),
    0x000b: pointFormatsExt([0]), 0x000a: groupsExt([29, 23, 24]), 0x0015: ext(0x0015, Buffer.alloc(20)),
  };
  const order = [0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015];
  return hello(clientHelloBody({
    ciphers: [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035],
    extensions: order.map((t) => byType[t]),
  }));
}

test('JA4 worked example (JA4.md): sorted, original order, raw forms', () => {
  const j = ja4(ja4Example());
  assert.equal(j.ja4, 't13d1516h2_8daaf6152771_e5627efa2ab1');
  assert.equal(j.ja4_o, 't13d1516h2_acb858a92679_18f69afefd3d');
  assert.equal(j.ja4_r, 't13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_' +
    '0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601');
  assert.ok(j.ja4_ro.startsWith('t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_001b,0000,0033,0010,'));
  // The spec's "no signature algorithms" variant: the extension list hash alone.
  assert.equal(ja4(ja4Example([])).ja4.split('_')[2], '6d807ffa2a79');
});

test('JA4 a-part rules: version from supported_versions, SNI flag, GREASE, ALPN characters', () => {
  const base = { ciphers: [0x2a2a, 0x1301, 0xc02f] };
  const a = (exts: Buffer[], version = 0x0303) => ja4(hello(clientHelloBody({ ...base, version, extensions: exts }))).ja4.split('_')[0];
  assert.equal(a([versionsExt([0x4a4a, 0x0304, 0x0303]), ext(0x0a0a)]), 't13i020100');
  assert.equal(a([sniExt('x.example')], 0x0302), 't11d020100');
  assert.equal(a([alpnExt('http/1.1')]), 't12i0201h1');
  assert.equal(a([alpnExt('h')]), 't12i0201hh');
  assert.equal(a([alpnExt(String.fromCharCode(0xab, 0xcd))]), 't12i0201ad'); // first/last hex digits
  assert.equal(a([alpnExt('')]), 't12i020100');
  assert.equal(ja4(hello(clientHelloBody({ version: 0x0300, ciphers: [] }))).ja4, 'ts3i000000_000000000000_000000000000');
});

interface Ja4Expectation { source: string; capture: string; ja4: string[]; ja4r: string[] }

/** Arkime session JSON (ja4, ja4_r) and nDPI result lines ([JA4: …]) for TCP TLS captures. */
function expectations(): Ja4Expectation[] {
  const out: Ja4Expectation[] = [];
  const collect = (node: unknown, key: string, acc: string[]): string[] => {
    if (Array.isArray(node)) node.forEach((n) => collect(n, key, acc));
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === key && Array.isArray(v)) acc.push(...v.filter((x): x is string => typeof x === 'string'));
        else collect(v, key, acc);
      }
    }
    return acc;
  };
  const lines = readFileSync(join(repoRoot, 'captures', 'third-party', 'MANIFEST.tsv'), 'utf8').split('\n').slice(1);
  for (const line of lines) {
    const c = line.split('\t');
    if (c.length < 13) continue;
    for (const rel of c[12].split(';').filter(Boolean)) {
      let text: string;
      try { text = readFileSync(join(repoRoot, 'captures', 'third-party', rel), 'utf8'); } catch { continue; }
      const tcp = (x: string) => x.startsWith('t'); // QUIC (q) and DTLS (d) hellos are not TCP streams
      if (c[0] === 'arkime/arkime' && text.includes('"ja4"')) {
        const json = JSON.parse(text) as unknown;
        out.push({ source: 'arkime', capture: c[3], ja4: collect(json, 'ja4', []).filter(tcp), ja4r: collect(json, 'ja4_r', []).filter(tcp) });
      }
      if (c[0] === 'ntop/nDPI') {
        const ja4s = [...text.matchAll(/\[JA4: ([^\]]+)\]/g)].map((m) => m[1]).filter(tcp);
        if (ja4s.length) out.push({ source: 'nDPI', capture: c[3], ja4: ja4s, ja4r: [] });
      }
    }
  }
  return out.filter((e) => e.ja4.length > 0);
}

const sorted = (xs: string[]) => [...xs].sort();
const bc = (x: string) => x.split('_').slice(1).join('_');

test('JA4 equals Arkime (whole fingerprint and raw form) and nDPI (cipher and extension hashes)', async (t) => {
  const all = expectations();
  assert.ok(manifest().length > 0);
  const problems: string[] = [];
  let arkime = 0;
  let ndpi = 0;
  await mapLimit(all, 4, async (e) => {
    const mine: ClientHello[] = [];
    for (const s of await tcpStreams(thirdParty(e.capture))) {
      for (const w of walkConnection(s).directions) {
        for (const { view } of w.views) if (view.kind === 'client_hello') mine.push(view);
      }
    }
    const fps = mine.map((h) => ja4(h));
    if (e.source === 'arkime') {
      if (JSON.stringify(sorted(fps.map((f) => f.ja4))) !== JSON.stringify(sorted(e.ja4))) problems.push(`${e.capture} ja4 ${JSON.stringify(fps.map((f) => f.ja4))} vs ${JSON.stringify(e.ja4)}`);
      if (JSON.stringify(sorted(fps.map((f) => f.ja4_r))) !== JSON.stringify(sorted(e.ja4r))) problems.push(`${e.capture} ja4_r differs`);
      arkime += e.ja4.length;
    } else {
      // nDPI's a-part deviates from JA4.md (SNI flag always "d"; ALPN first two characters,
      // "ht" for http/1.1 where the spec says first and last, "h1"), so only b and c compare.
      // tls_cipher_lens.pcap's damaged hello (cipher_suites overrun) has no defined value.
      if (e.capture.endsWith('tls_cipher_lens.pcap')) return;
      const want = sorted(e.ja4.map(bc));
      const got = sorted(fps.map((f) => bc(f.ja4)));
      if (!want.every((w) => got.includes(w))) problems.push(`${e.capture} nDPI ${JSON.stringify(want)} vs ${JSON.stringify(got)}`);
      ndpi += e.ja4.length;
    }
  });
  t.diagnostic(`JA4 compared: ${arkime} against Arkime, ${ndpi} against nDPI`);
  assert.deepEqual(problems, []);
  assert.ok(arkime >= 20 && ndpi >= 25);
});
