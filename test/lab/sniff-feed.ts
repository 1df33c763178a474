/**
 * A long synthetic capture for the live analysis's memory test, generated lazily: hours of
 * Ethernet/IPv4 traffic — short TCP connections (most closed by FIN, some reset, some SYNs never
 * answered), UDP requests, ARP — and, every few seconds, a copy of the recorded broken
 * PASV-through-NAT FTP session from another client address and port. Checksums are left zero
 * (faultline does not check them). Frames come in time order, numbered from 1.
 */
import type { Frame } from '../../src/source/frame.js';
import { moveClientPorts } from './sniff-support.js';

export interface FeedOptions {
  frames: number;
  /** Capture time covered, µs. */
  spanUs: number;
  /** One FTP session every this many µs. */
  ftpEveryUs: number;
  /** The FTP session's frames (Ethernet), as recorded. */
  ftpTemplate: Frame[];
  start?: number;
}

const TICK_US = 100_000;
const SERVERS = 50;
/** Client addresses in use: a site's worth, so the host table settles like the rest. */
const CLIENTS = 2000;

/** Deterministic pseudo-random numbers (xorshift32), so a failing run can be repeated. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

const MAC_A = Buffer.from('020000000001', 'hex');
const MAC_B = Buffer.from('020000000002', 'hex');

function ipv4(src: number, dst: number, proto: number, l4: Buffer): Buffer {
  const b = Buffer.alloc(14 + 20 + l4.length);
  MAC_B.copy(b, 0);
  MAC_A.copy(b, 6);
  b.writeUInt16BE(0x0800, 12);
  b[14] = 0x45;
  b.writeUInt16BE(20 + l4.length, 16);
  b[22] = 64;
  b[23] = proto;
  b.writeUInt32BE(src >>> 0, 26);
  b.writeUInt32BE(dst >>> 0, 30);
  l4.copy(b, 34);
  return b;
}

function tcp(sport: number, dport: number, seq: number, ack: number, flags: number, payload = 0): Buffer {
  const t = Buffer.alloc(20 + payload);
  t.writeUInt16BE(sport, 0);
  t.writeUInt16BE(dport, 2);
  t.writeUInt32BE(seq >>> 0, 4);
  t.writeUInt32BE(ack >>> 0, 8);
  t[12] = 0x50;
  t[13] = flags;
  t.writeUInt16BE(65535, 14);
  if (payload > 0) t.fill(0x41, 20);
  return t;
}

function udp(sport: number, dport: number, payload: number): Buffer {
  const u = Buffer.alloc(8 + payload);
  u.writeUInt16BE(sport, 0);
  u.writeUInt16BE(dport, 2);
  u.writeUInt16BE(8 + payload, 4);
  return u;
}

function arpRequest(sender: number, target: number): Buffer {
  const b = Buffer.alloc(42);
  b.fill(0xff, 0, 6);
  MAC_A.copy(b, 6);
  b.writeUInt16BE(0x0806, 12);
  b.writeUInt16BE(1, 14); b.writeUInt16BE(0x0800, 16); b[18] = 6; b[19] = 4; b.writeUInt16BE(1, 20);
  MAC_A.copy(b, 22);
  b.writeUInt32BE(sender >>> 0, 28);
  b.writeUInt32BE(target >>> 0, 38);
  return b;
}

const SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04, PSH = 0x08;

/** One short TCP connection's packets: [µs after its start, bytes]. */
function connection(r: () => number, client: number, server: number, cport: number, sport: number): Array<[number, Buffer]> {
  const c = Math.floor(r() * 2 ** 32), s = Math.floor(r() * 2 ** 32);
  const up = (flags: number, seq: number, ack: number, len = 0): Buffer => ipv4(client, server, 6, tcp(cport, sport, seq, ack, flags, len));
  const down = (flags: number, seq: number, ack: number, len = 0): Buffer => ipv4(server, client, 6, tcp(sport, cport, seq, ack, flags, len));
  const kind = r();
  if (kind < 0.08) return [[0, up(SYN, c, 0)], [1000_000, up(SYN, c, 0)]];
  const out: Array<[number, Buffer]> = [[0, up(SYN, c, 0)], [200, down(SYN | ACK, s, c + 1)], [400, up(ACK, c + 1, s + 1)],
    [600, up(PSH | ACK, c + 1, s + 1, 120)], [900, down(PSH | ACK, s + 1, c + 121, 900)], [1100, up(ACK, c + 121, s + 901)]];
  if (kind < 0.15) out.push([1300, down(RST | ACK, s + 901, c + 121)]);
  else out.push([1300, up(FIN | ACK, c + 121, s + 901)], [1500, down(FIN | ACK, s + 901, c + 122)], [1700, up(ACK, c + 122, s + 902)]);
  return out;
}

