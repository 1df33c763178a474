import { LINKTYPE } from '../source/frame.js';
import { macAt } from './addr.js';
import { malformed, type Malformed } from './malformed.js';
import { u16be } from './bytes.js';

export const ETHERTYPE = {
  IPV4: 0x0800, ARP: 0x0806, RARP: 0x8035, VLAN: 0x8100, QINQ: 0x88a8, IPV6: 0x86dd,
  NLB: 0x886f, NLB_LEGACY: 0xbf01, MPLS: 0x8847, MPLS_MULTICAST: 0x8848, VNTAG: 0x8926,
} as const;

/** Tag protocol identifiers: 802.1Q, 802.1ad and the pre-standard QinQ values. */
function isTpid(t: number): boolean {
  return t === 0x8100 || t === 0x88a8 || t === 0x9100 || t === 0x9200 || t === 0x9300;
}

export interface LinkLayer {
  kind: 'link';
  /** EtherType of what follows the link header (after VLAN tags and any LLC/SNAP header); -1 for other 802.3/LLC frames. */
  etherType: number;
  /** Offset of the network-layer header. */
  offset: number;
  /** Ethernet addresses as 48-bit numbers; -1 when the link type has none. */
  src: number;
  dst: number;
  /** VLAN ids outermost first, or null when untagged. */
  vlans: number[] | null;
  /** Linux cooked capture packet type (0 to us, 1 broadcast, 2 multicast, 3 other host, 4 outgoing), else -1. */
  sllPacketType: number;
}

/** Address families NULL/LOOP headers use for IPv6 (BSD variants, Linux, Windows, Solaris). */
const AF_INET6 = new Set([24, 28, 30, 10, 23, 26]);

/**
 * The link header of one frame. Unknown link types yield null (counted by the caller, never
 * fatal); headers cut short yield a malformed result with the offset.
 */
export function decodeLink(b: Buffer, linkType: number): LinkLayer | Malformed | null {
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      return decodeEthernet(b, 0);
    case LINKTYPE.LINUX_SLL: {
      if (b.length < 16) return malformed('sll', 0, `Linux cooked header needs 16 bytes, frame has ${b.length}`);
      const alen = b.readUInt16BE(4);
      const src = alen === 6 ? macAt(b, 6) : -1;
      return withTags(b, b.readUInt16BE(14), 16, src, -1, b.readUInt16BE(0));
    }
    case LINKTYPE.LINUX_SLL2: {
      if (b.length < 20) return malformed('sll2', 0, `Linux cooked v2 header needs 20 bytes, frame has ${b.length}`);
      const alen = b[11];
      const src = alen === 6 ? macAt(b, 12) : -1;
      return withTags(b, b.readUInt16BE(0), 20, src, -1, b[10]);
    }
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      if (b.length < 4) return malformed('null', 0, 'loopback header cut short');
      // NULL stores the family in the capturing host's byte order, LOOP in network order.
      const le = b.readUInt32LE(0), be = b.readUInt32BE(0);
      const af = linkType === LINKTYPE.LOOP ? be : (le < 0x10000 ? le : be);
      let type = af === 2 ? ETHERTYPE.IPV4 : AF_INET6.has(af) ? ETHERTYPE.IPV6 : -1;
      // Some writers put an EtherType, not an AF value, in the NULL header (no AF value
      // exceeds 1500): Wireshark then dispatches on its low 16 bits, and so do we.
      if (type === -1 && linkType === LINKTYPE.NULL && af > 1500 && (af & 0xffff) >= 0x0600) type = af & 0xffff;
      return { kind: 'link', etherType: type, offset: 4, src: -1, dst: -1, vlans: null, sllPacketType: -1 };
    }
    case LINKTYPE.NFLOG:
      return decodeNflog(b);
    case LINKTYPE.RAW:
    case 12:
    case 14:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6: {
      if (b.length < 1) return malformed('raw', 0, 'empty raw IP frame');
      const v = b[0] >> 4;
      const type = v === 4 ? ETHERTYPE.IPV4 : v === 6 ? ETHERTYPE.IPV6 : -1;
      return { kind: 'link', etherType: type, offset: 0, src: -1, dst: -1, vlans: null, sllPacketType: -1 };
    }
    default:
      return null;
  }
}

/**
 * An Ethernet II / 802.3 header at `base`: the frame's own (base 0) or one a tunnel carries
 * (VXLAN, Geneve, GRE, ERSPAN). Offsets in the result are the frame's.
 */
