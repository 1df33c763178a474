import { ETHERTYPE } from './link.js';
import { malformed, type Malformed } from './malformed.js';

export const GTP_U_PORT = 2152;

/** MPLS label stack (RFC 3032): pop to bottom-of-stack, then guess IPv4/IPv6 by the version nibble. */
export function mplsPayload(b: Buffer, off: number): { kind: 'inner'; etherType: number; offset: number } | Malformed | null {
  let p = off;
  for (let i = 0; i < 16; i++) {
    if (b.length < p + 4) return malformed('mpls', p, 'MPLS label cut short');
    const bottom = (b[p + 2] & 1) === 1;
    p += 4;
    if (bottom) {
      if (b.length <= p) return null;
      const v = b[p] >> 4;
      if (v === 4) return { kind: 'inner', etherType: ETHERTYPE.IPV4, offset: p };
      if (v === 6) return { kind: 'inner', etherType: ETHERTYPE.IPV6, offset: p };
      return null; // pseudowire / Ethernet over MPLS: not decoded
    }
  }
  return malformed('mpls', off, 'MPLS label stack deeper than 16');
}

/**
 * Offset of the inner packet of a GTPv1-U G-PDU (3GPP TS 29.281), or -1 when the bytes are not
 * a G-PDU. Optional sequence/N-PDU/extension fields and extension headers are skipped.
 */
export function gtpPayloadOffset(b: Buffer, off: number, end: number): number {
  if (end < off + 8) return -1;
  const flags = b[off];
  if (flags >> 5 !== 1 || (flags & 0x10) === 0 || b[off + 1] !== 0xff) return -1;
  let p = off + 8;
  if (flags & 0x07) {
    if (end < p + 4) return -1;
    let next = b[p + 3];
    p += 4;
    for (let guard = 0; next !== 0 && guard < 8; guard++) {
      if (end < p + 1) return -1;
      const len = b[p] * 4;
      if (len === 0 || end < p + len) return -1;
      next = b[p + len - 1];
      p += len;
    }
  }
  return p < end ? p : -1;
}

/** UDP ports of the tunnels decoded: VXLAN (RFC 7348, IANA 4789) and Geneve (RFC 8926, 6081). */
export const VXLAN_PORT = 4789;
export const GENEVE_PORT = 6081;
/** "Transparent Ethernet Bridging": what GRE and Geneve call an Ethernet frame as payload. */
export const ETHERTYPE_TEB = 0x6558;

/** What a tunnel header hands on: a packet of `etherType` (ETHERTYPE_TEB: an Ethernet frame) at `offset`. */
export interface TunnelInner {
  name: 'vxlan' | 'geneve' | 'gre' | 'erspan';
  etherType: number;
  offset: number;
}

/**
 * VXLAN (RFC 7348): 8 bytes (flags with the I bit, 24-bit VNI), then an Ethernet frame. Null
 * when the I flag is missing (not VXLAN as the RFC has it) or no room is left for a frame.
 */
export function vxlanInner(b: Buffer, off: number, end: number): TunnelInner | null {
  if (end < off + 8 + 14 || (b[off] & 0x08) === 0) return null;
  return { name: 'vxlan', etherType: ETHERTYPE_TEB, offset: off + 8 };
}

/**
 * Geneve (RFC 8926): version 0, options length in 4-byte words, the protocol type of what
 * follows (0x6558 an Ethernet frame, else an EtherType such as IPv4 or ARP).
 */
export function geneveInner(b: Buffer, off: number, end: number): TunnelInner | null {
  if (end < off + 8 || b[off] >> 6 !== 0) return null;
  const p = off + 8 + (b[off] & 0x3f) * 4;
  if (p >= end) return null;
  return { name: 'geneve', etherType: b.readUInt16BE(off + 2), offset: p };
}

/**
 * GRE version 0 (RFC 2784, RFC 2890 keys and sequence numbers) and the ERSPAN mirroring that
 * rides on it (draft-foschiano-erspan): protocol 0x88BE is type I without a GRE sequence
 * number (the frame follows at once) and type II with one (8-byte ERSPAN header); 0x22EB is
 * type III (12 bytes, 8 more when its O bit says a platform subheader follows), decoded when
 * its frame type is Ethernet. Null for GRE version 1 (PPTP's PPP), source-routed GRE (RFC 1701's
 * R bit) and ERSPAN of other versions or frame types.
 */
export function greInner(b: Buffer, off: number, end: number): TunnelInner | null {
  if (end < off + 4) return null;
  const flags = b.readUInt16BE(off);
  if ((flags & 0x0007) !== 0 || (flags & 0x4000) !== 0) return null;
  const seq = (flags & 0x1000) !== 0;
  const p = off + 4 + ((flags & 0x8000) !== 0 ? 4 : 0) + ((flags & 0x2000) !== 0 ? 4 : 0) + (seq ? 4 : 0);
  const proto = b.readUInt16BE(off + 2);
  if (proto === 0x88be) {
    if (!seq) return p < end ? { name: 'erspan', etherType: ETHERTYPE_TEB, offset: p } : null;
    if (end < p + 8 || b[p] >> 4 !== 1) return null;
    return { name: 'erspan', etherType: ETHERTYPE_TEB, offset: p + 8 };
  }
  if (proto === 0x22eb) {
    if (end < p + 12 || b[p] >> 4 !== 2 || ((b[p + 10] >> 2) & 0x1f) !== 0) return null;
    const q = p + 12 + ((b[p + 11] & 0x01) !== 0 ? 8 : 0);
    return q < end ? { name: 'erspan', etherType: ETHERTYPE_TEB, offset: q } : null;
  }
  return p < end ? { name: 'gre', etherType: proto, offset: p } : null;
}
