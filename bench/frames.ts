import type { PcapWriter } from '../src/source/pcap-writer.js';

/** One station on the simulated LAN: every peer is on the same Ethernet segment, so ARP is coherent. */
export interface Host {
  ip: number;
  ipText: string;
  mac: Buffer;
  ttl: number;
  /** Next IPv4 identification value (per host, as Linux and Windows count them). */
  ipId: number;
}

export function makeHost(ip: number, ttl = 64): Host {
  const mac = Buffer.from([0x02, 0x42, (ip >>> 24) & 0xff, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff]);
  return { ip: ip >>> 0, ipText: ipText(ip), mac, ttl, ipId: (ip * 7919) & 0xffff };
}

export function ipText(ip: number): string {
  return `${(ip >>> 24) & 0xff}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

export const TCP = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;
const BROADCAST = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const ZERO_MAC = Buffer.alloc(6);

/**
 * Builds Ethernet frames in one reusable scratch buffer and hands them to the pcap writer (which
 * copies and batches them into 4 MiB writes). Owns the capture clock: each frame advances it by
 * its time on a 1 Gbit/s wire, so timestamps never go backwards.
 */
export class Emitter {
  ts: number;
  frames = 0;
  /** Bytes of the pcap file written so far (file header + record headers + frames). */
  fileBytes = 24;
  private scratch = Buffer.alloc(65536);

  constructor(private writer: PcapWriter, startTs: number) {
    this.ts = startTs;
  }

  advance(us: number): void { this.ts += Math.max(0, Math.round(us)); }

  tcp(src: Host, dst: Host, sport: number, dport: number, seq: number, ack: number, flags: number, window: number,
    options: Buffer | null, payload: Buffer | null, poff = 0, plen = payload ? payload.length : 0): void {
    const b = this.scratch;
    const optLen = options ? options.length : 0;
    const tcpLen = 20 + optLen + plen;
    let o = this.ipv4(src, dst, 6, tcpLen);
    const t = o;
    b.writeUInt16BE(sport, o); b.writeUInt16BE(dport, o + 2);
    b.writeUInt32BE(seq >>> 0, o + 4); b.writeUInt32BE(flags & TCP.ACK ? ack >>> 0 : 0, o + 8);
    b[o + 12] = ((20 + optLen) / 4) << 4; b[o + 13] = flags;
    b.writeUInt16BE(window, o + 14); b.writeUInt32BE(0, o + 16);
    o += 20;
    if (options) { options.copy(b, o); o += optLen; }
    if (payload && plen > 0) { payload.copy(b, o, poff, poff + plen); o += plen; }
    b.writeUInt16BE(transportChecksum(b, src.ip, dst.ip, 6, t, tcpLen), t + 16);
    this.out(o);
  }

  udp(src: Host, dst: Host, sport: number, dport: number, payload: Buffer): void {
    const b = this.scratch;
    const udpLen = 8 + payload.length;
    const u = this.ipv4(src, dst, 17, udpLen);
    b.writeUInt16BE(sport, u); b.writeUInt16BE(dport, u + 2);
    b.writeUInt16BE(udpLen, u + 4); b.writeUInt16BE(0, u + 6);
    payload.copy(b, u + 8);
    const sum = transportChecksum(b, src.ip, dst.ip, 17, u, udpLen);
    b.writeUInt16BE(sum === 0 ? 0xffff : sum, u + 6);
    this.out(u + udpLen);
  }

  /** RFC 826 over Ethernet: opcode 1 request (broadcast), 2 reply (unicast). */
  arp(op: 1 | 2, sender: Host, targetIp: number, targetMac: Buffer | null): void {
    const b = this.scratch;
    (op === 1 ? BROADCAST : targetMac ?? BROADCAST).copy(b, 0);
    sender.mac.copy(b, 6);
    b.writeUInt16BE(0x0806, 12);
    b.writeUInt16BE(1, 14); b.writeUInt16BE(0x0800, 16); b[18] = 6; b[19] = 4;
    b.writeUInt16BE(op, 20);
    sender.mac.copy(b, 22); b.writeUInt32BE(sender.ip, 28);
    (op === 1 ? ZERO_MAC : targetMac ?? ZERO_MAC).copy(b, 32); b.writeUInt32BE(targetIp >>> 0, 38);
    this.out(42);
  }

  /** Ethernet + IPv4 header (DF set, correct header checksum); returns the transport offset. */
  private ipv4(src: Host, dst: Host, proto: number, payloadLen: number): number {
    const b = this.scratch;
    dst.mac.copy(b, 0); src.mac.copy(b, 6); b.writeUInt16BE(0x0800, 12);
    b[14] = 0x45; b[15] = 0;
    b.writeUInt16BE(20 + payloadLen, 16);
    b.writeUInt16BE(src.ipId, 18); src.ipId = (src.ipId + 1) & 0xffff;
    b.writeUInt16BE(0x4000, 20);
    b[22] = src.ttl; b[23] = proto;
    b.writeUInt16BE(0, 24);
    b.writeUInt32BE(src.ip, 26); b.writeUInt32BE(dst.ip, 30);
    b.writeUInt16BE(fold(sum16(b, 14, 34, 0)), 24);
    return 34;
  }

  private out(len: number): void {
    this.writer.write(this.ts, this.scratch.subarray(0, len));
    this.frames++;
    this.fileBytes += 16 + len;
    // Serialisation time at 1 Gbit/s (8 ns per byte) plus a microsecond of inter-frame gap.
    this.ts += 1 + Math.floor(len / 125);
  }
}

function sum16(b: Buffer, start: number, end: number, acc: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) acc += (b[i] << 8) | b[i + 1];
  if (i < end) acc += b[i] << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

/** TCP/UDP checksum over the RFC 793 pseudo-header; the checksum field must be zero on entry. */
function transportChecksum(b: Buffer, src: number, dst: number, proto: number, start: number, len: number): number {
  let acc = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
  acc = sum16(b, start, start + len, acc);
  return fold(acc);
}
