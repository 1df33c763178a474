/**
 * ICMP and ICMPv6 messages, and the original header an error quotes (RFC 792, RFC 1191,
 * RFC 4443 §2.4: "as much of invoking packet as possible"), checked against tshark 4.0.
 *
 * The third-party captures hold only two ICMP errors, so this test writes its own: errors of
 * every kind quoting UDP, TCP, IP options, IPv6 extension headers, first and later fragments,
 * and quotes cut at every interesting length. tshark decodes the file; in its output the outer
 * header is the first occurrence of ip.src/ipv6.src and the quoted one the second, and the
 * quoted ports are the first (only) tcp/udp occurrences. Our decodeIcmp must agree on type,
 * code, MTU, and the quoted src, dst, protocol, ports and TCP sequence number.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapWriter } from '../../../src/source/pcap-writer.js';
import { readCapture } from '../../../src/source/open.js';
import { decodePacket, type Packet } from '../../../src/decode/packet.js';
import { decodeIcmp } from '../../../src/decode/icmp.js';
import { parseIp } from '../../../src/decode/addr.js';
import { manifest, thirdParty } from '../../helpers.js';

const TSHARK = '/usr/bin/tshark';

// ---- frame builders (RFC 791, RFC 8200, RFC 9293, RFC 768) ------------------------------------

function ip(text: string): Buffer {
  const b = parseIp(text);
  assert.ok(b, text);
  return b;
}

function ipv4(src: string, dst: string, proto: number, payload: Buffer, o: { fragWord?: number; options?: Buffer; total?: number } = {}): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const h = Buffer.alloc(20 + opts.length);
  h[0] = 0x40 | ((20 + opts.length) / 4);
  h.writeUInt16BE(o.total ?? h.length + payload.length, 2);
  h.writeUInt16BE(0x1234, 4);
  h.writeUInt16BE(o.fragWord ?? 0, 6);
  h[8] = 64;
  h[9] = proto;
  ip(src).copy(h, 12);
  ip(dst).copy(h, 16);
  opts.copy(h, 20);
  return Buffer.concat([h, payload]);
}

function ipv6(src: string, dst: string, next: number, payload: Buffer, declared?: number): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(declared ?? payload.length, 4);
  h[6] = next;
  h[7] = 64;
  ip(src).copy(h, 8);
  ip(dst).copy(h, 24);
  return Buffer.concat([h, payload]);
}

function udp(sp: number, dp: number, data = Buffer.alloc(12)): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sp, 0);
  h.writeUInt16BE(dp, 2);
  h.writeUInt16BE(8 + data.length, 4);
  return Buffer.concat([h, data]);
}

function tcp(sp: number, dp: number, seq: number): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sp, 0);
  h.writeUInt16BE(dp, 2);
  h.writeUInt32BE(seq, 4);
  h[12] = 0x50;
  h[13] = 0x02;
  h.writeUInt16BE(65535, 14);
  return h;
}

/** An IPv6 extension header (hop-by-hop, destination options: padded to 8 bytes). */
function ext(next: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = next;
  h[2] = 1; // PadN option filling the 6 option bytes
  h[3] = 4;
  return h;
}

function fragHdr(next: number, offsetBytes: number, more: boolean): Buffer {
  const h = Buffer.alloc(8);
  h[0] = next;
  h.writeUInt16BE(offsetBytes | (more ? 1 : 0), 2);
  h.writeUInt32BE(0xabcdef, 4);
  return h;
}

function icmp(type: number, code: number, rest: number, body: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = type;
  h[1] = code;
  h.writeUInt32BE(rest >>> 0, 4);
  return Buffer.concat([h, body]);
}

function eth(type: number, payload: Buffer): Buffer {
  const h = Buffer.from('00005e005301' + '00005e005302', 'hex');
  const t = Buffer.alloc(2);
  t.writeUInt16BE(type, 0);
  return Buffer.concat([h, t, payload]);
}

const v4 = (inner: Buffer): Buffer => eth(0x0800, ipv4('198.51.100.1', '192.0.2.10', 1, inner));
const v6 = (inner: Buffer): Buffer => eth(0x86dd, ipv6('2001:db8:ffff::1', '2001:db8::10', 58, inner));

