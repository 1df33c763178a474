/**
 * Windows NLB cluster MAC arithmetic. A MAC is a 48-bit unsigned integer held in a JS number
 * (exact up to 2^53), e.g. 0x02bfc0a8020b, or the text `02:bf:c0:a8:02:0b`.
 *
 * The three cluster MAC forms (FACTS §1.1, from Wireshark's `wka` file and MS KB 283028):
 *   unicast   02-BF-a-b-c-d   (replaces every host NIC's own MAC)
 *   multicast 03-BF-a-b-c-d   (added next to the NIC's own MAC)
 *   igmp      01-00-5E-7F-c-d (the MAC of IP group 239.255.c.d, which hosts join)
 * and, in unicast mode, the per-host masked source 02-<priority>-a-b-c-d (§1.2).
 */

export type NlbMode = 'unicast' | 'multicast' | 'igmp';

export interface ClusterMacClass {
  mode: NlbMode;
  /** `a.b.c.d` for unicast/multicast; `*.*.c.d` for igmp, where the MAC keeps only two octets. */
  clusterIpGuess: string;
  /** igmp only: the group the hosts join, 239.255.c.d. */
  igmpGroup?: string;
}

export interface MaskedSource {
  /** Host priority (unique host id), 1..32. */
  priority: number;
  /** The cluster IP the host embeds in its masked source MAC. */
  ip: string;
}

const TWO_32 = 0x1_0000_0000;
export const BROADCAST_MAC = 0xffff_ffff_ffff;

/** The six bytes of a numeric MAC, most significant first. */
export function macBytes(mac: number): number[] {
  const hi = Math.floor(mac / TWO_32);
  const lo = mac % TWO_32;
  return [(hi >>> 8) & 0xff, hi & 0xff, (lo >>> 24) & 0xff, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff];
}

function macFromBytes(b: ArrayLike<number>): number {
  return (b[0] * 0x100 + b[1]) * TWO_32 + ((b[2] << 24) >>> 0) + (b[3] << 16) + (b[4] << 8) + b[5];
}

/** Reads a MAC out of a frame (e.g. Ethernet destination at 0, source at 6). */
export function readMac(buf: Buffer, offset: number): number {
  return buf.readUIntBE(offset, 6);
}

/** Writes a MAC into a frame. */
export function writeMac(buf: Buffer, mac: number, offset: number): void {
  buf.writeUIntBE(mac, offset, 6);
}

/** Lower-case, colon-separated, as tshark prints `eth.src`. */
export function macToString(mac: number): string {
  return macBytes(mac).map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * Accepts `02:bf:c0:a8:02:0b`, `02-BF-C0-A8-02-0B` (Microsoft's spelling), `02bf.c0a8.020b`
 * (Cisco's) and bare `02bfc0a8020b`. Returns null for anything else.
 */
export function parseMac(text: string): number | null {
  const s = text.trim();
  let hex: string;
  if (/^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i.test(s)) hex = s.replace(/[:-]/g, '');
  else if (/^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i.test(s)) hex = s.replace(/\./g, '');
  else if (/^[0-9a-f]{12}$/i.test(s)) hex = s;
  else return null;
  return parseInt(hex, 16);
}

/** The I/G bit. Broadcast counts too: it is the all-stations group address. */
export function isMulticastMac(mac: number): boolean {
  return (macBytes(mac)[0] & 0x01) === 1;
}

export function isBroadcastMac(mac: number): boolean {
  return mac === BROADCAST_MAC;
}

/** Dotted-quad text to four bytes; null if it is not an IPv4 address. */
export function parseIpv4(ip: string): [number, number, number, number] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip.trim());
  if (!m) return null;
  const b = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  if (b.some((x) => x > 255)) return null;
  return [b[0], b[1], b[2], b[3]];
}

function ipv4OrThrow(ip: string): [number, number, number, number] {
  const b = parseIpv4(ip);
  if (!b) throw new RangeError(`not an IPv4 address: ${ip}`);
  return b;
}

/**
 * Recognises a cluster MAC by its prefix alone. 01-00-5E-7F-x-y is also the MAC of every
 * other 239.255.x.y group (SSDP's 239.255.255.250 is 01-00-5E-7F-FF-FA), so an igmp answer
 * needs corroboration: a unicast IP destination, an ARP reply, a heartbeat (FACTS §1.6).
 */
export function classifyClusterMac(mac: number): ClusterMacClass | null {
  const b = macBytes(mac);
  if ((b[0] === 0x02 || b[0] === 0x03) && b[1] === 0xbf) {
    return { mode: b[0] === 0x02 ? 'unicast' : 'multicast', clusterIpGuess: `${b[2]}.${b[3]}.${b[4]}.${b[5]}` };
  }
  if (b[0] === 0x01 && b[1] === 0x00 && b[2] === 0x5e && b[3] === 0x7f) {
    return { mode: 'igmp', clusterIpGuess: `*.*.${b[4]}.${b[5]}`, igmpGroup: `239.255.${b[4]}.${b[5]}` };
  }
  return null;
}

/** The cluster MAC NLB derives from the cluster's primary IP in the given mode. */
export function clusterMacFor(ip: string, mode: NlbMode): number {
  const [a, b, c, d] = ipv4OrThrow(ip);
  switch (mode) {
    case 'unicast': return macFromBytes([0x02, 0xbf, a, b, c, d]);
    case 'multicast': return macFromBytes([0x03, 0xbf, a, b, c, d]);
    case 'igmp': return macFromBytes([0x01, 0x00, 0x5e, 0x7f, c, d]);
  }
}

/** IGMP mode: hosts join 239.255.c.d, administratively scoped (RFC 2365), per MS KB 283028. */
export function igmpGroupFor(clusterIp: string): string {
  const [, , c, d] = ipv4OrThrow(clusterIp);
  return `239.255.${c}.${d}`;
}

/**
 * Unicast mode rewrites each host's source MAC to 02-<priority>-IP so the switch never learns
 * 02-BF-IP (which is why frames to the cluster are flooded). Priorities run 1..32.
 */
export function maskedSourceMac(ip: string, priority: number): number {
  if (!Number.isInteger(priority) || priority < 1 || priority > 32) {
    throw new RangeError(`NLB host priority must be 1..32, got ${priority}`);
  }
  const [a, b, c, d] = ipv4OrThrow(ip);
  return macFromBytes([0x02, priority, a, b, c, d]);
}

/**
 * The inverse of maskedSourceMac. By pattern only: 02-04-96 is also an ExtremeNetworks prefix
 * (Wireshark's `wka` notes the clash), so pair it with heartbeats or cluster MACs before trusting it.
 */
export function parseMaskedSourceMac(mac: number): MaskedSource | null {
  const b = macBytes(mac);
  if (b[0] !== 0x02 || b[1] < 1 || b[1] > 32) return null;
  return { priority: b[1], ip: `${b[2]}.${b[3]}.${b[4]}.${b[5]}` };
}
