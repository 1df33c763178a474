/**
 * Address text (src/decode/addr.ts): RFC 5952 canonical IPv6, dotted IPv4, MAC text, and
 * parseIp/canonicalIp round trips; plus a comparison with how tshark 4.0 prints the same
 * IPv6 addresses, with the one place where it deliberately differs from RFC 5952.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalIp, ipv4Text, ipv6Text, macAt, macText, parseIp } from '../../../src/decode/addr.js';
import { PcapWriter } from '../../../src/source/pcap-writer.js';

const TSHARK = '/usr/bin/tshark';

function words(...w: number[]): Buffer {
  const b = Buffer.alloc(16);
  w.forEach((x, i) => b.writeUInt16BE(x, i * 2));
  return b;
}

test('RFC 5952 §4 and §5 examples', () => {
  // §4.1 leading zeros suppressed; §4.2.1 the longest run shortened as far as possible.
  assert.equal(canonicalIp('2001:0db8::0001'), '2001:db8::1');
  assert.equal(canonicalIp('2001:db8:0:0:0:0:2:1'), '2001:db8::2:1');
  // §4.2.2 a single 16-bit 0 field is not shortened.
  assert.equal(canonicalIp('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
  // §4.2.3 the longest run wins; on a tie, the first.
  assert.equal(canonicalIp('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1');
  assert.equal(canonicalIp('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  // §4.3 lower case.
  assert.equal(canonicalIp('2001:DB8::ABCD'), '2001:db8::abcd');
  // §2.1/§2.2: the many ways of writing one address collapse to one text.
  for (const t of ['2001:db8:0:0:1:0:0:1', '2001:0db8:0:0:1:0:0:1', '2001:db8::1:0:0:1', '2001:db8::0:1:0:0:1', '2001:0db8::1:0:0:1',
    '2001:db8:0:0:1::1', '2001:db8:0000:0:1::1', '2001:DB8:0:0:1::1']) {
    assert.equal(canonicalIp(t), '2001:db8::1:0:0:1', t);
  }
  // §5 IPv4-mapped addresses keep the dotted tail.
  assert.equal(canonicalIp('::ffff:192.0.2.1'), '::ffff:192.0.2.1');
  assert.equal(canonicalIp('0:0:0:0:0:ffff:c000:0201'), '::ffff:192.0.2.1');
  // Edges: all zero, loopback, runs at either end, no run at all.
  assert.equal(ipv6Text(words(), 0), '::');
  assert.equal(ipv6Text(words(0, 0, 0, 0, 0, 0, 0, 1), 0), '::1');
  assert.equal(ipv6Text(words(1), 0), '1::');
  assert.equal(ipv6Text(words(0xfe80, 0, 0, 0, 1, 0, 0, 0), 0), 'fe80::1:0:0:0');
  assert.equal(ipv6Text(words(1, 2, 3, 4, 5, 6, 7, 8), 0), '1:2:3:4:5:6:7:8');
  assert.equal(ipv6Text(words(0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff), 0), 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
  // ipv6Text reads at an offset, as in a packet.
  const pkt = Buffer.concat([Buffer.alloc(8, 0xaa), words(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10)]);
  assert.equal(ipv6Text(pkt, 8), '2001:db8::10');
});

test('IPv4 and MAC text', () => {
  const b = Buffer.from([0, 10, 0, 0, 1, 255]);
  assert.equal(ipv4Text(b, 1), '10.0.0.1');
  assert.equal(ipv4Text(b, 2), '0.0.1.255');
  const mac = Buffer.from('ff02bf0a0001ee', 'hex');
  assert.equal(macAt(mac, 1), 0x02bf0a0001ee);
  assert.equal(macText(macAt(mac, 1)), '02:bf:0a:00:01:ee');
  assert.equal(macText(0), '00:00:00:00:00:00');
  assert.equal(macText(0xffffffffffff), 'ff:ff:ff:ff:ff:ff');
});

test('parseIp rejects what is not an address', () => {
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.-1', 'a.b.c.d', ':', ':::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9',
    '1::2::3', '12345::1', 'g::1', '::1%eth0', '1:2:3:4:5:6:7:8::', '::a1.2.3.4', '1::2:3:4:5:6:7:1.2.3.4', '::1.2.3.256', 'fe80::/64', ' ::1']) {
    assert.equal(parseIp(bad), null, JSON.stringify(bad));
  }
  assert.equal(canonicalIp('x'), null);
  // Valid forms with an embedded IPv4 tail (RFC 4291 §2.2 form 3).
  assert.deepEqual(parseIp('1:2:3:4:5:6:1.2.3.4'), words(1, 2, 3, 4, 5, 6, 0x0102, 0x0304));
  assert.deepEqual(parseIp('::1.2.3.4'), words(0, 0, 0, 0, 0, 0, 0x0102, 0x0304));
  assert.deepEqual(parseIp('1:2:3:4:5:6:7::'), words(1, 2, 3, 4, 5, 6, 7, 0));
  assert.deepEqual(parseIp('::2:3:4:5:6:7:8'), words(0, 2, 3, 4, 5, 6, 7, 8));
  assert.deepEqual(parseIp('192.0.2.255'), Buffer.from([192, 0, 2, 255]));
});

/** Deterministic pseudo-random numbers (xorshift32) so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

/** Random addresses rich in zero runs (the interesting part of RFC 5952). */
function randomV6(next: () => number): Buffer {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(next() % 3 === 0 ? next() & 0xffff : next() % 2 === 0 ? 0 : next() & 0x00ff);
  return words(...w);
}

