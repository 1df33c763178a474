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
