/**
 * Builds NLB heartbeat frames (Ethernet II, EtherType 0x886F) for the lab, the tests and the
 * benchmark generator. The layout mirrors nlb.ts; tshark's `msnlb` dissector must read back
 * exactly what was put in (test/unit/l2 checks that).
 */
import { PcapWriter } from '../../source/pcap-writer.js';
import { BROADCAST_MAC, clusterMacFor, maskedSourceMac, parseIpv4, writeMac, type NlbMode } from './cluster-mac.js';
import { NLB_ETHERTYPE, NLB_HEADER_LENGTH, NLB_MEMBERSHIP_LENGTH, NLB_SIGNATURE } from './nlb.js';

const LINKTYPE_ETHERNET = 1;
const ETHERNET_MIN_PAYLOAD = 46;
/** Zero bytes after the last extended-heartbeat entry (a type-0 entry ends the list for our decoder). */
const EXTENDED_TRAILING_PADDING = 8;

export interface NlbFrameAddressing {
  clusterIp: string;
  /** Dedicated IP of the sending host. */
  hostIp: string;
  /** Host priority / unique host id, 1..32. */
  priority: number;
  /** Chooses the default destination: broadcast (unicast), 03-BF-… (multicast), 01-00-5E-7F-… (igmp). */
  mode?: NlbMode;
  /** Defaults to the masked 02-<priority>-<cluster IP>, as tcpdump's msnlb.pcap shows. */
  src?: number;
  dst?: number;
  /** Puts an 802.1Q tag (TPID 0x8100) in front of the EtherType. */
  vlanId?: number;
  /** Raw version word; default 0x0206 ("2.6"), what the hosts in tcpdump's msnlb.pcap send. */
  version?: number;
}

export interface NlbTeamingSpec {
  active?: boolean;
  master?: boolean;
  reverseHashing?: boolean;
  participants?: number;
  xorClusterIp?: number;
}

export interface MembershipHeartbeatSpec extends NlbFrameAddressing {
  /** Zero-based, as real hosts send it; default priority − 1. */
  myHostId?: number;
  defaultHostId?: number;
  convergenceState?: number;
  numberOfPortRules?: number;
  uniqueHostCode?: number;
  packetsHandled?: number;
  teaming?: NlbTeamingSpec;
}

export interface ExtendedHeartbeatSpec extends NlbFrameAddressing {
  hostName?: string;
  /** IPv4 dotted quads or IPv6 text. */
  addresses?: string[];
}

/** A 1510-byte frame (1514 with a VLAN tag): 14-byte header + the 1496-byte membership payload. */
export function encodeMembershipHeartbeat(spec: MembershipHeartbeatSpec): Buffer {
  const p = Buffer.alloc(NLB_MEMBERSHIP_LENGTH);
  writeCommonHeader(p, NLB_SIGNATURE.membership, spec);
  p.writeUInt16LE(spec.myHostId ?? spec.priority - 1, 20);
  p.writeUInt16LE(spec.defaultHostId ?? 0, 22);
  p.writeUInt16LE(spec.convergenceState ?? 1, 24);
  p.writeUInt16LE(spec.numberOfPortRules ?? 1, 26);
  p.writeUInt32LE(spec.uniqueHostCode ?? 0, 28);
  p.writeUInt32LE(spec.packetsHandled ?? 0, 32);
  p.writeUInt32LE(teamingWord(spec.teaming), 36);
  return frame(spec, p);
}

/**
 * Host-name entry first, then one entry per address, back to back, then zero padding (at least
 * 8 bytes, and up to Ethernet's minimum). The entry length byte has no documented unit; we write the entry size in 8-byte
 * units, rounded up [unsourced guess] — Wireshark and our decoder both ignore it.
 */
