/**
 * The decoders never throw, whatever the bytes (DESIGN.md: "Unknown or malformed input returns a
 * typed malformed result with the offset, never throws"):
 *  - every decoder on random buffers, offsets and ends;
 *  - real frames of the third-party captures (a few of each shape) cut at every length, as a
 *    snaplen would: the result names the layer whose header the cut falls into, at that layer's
 *    offset, and never reports values the whole frame does not have;
 *  - the same frames with random bytes overwritten (mutation fuzzing reaches the deep branches).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCapture } from '../../../src/source/open.js';
import { LINKTYPE, type Frame } from '../../../src/source/frame.js';
import { decodePacket, type Packet } from '../../../src/decode/packet.js';
import { decodeLink } from '../../../src/decode/link.js';
import { decodeIpv4 } from '../../../src/decode/ipv4.js';
import { decodeIpv6 } from '../../../src/decode/ipv6.js';
import { decodeTcp, decodeTcpOptions } from '../../../src/decode/tcp.js';
import { decodeUdp } from '../../../src/decode/udp.js';
import { decodeIcmp } from '../../../src/decode/icmp.js';
import { decodeArp } from '../../../src/decode/arp.js';
import { decodeIgmp } from '../../../src/decode/igmp.js';
import { gtpPayloadOffset, mplsPayload } from '../../../src/decode/tunnel.js';
import { parseIp } from '../../../src/decode/addr.js';
import type { Malformed } from '../../../src/decode/malformed.js';
import { manifest, thirdParty } from '../../helpers.js';

/** xorshift32: deterministic, so a failing case can be replayed from its seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

function randomBuffer(next: () => number, max: number): Buffer {
  const b = Buffer.alloc(next() % (max + 1));
  for (let i = 0; i < b.length; i++) b[i] = next() & 0xff;
  // Plausible first bytes make the decoders go deeper than pure noise would.
  if (b.length > 0 && next() % 2 === 0) b[0] = next() % 2 ? 0x45 : 0x60;
  return b;
}

/** `len`: the buffer's length, or the offset a decoder was asked to start at when beyond it. */
function assertMalformed(m: Malformed, len: number, where: string): void {
  assert.equal(m.kind, 'malformed', where);
  assert.ok(Number.isInteger(m.offset) && m.offset >= 0 && m.offset <= len, `${where}: offset ${m.offset} outside 0..${len}`);
  assert.ok(m.layer.length > 0 && m.reason.length > 0, where);
}

const LINK_TYPES = [LINKTYPE.NULL, LINKTYPE.ETHERNET, LINKTYPE.RAW, LINKTYPE.LOOP, LINKTYPE.LINUX_SLL, LINKTYPE.IPV4, LINKTYPE.IPV6,
  LINKTYPE.NFLOG, LINKTYPE.LINUX_SLL2, 12, 14, 105, 9999];

test('every decoder on random bytes: no throw, malformed offsets inside the buffer, sane views', () => {
  const next = rng(0xfa017);
  for (let i = 0; i < 30000; i++) {
    const b = randomBuffer(next, 96);
    const off = next() % (b.length + 3);
    const end = Math.min(b.length, off + (next() % 80));
    const where = `case ${i} len ${b.length} off ${off} end ${end}`;
    const lim = Math.max(b.length, off);
    for (const lt of LINK_TYPES) {
      const l = decodeLink(b, lt);
      if (l === null) continue;
      if (l.kind === 'malformed') assertMalformed(l, b.length, `${where} link ${lt}`);
      else assert.ok(l.offset >= 0 && l.offset <= b.length, `${where} link ${lt}: offset ${l.offset}`);
    }
    const v4 = decodeIpv4(b, off);
    if (v4.kind === 'malformed') assertMalformed(v4, lim, where);
    else {
      assert.ok(off + 20 <= v4.payloadOffset && v4.payloadOffset <= v4.payloadEnd && v4.payloadEnd <= b.length, where);
      assert.ok(parseIp(v4.src) && parseIp(v4.dst), where);
    }
    const v6 = decodeIpv6(b, off);
    if (v6.kind === 'malformed') assertMalformed(v6, lim, where);
    else {
      assert.ok(off + 40 <= v6.payloadOffset && v6.payloadOffset <= v6.payloadEnd && v6.payloadEnd <= b.length, where);
      assert.ok(parseIp(v6.src) && parseIp(v6.dst), where);
    }
    const tcp = decodeTcp(b, off, end, end + (next() % 100));
    if (tcp.kind === 'malformed') assertMalformed(tcp, lim, where);
    else {
      assert.ok(tcp.payloadOffset <= end && tcp.payloadLength >= 0 && tcp.segmentLength >= 0, where);
      const opts = decodeTcpOptions(b, off, tcp.headerLength);
      if ('kind' in opts) assertMalformed(opts, lim, where);
      else assert.ok(opts.kinds.every((k) => Number.isInteger(k)), `${where}: option kinds ${opts.kinds}`);
    }
    const opts = decodeTcpOptions(b, off, 20 + 4 * (next() % 11));
    if ('kind' in opts) assertMalformed(opts, lim, where);
    else assert.ok(opts.kinds.every((k) => Number.isInteger(k)), `${where}: option kinds ${opts.kinds}`);
    const udp = decodeUdp(b, off, end);
    if (udp.kind === 'malformed') assertMalformed(udp, lim, where);
    else assert.ok(udp.payloadLength >= 0 && udp.payloadOffset + udp.payloadLength <= end, where);
    for (const version of [4, 6] as const) {
      const icmp = decodeIcmp(b, off, end, version);
      if (icmp.kind === 'malformed') assertMalformed(icmp, lim, where);
      else if (icmp.quoted) assert.ok(parseIp(icmp.quoted.src) && parseIp(icmp.quoted.dst), where);
    }
    const arp = decodeArp(b, off);
    if (arp.kind === 'malformed') assertMalformed(arp, lim, where);
    const igmp = decodeIgmp(b, off, end);
    if (igmp.kind === 'malformed') assertMalformed(igmp, lim, where);
    const mpls = mplsPayload(b, off);
    if (mpls !== null && mpls.kind === 'malformed') assertMalformed(mpls, lim, where);
    else if (mpls !== null) assert.ok(mpls.offset < b.length, where);
    const gtp = gtpPayloadOffset(b, off, end);
    assert.ok(gtp === -1 || (gtp > off && gtp < end), `${where}: GTP payload at ${gtp}`);
  }
});

