/**
 * Test-only byte builders for Ethernet II / IPv4 (RFC 791) / TCP (RFC 9293) frames and a TCP
 * conversation that keeps sequence numbers right, so generated captures read like real ones
 * to faultline and to tshark alike.
 */
import { PcapWriter } from '../../src/source/pcap-writer.js';
import { LINKTYPE } from '../../src/source/frame.js';

export const FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10;

function checksum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i);
  if (b.length & 1) s += b[b.length - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

export function ipBytes(a: string): Buffer {
  return Buffer.from(a.split('.').map(Number));
}

export function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(/[:-]/).map((x) => parseInt(x, 16)));
}

export function ethernet(dst: string, src: string, etherType: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(14);
  macBytes(dst).copy(h, 0);
  macBytes(src).copy(h, 6);
  h.writeUInt16BE(etherType, 12);
  return Buffer.concat([h, payload]);
}

let ipId = 1;
export function ipv4(src: string, dst: string, proto: number, payload: Buffer, ttl = 64): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h.writeUInt16BE(ipId++ & 0xffff, 4);
  h.writeUInt16BE(0x4000, 6);
  h[8] = ttl;
  h[9] = proto;
  ipBytes(src).copy(h, 12);
  ipBytes(dst).copy(h, 16);
  h.writeUInt16BE(checksum(h), 10);
  return Buffer.concat([h, payload]);
}

export function tcpSegment(src: string, dst: string, sport: number, dport: number, seq: number, ack: number, flags: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h.writeUInt32BE(flags & ACK ? ack >>> 0 : 0, 8);
  h[12] = 0x50;
  h[13] = flags;
  h.writeUInt16BE(64240, 14);
  const seg = Buffer.concat([h, payload]);
  const pseudo = Buffer.alloc(12);
  ipBytes(src).copy(pseudo, 0);
  ipBytes(dst).copy(pseudo, 4);
  pseudo[9] = 6;
  pseudo.writeUInt16BE(seg.length, 10);
  seg.writeUInt16BE(checksum(Buffer.concat([pseudo, seg])), 16);
  return seg;
}

export interface Host { ip: string; mac: string }

/** Frames in time order, written as one Ethernet pcap. */
export class CaptureBuilder {
  readonly frames: Array<{ ts: number; data: Buffer }> = [];
  constructor(public ts: number) {}

  add(data: Buffer, advanceUs = 1000): void {
    this.ts += advanceUs;
    this.frames.push({ ts: this.ts, data });
  }

  write(path: string): void {
    const w = new PcapWriter(path, LINKTYPE.ETHERNET);
    for (const f of this.frames) w.write(f.ts, f.data);
    w.close();
  }
}

/**
 * One TCP connection as seen on the wire between `a` (initiator) and `b`. `via` is the MAC the
 * frames really travel to/from (the router's), as a capture on the client's segment shows.
 */
export class TcpConversation {
  private seq: [number, number];
  constructor(private cap: CaptureBuilder, private a: Host, private aPort: number, private b: Host, private bPort: number,
    private hopMac: { a: string; b: string } = { a: b.mac, b: a.mac }) {
    this.seq = [0x1000_0000 + aPort * 7, 0x2000_0000 + bPort * 13];
  }

  private frame(fromA: boolean, flags: number, payload: Buffer = Buffer.alloc(0), advance = 1000): void {
    const [s, d, sp, dp] = fromA ? [this.a, this.b, this.aPort, this.bPort] : [this.b, this.a, this.bPort, this.aPort];
    const dir = fromA ? 0 : 1;
    const seg = tcpSegment(s.ip, d.ip, sp, dp, this.seq[dir], this.seq[1 - dir], flags, payload);
    const dstMac = fromA ? this.hopMac.a : this.hopMac.b;
    this.cap.add(ethernet(dstMac, s.mac, 0x0800, ipv4(s.ip, d.ip, 6, seg)), advance);
    this.seq[dir] += payload.length + (flags & (SYN | FIN) ? 1 : 0);
  }

  syn(advance = 1000): void { this.frame(true, SYN, undefined, advance); }
  /** A retransmitted SYN reuses the first SYN's sequence number. */
  synRetransmit(advance: number): void { this.seq[0] -= 1; this.frame(true, SYN, undefined, advance); }
  handshake(): void {
    this.frame(true, SYN);
    this.frame(false, SYN | ACK);
    this.frame(true, ACK);
  }
  rstFromResponder(): void { this.frame(false, RST | ACK); }
  send(fromA: boolean, text: string | Buffer, advance = 2000): void {
    this.frame(fromA, PSH | ACK, Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'), advance);
    this.frame(!fromA, ACK, undefined, 200);
  }
  close(): void {
    this.frame(true, FIN | ACK);
    this.frame(false, FIN | ACK);
    this.frame(true, ACK);
  }
}