/** The frames: each an ICMP message as routers and hosts send them. */
function frames(): Buffer[] {
  const q4udp = ipv4('192.0.2.10', '203.0.113.5', 17, udp(40000, 53));
  const q4tcp = ipv4('192.0.2.10', '203.0.113.5', 6, tcp(51515, 21, 0xdeadbeef));
  const q6udp = ipv6('2001:db8::10', '2001:db8:5::5', 17, udp(40001, 53));
  const q6tcp = ipv6('2001:db8::10', '2001:db8:5::5', 6, tcp(51516, 990, 0x01020304));
  return [
    v4(icmp(8, 0, 0x00010001, Buffer.alloc(16))), // echo request: no quote
    v4(icmp(0, 0, 0x00010001, Buffer.alloc(16))), // echo reply
    v4(icmp(3, 3, 0, q4udp)), // port unreachable, full quote
    v4(icmp(3, 1, 0, q4tcp)), // host unreachable quoting a SYN
    v4(icmp(3, 4, 1400, q4tcp)), // fragmentation needed, next-hop MTU 1400 (RFC 1191)
    v4(icmp(11, 0, 0, q4udp)), // TTL exceeded (traceroute)
    v4(icmp(5, 1, 0xc0000201, q4tcp)), // redirect for host
    v4(icmp(12, 0, 0, q4udp)), // parameter problem
    v4(icmp(3, 3, 0, q4tcp.subarray(0, 28))), // RFC 792 minimum quote: IP header + 8 bytes
    v4(icmp(3, 3, 0, q4tcp.subarray(0, 24))), // quote reaching the ports only
    v4(icmp(3, 3, 0, q4tcp.subarray(0, 22))), // quote cut inside the ports
    v4(icmp(3, 3, 0, q4tcp.subarray(0, 20))), // IP header only
    v4(icmp(3, 3, 0, ipv4('192.0.2.10', '203.0.113.5', 17, udp(40002, 123), { options: Buffer.from([0x94, 0x04, 0, 0]) }))), // router alert option
    v4(icmp(3, 3, 0, ipv4('192.0.2.10', '203.0.113.5', 17, udp(40003, 53), { fragWord: 0x2000 }))), // first fragment
    v4(icmp(11, 1, 0, ipv4('192.0.2.10', '203.0.113.5', 17, udp(40004, 53), { fragWord: 185 }))), // later fragment: payload bytes, no ports
    v6(icmp(128, 0, 0x00020001, Buffer.alloc(16))), // echo request
    v6(icmp(1, 4, 0, q6udp)), // port unreachable
    v6(icmp(1, 0, 0, q6tcp)), // no route, quoting a SYN
    v6(icmp(2, 0, 1280, q6tcp)), // packet too big, 32-bit MTU (RFC 4443 §3.2)
    v6(icmp(3, 0, 0, q6udp)), // hop limit exceeded
    v6(icmp(4, 1, 40, q6udp)), // parameter problem
    v6(icmp(1, 4, 0, q6tcp.subarray(0, 48))), // quote: header + 8 bytes (ports and sequence number)
    v6(icmp(1, 4, 0, q6tcp.subarray(0, 40))), // header only
    v6(icmp(2, 0, 1280, ipv6('2001:db8::10', '2001:db8:5::5', 44, Buffer.concat([fragHdr(17, 0, true), udp(40005, 53)]), 1400))), // first fragment
    v6(icmp(1, 4, 0, ipv6('2001:db8::10', '2001:db8:5::5', 44, Buffer.concat([fragHdr(17, 1232, false), udp(40006, 53)])))), // later fragment
    v6(icmp(1, 4, 0, ipv6('2001:db8::10', '2001:db8:5::5', 0, Buffer.concat([ext(60), ext(6), tcp(51517, 443, 7)])))), // hop-by-hop + dest opts
    v6(icmp(3, 0, 0, ipv6('2001:db8::10', 'ff02::16', 0, Buffer.concat([ext(17), udp(40007, 5353)])))),
    v6(icmp(135, 0, 0, Buffer.alloc(16))), // neighbour solicitation: informational
  ];
}

// ---- tshark's view -----------------------------------------------------------------------------

const FIELDS = ['frame.number', 'frame.protocols', 'ip.src', 'ip.dst', 'ip.proto', 'ipv6.src', 'ipv6.dst', 'icmp.type', 'icmp.code',
  'icmpv6.type', 'icmpv6.code', 'icmp.mtu', 'icmpv6.mtu', 'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport', 'tcp.seq_raw', 'tcp.seq'];

interface Expected {
  frame: number; type: number; code: number; mtu: number;
  quoted: { src: string; dst: string; protocol: number | null; srcPort: number; dstPort: number; tcpSeq: number | null } | null;
}