/** The FTP template with another client address and client ports; times relative to its first frame. */
function ftpCopy(template: Frame[], k: number): Array<[number, Buffer]> {
  const t0 = template[0].ts;
  const clientOld = 0xcb00710a; // 203.0.113.10
  const clientNew = (0xcb007100 | (10 + (k % 200))) >>> 0;
  return template.map((f) => {
    const d = Buffer.from(f.data);
    const et = d.readUInt16BE(12);
    if (et === 0x0800) {
      for (const at of [26, 30]) if (d.readUInt32BE(at) === clientOld) d.writeUInt32BE(clientNew, at);
      moveClientPorts(d, (port) => 41000 + ((port + 37 * k) % 24000));
    } else if (et === 0x0806) {
      for (const at of [28, 38]) if (d.readUInt32BE(at) === clientOld) d.writeUInt32BE(clientNew, at);
    }
    return [f.ts - t0, d] as [number, Buffer];
  });
}

export function* syntheticFeed(o: FeedOptions): Generator<Frame> {
  const r = rng(0x5eed);
  const start = o.start ?? 1_760_000_000_000_000;
  const ticks = Math.ceil(o.spanUs / TICK_US);
  const perTick = o.frames / ticks;
  const ftpPerTick = TICK_US / o.ftpEveryUs;
  const later = new Map<number, Array<[number, Buffer]>>();
  let no = 0;
  let ftpDue = 0;
  let ftpCount = 0;
  let port = 20000;
  let budget = 0;
  for (let t = 0; t < ticks && no < o.frames; t++) {
    const base = start + t * TICK_US;
    const now: Array<[number, Buffer]> = later.get(t) ?? [];
    later.delete(t);
    const schedule = (at: number, b: Buffer): void => {
      const tick = Math.floor((at - start) / TICK_US);
      if (tick <= t) { now.push([at, b]); return; }
      const list = later.get(tick);
      if (list) list.push([at, b]); else later.set(tick, [[at, b]]);
    };
    ftpDue += ftpPerTick;
    while (ftpDue >= 1) {
      ftpDue--;
      const at = base + Math.floor(r() * TICK_US / 2);
      for (const [dt, b] of ftpCopy(o.ftpTemplate, ftpCount++)) schedule(at + dt, b);
    }
    budget += perTick;
    while (budget >= 1) {
      const at = base + Math.floor(r() * TICK_US * 0.9);
      const u = r();
      const client = (0x0a010000 | Math.floor(r() * CLIENTS)) >>> 0;
      const server = (0xc6336400 | (1 + Math.floor(r() * SERVERS))) >>> 0;
      if (u < 0.1) {
        schedule(at, ipv4(client, server, 17, udp(1024 + Math.floor(r() * 60000), 53, 40)));
        budget--;
      } else if (u < 0.12) {
        schedule(at, arpRequest(client, (0x0a010000 | Math.floor(r() * CLIENTS)) >>> 0));
        budget--;
      } else {
        port = port >= 60000 ? 20000 : port + 1;
        const pkts = connection(r, client, server, port, [80, 443, 22][Math.floor(r() * 3)]);
        for (const [dt, b] of pkts) schedule(at + dt, b);
        budget -= pkts.length;
      }
    }
    now.sort((a, b) => a[0] - b[0]);
    for (const [ts, data] of now) {
      if (no >= o.frames) return;
      no++;
      yield { no, ts, linkType: 1, caplen: data.length, origLen: data.length, data, iface: 0, offset: -1 };
    }
  }
}