export function encodeExtendedHeartbeat(spec: ExtendedHeartbeatSpec): Buffer {
  const parts: Buffer[] = [Buffer.alloc(NLB_HEADER_LENGTH)];
  writeCommonHeader(parts[0], NLB_SIGNATURE.extended, spec);
  if (spec.hostName !== undefined) {
    const name = Buffer.from(`${spec.hostName}\0`, 'utf16le');
    parts.push(entryHeader(1, 8 + name.length + 6), name, Buffer.alloc(6));
  }
  for (const address of spec.addresses ?? []) {
    const v4 = parseIpv4(address);
    const body = v4 ? Buffer.alloc(6) : Buffer.alloc(18);
    body.writeUInt16LE(v4 ? 0x0002 : 0x0017, 0);
    if (v4) Buffer.from(v4).copy(body, 2);
    else ipv6Bytes(address).copy(body, 2);
    parts.push(entryHeader(2, 8 + body.length), body);
  }
  // Real frames pad to the end after the address entry, and Wireshark's dissector always reads a
  // padding field there: a frame ending right after the address is "malformed" to it.
  parts.push(Buffer.alloc(EXTENDED_TRAILING_PADDING));
  let payload = Buffer.concat(parts);
  if (payload.length < ETHERNET_MIN_PAYLOAD) payload = Buffer.concat([payload, Buffer.alloc(ETHERNET_MIN_PAYLOAD - payload.length)]);
  return frame(spec, payload);
}

/** Writes Ethernet frames as a classic microsecond pcap (timestamps in µs since the epoch). */
export function writeEthernetPcap(path: string, frames: ReadonlyArray<{ ts: number; data: Buffer }>): void {
  const w = new PcapWriter(path, LINKTYPE_ETHERNET);
  try {
    for (const f of frames) w.write(f.ts, f.data);
  } finally {
    w.close();
  }
}

function writeCommonHeader(p: Buffer, signature: number, spec: NlbFrameAddressing): void {
  p.writeUInt32LE(signature, 0);
  p.writeUInt32LE(spec.version ?? 0x0206, 4);
  p.writeUInt32LE(spec.priority, 8);
  Buffer.from(ipv4OrThrow(spec.clusterIp)).copy(p, 12);
  Buffer.from(ipv4OrThrow(spec.hostIp)).copy(p, 16);
}

function teamingWord(t: NlbTeamingSpec | undefined): number {
  if (!t) return 0;
  const participants = t.participants ?? 0;
  const xor = t.xorClusterIp ?? 0;
  if (participants > 0x1f || xor > 0xffff) throw new RangeError('teaming participants ≤ 31, xorClusterIp ≤ 0xffff');
  return ((xor << 8) | (participants << 3) | (t.reverseHashing ? 4 : 0) | (t.master ? 2 : 0) | (t.active ? 1 : 0)) >>> 0;
}

function entryHeader(type: number, entryBytes: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = type;
  h[1] = Math.min(255, Math.ceil(entryBytes / 8));
  return h;
}

function frame(spec: NlbFrameAddressing, payload: Buffer): Buffer {
  const mode = spec.mode ?? 'unicast';
  const dst = spec.dst ?? (mode === 'unicast' ? BROADCAST_MAC : clusterMacFor(spec.clusterIp, mode));
  const src = spec.src ?? maskedSourceMac(spec.clusterIp, spec.priority);
  const tag = spec.vlanId === undefined ? 0 : 4;
  const f = Buffer.alloc(14 + tag + payload.length);
  writeMac(f, dst, 0);
  writeMac(f, src, 6);
  if (spec.vlanId !== undefined) {
    f.writeUInt16BE(0x8100, 12);
    f.writeUInt16BE(spec.vlanId & 0x0fff, 14);
  }
  f.writeUInt16BE(NLB_ETHERTYPE, 12 + tag);
  payload.copy(f, 14 + tag);
  return f;
}

function ipv4OrThrow(ip: string): [number, number, number, number] {
  const b = parseIpv4(ip);
  if (!b) throw new RangeError(`not an IPv4 address: ${ip}`);
  return b;
}

/** Expands IPv6 text ("::" allowed, no embedded IPv4) to 16 bytes. */
function ipv6Bytes(text: string): Buffer {
  const [head, tail, extra] = text.split('::');
  if (extra !== undefined) throw new RangeError(`not an IPv6 address: ${text}`);
  const hs = head ? head.split(':') : [];
  const ts = tail === undefined ? [] : tail ? tail.split(':') : [];
  const missing = 8 - hs.length - ts.length;
  if ((tail === undefined && missing !== 0) || missing < 0) throw new RangeError(`not an IPv6 address: ${text}`);
  const groups = [...hs, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...ts];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) throw new RangeError(`not an IPv6 address: ${text}`);
    out.writeUInt16BE(parseInt(g, 16), i * 2);
  });
  return out;
}
