/**
 * Hand-built frames for each decoder's edge cases, expectations from the protocol documents:
 * Ethernet/802.1Q/802.1ad/VN-Tag/LLC-SNAP (IEEE 802.3, 802.1Q, RFC 1042), Linux cooked v1/v2,
 * NULL/LOOP, raw IP, NFLOG; IPv4 (RFC 791), IPv6 and its extension headers (RFC 8200, RFC 4302);
 * TCP and its options (RFC 9293, RFC 7323, RFC 2018), UDP (RFC 768); ARP (RFC 826); IGMP v1/v2/v3
 * (RFC 1112, RFC 2236, RFC 3376); MPLS (RFC 3032), GTP-U (3GPP TS 29.281); and decodePacket's
 * composition (fragments, IP-in-IP, tunnels). Truncations report the layer and its offset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLink, type LinkLayer } from '../../../src/decode/link.js';
import { decodeIpv4 } from '../../../src/decode/ipv4.js';
import { decodeIpv6 } from '../../../src/decode/ipv6.js';
import { decodeTcp, decodeTcpOptions, TCP_FLAG } from '../../../src/decode/tcp.js';
import { decodeUdp } from '../../../src/decode/udp.js';
import { decodeArp } from '../../../src/decode/arp.js';
import { decodeIgmp } from '../../../src/decode/igmp.js';
import { gtpPayloadOffset, mplsPayload } from '../../../src/decode/tunnel.js';
import { decodePacket, type Packet } from '../../../src/decode/packet.js';
import { parseIp } from '../../../src/decode/addr.js';
import type { Malformed } from '../../../src/decode/malformed.js';

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const u16 = (v: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(v, 0); return b; };
const cat = (...b: Buffer[]): Buffer => Buffer.concat(b);
const addr = (t: string): Buffer => parseIp(t)!;

const DST = hex('ffffffffffff'), SRC = hex('00005e005301');

function ipv4(src: string, dst: string, proto: number, payload: Buffer, o: { ff?: number; ihlWords?: number; total?: number } = {}): Buffer {
  const ihl = (o.ihlWords ?? 5) * 4;
  const h = Buffer.alloc(ihl);
  h[0] = 0x40 | (ihl / 4);
  h.writeUInt16BE(o.total ?? ihl + payload.length, 2);
  h.writeUInt16BE(0xbeef, 4);
  h.writeUInt16BE(o.ff ?? 0x4000, 6);
  h[8] = 63;
  h[9] = proto;
  addr(src).copy(h, 12);
  addr(dst).copy(h, 16);
  return cat(h, payload);
}

function ipv6(src: string, dst: string, next: number, payload: Buffer, declared?: number): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x6000_0000 | 0x12345, 0); // flow label 0x12345
  h.writeUInt16BE(declared ?? payload.length, 4);
  h[6] = next;
  h[7] = 255;
  addr(src).copy(h, 8);
  addr(dst).copy(h, 24);
  return cat(h, payload);
}

function tcp(sp: number, dp: number, o: { options?: Buffer; flags?: number; payload?: Buffer } = {}): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const h = Buffer.alloc(20 + opts.length);
  h.writeUInt16BE(sp, 0);
  h.writeUInt16BE(dp, 2);
  h.writeUInt32BE(0x01020304, 4);
  h.writeUInt32BE(0xa0b0c0d0, 8);
  h[12] = ((20 + opts.length) / 4) << 4;
  h[13] = o.flags ?? TCP_FLAG.ACK | TCP_FLAG.PSH;
  h.writeUInt16BE(29200, 14);
  opts.copy(h, 20);
  return cat(h, o.payload ?? Buffer.alloc(0));
}

function udp(sp: number, dp: number, payload: Buffer, length?: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sp, 0);
  h.writeUInt16BE(dp, 2);
  h.writeUInt16BE(length ?? 8 + payload.length, 4);
  return cat(h, payload);
}

const ether = (type: number, payload: Buffer, tags: Buffer[] = []): Buffer => cat(DST, SRC, ...tags, u16(type), payload);
const tag = (tpid: number, tci: number): Buffer => cat(u16(tpid), u16(tci));

function frame(data: Buffer, linkType = 1, origLen = data.length): Packet {
  return decodePacket({ no: 1, ts: 0, linkType, caplen: data.length, origLen, data, iface: 0, offset: 0 });
}

function isLink(l: LinkLayer | Malformed | null): LinkLayer {
  assert.ok(l !== null && l.kind === 'link', JSON.stringify(l));
  return l;
}

function mal(r: { kind: string }, layer: string, offset: number): void {
  assert.equal(r.kind, 'malformed', JSON.stringify(r));
  const m = r as Malformed;
  assert.deepEqual([m.layer, m.offset], [layer, offset], m.reason);
}

// ---- link layer ---------------------------------------------------------------------------------

test('Ethernet II, 802.1Q (PCP/DEI masked off the VID), 802.1ad and legacy QinQ, VN-Tag', () => {
  const plain = isLink(decodeLink(ether(0x0800, Buffer.alloc(20)), 1));
  assert.deepEqual([plain.etherType, plain.offset, plain.src, plain.dst, plain.vlans, plain.sllPacketType], [0x0800, 14, 0x00005e005301, 0xffffffffffff, null, -1]);
  // TCI 0xb064: PCP 5, DEI 1, VID 100.
  const q = isLink(decodeLink(ether(0x86dd, Buffer.alloc(40), [tag(0x8100, 0xb064)]), 1));
  assert.deepEqual([q.etherType, q.offset, q.vlans], [0x86dd, 18, [100]]);
  const qinq = isLink(decodeLink(ether(0x0806, Buffer.alloc(28), [tag(0x88a8, 0x0fff), tag(0x8100, 0x0001)]), 1));
  assert.deepEqual([qinq.etherType, qinq.offset, qinq.vlans], [0x0806, 22, [4095, 1]]);
  const old = isLink(decodeLink(ether(0x0800, Buffer.alloc(20), [tag(0x9100, 7), tag(0x9200, 8), tag(0x9300, 9)]), 1));
  assert.deepEqual([old.offset, old.vlans], [26, [7, 8, 9]]);
  // VN-Tag (0x8926): 4 bytes of tag, then the next type; may sit between VLAN tags.
  const vn = isLink(decodeLink(cat(DST, SRC, u16(0x8926), hex('80010002'), u16(0x8100), u16(20), u16(0x0800), Buffer.alloc(20)), 1));
  assert.deepEqual([vn.etherType, vn.offset, vn.vlans], [0x0800, 24, [20]]);
});

test('802.3 length frames: LLC has no EtherType, except SNAP with an EtherType OUI (RFC 1042)', () => {
  const stp = isLink(decodeLink(cat(DST, SRC, u16(38), hex('424203'), Buffer.alloc(35)), 1));
  assert.deepEqual([stp.etherType, stp.offset], [-1, 14]);
  // SNAP: AA AA 03, OUI 00-00-00, type 0x0806: ARP (as in Zeek's snap-arp.pcapng).
  const snap = isLink(decodeLink(cat(DST, SRC, u16(36), hex('aaaa03000000'), u16(0x0806), Buffer.alloc(28)), 1));
  assert.deepEqual([snap.etherType, snap.offset], [0x0806, 22]);
  const bridged = isLink(decodeLink(cat(DST, SRC, u16(36), hex('aaaa030000f8'), u16(0x0800), Buffer.alloc(28)), 1));
  assert.deepEqual([bridged.etherType, bridged.offset], [0x0800, 22]);
  // Cisco's OUI carries Cisco protocol ids (0x2000 = CDP), not EtherTypes.
  const cdp = isLink(decodeLink(cat(DST, SRC, u16(36), hex('aaaa0300000c'), u16(0x2000), Buffer.alloc(28)), 1));
  assert.deepEqual([cdp.etherType, cdp.offset], [-1, 14]);
  // A SNAP header cut short is LLC we cannot read: no EtherType, not an error of the link.
  assert.equal(isLink(decodeLink(cat(DST, SRC, u16(36), hex('aaaa030000')), 1)).etherType, -1);
  const p = frame(cat(DST, SRC, u16(36), hex('aaaa03000000'), u16(0x0806), hex('0001 0800 06 04 0001'), SRC, addr('192.0.2.1'), Buffer.alloc(6), addr('192.0.2.2')));
  assert.ok(p.net && p.net.kind === 'arp' && p.net.targetIp === '192.0.2.2');
});

test('Ethernet truncations: header and each tag reported at its own offset', () => {
  mal(decodeLink(Buffer.alloc(13), 1)!, 'eth', 0);
  mal(decodeLink(cat(DST, SRC, u16(0x8100), hex('0064')), 1)!, 'vlan', 14);
  mal(decodeLink(cat(DST, SRC, tag(0x88a8, 1), u16(0x8100), hex('00')), 1)!, 'vlan', 18);
  mal(decodeLink(cat(DST, SRC, u16(0x8926), hex('8001000200')), 1)!, 'vntag', 14);
});

test('Linux cooked capture v1 (16 bytes) and v2 (20 bytes)', () => {
  // v1: packet type 4 (sent by us), ARPHRD 1, address length 6, address, protocol.
  const sll = cat(u16(4), u16(1), u16(6), SRC, hex('0000'), u16(0x86dd), Buffer.alloc(40));
  const a = isLink(decodeLink(sll, 113));
  assert.deepEqual([a.etherType, a.offset, a.src, a.dst, a.sllPacketType, a.vlans], [0x86dd, 16, 0x00005e005301, -1, 4, null]);
  // Address length other than 6 (e.g. 0 on a tunnel device): no MAC.
  const tun = isLink(decodeLink(cat(u16(0), u16(0xfffe), u16(0), Buffer.alloc(8), u16(0x0800), Buffer.alloc(20)), 113));
  assert.deepEqual([tun.src, tun.etherType, tun.sllPacketType], [-1, 0x0800, 0]);
  // Protocol 0x0004: 802.2 LLC follows, not an EtherType.
  assert.equal(isLink(decodeLink(cat(u16(3), u16(1), u16(6), SRC, hex('0000'), u16(0x0004), hex('424203')), 113)).etherType, -1);
  // A VLAN tag kept in the payload (protocol 0x8100).
  const tagged = isLink(decodeLink(cat(u16(0), u16(1), u16(6), SRC, hex('0000'), u16(0x8100), u16(42), u16(0x0800), Buffer.alloc(20)), 113));
  assert.deepEqual([tagged.vlans, tagged.etherType, tagged.offset], [[42], 0x0800, 20]);
  mal(decodeLink(Buffer.alloc(15), 113)!, 'sll', 0);
  // v2: protocol, reserved, ifindex, ARPHRD, packet type, address length, address.
  const sll2 = cat(u16(0x0800), u16(0), hex('00000003'), u16(1), hex('02'), hex('06'), SRC, hex('0000'), Buffer.alloc(20));
  const b = isLink(decodeLink(sll2, 276));
  assert.deepEqual([b.etherType, b.offset, b.src, b.sllPacketType], [0x0800, 20, 0x00005e005301, 2]);
  mal(decodeLink(Buffer.alloc(19), 276)!, 'sll2', 0);
});

test('NULL (host byte order, AF value or EtherType) and LOOP (network byte order)', () => {
  const v4 = Buffer.alloc(20);
  const et = (l: LinkLayer | Malformed | null): number => isLink(l).etherType;
  assert.equal(et(decodeLink(cat(hex('02000000'), v4), 0)), 0x0800); // little-endian capture host
  assert.equal(et(decodeLink(cat(hex('00000002'), v4), 0)), 0x0800); // big-endian capture host
  for (const af of [24, 28, 30]) assert.equal(et(decodeLink(cat(Buffer.from([af, 0, 0, 0]), v4), 0)), 0x86dd, `AF ${af}`);
  assert.equal(et(decodeLink(cat(hex('0000001e'), v4), 0)), 0x86dd);
  // An EtherType where the AF value belongs (no AF value exceeds 1500), as PcapPlusPlus's
  // null_loopback.pcap frame 3 has it: 0f 00 08 00 -> 0x0800, as tshark reads it.
  assert.equal(et(decodeLink(cat(hex('0f000800'), v4), 0)), 0x0800);
  assert.equal(et(decodeLink(cat(hex('00000800'), v4), 0)), 0x0800);
  assert.equal(et(decodeLink(cat(hex('000086dd'), v4), 0)), 0x86dd);
  assert.equal(et(decodeLink(cat(hex('07000000'), v4), 0)), -1); // AF 7: not IP
  assert.equal(et(decodeLink(cat(hex('00000002'), v4), 108)), 0x0800);
  assert.equal(et(decodeLink(cat(hex('02000000'), v4), 108)), -1); // LOOP is big-endian only
  assert.equal(et(decodeLink(cat(hex('00000800'), v4), 108)), -1); // and never an EtherType
  assert.equal(isLink(decodeLink(cat(hex('02000000'), v4), 0)).offset, 4);
  mal(decodeLink(hex('020000'), 0)!, 'null', 0);
});

test('raw IP link types dispatch on the version nibble; NFLOG finds its payload TLV; unknown types are null', () => {
  for (const lt of [101, 228, 229, 12, 14]) {
    assert.equal(isLink(decodeLink(hex('4500'), lt)).etherType, 0x0800, `link type ${lt}`);
    assert.equal(isLink(decodeLink(hex('6000'), lt)).etherType, 0x86dd, `link type ${lt}`);
    assert.equal(isLink(decodeLink(hex('1000'), lt)).etherType, -1, `link type ${lt}`);
    mal(decodeLink(Buffer.alloc(0), lt)!, 'raw', 0);
  }
  // NFLOG: family AF_INET, version 0, resource id; TLVs (little-endian length incl. header,
  // type): a prefix TLV of 7 bytes padded to 8, then NFULA_PAYLOAD (9).
  const ip = ipv4('192.0.2.1', '192.0.2.2', 17, udp(1, 2, Buffer.alloc(0)));
  const nflog = cat(hex('02000000'), hex('0700 0a00'), hex('41420000'), Buffer.from([(ip.length + 4) & 0xff, (ip.length + 4) >> 8]), hex('0900'), ip);
  const n = isLink(decodeLink(nflog, 239));
  assert.deepEqual([n.etherType, n.offset], [0x0800, 16]);
  assert.equal(isLink(decodeLink(cat(hex('0a000000'), hex('0800 0900'), hex('60000000')), 239)).etherType, 0x86dd);
  const none = isLink(decodeLink(cat(hex('02000000'), hex('0800 0a00'), hex('41424300')), 239));
  assert.deepEqual([none.etherType, none.offset], [-1, 12]);
  mal(decodeLink(cat(hex('02000000'), hex('0200 0900')), 239)!, 'nflog', 4);
  assert.equal(decodeLink(Buffer.alloc(64), 105), null);
  assert.equal(decodeLink(Buffer.alloc(64), 147), null);
});

// ---- IPv4 / IPv6 -------------------------------------------------------------------------------

test('IPv4 fields, options, fragments, padding, snaplen and TSO total length 0', () => {
  const p = ipv4('192.0.2.1', '198.51.100.7', 6, Buffer.alloc(20), { ff: 0x2000 | 185 });
  const h = decodeIpv4(cat(hex('aabb'), p), 2);
  assert.ok(h.kind === 'ipv4');
  assert.deepEqual([h.src, h.dst, h.protocol, h.ttl, h.id, h.headerLength, h.totalLength], ['192.0.2.1', '198.51.100.7', 6, 63, 0xbeef, 20, 40]);
  assert.deepEqual([h.dontFragment, h.moreFragments, h.fragmentOffset], [false, true, 185 * 8]);
  assert.deepEqual([h.payloadOffset, h.payloadEnd, h.declaredEnd, h.optionsLength, h.truncated], [22, 42, 42, 0, false]);
  // IHL 6: one 4-byte option (router alert).
  const opt = decodeIpv4(ipv4('10.0.0.1', '224.0.0.22', 2, Buffer.alloc(8), { ihlWords: 6 }), 0);
  assert.ok(opt.kind === 'ipv4');
  assert.deepEqual([opt.headerLength, opt.optionsLength, opt.payloadOffset], [24, 4, 24]);
  // Ethernet padding after a short datagram is not payload.
  const padded = decodeIpv4(cat(ipv4('10.0.0.1', '10.0.0.2', 17, Buffer.alloc(8)), Buffer.alloc(18)), 0);
  assert.ok(padded.kind === 'ipv4');
  assert.equal(padded.payloadEnd, 28);
  // Cut by the snaplen: the payload ends with the captured bytes; the declared end stays.
  const cut = decodeIpv4(ipv4('10.0.0.1', '10.0.0.2', 6, Buffer.alloc(1000)).subarray(0, 60), 0);
  assert.ok(cut.kind === 'ipv4');
  assert.deepEqual([cut.payloadEnd, cut.declaredEnd, cut.truncated], [60, 1020, true]);
  // Total length 0 (TCP segmentation offload): the captured bytes are the datagram.
  const tso = decodeIpv4(ipv4('10.0.0.1', '10.0.0.2', 6, Buffer.alloc(3000), { total: 0 }), 0);
  assert.ok(tso.kind === 'ipv4');
  assert.deepEqual([tso.totalLength, tso.payloadEnd, tso.truncated], [0, 3020, false]);
});

test('IPv4 malformed: short, wrong version, IHL below 5, options cut, total length below the header', () => {
  const good = ipv4('10.0.0.1', '10.0.0.2', 6, Buffer.alloc(20));
  mal(decodeIpv4(good.subarray(0, 19), 0), 'ipv4', 0);
  mal(decodeIpv4(cat(Buffer.alloc(14), good.subarray(0, 19)), 14), 'ipv4', 14);
  mal(decodeIpv4(cat(hex('65'), good.subarray(1)), 0), 'ipv4', 0);
  mal(decodeIpv4(cat(hex('44'), good.subarray(1)), 0), 'ipv4', 0);
  mal(decodeIpv4(ipv4('10.0.0.1', '10.0.0.2', 6, Buffer.alloc(0), { ihlWords: 15 }).subarray(0, 40), 0), 'ipv4', 0);
  mal(decodeIpv4(ipv4('10.0.0.1', '10.0.0.2', 6, Buffer.alloc(20), { total: 19 }), 0), 'ipv4', 2);
});

test('IPv6: fields, extension header chain, fragment header, AH, no next header, jumbogram', () => {
  const hbh = (next: number, len8 = 0): Buffer => { const b = Buffer.alloc(8 * (len8 + 1)); b[0] = next; b[1] = len8; return b; };
  const frag = (next: number, off: number, m: boolean): Buffer => cat(Buffer.from([next, 0]), u16(off | (m ? 1 : 0)), hex('0badcafe'));
  const ah = (next: number): Buffer => { const b = Buffer.alloc(24); b[0] = next; b[1] = 4; return b; }; // (4 + 2) * 4 = 24 bytes
  const chain = cat(hbh(43, 1), hbh(60), hbh(44), frag(51, 0, true), ah(6), tcp(1, 2));
  const h = decodeIpv6(ipv6('2001:db8::1', '2001:db8::2', 0, chain), 0);
  assert.ok(h.kind === 'ipv6');
  assert.deepEqual([h.src, h.dst, h.protocol, h.hopLimit, h.flowLabel], ['2001:db8::1', '2001:db8::2', 6, 255, 0x12345]);
  assert.deepEqual(h.extensions, [0, 43, 60, 44, 51]);
  assert.deepEqual(h.fragment, { offset: 0, moreFragments: true, id: 0x0badcafe });
  assert.equal(h.payloadOffset, 40 + 16 + 8 + 8 + 8 + 24);
  // A later fragment: offset in bytes (13-bit field in 8-octet units).
  const later = decodeIpv6(ipv6('2001:db8::1', '2001:db8::2', 44, cat(frag(17, 1448, false), Buffer.alloc(8))), 0);
  assert.ok(later.kind === 'ipv6');
  assert.deepEqual(later.fragment, { offset: 1448, moreFragments: false, id: 0x0badcafe });
  const none = decodeIpv6(ipv6('::1', '::1', 59, Buffer.alloc(0)), 0);
  assert.ok(none.kind === 'ipv6');
  assert.equal(none.protocol, -1);
  // Jumbogram (RFC 2675): payload length 0 with a hop-by-hop header: the captured bytes count.
  const jumbo = decodeIpv6(ipv6('2001:db8::1', '2001:db8::2', 0, cat(hbh(17), udp(1, 2, Buffer.alloc(100), 0)), 0), 0);
  assert.ok(jumbo.kind === 'ipv6');
  assert.deepEqual([jumbo.protocol, jumbo.payloadEnd, jumbo.truncated], [17, 40 + 8 + 108, false]);
});

test('IPv6 malformed: short, wrong version, extension header cut or running past the payload', () => {
  const good = ipv6('2001:db8::1', '2001:db8::2', 6, tcp(1, 2));
  mal(decodeIpv6(good.subarray(0, 39), 0), 'ipv6', 0);
  mal(decodeIpv6(cat(hex('45'), good.subarray(1)), 0), 'ipv6', 0);
  const ext = Buffer.alloc(8);
  ext[0] = 6;
  mal(decodeIpv6(ipv6('2001:db8::1', '2001:db8::2', 0, ext).subarray(0, 44), 0), 'ipv6', 40);
  ext[1] = 10; // claims 88 bytes
  mal(decodeIpv6(ipv6('2001:db8::1', '2001:db8::2', 60, cat(ext, Buffer.alloc(16))), 0), 'ipv6', 0);
  // Same, naming another extension header next: reported at the datagram, not at where that
  // header would start (88 bytes on, outside the 64 captured; a fuzzed frame found it).
  ext[0] = 60;
  const past = ipv6('2001:db8::1', '2001:db8::2', 60, cat(ext, Buffer.alloc(16)));
  mal(decodeIpv6(past, 0), 'ipv6', 0);
  assert.match((decodeIpv6(past, 0) as Malformed).reason, /run past the payload/);
  // Payload length 0 without hop-by-hop: an empty datagram, and its extension header lies outside it.
  mal(decodeIpv6(ipv6('2001:db8::1', '2001:db8::2', 60, Buffer.alloc(16), 0), 0), 'ipv6', 40);
});

// ---- TCP / UDP ------------------------------------------------------------------------------------

test('TCP header fields, payload bounds, and the segment length the IP header declares', () => {
  const seg = tcp(49152, 21, { payload: Buffer.from('USER anonymous\r\n'), flags: TCP_FLAG.PSH | TCP_FLAG.ACK });
  const t = decodeTcp(cat(Buffer.alloc(10), seg), 10, 10 + seg.length);
  assert.ok(t.kind === 'tcp');
  assert.deepEqual([t.srcPort, t.dstPort, t.seq, t.ack, t.flags, t.window, t.headerLength], [49152, 21, 0x01020304, 0xa0b0c0d0, 0x18, 29200, 20]);
  assert.deepEqual([t.payloadOffset, t.payloadLength, t.segmentLength], [30, 16, 16]);
  // Snaplen cut the payload: captured 4 of 16 bytes, the IP header still says 16.
  const cut = decodeTcp(seg, 0, 24, seg.length);
  assert.ok(cut.kind === 'tcp');
  assert.deepEqual([cut.payloadLength, cut.segmentLength], [4, 16]);
  // Options cut by the snaplen: ports and flags stay, the payload starts at the cut.
  const syn = tcp(1, 2, { options: hex('020405b4 0103030a 01010402 080a 00000001 00000000 0101'), flags: TCP_FLAG.SYN });
  const opt = decodeTcp(syn, 0, 30, syn.length);
  assert.ok(opt.kind === 'tcp');
  assert.deepEqual([opt.headerLength, opt.payloadOffset, opt.payloadLength, opt.segmentLength], [44, 30, 0, 0]);
  mal(decodeTcp(seg, 0, 19), 'tcp', 0);
  const bad = Buffer.from(seg);
  bad[12] = 0x40; // data offset 4 words
  mal(decodeTcp(bad, 0, bad.length), 'tcp', 12);
});

test('TCP options: MSS, window scale, SACK permitted, SACK blocks, timestamps, NOP/EOL, bad and cut options', () => {
  const syn = tcp(1, 2, { options: hex('020405b4 0402 080a 0000abcd 00000000 01 030307'), flags: TCP_FLAG.SYN });
  const o = decodeTcpOptions(syn, 0, 40);
  assert.ok(!('kind' in o));
  assert.deepEqual(o, { kinds: [2, 4, 8, 1, 3], mss: 1460, sackPermitted: true, timestamp: [0xabcd, 0], windowScale: 7 });
  const sack = decodeTcpOptions(tcp(1, 2, { options: hex('0101 050a 00000064 000000c8') }), 0, 32);
  assert.ok(!('kind' in sack));
  assert.deepEqual(sack.sack, [[100, 200]]);
  // End of option list stops the walk.
  const eol = decodeTcpOptions(tcp(1, 2, { options: hex('00 020405b4 000000') }), 0, 28);
  assert.ok(!('kind' in eol));
  assert.deepEqual([eol.kinds, eol.mss], [[0], undefined]);
  // Length below 2 or past the header: malformed at the option.
  mal(decodeTcpOptions(tcp(1, 2, { options: hex('01 0201 00000000 000000') }), 0, 32) as Malformed, 'tcp.options', 21);
  mal(decodeTcpOptions(tcp(1, 2, { options: hex('010101 080a 000000') }), 0, 28) as Malformed, 'tcp.options', 23);
  mal(decodeTcpOptions(tcp(1, 2, { options: hex('01010101 010101 02') }), 0, 28) as Malformed, 'tcp.options', 27);
  // Cut by the capture inside an option: malformed at that option, never a throw or undefined kinds.
  const full = tcp(1, 2, { options: hex('01010101 020405b4') });
  for (let n = 20; n < full.length; n++) {
    const r = decodeTcpOptions(full.subarray(0, n), 0, 28);
    if (n <= 24) {
      assert.ok(!('kind' in r), `cut at ${n}`);
      assert.deepEqual(r.kinds, [1, 1, 1, 1].slice(0, n - 20));
    } else {
      mal(r as Malformed, 'tcp.options', 24);
      assert.match((r as Malformed).reason, /cut short by the capture/);
    }
  }
});

test('UDP header, length bounding the payload, length 0 (jumbogram), short and bad lengths', () => {
  const d = cat(udp(5353, 5353, Buffer.alloc(10)), Buffer.alloc(6)); // 6 bytes of padding after
  const u = decodeUdp(d, 0, d.length);
  assert.ok(u.kind === 'udp');
  assert.deepEqual([u.srcPort, u.dstPort, u.length, u.payloadOffset, u.payloadLength], [5353, 5353, 18, 8, 10]);
  const snap = decodeUdp(d, 0, 12);
  assert.ok(snap.kind === 'udp');
  assert.equal(snap.payloadLength, 4);
  const jumbo = decodeUdp(udp(1, 2, Buffer.alloc(70000 - 8), 0), 0, 70000);
  assert.ok(jumbo.kind === 'udp');
  assert.equal(jumbo.payloadLength, 70000 - 8);
  mal(decodeUdp(d, 0, 7), 'udp', 0);
  mal(decodeUdp(udp(1, 2, Buffer.alloc(4), 7), 0, 12), 'udp', 4);
});

// ---- ARP / IGMP ---------------------------------------------------------------------------------

const arpBody = (op: number, sha: Buffer, spa: string, tha: Buffer, tpa: string): Buffer =>
  cat(u16(1), u16(0x0800), Buffer.from([6, 4]), u16(op), sha, addr(spa), tha, addr(tpa));

test('ARP request and reply, other hardware/protocol sizes reported, truncations', () => {
  const req = decodeArp(cat(Buffer.alloc(14), arpBody(1, SRC, '192.0.2.1', Buffer.alloc(6), '192.0.2.254')), 14);
  assert.deepEqual(req, { kind: 'arp', opcode: 1, senderMac: 0x00005e005301, senderIp: '192.0.2.1', targetMac: 0, targetIp: '192.0.2.254' });
  // An NLB cluster answering with its cluster MAC 02-bf-c0-00-02-64 (FACTS §1.3 format).
  const rep = decodeArp(arpBody(2, hex('02bfc0000264'), '192.0.2.100', SRC, '192.0.2.1'), 0);
  assert.ok(rep.kind === 'arp');
  assert.deepEqual([rep.opcode, rep.senderMac, rep.targetMac], [2, 0x02bfc0000264, 0x00005e005301]);
  mal(decodeArp(cat(u16(1), u16(0x86dd), Buffer.from([6, 16]), u16(1), Buffer.alloc(44)), 0), 'arp', 0);
  mal(decodeArp(arpBody(1, SRC, '192.0.2.1', Buffer.alloc(6), '192.0.2.2').subarray(0, 7), 0), 'arp', 0);
  mal(decodeArp(cat(Buffer.alloc(4), arpBody(1, SRC, '192.0.2.1', Buffer.alloc(6), '192.0.2.2').subarray(0, 27)), 4), 'arp', 4);
});

function igmp(type: number, maxResp: number, group: string, tail: Buffer = Buffer.alloc(0)): Buffer {
  return cat(Buffer.from([type, maxResp]), u16(0), addr(group), tail);
}

test('IGMP v1/v2/v3 queries told apart by length and max response (RFC 3376 §7.1); reports and leave', () => {
  const dec = (b: Buffer) => { const r = decodeIgmp(b, 0, b.length); assert.ok(r.kind === 'igmp', JSON.stringify(r)); return r; };
  assert.deepEqual([dec(igmp(0x11, 0, '0.0.0.0')).version, dec(igmp(0x11, 100, '0.0.0.0')).version], [1, 2]);
  const gsq = dec(igmp(0x11, 10, '239.1.1.1'));
  assert.deepEqual([gsq.version, gsq.group, gsq.maxResponse], [2, '239.1.1.1', 10]);
  // v3 query: 12 bytes at least (QRV/QQIC and number of sources follow the group).
  const v3q = dec(igmp(0x11, 100, '0.0.0.0', hex('027d0000')));
  assert.deepEqual([v3q.version, v3q.records], [3, []]);
  assert.deepEqual([dec(igmp(0x12, 0, '224.1.2.3')).version, dec(igmp(0x16, 0, '224.1.2.3')).version, dec(igmp(0x17, 0, '224.1.2.3')).version], [1, 2, 2]);
  assert.equal(dec(igmp(0x17, 0, '239.9.9.9')).group, '239.9.9.9');
});

test('IGMPv3 report: group records with sources and auxiliary data; every cut reported at its record', () => {
  const rec = (type: number, group: string, sources: string[], aux: Buffer = Buffer.alloc(0)): Buffer =>
    cat(Buffer.from([type, aux.length / 4]), u16(sources.length), addr(group), ...sources.map(addr), aux);
  const records = [rec(1, '239.1.1.1', ['10.0.0.1', '10.0.0.2']), rec(4, '239.2.2.2', [], hex('deadbeef')), rec(6, '232.1.1.1', ['10.9.9.9'])];
  const report = cat(hex('2200 0000 0000'), u16(records.length), ...records);
  const r = decodeIgmp(report, 0, report.length);
  assert.ok(r.kind === 'igmp');
  assert.deepEqual([r.version, r.type, r.group, r.maxResponse], [3, 0x22, '0.0.0.0', 0]);
  assert.deepEqual(r.records, [
    { recordType: 1, group: '239.1.1.1', sources: ['10.0.0.1', '10.0.0.2'] },
    { recordType: 4, group: '239.2.2.2', sources: [] },
    { recordType: 6, group: '232.1.1.1', sources: ['10.9.9.9'] },
  ]);
  // Record starts: 8, 8+16 = 24, 24+12 = 36; the last ends at 48.
  const starts = [8, 24, 36];
  for (let n = 8; n < report.length; n++) {
    const c = decodeIgmp(report, 0, n);
    assert.equal(c.kind, 'malformed', `cut at ${n}`);
    const m = c as Malformed;
    const rec = [...starts].reverse().find((s) => s <= n)!;
    // A record's fixed 8 bytes cut: malformed at the record; its sources or aux data cut:
    // malformed where they begin.
    const expected = n < rec + 8 ? rec : rec === 24 ? 32 : rec + 8;
    assert.equal(m.offset, expected, `cut at ${n}: ${m.reason}`);
  }
  // The last record's auxiliary data cut: malformed too, not a silently shorter report.
  const last = cat(hex('2200 0000 0000'), u16(1), rec(2, '239.3.3.3', [], hex('0000000100000002')));
  for (let n = 16; n < last.length; n++) mal(decodeIgmp(last, 0, n), 'igmp', 16);
  mal(decodeIgmp(igmp(0x11, 0, '0.0.0.0').subarray(0, 7), 0, 7), 'igmp', 0);
  mal(decodeIgmp(igmp(0x1f, 0, '0.0.0.0'), 0, 8), 'igmp', 0); // mtrace: not decoded, said so
});

// ---- tunnels and composition --------------------------------------------------------------------

test('MPLS label stack: bottom of stack, then IPv4/IPv6 by version nibble; others left alone', () => {
  const label = (l: number, bottom: boolean): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(((l << 12) | (bottom ? 0x100 : 0) | 64) >>> 0, 0); return b; };
  assert.deepEqual(mplsPayload(cat(label(16, true), hex('45')), 0), { kind: 'inner', etherType: 0x0800, offset: 4 });
  assert.deepEqual(mplsPayload(cat(Buffer.alloc(2), label(16, false), label(17, true), hex('60')), 2), { kind: 'inner', etherType: 0x86dd, offset: 10 });
  assert.equal(mplsPayload(cat(label(16, true), hex('00000000')), 0), null); // pseudowire control word
  assert.equal(mplsPayload(label(16, true), 0), null); // nothing after the stack
  mal(mplsPayload(cat(label(16, false), hex('000011')), 0)!, 'mpls', 4);
  const deep = cat(...Array.from({ length: 17 }, (_, i) => label(i, i === 16)), hex('45'));
  mal(mplsPayload(deep, 0)!, 'mpls', 0);
});

test('GTP-U G-PDU payload offset (TS 29.281 §5.1): plain, with sequence number, with extension headers', () => {
  const gtp = (flags: number, type: number, rest: Buffer): Buffer => cat(Buffer.from([flags, type]), u16(rest.length), hex('00000001'), rest);
  const inner = ipv4('10.1.1.1', '10.2.2.2', 17, udp(1, 2, Buffer.alloc(4)));
  const plain = gtp(0x30, 0xff, inner);
  assert.equal(gtpPayloadOffset(plain, 0, plain.length), 8);
  const seq = gtp(0x32, 0xff, cat(hex('1234 00 00'), inner));
  assert.equal(gtpPayloadOffset(seq, 0, seq.length), 12);
  // E flag: next extension type 0x85 (PDU session container), one 4-byte extension ending with 0.
  const ext = gtp(0x34, 0xff, cat(hex('0000 00 85'), hex('01 0009 00'), inner));
  assert.equal(gtpPayloadOffset(ext, 0, ext.length), 16);
  assert.equal(gtpPayloadOffset(gtp(0x32, 0x01, hex('0001 0000')), 0, 12), -1); // echo request
  assert.equal(gtpPayloadOffset(gtp(0x48, 0xff, inner), 0, 8 + inner.length), -1); // GTPv2
  assert.equal(gtpPayloadOffset(gtp(0x34, 0xff, cat(hex('0000 00 85'), hex('00 0000 00'))), 0, 16), -1); // extension length 0
  assert.equal(gtpPayloadOffset(plain, 0, 8), -1); // no payload
});

test('decodePacket: layers down to the transport, fragments, IP-in-IP and 6in4, MPLS and GTP-U', () => {
  const syn = tcp(40000, 443, { flags: TCP_FLAG.SYN });
  const p = frame(ether(0x0800, ipv4('192.0.2.1', '192.0.2.2', 6, syn), [tag(0x8100, 10)]));
  assert.ok(p.link && p.net && p.net.kind === 'ipv4' && p.transport && p.transport.kind === 'tcp');
  assert.deepEqual([p.link.vlans, p.net.src, p.transport.dstPort, p.transport.flags, p.tunnels, p.fragment, p.malformed], [[10], '192.0.2.1', 443, TCP_FLAG.SYN, null, false, null]);
  // First fragment: transport decoded; a later one: none, and both flagged.
  const first = frame(ether(0x0800, ipv4('192.0.2.1', '192.0.2.2', 17, udp(53, 5353, Buffer.alloc(100), 1500), { ff: 0x2000 })));
  assert.ok(first.fragment && first.transport && first.transport.kind === 'udp');
  const later = frame(ether(0x0800, ipv4('192.0.2.1', '192.0.2.2', 17, Buffer.alloc(100), { ff: 185 })));
  assert.deepEqual([later.fragment, later.transport, later.net?.kind], [true, null, 'ipv4']);
  const v6later = frame(ether(0x86dd, ipv6('2001:db8::1', '2001:db8::2', 44, cat(hex('1100 05a8 00000001'), Buffer.alloc(16)))));
  assert.deepEqual([v6later.fragment, v6later.transport], [true, null]);
  // IP-in-IP (RFC 2003) and 6in4 (RFC 4213): the inner packet is the conversation.
  const ipip = frame(ether(0x0800, ipv4('203.0.113.1', '203.0.113.2', 4, ipv4('10.0.0.1', '10.0.0.2', 6, syn))));
  assert.ok(ipip.net && ipip.net.kind === 'ipv4' && ipip.transport?.kind === 'tcp');
  assert.deepEqual([ipip.net.src, ipip.tunnels], ['10.0.0.1', ['ipip']]);
  const sixin4 = frame(ether(0x0800, ipv4('203.0.113.1', '203.0.113.2', 41, ipv6('2001:db8::a', '2001:db8::b', 17, udp(1, 2, Buffer.alloc(0))))));
  assert.deepEqual([sixin4.net?.kind === 'ipv6' && sixin4.net.dst, sixin4.tunnels], ['2001:db8::b', ['6in4']]);
  // MPLS then IPv4.
  const mpls = frame(cat(DST, SRC, u16(0x8847), hex('00010140'), ipv4('10.0.0.1', '10.0.0.2', 17, udp(7, 7, Buffer.alloc(2)))));
  assert.deepEqual([mpls.net?.kind === 'ipv4' && mpls.net.dst, mpls.tunnels, mpls.transport?.kind], ['10.0.0.2', ['mpls'], 'udp']);
  // GTP-U on UDP 2152: the user's packet replaces the outer UDP.
  const gpdu = cat(hex('30ff'), u16(40), hex('00000001'), ipv4('10.45.0.2', '8.8.8.8', 17, udp(33333, 53, Buffer.alloc(12))));
  const gtp = frame(ether(0x0800, ipv4('172.16.0.1', '172.16.0.2', 17, udp(2152, 2152, gpdu))));
  assert.ok(gtp.transport && gtp.transport.kind === 'udp');
  assert.deepEqual([gtp.net?.kind === 'ipv4' && gtp.net.src, gtp.transport.dstPort, gtp.tunnels], ['10.45.0.2', 53, ['gtp-u']]);
  // Malformed stops the walk where it happens; unknown link types yield no layers at all.
  const bad = frame(ether(0x0800, ipv4('192.0.2.1', '192.0.2.2', 6, syn.subarray(0, 10))));
  assert.deepEqual([bad.net?.kind, bad.transport, bad.malformed?.layer, bad.malformed?.offset], ['ipv4', null, 'tcp', 34]);
  const unknown = frame(Buffer.alloc(60), 147);
  assert.deepEqual([unknown.link, unknown.net, unknown.transport, unknown.malformed], [null, null, null, null]);
  // The IP header's length beyond what the wire carried (origLen) does not count as segment data.
  const lying = frame(ether(0x0800, ipv4('192.0.2.1', '192.0.2.2', 6, syn, { total: 1500 })), 1, 14 + 40);
  assert.ok(lying.transport && lying.transport.kind === 'tcp');
  assert.equal(lying.transport.segmentLength, 0);
});
