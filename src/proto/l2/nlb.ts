/**
 * Windows NLB heartbeat decoder: the payload after the Ethernet header (EtherType 0x886F).
 * Layout as Wireshark's `msnlb` dissector reads it (FACTS §1.4); field names follow its
 * filter names. The signature decides what a frame is, not the EtherType: other software
 * has been seen reusing 0x886F.
 */

export const NLB_ETHERTYPE = 0x886f;
/** Pre-WLBS frame type; mixed clusters fall back to it (FACTS §1.4). */
export const NLB_LEGACY_ETHERTYPE = 0xbf01;

export const NLB_SIGNATURE = {
  membership: 0xc0de01bf,
  extended: 0xc0de01c0,
  reliable: 0xc0de01de,
} as const;

export const NLB_HEADER_LENGTH = 20;
/** Common header + membership body through Reserved2 (offset 1364 + 33×4). */
export const NLB_MEMBERSHIP_LENGTH = 1496;

export interface NlbMalformed {
  kind: 'malformed';
  offset: number;
  reason: string;
  /**
   * Set when the bytes that could be read carry an NLB signature: a heartbeat cut short by the
   * snaplen (tcpdump's msnlb2 keeps 6 payload bytes) is still evidence that the host was alive.
   */
  signature?: number;
}

interface NlbCommonHeader {
  signature: number;
  /** Raw version word, as tshark's `-T fields` prints `msnlb.version` (e.g. 518). */
  versionRaw: number;
  /** major.minor = bits 15..8 . bits 7..0 (0x0206 → "2.6"). */
  version: string;
  /**
   * Host priority, 1..32: the same number unicast NLB puts in the masked source MAC
   * 02-<priority>-IP and that tcpdump prints as "host priority".
   */
  uniqueHostId: number;
  clusterIp: string;
  /** The host's dedicated IP. */
  hostIp: string;
  /** The payload ended before the message did (snaplen). */
  truncated: boolean;
}

export interface NlbTeaming {
  raw: number;
  active: boolean;
  master: boolean;
  /** Hashing bit: 1 = reverse, 0 = normal. */
  reverseHashing: boolean;
  participants: number;
  /** XOR of the low 16 bits of every participant's cluster IP. */
  xorClusterIp: number;
}

/** Cluster membership heartbeat (0xC0DE01BF). Body fields are absent when the payload ends first. */
export interface NlbMembershipHeartbeat extends NlbCommonHeader {
  kind: 'membership';
  /**
   * Wireshark's "My Host id" (`msnlb.my_host_ip`). Zero-based in real traffic: tcpdump's
   * msnlb.pcap has 1 for the host whose unique host id and masked MAC say priority 2.
   */
  myHostId?: number;
  /** "Default Host id", on the same zero-based scale as myHostId. */
  defaultHostId?: number;
  /** Raw; neither Wireshark nor any source documents the values. */
  convergenceState?: number;
  numberOfPortRules?: number;
  uniqueHostCode?: number;
  packetsHandled?: number;
  teaming?: NlbTeaming;
}

/** Extended heartbeat (0xC0DE01C0): who the host is by name and address. */
export interface NlbExtendedHeartbeat extends NlbCommonHeader {
  kind: 'extended';
  hostName?: string;
  /** IPv4 dotted quads and IPv6 text, in wire order. */
  addresses: string[];
}

/** An NLB-family signature that is not a heartbeat, e.g. 0xC0DE01DE "NLB Reliable Protocol". */
export interface NlbOtherMessage extends NlbCommonHeader {
  kind: 'other';
  bodyLength: number;
}

export type NlbHeartbeat = NlbMembershipHeartbeat | NlbExtendedHeartbeat | NlbOtherMessage;

/** All known signatures share 0xC0DE01xx [derived from the three Wireshark knows]. */
export function isNlbSignature(signature: number): boolean {
  return signature >>> 8 === 0xc0de01;
}

const EXT_HOST_NAME = 1;
const EXT_IP_ADDRESS = 2;
const EXT_ENTRY_HEADER = 8; // type, length, 2 + 4 reserved bytes
const EXT_AFTER_NAME = 6; // Wireshark skips 6 bytes after the name's terminator
const AF_INET = 0x0002;
const AF_INET6 = 0x0017; // Windows' AF_INET6 (23)