function frameOf(data: Buffer, linkType: number, origLen = data.length): Frame {
  return { no: 1, ts: 0, linkType, caplen: data.length, origLen, data, iface: 0, offset: 0 };
}

/** A frame's shape: captures are sampled a few frames per shape. */
function shape(p: Packet): string {
  const n = p.net, t = p.transport;
  const ext = n && n.kind === 'ipv6' ? n.extensions.join('.') : n && n.kind === 'ipv4' ? String(n.optionsLength) : '';
  return [p.frame.linkType, p.link?.vlans?.length ?? 0, p.link?.etherType, n?.kind, ext, t?.kind, p.tunnels?.join('/'), p.fragment, p.malformed?.layer].join('|');
}

async function sampleFrames(perShape: number): Promise<Frame[]> {
  const seen = new Map<string, number>();
  const out: Frame[] = [];
  for (const e of manifest()) {
    if (e.frames === 0 || e.linkType.startsWith('unreadable') || e.localPath.endsWith('.zst')) continue;
    try {
      await readCapture(thirdParty(e.localPath), {
        frame: (f) => {
          const p = decodePacket(f);
          if (p.link === null) return;
          const s = shape(p);
          const k = seen.get(s) ?? 0;
          if (k >= perShape) return;
          seen.set(s, k + 1);
          out.push({ ...f, data: Buffer.from(f.data) });
        },
        warning: () => {},
      });
    } catch {
      // captures the reader refuses are its tests' concern
    }
  }
  return out;
}

const LINK_HEADER: Record<number, [string, number]> = {
  [LINKTYPE.ETHERNET]: ['eth', 14], [LINKTYPE.LINUX_SLL]: ['sll', 16], [LINKTYPE.LINUX_SLL2]: ['sll2', 20],
  [LINKTYPE.NULL]: ['null', 4], [LINKTYPE.LOOP]: ['null', 4], [LINKTYPE.RAW]: ['raw', 1], [LINKTYPE.IPV4]: ['raw', 1],
  [LINKTYPE.IPV6]: ['raw', 1], 12: ['raw', 1], 14: ['raw', 1],
};

/**
 * Where a cut at n must be reported, for frames of a plain shape (one link header with its
 * tags, IPv4 or IPv6 without extension headers or ARP, then TCP/UDP/ICMP/IGMP): the first
 * header the n bytes do not hold entirely, at its own offset; null when n holds them all.
 * Other shapes (tunnels, VN-Tag, LLC, extension headers) get the generic checks only.
 */
