/**
 * Builds small raw-IP captures (LINKTYPE_RAW) of FTP dialogues for scenarios the third-party
 * corpus lacks: failed data connections, NAT'd announcements, FTPS. Every packet is what the
 * RFCs say it is (IPv4/IPv6 + TCP with correct checksums, ICMP errors quoting the SYN), so
 * tshark decodes the files too and the tests can check them against it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { PcapWriter } from '../../../src/source/pcap-writer.js';
import { parseIp } from '../../../src/decode/addr.js';

const FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10;

function sum16(b: Buffer, init = 0): number {
  let s = init;
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i);
  if (b.length % 2) s += b[b.length - 1] << 8;
  return s;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function addr(ip: string): Buffer {
  const b = parseIp(ip);
  if (!b) throw new Error(`bad address ${ip}`);
  return b;
}

/** An IP packet (v4 or v6 by address) carrying `payload` of protocol `proto`; L4 checksum at `csumAt` filled in. */
export function ipPacket(src: string, dst: string, proto: number, l4: Buffer, csumAt: number | null): Buffer {
  const s = addr(src), d = addr(dst);
  if (csumAt !== null) {
    l4.writeUInt16BE(0, csumAt);
    const pseudo = s.length === 4
      ? Buffer.concat([s, d, Buffer.from([0, proto]), Buffer.from([l4.length >> 8, l4.length & 0xff])])
      : Buffer.concat([s, d, Buffer.from([0, 0, l4.length >> 8, l4.length & 0xff, 0, 0, 0, proto])]);
    l4.writeUInt16BE(fold(sum16(l4, sum16(pseudo))), csumAt);
  }
  if (s.length === 4) {
    const ip = Buffer.alloc(20);
    ip.writeUInt8(0x45, 0);
    ip.writeUInt16BE(20 + l4.length, 2);
    ip.writeUInt16BE(0x4000, 6);
    ip.writeUInt8(64, 8);
    ip.writeUInt8(proto, 9);
    s.copy(ip, 12);
    d.copy(ip, 16);
    ip.writeUInt16BE(fold(sum16(ip)), 10);
    return Buffer.concat([ip, l4]);
  }
  const ip = Buffer.alloc(40);
  ip.writeUInt32BE(0x60000000, 0);
  ip.writeUInt16BE(l4.length, 4);
  ip.writeUInt8(proto, 6);
  ip.writeUInt8(64, 7);
  s.copy(ip, 8);
  d.copy(ip, 24);
  return Buffer.concat([ip, l4]);
}

function tcpSegment(src: string, sport: number, dst: string, dport: number, seq: number, ack: number, flags: number, data: Buffer): Buffer {
  const t = Buffer.alloc(20 + data.length);
  t.writeUInt16BE(sport, 0);
  t.writeUInt16BE(dport, 2);
  t.writeUInt32BE(seq >>> 0, 4);
  t.writeUInt32BE(ack >>> 0, 8);
  t.writeUInt8(0x50, 12);
  t.writeUInt8(flags, 13);
  t.writeUInt16BE(65535, 14);
  data.copy(t, 20);
  return ipPacket(src, dst, 6, t, 16);
}

export interface Frame { ts: number; data: Buffer }

/** A capture being written, frame by frame; `no` is the number the next frame will get (1-based). */
export class Capture {
  readonly frames: Frame[] = [];
  /** µs since the epoch; advanced by `tick`. */
  now = 1_700_000_000_000_000;

  get no(): number {
    return this.frames.length + 1;
  }

  tick(ms = 1): this {
    this.now += Math.round(ms * 1000);
    return this;
  }

  push(data: Buffer): number {
    this.tick(1);
    this.frames.push({ ts: this.now, data });
    return this.frames.length;
  }

  tcp(client: string, clientPort: number, server: string, serverPort: number): Tcp {
    return new Tcp(this, client, clientPort, server, serverPort);
  }

  /** ICMP (v4 type 3 / v6 type 1) from `reporter` quoting the given packet. */
  icmpUnreachable(reporter: string, quoted: Buffer, code: number): number {
    const v6 = isIP(reporter) === 6;
    const quote = quoted.subarray(0, v6 ? Math.min(quoted.length, 1232) : Math.min(quoted.length, 28));
    const l4 = Buffer.alloc(8 + quote.length);
    l4.writeUInt8(v6 ? 1 : 3, 0);
    l4.writeUInt8(code, 1);
    quote.copy(l4, 8);
    const quotedSrc = v6 ? ipv6At(quoted, 8) : `${quoted[12]}.${quoted[13]}.${quoted[14]}.${quoted[15]}`;
    if (v6) return this.push(ipPacket(reporter, quotedSrc, 58, l4, 2));
    l4.writeUInt16BE(fold(sum16(l4)), 2);
    return this.push(ipPacket(reporter, quotedSrc, 1, l4, null));
  }