function tsharkExpected(path: string, filter?: string): Expected[] {
  const out = execFileSync(TSHARK, ['-r', path, '-n', '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE',
    ...(filter ? ['-Y', filter] : []), '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,',
    ...FIELDS.flatMap((f) => ['-e', f])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const list: Expected[] = [];
  for (const line of out.split('\n')) {
    if (!line) continue;
    const c = Object.fromEntries(line.split('\t').map((v, i) => [FIELDS[i], v ? v.split(',') : []])) as Record<string, string[]>;
    const tokens = c['frame.protocols'][0].split(':');
    const six = c['icmpv6.type'].length > 0;
    const type = Number(six ? c['icmpv6.type'][0] : c['icmp.type'][0]);
    const code = Number(six ? c['icmpv6.code'][0] : c['icmp.code'][0]);
    const mtuField = six ? c['icmpv6.mtu'] : c['icmp.mtu'];
    const e: Expected = { frame: Number(c['frame.number'][0]), type, code, mtu: mtuField.length ? Number(mtuField[0]) : -1, quoted: null };
    const at = tokens.indexOf(six ? 'icmpv6' : 'icmp');
    const qTok = tokens[at + 1];
    if (qTok === 'ip' || qTok === 'ipv6') {
      const src = qTok === 'ip' ? c['ip.src'] : c['ipv6.src'];
      const dst = qTok === 'ip' ? c['ip.dst'] : c['ipv6.dst'];
      // The quoted header is the second occurrence when outer and quote share the family.
      const i = (qTok === 'ip') === !six ? 1 : 0;
      const l4 = tokens.slice(at + 2).find((tk) => tk === 'tcp' || tk === 'udp' || tk === 'data');
      const ports = l4 === 'tcp' || l4 === 'udp' ? [Number(c[`${l4}.srcport`][0]), Number(c[`${l4}.dstport`][0])] : [-1, -1];
      const protocol = qTok === 'ip' ? Number(c['ip.proto'][i]) : l4 === 'tcp' ? 6 : l4 === 'udp' ? 17 : null;
      // Inside an ICMP error tshark shows the sequence number as is, in tcp.seq (no tcp.seq_raw).
      // tshark 4.0 stops after the ports of an 8-byte TCP quote inside ICMPv6 (not ICMPv4):
      // null then means "tshark does not say" and the frame's own value is checked instead.
      const seqText = c['tcp.seq_raw'][0] ?? c['tcp.seq'][0];
      const seq = l4 !== 'tcp' ? -1 : seqText !== undefined ? Number(seqText) : null;
      e.quoted = { src: src[i], dst: dst[i], protocol, srcPort: ports[0], dstPort: ports[1], tcpSeq: seq };
    }
    list.push(e);
  }
  return list;
}

/** RFC 792 / RFC 4443 §2.1: which types are errors (and quote the invoking packet). */
function isErrorType(version: 4 | 6, type: number): boolean {
  return version === 4 ? [3, 4, 5, 11, 12].includes(type) : type < 128;
}

/** `seqInQuote`: the sequence number a synthetic quote holds in full, to check what tshark omits. */
function check(pkt: Packet, e: Expected, where: string, seqInQuote = -1): number {
  const m = pkt.transport;
  assert.ok(m && m.kind === 'icmp', `${where}: not decoded as ICMP (${pkt.malformed?.reason})`);
  assert.equal(m.type, e.type, `${where}: type`);
  assert.equal(m.code, e.code, `${where}: code`);
  assert.equal(m.mtu, e.mtu, `${where}: MTU`);
  assert.equal(m.isError, isErrorType(m.version, m.type), `${where}: error or informational`);
  let fields = 4;
  if (e.quoted === null) {
    assert.equal(m.quoted, null, `${where}: quote`);
    return fields;
  }
  assert.ok(m.quoted, `${where}: quote missing`);
  const q = m.quoted;
  assert.equal(q.src, e.quoted.src, `${where}: quoted source`);
  assert.equal(q.dst, e.quoted.dst, `${where}: quoted destination`);
  if (e.quoted.protocol !== null) { assert.equal(q.protocol, e.quoted.protocol, `${where}: quoted protocol`); fields++; }
  assert.equal(q.srcPort, e.quoted.srcPort, `${where}: quoted source port`);
  assert.equal(q.dstPort, e.quoted.dstPort, `${where}: quoted destination port`);
  if (e.quoted.tcpSeq === null) assert.equal(q.tcpSeq, seqInQuote, `${where}: quoted TCP sequence number`);
  else assert.equal(q.tcpSeq, e.quoted.tcpSeq, `${where}: quoted TCP sequence number`);
  return fields + 5;
}

test('ICMP/ICMPv6 type, code, MTU and the quoted header of errors equal tshark (synthetic errors of every kind)', (t) => {
  assert.ok(existsSync(TSHARK), `${TSHARK} is missing: install the Debian package "tshark" (apt-get install tshark)`);
  const dir = mkdtempSync(join(tmpdir(), 'faultline-icmp-'));
  try {
    const path = join(dir, 'icmp.pcap');
    const list = frames();
    const w = new PcapWriter(path, 1);
    list.forEach((f, i) => w.write(1_700_000_000_000_000 + i, f));
    w.close();
    const expected = tsharkExpected(path);
    assert.equal(expected.length, list.length);
    let fields = 0, quotes = 0;
    list.forEach((data, i) => {
      const pkt = decodePacket({ no: i + 1, ts: 0, linkType: 1, caplen: data.length, origLen: data.length, data, iface: 0, offset: 0 });
      // Frame 22 quotes ports and sequence number (0x01020304) of q6tcp, tshark only the ports.
      fields += check(pkt, expected[i], `synthetic frame ${i + 1}`, i + 1 === 22 ? 0x01020304 : -1);
      if (expected[i].quoted) quotes++;
    });
    t.diagnostic(`${list.length} ICMP messages, ${quotes} quoting a header, ${fields} fields compared`);
    assert.ok(quotes >= 20);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the ICMP errors of the third-party captures quote what tshark says they quote', async (t) => {
  const filter = 'icmp.type in {3, 4, 5, 11, 12} || icmpv6.type < 128';
  let n = 0, fields = 0;
  for (const e of manifest()) {
    if (e.frames === 0 || e.linkType.startsWith('unreadable') || e.localPath.endsWith('.zst')) continue;
    const errors = new Map<number, Packet>();
    try {
      await readCapture(thirdParty(e.localPath), {
        frame: (f) => {
          const p = decodePacket({ ...f, data: Buffer.from(f.data) });
          if (p.transport?.kind === 'icmp' && p.transport.isError) errors.set(f.no, p);
        },
        warning: () => {},
      });
    } catch {
      continue; // files the reader refuses are its own tests' business
    }
    if (errors.size === 0) continue;
    const truth = tsharkExpected(thirdParty(e.localPath), filter);
    assert.deepEqual([...errors.keys()], truth.map((x) => x.frame), `${e.localPath}: frames holding ICMP errors`);
    for (const x of truth) { fields += check(errors.get(x.frame)!, x, `${e.localPath} frame ${x.frame}`); n++; }
  }
  t.diagnostic(`${n} ICMP errors in the captures, ${fields} fields compared`);
  assert.ok(n >= 2);
});

test('decodeIcmp never reads past `end` (the IP payload end), even when the buffer goes on', () => {
  // An Ethernet trailer after the datagram must not be mistaken for the quote's ports.
  const quote = ipv4('192.0.2.10', '203.0.113.5', 17, udp(1, 2)).subarray(0, 20);
  const msg = icmp(3, 3, 0, quote);
  const withTrailer = Buffer.concat([msg, Buffer.from([0x12, 0x34, 0x56, 0x78])]);
  const r = decodeIcmp(withTrailer, 0, msg.length, 4);
  assert.ok(r.kind === 'icmp' && r.quoted);
  assert.deepEqual([r.quoted.srcPort, r.quoted.dstPort, r.quoted.tcpSeq], [-1, -1, -1]);
  // And a quote shorter than an IP header is no quote (RFC 792 requires header + 8 bytes).
  const short = decodeIcmp(icmp(3, 3, 0, quote.subarray(0, 19)), 0, 27, 4);
  assert.ok(short.kind === 'icmp');
  assert.equal(short.quoted, null);
  // Fewer than 8 bytes: malformed at the ICMP header, naming ICMPv6 for version 6.
  assert.deepEqual(decodeIcmp(Buffer.alloc(7), 0, 7, 6), { kind: 'malformed', layer: 'icmpv6', offset: 0, reason: 'ICMP header cut short' });
  assert.deepEqual(decodeIcmp(Buffer.alloc(20), 12, 19, 4), { kind: 'malformed', layer: 'icmp', offset: 12, reason: 'ICMP header cut short' });
});
