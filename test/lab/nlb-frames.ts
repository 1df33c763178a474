/**
 * Ethernet frame builders for the NLB / layer-2 captures: Ethernet II (padded to the 60-byte
 * minimum), ARP (RFC 826), IPv4 with checksums (RFC 791), TCP/UDP with pseudo-header
 * checksums (RFC 793/768), ICMP echo (RFC 792), IGMPv2 (RFC 2236) and IGMPv3 (RFC 3376) reports
 * and queries with the Router Alert option (RFC 2113). Heartbeats come from
 * src/proto/l2/nlb-encode.ts. Every builder is pure; tshark must read the results without
 * complaint (the tests check that).
 */
import { parseIpv4, parseMac, writeMac } from '../../src/proto/l2/cluster-mac.js';

export const ETH_IPV4 = 0x0800;
export const ETH_ARP = 0x0806;
const ETH_MIN = 60;

export function mac(text: string): number {
  const m = parseMac(text);
  if (m === null) throw new RangeError(`not a MAC: ${text}`);
  return m;
}

function ip4(text: string): Buffer {
  const b = parseIpv4(text);
  if (!b) throw new RangeError(`not an IPv4 address: ${text}`);
  return Buffer.from(b);
}

export function ethernet(dst: number, src: number, etherType: number, payload: Buffer): Buffer {
  const f = Buffer.alloc(Math.max(ETH_MIN, 14 + payload.length));
  writeMac(f, dst, 0);
  writeMac(f, src, 6);
  f.writeUInt16BE(etherType, 12);
  payload.copy(f, 14);
  return f;
}

export interface ArpSpec {
  op: 1 | 2;
  senderMac: number;
  senderIp: string;
  targetMac: number;
  targetIp: string;
}

export function arp(a: ArpSpec): Buffer {
  const p = Buffer.alloc(28);
  p.writeUInt16BE(1, 0); // Ethernet
  p.writeUInt16BE(ETH_IPV4, 2);
  p[4] = 6;
  p[5] = 4;
  p.writeUInt16BE(a.op, 6);
  writeMac(p, a.senderMac, 8);
  ip4(a.senderIp).copy(p, 14);
  writeMac(p, a.targetMac, 18);
  ip4(a.targetIp).copy(p, 24);
  return p;
}