  write(path: string): string {
    const w = new PcapWriter(path, 101);
    for (const f of this.frames) w.write(f.ts, f.data);
    w.close();
    return path;
  }
}

function ipv6At(b: Buffer, off: number): string {
  const words: string[] = [];
  for (let i = 0; i < 8; i++) words.push(b.readUInt16BE(off + 2 * i).toString(16));
  return words.join(':');
}

/** One TCP connection; `c` = the initiator (client side), `s` = the responder. */
export class Tcp {
  private seq = { c: 1000, s: 5000 };
  /** Frame numbers of what was sent, for assertions. */
  readonly sent: Array<{ frame: number; from: 'c' | 's'; text: string }> = [];
  lastSyn: Buffer | null = null;

  constructor(private cap: Capture, readonly client: string, readonly clientPort: number,
    readonly server: string, readonly serverPort: number) {}

  private pkt(from: 'c' | 's', flags: number, data: Buffer): Buffer {
    return from === 'c'
      ? tcpSegment(this.client, this.clientPort, this.server, this.serverPort, this.seq.c, this.seq.s, flags, data)
      : tcpSegment(this.server, this.serverPort, this.client, this.clientPort, this.seq.s, this.seq.c, flags, data);
  }

  syn(): number {
    const b = tcpSegment(this.client, this.clientPort, this.server, this.serverPort, this.seq.c - 1, 0, SYN, Buffer.alloc(0));
    this.lastSyn = b;
    return this.cap.push(b);
  }

  synAck(): number {
    return this.cap.push(tcpSegment(this.server, this.serverPort, this.client, this.clientPort, this.seq.s - 1, this.seq.c, SYN | ACK, Buffer.alloc(0)));
  }

  handshake(): this {
    this.syn();
    this.synAck();
    this.cap.push(this.pkt('c', ACK, Buffer.alloc(0)));
    return this;
  }

  /** Responder refuses the SYN. */
  rstToSyn(): number {
    return this.cap.push(tcpSegment(this.server, this.serverPort, this.client, this.clientPort, 0, this.seq.c, RST | ACK, Buffer.alloc(0)));
  }

  send(from: 'c' | 's', data: string | Buffer): number {
    const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const frame = this.cap.push(this.pkt(from, PSH | ACK, buf));
    this.seq[from] += buf.length;
    this.sent.push({ frame, from, text: buf.toString('latin1') });
    return frame;
  }

  /** Client line(s) then server reply, each in its own segment. */
  exchange(command: string, reply: string): { command: number; reply: number } {
    const c = this.send('c', command.endsWith('\n') ? command : command + '\r\n');
    const r = this.send('s', reply.endsWith('\n') ? reply : reply + '\r\n');
    return { command: c, reply: r };
  }

  close(): void {
    this.cap.push(this.pkt('c', FIN | ACK, Buffer.alloc(0)));
    this.seq.c++;
    this.cap.push(this.pkt('s', FIN | ACK, Buffer.alloc(0)));
    this.seq.s++;
    this.cap.push(this.pkt('c', ACK, Buffer.alloc(0)));
  }
}

const tempDirs: string[] = [];

export function tempCapturePath(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-ftp-'));
  tempDirs.push(dir);
  return join(dir, name);
}

/** Removes every directory `tempCapturePath` made (call from an `after` hook). */
export function removeTempCaptures(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A minimal TLS record of `type` with `len` body bytes (content is irrelevant to record walking). */
export function tlsRecord(type: number, len: number, first = 0): Buffer {
  const b = Buffer.alloc(5 + len, 0xab);
  b[0] = type;
  b[1] = 3;
  b[2] = 3;
  b.writeUInt16BE(len, 3);
  if (len > 0) b[5] = first;
  return b;
}

/** A handshake record that starts like a ClientHello (handshake type 1). */
export function clientHello(len = 200): Buffer {
  const b = tlsRecord(22, len, 1);
  b[1] = 3;
  b[2] = 1;
  return b;
}
