import { ipv4Text, macAt } from './addr.js';
import { malformed, type Malformed } from './malformed.js';

export interface ArpPacket {
  kind: 'arp';
  /** 1 request, 2 reply, 3/4 RARP. */
  opcode: number;
  senderMac: number;
  senderIp: string;
  targetMac: number;
  targetIp: string;
}

/** ARP for Ethernet/IPv4 (RFC 826). Other hardware/protocol pairs are reported malformed. */
export function decodeArp(b: Buffer, off: number): ArpPacket | Malformed {
  if (b.length < off + 8) return malformed('arp', off, 'ARP header cut short');
  const htype = b.readUInt16BE(off), ptype = b.readUInt16BE(off + 2), hlen = b[off + 4], plen = b[off + 5];
  if (hlen !== 6 || plen !== 4 || ptype !== 0x0800) {
    return malformed('arp', off, `ARP for hardware type ${htype}/length ${hlen}, protocol 0x${ptype.toString(16)}/length ${plen} is not decoded`);
  }
  if (b.length < off + 28) return malformed('arp', off, 'ARP addresses cut short');
  return {
    kind: 'arp',
    opcode: b.readUInt16BE(off + 6),
    senderMac: macAt(b, off + 8),
    senderIp: ipv4Text(b, off + 14),
    targetMac: macAt(b, off + 18),
    targetIp: ipv4Text(b, off + 24),
  };
}
