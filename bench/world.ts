import { makeCertificate, type BenchCertificate } from './cert.js';
import { makeHost, type Host } from './frames.js';
import type { Prng } from './prng.js';

export interface TlsServer {
  host: Host;
  port: 443 | 990;
  name: string;
  cert: BenchCertificate;
}

/**
 * Ports tshark 4.0 binds a dissector to in the ephemeral range: a client port there would make it
 * dissect random bulk bytes as IRC, EtherNet/IP, ... and report them malformed.
 */
const REGISTERED_EPHEMERAL = new Set([34980, 44321, 44322, 44818, 48049, 48898, 57000]);
/** UDP to 33434-33534 is how traceroute probes; tshark flags DNS answers to those ports as "possible traceroute". */
const TRACEROUTE_LO = 33434;
const TRACEROUTE_HI = 33534;
const EPHEMERAL_LO = 32768;
const EPHEMERAL_HI = 60999;
/** vsftpd-style pasv_min_port/pasv_max_port. */
export const PASSIVE_LO = 50000;
export const PASSIVE_HI = 50999;
/** iperf3's default port: no dissector in tshark 4.0, so bulk bytes stay plain TCP payload. */
export const BULK_PORT = 5201;

/** The simulated site: one LAN with thousands of clients and a handful of servers. */
export class World {
  readonly clients: Host[] = [];
  readonly ftpServers: Host[] = [];
  readonly bulkServers: Host[] = [];
  readonly tlsServers: TlsServer[] = [];
  readonly dnsServer: Host;
  /** Random bytes that FTP data and TLS ciphertext are sliced from. */
  readonly pool: Buffer;
  /**
   * iperf's default payload, the ASCII digits repeated. Bulk flows on 5201 have no port dissector,
   * so tshark offers every segment to its heuristic dissectors; random bytes there occasionally
   * pass for Thrift and come out "malformed", the digits never do.
   */
  readonly digits: Buffer;
  private nextEphemeral = new Map<number, number>();
  private nextPassive = new Map<number, number>();

  constructor(private rng: Prng, clientCount: number) {
    for (let i = 0; i < clientCount; i++) {
      this.clients.push(makeHost(ip(10, 1, 1 + Math.floor(i / 250), 1 + (i % 250)), rng.chance(0.3) ? 128 : 64));
    }
    for (let i = 0; i < 4; i++) this.ftpServers.push(makeHost(ip(10, 2, 0, 21 + i)));
    for (let i = 0; i < 4; i++) this.bulkServers.push(makeHost(ip(10, 2, 2, 10 + i)));
    this.dnsServer = makeHost(ip(10, 2, 0, 53));
    const names = ['www', 'api', 'cdn', 'login', 'files', 'mail'];
    names.forEach((n, i) => {
      const name = `${n}.bench.example`;
      this.tlsServers.push({ host: makeHost(ip(10, 2, 1, 10 + i)), port: 443, name, cert: makeCertificate(rng, name, [name, `*.${n}.bench.example`]) });
    });
    for (let i = 0; i < 2; i++) {
      const name = `ftps${i + 1}.bench.example`;
      this.tlsServers.push({ host: makeHost(ip(10, 2, 0, 41 + i)), port: 990, name, cert: makeCertificate(rng, name, [name]) });
    }
    this.pool = rng.bytes(4 << 20);
    this.digits = Buffer.from('0123456789'.repeat(1 << 17), 'ascii');
  }

  private everyone: Host[] | null = null;

  get allHosts(): Host[] {
    this.everyone ??= [...this.clients, ...this.ftpServers, ...this.bulkServers, ...this.tlsServers.map((t) => t.host), this.dnsServer];
    return this.everyone;
  }

  client(): Host { return this.rng.pick(this.clients); }

  /** Per-host sequential ephemeral ports (Linux picks them pseudo-randomly; sequential never collides). */
  ephemeralPort(h: Host): number {
    let p = this.nextEphemeral.get(h.ip) ?? EPHEMERAL_LO + this.rng.int(20000);
    do { p = p >= EPHEMERAL_HI ? EPHEMERAL_LO : p + 1; } while (REGISTERED_EPHEMERAL.has(p) || (p >= TRACEROUTE_LO && p <= TRACEROUTE_HI));
    this.nextEphemeral.set(h.ip, p);
    return p;
  }

  passivePort(server: Host): number {
    const p = this.nextPassive.get(server.ip) ?? PASSIVE_LO + this.rng.int(PASSIVE_HI - PASSIVE_LO);
    const n = p >= PASSIVE_HI ? PASSIVE_LO : p + 1;
    this.nextPassive.set(server.ip, n);
    return n;
  }

  /** Offset of a `len`-byte slice of the pool. */
  poolOffset(len: number): number { return this.rng.int(this.pool.length - len); }

  /** Offset into the digits that continues a stream already `sent` bytes long. */
  digitsOffset(sent: number): number { return sent % 10; }
}

function ip(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}