export function checksum(...parts: Buffer[]): number {
  let sum = 0;
  for (const b of parts) {
    for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
    if (b.length % 2 === 1) sum += b[b.length - 1] << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface Ipv4Spec {
  src: string;
  dst: string;
  protocol: number;
  id?: number;
  ttl?: number;
  /** IGMP: the Router Alert option (RFC 2113), 4 bytes. */
  routerAlert?: boolean;
}

export function ipv4(spec: Ipv4Spec, payload: Buffer): Buffer {
  const opt = spec.routerAlert ? 4 : 0;
  const h = Buffer.alloc(20 + opt);
  h[0] = 0x40 | ((20 + opt) / 4);
  h.writeUInt16BE(20 + opt + payload.length, 2);
  h.writeUInt16BE(spec.id ?? 0, 4);
  h.writeUInt16BE(0x4000, 6); // DF
  h[8] = spec.ttl ?? 64;
  h[9] = spec.protocol;
  ip4(spec.src).copy(h, 12);
  ip4(spec.dst).copy(h, 16);
  if (spec.routerAlert) h.writeUInt32BE(0x94040000, 20);
  h.writeUInt16BE(checksum(h), 10);
  return Buffer.concat([h, payload]);
}

function pseudo(src: string, dst: string, protocol: number, length: number): Buffer {
  const p = Buffer.alloc(12);
  ip4(src).copy(p, 0);
  ip4(dst).copy(p, 4);
  p[9] = protocol;
  p.writeUInt16BE(length, 10);
  return p;
}

export const TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10;

export interface TcpSpec {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window?: number;
  id?: number;
  ttl?: number;
}

export function tcp(spec: TcpSpec, payload: Buffer = Buffer.alloc(0)): Buffer {
  const syn = (spec.flags & TCP_SYN) !== 0;
  const optLen = syn ? 4 : 0; // MSS 1460 on SYNs, as real stacks send
  const h = Buffer.alloc(20 + optLen);
  h.writeUInt16BE(spec.srcPort, 0);
  h.writeUInt16BE(spec.dstPort, 2);
  h.writeUInt32BE(spec.seq >>> 0, 4);
  h.writeUInt32BE(spec.ack >>> 0, 8);
  h[12] = ((20 + optLen) / 4) << 4;
  h[13] = spec.flags;
  h.writeUInt16BE(spec.window ?? 64240, 14);
  if (syn) h.writeUInt32BE(0x020405b4, 20);
  const seg = Buffer.concat([h, payload]);
  seg.writeUInt16BE(checksum(pseudo(spec.src, spec.dst, 6, seg.length), seg), 16);
  return ipv4({ src: spec.src, dst: spec.dst, protocol: 6, id: spec.id, ttl: spec.ttl }, seg);
}

export function udp(src: string, dst: string, srcPort: number, dstPort: number, payload: Buffer, ttl?: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(srcPort, 0);
  h.writeUInt16BE(dstPort, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  const seg = Buffer.concat([h, payload]);
  seg.writeUInt16BE(checksum(pseudo(src, dst, 17, seg.length), seg) || 0xffff, 6);
  return ipv4({ src, dst, protocol: 17, ttl }, seg);
}

export function icmpEcho(src: string, dst: string, reply: boolean, id: number, seq: number, size = 56): Buffer {
  const m = Buffer.alloc(8 + size);
  m[0] = reply ? 0 : 8;
  m.writeUInt16BE(id, 4);
  m.writeUInt16BE(seq, 6);
  for (let i = 0; i < size; i++) m[8 + i] = (0x10 + i) & 0xff;
  m.writeUInt16BE(checksum(m), 2);
  return ipv4({ src, dst, protocol: 1, id: seq }, m);
}

/** IGMPv2 membership report (0x16) to the group itself, TTL 1, Router Alert. */
export function igmpV2Report(src: string, group: string): Buffer {
  const m = Buffer.alloc(8);
  m[0] = 0x16;
  ip4(group).copy(m, 4);
  m.writeUInt16BE(checksum(m), 2);
  return ipv4({ src, dst: group, protocol: 2, ttl: 1, routerAlert: true }, m);
}

/** IGMPv3 report (0x22) to 224.0.0.22 with one record per group: 4 = CHANGE_TO_EXCLUDE (join). */
export function igmpV3Report(src: string, records: Array<{ type: number; group: string }>): Buffer {
  const m = Buffer.alloc(8 + 8 * records.length);
  m[0] = 0x22;
  m.writeUInt16BE(records.length, 6);
  records.forEach((r, i) => {
    m[8 + 8 * i] = r.type;
    ip4(r.group).copy(m, 8 + 8 * i + 4);
  });
  m.writeUInt16BE(checksum(m), 2);
  return ipv4({ src, dst: '224.0.0.22', protocol: 2, ttl: 1, routerAlert: true }, m);
}

/** IGMPv2 general query (0x11, max response 10 s) to 224.0.0.1. */
export function igmpQuery(src: string): Buffer {
  const m = Buffer.alloc(8);
  m[0] = 0x11;
  m[1] = 100;
  m.writeUInt16BE(checksum(m), 2);
  return ipv4({ src, dst: '224.0.0.1', protocol: 2, ttl: 1, routerAlert: true }, m);
}

/** The IPv4 multicast MAC of a group (RFC 1112 §6.4): 01-00-5E + the low 23 bits. */
export function groupMac(group: string): number {
  const g = ip4(group);
  return 0x01005e000000 + (((g[1] & 0x7f) << 16) | (g[2] << 8) | g[3]);
}

/** Deterministic sizes and jitter (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