export function decodeNlbHeartbeat(payload: Buffer): NlbHeartbeat | NlbMalformed {
  if (payload.length < 4) {
    return { kind: 'malformed', offset: 0, reason: `NLB signature needs 4 bytes, have ${payload.length}` };
  }
  const signature = payload.readUInt32LE(0);
  if (!isNlbSignature(signature)) {
    return { kind: 'malformed', offset: 0, reason: `0x${signature.toString(16).padStart(8, '0')} is not an NLB signature` };
  }
  if (payload.length < NLB_HEADER_LENGTH) {
    const offset = payload.length - (payload.length % 4); // first header field that is cut
    return { kind: 'malformed', offset, reason: `NLB common header needs 20 bytes, have ${payload.length}`, signature };
  }
  const versionRaw = payload.readUInt32LE(4);
  const header: NlbCommonHeader = {
    signature,
    versionRaw,
    version: `${(versionRaw >>> 8) & 0xff}.${versionRaw & 0xff}`,
    uniqueHostId: payload.readUInt32LE(8),
    clusterIp: ipv4At(payload, 12),
    hostIp: ipv4At(payload, 16),
    truncated: false,
  };
  switch (signature) {
    case NLB_SIGNATURE.membership: return membership(payload, header);
    case NLB_SIGNATURE.extended: return extended(payload, header);
    default: return { ...header, kind: 'other', bodyLength: payload.length - NLB_HEADER_LENGTH };
  }
}

function membership(p: Buffer, header: NlbCommonHeader): NlbMembershipHeartbeat {
  const hb: NlbMembershipHeartbeat = { ...header, kind: 'membership', truncated: p.length < NLB_MEMBERSHIP_LENGTH };
  const has = (offset: number, size: number): boolean => p.length >= offset + size;
  if (has(20, 2)) hb.myHostId = p.readUInt16LE(20);
  if (has(22, 2)) hb.defaultHostId = p.readUInt16LE(22);
  if (has(24, 2)) hb.convergenceState = p.readUInt16LE(24);
  if (has(26, 2)) hb.numberOfPortRules = p.readUInt16LE(26);
  if (has(28, 4)) hb.uniqueHostCode = p.readUInt32LE(28);
  if (has(32, 4)) hb.packetsHandled = p.readUInt32LE(32);
  if (has(36, 4)) hb.teaming = teaming(p.readUInt32LE(36));
  return hb;
}

/** Bit layout from Wireshark's comment: XXXXXXXX PPPPPPPP PPPPPPPP NNNNNHMA. */
function teaming(raw: number): NlbTeaming {
  return {
    raw,
    active: (raw & 0x01) !== 0,
    master: (raw & 0x02) !== 0,
    reverseHashing: (raw & 0x04) !== 0,
    participants: (raw & 0xf8) >>> 3,
    xorClusterIp: (raw >>> 8) & 0xffff,
  };
}

/**
 * Entries: type (1), length (1, units undocumented, ignored), 6 reserved; then a NUL-terminated
 * UTF-16LE name + 6 bytes, or family (2, LE) + address. Wireshark stops after the first
 * address; we read on while entries follow back to back, and stop at zero padding (type 0).
 */
function extended(p: Buffer, header: NlbCommonHeader): NlbExtendedHeartbeat {
  const hb: NlbExtendedHeartbeat = { ...header, kind: 'extended', addresses: [] };
  let off = NLB_HEADER_LENGTH;
  while (off < p.length) {
    const type = p[off];
    if (type !== EXT_HOST_NAME && type !== EXT_IP_ADDRESS) break;
    const body = off + EXT_ENTRY_HEADER;
    if (body > p.length) return { ...hb, truncated: true };
    if (type === EXT_HOST_NAME) {
      const end = utf16Terminator(p, body);
      if (end < 0) return { ...hb, truncated: true };
      hb.hostName ??= p.toString('utf16le', body, end);
      off = end + 2 + EXT_AFTER_NAME;
      continue;
    }
    if (body + 2 > p.length) return { ...hb, truncated: true };
    const family = p.readUInt16LE(body);
    const size = family === AF_INET ? 4 : family === AF_INET6 ? 16 : 0;
    if (size === 0) break;
    if (body + 2 + size > p.length) return { ...hb, truncated: true };
    hb.addresses.push(size === 4 ? ipv4At(p, body + 2) : ipv6At(p, body + 2));
    off = body + 2 + size;
  }
  return hb;
}

/** Offset of the UTF-16 NUL code unit at or after `from` (2-byte steps), or -1. */
function utf16Terminator(p: Buffer, from: number): number {
  for (let i = from; i + 1 < p.length; i += 2) if (p[i] === 0 && p[i + 1] === 0) return i;
  return -1;
}

function ipv4At(p: Buffer, off: number): string {
  return `${p[off]}.${p[off + 1]}.${p[off + 2]}.${p[off + 3]}`;
}

/** RFC 5952 text: lower case, longest run (≥ 2) of zero groups as "::", first on ties. */
function ipv6At(p: Buffer, off: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(p.readUInt16BE(off + i * 2));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