test('parseIp(ipv6Text(x)) and parseIp(ipv4Text(x)) give x back; canonical text is a fixed point', () => {
  const next = rng(5952);
  for (let i = 0; i < 20000; i++) {
    const b = randomV6(next);
    const text = ipv6Text(b, 0);
    assert.deepEqual(parseIp(text), b, text);
    assert.equal(canonicalIp(text), text);
    assert.equal(canonicalIp(text.toUpperCase()), text);
    const v4 = Buffer.alloc(4);
    v4.writeUInt32BE(next(), 0);
    assert.deepEqual(parseIp(ipv4Text(v4, 0)), v4);
  }
});

/**
 * tshark prints an IPv4-compatible address (first 96 bits zero, RFC 4291 §2.5.5.1, deprecated)
 * as ::a.b.c.d when its 7th word is not zero, the old inet_ntop habit. RFC 5952 §5 keeps mixed
 * notation for IPv4-mapped addresses only, and so do we: that difference is asserted below.
 */
function tsharkCompatForm(b: Buffer): boolean {
  for (let i = 0; i < 12; i++) if (b[i] !== 0) return false;
  return b.readUInt16BE(12) !== 0;
}

test('ipv6Text prints what tshark prints (random addresses and the RFC 5952 examples)', (t) => {
  assert.ok(existsSync(TSHARK), `${TSHARK} is missing: install the Debian package "tshark" (apt-get install tshark)`);
  const next = rng(4291);
  const addrs: Buffer[] = [];
  for (let i = 0; i < 400; i++) addrs.push(randomV6(next));
  for (const text of ['2001:db8::2:1', '2001:db8:0:1:1:1:1:1', '2001:0:0:1::1', '2001:db8::1:0:0:1', '::ffff:192.0.2.1', '::', '::1',
    '::2', '::ffff', '::1.2.3.4', '::0.1.0.0', '::ffff:0:0', '64:ff9b::192.0.2.33', '::ffff:0:192.0.2.1', 'fe80::1:0:0:0', '1::']) {
    addrs.push(parseIp(text)!);
  }
  const dir = mkdtempSync(join(tmpdir(), 'faultline-addr-'));
  try {
    const path = join(dir, 'v6.pcap');
    const w = new PcapWriter(path, 101); // LINKTYPE_RAW: bare IPv6 headers, next header 59 (none)
    addrs.forEach((a, i) => {
      const h = Buffer.alloc(40);
      h.writeUInt32BE(0x60000000, 0);
      h[6] = 59;
      h[7] = 64;
      a.copy(h, 8);
      words(0x2001, 0xdb8).copy(h, 24);
      w.write(1_700_000_000_000_000 + i, h);
    });
    w.close();
    const out = execFileSync(TSHARK, ['-r', path, '-n', '-T', 'fields', '-e', 'ipv6.src'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n').filter(Boolean);
    assert.equal(out.length, addrs.length);
    let compat = 0;
    addrs.forEach((a, i) => {
      const ours = ipv6Text(a, 0);
      if (tsharkCompatForm(a)) {
        assert.equal(out[i], '::' + ipv4Text(a, 12), `tshark's form of ${ours}`);
        assert.deepEqual(parseIp(out[i]), a, 'its text still parses to the same bytes');
        compat++;
      } else {
        assert.equal(ours, out[i]);
      }
    });
    t.diagnostic(`${addrs.length} addresses compared, ${compat} IPv4-compatible ones printed ::a.b.c.d by tshark (RFC 5952 form here)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