export function decodeEthernet(b: Buffer, base: number): LinkLayer | Malformed {
  if (b.length < base + 14) {
    return malformed('eth', base, base === 0 ? `Ethernet header needs 14 bytes, frame has ${b.length}` : `inner Ethernet header needs 14 bytes, ${Math.max(0, b.length - base)} captured`);
  }
  let type = u16be(b, base + 12);
  let off = base + 14;
  let vlans: number[] | null = null;
  for (;;) {
    if (isTpid(type)) {
      if (b.length < off + 4) return malformed('vlan', off, 'VLAN tag cut short');
      (vlans ??= []).push(b.readUInt16BE(off) & 0x0fff);
      type = b.readUInt16BE(off + 2);
      off += 4;
    } else if (type === ETHERTYPE.VNTAG) {
      // Cisco VN-Tag (802.1Qbh pre-standard): 4 bytes of tag, then the next type.
      if (b.length < off + 6) return malformed('vntag', off, 'VN-Tag cut short');
      type = b.readUInt16BE(off + 4);
      off += 6;
    } else break;
  }
  // Values up to 1500 are an 802.3 length, followed by LLC: no EtherType to dispatch on,
  // unless the LLC is a SNAP header that carries one (RFC 1042), as in SNAP-framed ARP.
  if (type <= 1500) {
    const snap = snapEtherType(b, off);
    return { kind: 'link', etherType: snap, offset: snap === -1 ? off : off + 8, src: macAt(b, base + 6), dst: macAt(b, base), vlans, sllPacketType: -1 };
  }
  return { kind: 'link', etherType: type, offset: off, src: macAt(b, base + 6), dst: macAt(b, base), vlans, sllPacketType: -1 };
}

function withTags(b: Buffer, type: number, off: number, src: number, dst: number, pktType: number): LinkLayer | Malformed {
  let vlans: number[] | null = null;
  while (isTpid(type)) {
    if (b.length < off + 4) return malformed('vlan', off, 'VLAN tag cut short');
    (vlans ??= []).push(b.readUInt16BE(off) & 0x0fff);
    type = b.readUInt16BE(off + 2);
    off += 4;
  }
  // SLL protocol values below 0x0600 are not EtherTypes (e.g. 0x0004 = 802.2 LLC, which may
  // still be SNAP carrying one).
  if (type < 0x0600) {
    const snap = type === 0x0004 ? snapEtherType(b, off) : -1;
    return { kind: 'link', etherType: snap, offset: snap === -1 ? off : off + 8, src, dst, vlans, sllPacketType: pktType };
  }
  return { kind: 'link', etherType: type, offset: off, src, dst, vlans, sllPacketType: pktType };
}

/**
 * The EtherType of an 802.2 LLC/SNAP header at off (DSAP AA, SSAP AA, UI 03, then a 3-byte
 * OUI and 2-byte type), or -1. Only OUI 00-00-00 (RFC 1042) and 00-00-F8 (802.1H) mean the
 * type is an EtherType; other OUIs (Cisco's 00-00-0C: CDP, PVST+) carry their own protocol ids.
 */
function snapEtherType(b: Buffer, off: number): number {
  if (b.length < off + 8 || b[off] !== 0xaa || b[off + 1] !== 0xaa || b[off + 2] !== 0x03) return -1;
  if (b[off + 3] !== 0 || b[off + 4] !== 0 || (b[off + 5] !== 0 && b[off + 5] !== 0xf8)) return -1;
  const type = b.readUInt16BE(off + 6);
  return type >= 0x0600 ? type : -1;
}

/**
 * Linux NFLOG (LINKTYPE 239): a 4-byte header (family, version, resource id) then TLVs with
 * little-endian length and type, padded to 4; type 9 (NFULA_PAYLOAD) holds the IP packet.
 */
function decodeNflog(b: Buffer): LinkLayer | Malformed {
  if (b.length < 4) return malformed('nflog', 0, 'NFLOG header cut short');
  const family = b[0];
  let p = 4;
  while (p + 4 <= b.length) {
    const len = b.readUInt16LE(p), type = b.readUInt16LE(p + 2) & 0x7fff;
    if (len < 4) return malformed('nflog', p, `NFLOG TLV length ${len}`);
    if (type === 9) {
      const ether = family === 10 ? ETHERTYPE.IPV6 : family === 2 ? ETHERTYPE.IPV4 : (b[p + 4] >> 4 === 6 ? ETHERTYPE.IPV6 : ETHERTYPE.IPV4);
      return { kind: 'link', etherType: ether, offset: p + 4, src: -1, dst: -1, vlans: null, sllPacketType: -1 };
    }
    p += (len + 3) & ~3;
  }
  return { kind: 'link', etherType: -1, offset: b.length, src: -1, dst: -1, vlans: null, sllPacketType: -1 };
}
