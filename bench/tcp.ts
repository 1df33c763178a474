import { TCP, type Emitter, type Host } from './frames.js';
import type { Prng } from './prng.js';

/** Ethernet MTU 1500 minus 20-byte IPv4 and 20-byte TCP headers: full segments are 1514-byte frames. */
export const MSS = 1460;
// MSS 1460, NOP + window scale 7, NOP NOP + SACK permitted (the Linux SYN layout without timestamps).
const SYN_OPTIONS = Buffer.from([0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07, 0x01, 0x01, 0x04, 0x02]);

export type Dir = 0 | 1;

export interface SendOptions {
  /** The receiver ACKs every n-th full segment (delayed ACK, RFC 1122 4.2.3.2); 0 = never in between. */
  ackEvery?: number;
  /** Whether the receiver ACKs the tail right away (false when its reply will carry the ACK). */
  finalAck?: boolean;
}

/**
 * One TCP connection with consistent sequence and acknowledgement numbers in both directions.
 * Direction 0 is client → server. Every segment acknowledges all the peer has sent, which keeps
 * tshark's sequence analysis quiet (no "ACKed unseen segment", no "previous segment not captured").
 */
export class TcpConn {
  readonly hosts: [Host, Host];
  readonly ports: [number, number];
  /** Next sequence number each side sends. */
  readonly next: [number, number];
  private readonly windows: [number, number];
  private isn: number;

  constructor(private em: Emitter, client: Host, clientPort: number, server: Host, serverPort: number, rng: Prng) {
    this.hosts = [client, server];
    this.ports = [clientPort, serverPort];
    this.isn = rng.u32();
    this.next = [this.isn, rng.u32()];
    // Scaled receive windows of 256-512 KiB: bursts never fill them ("TCP window full" stays silent).
    this.windows = [rng.range(2048, 4096), rng.range(2048, 4096)];
  }

  private seg(dir: Dir, flags: number, payload: Buffer | null = null, off = 0, len = 0, options: Buffer | null = null, window?: number): void {
    const o = 1 - dir;
    this.em.tcp(this.hosts[dir], this.hosts[o], this.ports[dir], this.ports[o], this.next[dir], this.next[o], flags,
      window ?? this.windows[dir], options, payload, off, len);
  }

  syn(): void {
    this.next[0] = this.isn;
    this.seg(0, TCP.SYN, null, 0, 0, SYN_OPTIONS, 64240);
    this.next[0] = (this.isn + 1) >>> 0;
  }

  synAck(): void {
    this.seg(1, TCP.SYN | TCP.ACK, null, 0, 0, SYN_OPTIONS, 65160);
    this.next[1] = (this.next[1] + 1) >>> 0;
  }

  handshake(): void {
    this.syn();
    this.synAck();
    this.ack(0);
  }

  /** The port is closed: RST/ACK to the SYN (RFC 793 "Reset Generation", case 1). */
  refuse(): void {
    this.em.tcp(this.hosts[1], this.hosts[0], this.ports[1], this.ports[0], 0, this.next[0], TCP.RST | TCP.ACK, 0, null, null);
  }

  ack(dir: Dir): void { this.seg(dir, TCP.ACK); }

  send(dir: Dir, data: Buffer, off = 0, len = data.length - off, opts: SendOptions = {}): void {
    const ackEvery = opts.ackEvery ?? 2;
    let sinceAck = 0;
    for (let done = 0; done < len;) {
      const n = Math.min(MSS, len - done);
      const last = done + n >= len;
      this.seg(dir, TCP.ACK | (last ? TCP.PSH : 0), data, off + done, n);
      this.next[dir] = (this.next[dir] + n) >>> 0;
      done += n;
      sinceAck++;
      if (ackEvery > 0 && sinceAck >= ackEvery && !last) { this.ack(dir === 0 ? 1 : 0); sinceAck = 0; }
    }
    if (opts.finalAck !== false) this.ack(dir === 0 ? 1 : 0);
  }

  /** Orderly release started by `dir`: FIN/ACK, FIN/ACK, ACK. */
  close(dir: Dir): void {
    const o: Dir = dir === 0 ? 1 : 0;
    this.seg(dir, TCP.FIN | TCP.ACK);
    this.next[dir] = (this.next[dir] + 1) >>> 0;
    this.seg(o, TCP.FIN | TCP.ACK);
    this.next[o] = (this.next[o] + 1) >>> 0;
    this.seg(dir, TCP.ACK);
  }

  abort(dir: Dir): void { this.seg(dir, TCP.RST | TCP.ACK, null, 0, 0, null, 0); }
}
