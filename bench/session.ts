import type { Emitter } from './frames.js';
import type { Prng } from './prng.js';
import { MSS } from './tcp.js';
import type { World } from './world.js';

export type SessionKind = 'bulk' | 'ftp' | 'ftp-browse' | 'tls-web' | 'tls-chatty' | 'dns' | 'arp';

/**
 * A conversation the scheduler interleaves with thousands of others: `steps` emits one burst of
 * frames per `next()`. The estimates let the scheduler steer the mix towards both the byte and
 * the packet target before the frames exist.
 */
export interface Session {
  kind: SessionKind;
  estBytes: number;
  estPackets: number;
  /** Transport flows (5-tuples) the session opens. */
  flows: number;
  steps: Generator<void, void, void>;
}

export interface Ctx {
  world: World;
  em: Emitter;
  rng: Prng;
}

/** pcap record header + Ethernet + IPv4 + TCP header, per frame, in file bytes. */
export const TCP_OVERHEAD = 16 + 54;

/** Running file-byte and packet estimate of what a session will emit. */
export class Estimate {
  bytes = 0;
  packets = 0;

  /** A TCP send of n bytes, receiver ACKing every other segment and the tail. */
  stream(n: number, ackEvery = 2): this {
    const segs = Math.max(1, Math.ceil(n / MSS));
    const acks = ackEvery > 0 ? Math.ceil(segs / ackEvery) : 1;
    this.packets += segs + acks;
    this.bytes += n + (segs + acks) * TCP_OVERHEAD;
    return this;
  }

  /** Handshake (with SYN options) and FIN exchange. */
  connection(): this {
    this.packets += 6;
    this.bytes += 6 * TCP_OVERHEAD + 24;
    return this;
  }

  frames(count: number, bytesEach: number): this {
    this.packets += count;
    this.bytes += count * (16 + bytesEach);
    return this;
  }
}