function expectedCut(full: Packet, n: number): { layer: string; offset: number } | null | 'unknown' {
  const link = full.link;
  const lh = LINK_HEADER[full.frame.linkType];
  if (!link || !lh || full.tunnels || full.malformed) return 'unknown';
  const tags = link.vlans?.length ?? 0;
  const base = full.frame.linkType === LINKTYPE.RAW || lh[0] === 'raw' ? 0 : lh[1];
  if (link.offset !== base + 4 * tags) return 'unknown'; // VN-Tag, SNAP
  if (n < lh[1]) return { layer: lh[0], offset: 0 };
  for (let i = 0; i < tags; i++) if (n < base + 4 * (i + 1)) return { layer: 'vlan', offset: base + 4 * i };
  const net = full.net, o = link.offset;
  if (net === null) return 'unknown';
  if (net.kind === 'arp') return n < o + 28 ? { layer: 'arp', offset: o } : null;
  if (net.kind === 'ipv6' && net.extensions.length > 0) return 'unknown';
  const hdr = net.kind === 'ipv4' ? net.headerLength : 40;
  if (n < o + hdr) return { layer: net.kind, offset: o };
  const t = full.transport;
  if (t === null) return full.fragment || net.protocol !== 6 && net.protocol !== 17 ? null : 'unknown';
  const l4 = net.payloadOffset;
  const min = t.kind === 'tcp' ? 20 : 8;
  const layer = t.kind === 'icmp' ? (t.version === 4 ? 'icmp' : 'icmpv6') : t.kind;
  if (n < l4 + min) return { layer, offset: l4 };
  // An IGMPv3 report cut inside its records is malformed at a record: checked generically.
  return t.kind === 'igmp' && t.type === 0x22 ? 'unknown' : null;
}

test('real frames cut at every length: the malformed layer and offset are where the cut falls', async (t) => {
  const frames = await sampleFrames(3);
  assert.ok(frames.length > 150, `only ${frames.length} sample frames`);
  let cuts = 0, exact = 0, malformedCuts = 0;
  for (const f of frames) {
    const full = decodePacket(f);
    for (let n = 0; n < f.data.length; n++) {
      const where = `${f.no}@${f.linkType} (${shape(full)}) cut at ${n} of ${f.data.length}`;
      const cut = decodePacket(frameOf(f.data.subarray(0, n), f.linkType, f.origLen));
      cuts++;
      if (cut.malformed) {
        malformedCuts++;
        assert.ok(cut.malformed.offset <= n, `${where}: malformed at ${cut.malformed.offset}, past the cut`);
      } else if (!full.tunnels) {
        // Cutting never changes what was read: whatever survives the cut equals the whole frame's.
        if (cut.net && cut.net.kind !== 'arp' && full.net && full.net.kind !== 'arp') {
          assert.deepEqual([cut.net.src, cut.net.dst, cut.net.protocol], [full.net.src, full.net.dst, full.net.protocol], where);
        }
        const a = cut.transport, b = full.transport;
        if ((a?.kind === 'tcp' || a?.kind === 'udp') && b && (b.kind === 'tcp' || b.kind === 'udp')) {
          assert.deepEqual([a.kind, a.srcPort, a.dstPort], [b.kind, b.srcPort, b.dstPort], where);
        }
      }
      const want = expectedCut(full, n);
      if (want === 'unknown') continue;
      exact++;
      if (want === null) assert.equal(cut.malformed, null, `${where}: ${cut.malformed?.reason}`);
      else assert.deepEqual([cut.malformed?.layer, cut.malformed?.offset], [want.layer, want.offset], `${where}: ${cut.malformed?.reason}`);
    }
  }
  t.diagnostic(`${frames.length} frames of ${new Set(frames.map((f) => shape(decodePacket(f)))).size} shapes, ${cuts} cuts, ${exact} checked for the exact layer and offset, ${malformedCuts} malformed`);
});

test('real frames with random bytes overwritten: no throw, offsets inside the frame, addresses that parse', async (t) => {
  const frames = await sampleFrames(2);
  const next = rng(0xdec0de);
  let runs = 0;
  for (const f of frames) {
    for (let i = 0; i < 150; i++) {
      const data = Buffer.from(f.data);
      const flips = 1 + (next() % 4);
      for (let k = 0; k < flips; k++) {
        // Mostly in the headers, where the decisions are.
        const at = next() % Math.min(data.length, next() % 4 === 0 ? data.length : 80);
        data[at] = next() & 0xff;
      }
      const len = next() % 3 === 0 ? next() % (data.length + 1) : data.length;
      const p = decodePacket(frameOf(data.subarray(0, len), f.linkType, f.origLen));
      runs++;
      const where = `frame ${f.no} link ${f.linkType} mutation ${i}`;
      if (p.malformed) assertMalformed(p.malformed, len, where);
      if (p.net && p.net.kind !== 'arp') assert.ok(parseIp(p.net.src) && parseIp(p.net.dst), where);
      const tr = p.transport;
      if (tr && (tr.kind === 'tcp' || tr.kind === 'udp')) assert.ok(tr.payloadOffset + tr.payloadLength <= len, where);
      if (tr && tr.kind === 'tcp') {
        const opts = decodeTcpOptions(data.subarray(0, len), tr.payloadOffset - Math.min(tr.headerLength, tr.payloadOffset), tr.headerLength);
        if ('kind' in opts) assertMalformed(opts, len, where);
      }
    }
  }
  t.diagnostic(`${runs} mutated frames decoded`);
});
