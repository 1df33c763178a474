import type { Frame } from '../source/frame.js';
import { decodeEthernet, decodeLink, ETHERTYPE, type LinkLayer } from './link.js';
import { decodeIpv4, type Ipv4Header } from './ipv4.js';
import { decodeIpv6, type Ipv6Header } from './ipv6.js';
import { decodeTcp, type TcpHeader } from './tcp.js';
import { decodeUdp, type UdpHeader } from './udp.js';
import { decodeIcmp, type IcmpMessage } from './icmp.js';
import { decodeArp, type ArpPacket } from './arp.js';
import { decodeIgmp, type IgmpMessage } from './igmp.js';
import { ETHERTYPE_TEB, geneveInner, GENEVE_PORT, greInner, gtpPayloadOffset, GTP_U_PORT, mplsPayload, vxlanInner, VXLAN_PORT, type TunnelInner } from './tunnel.js';
import type { Malformed } from './malformed.js';

export type Network = Ipv4Header | Ipv6Header | ArpPacket;
export type Transport = TcpHeader | UdpHeader | IcmpMessage | IgmpMessage;

/** A frame with its layers decoded as far as they go. Payload bytes stay in frame.data. */
export interface Packet {
  frame: Frame;
  /**
   * null: link type not decoded (counted by the caller). The innermost Ethernet header when a
   * tunnel carries one (VXLAN, Geneve, GRE, ERSPAN): the frame as the stations inside see it.
   */
  link: LinkLayer | null;
  /** The innermost network layer (inside MPLS, IP-in-IP, GTP-U, GRE, VXLAN, Geneve), as Wireshark's conversations use. */
  net: Network | null;
  transport: Transport | null;
  /** Encapsulations walked to reach `net`, outermost first ('mpls', 'ipip', '6in4', 'gtp-u', 'gre', 'erspan', 'vxlan', 'geneve'). */
  tunnels: string[] | null;
  /** True for IP fragments (transport decoded only for the first fragment). */
  fragment: boolean;
  /** The first layer that did not make sense, if any. */
  malformed: Malformed | null;
}

export const IPPROTO = { ICMP: 1, IGMP: 2, IPV4_IN_IP: 4, TCP: 6, UDP: 17, IPV6_IN_IP: 41, GRE: 47, ICMPV6: 58 } as const;

/** Decodes one frame down to the transport layer. Pure: no state, never throws. */
export function decodePacket(frame: Frame): Packet {
  const pkt: Packet = { frame, link: null, net: null, transport: null, tunnels: null, fragment: false, malformed: null };
  const link = decodeLink(frame.data, frame.linkType);
  if (link === null) return pkt;
  if (link.kind === 'malformed') { pkt.malformed = link; return pkt; }
  pkt.link = link;
  decodeNetwork(pkt, link.etherType, link.offset, 0);
  return pkt;
}

function decodeNetwork(pkt: Packet, etherType: number, off: number, depth: number): void {
  const b = pkt.frame.data;
  let end: number, declaredEnd: number, l4: number, proto: number, version: 4 | 6;
  // An IP length beyond what the wire carried (origLen) is bogus: Wireshark trims it, so do we.
  const reportedEnd = pkt.frame.origLen;
  switch (etherType) {
    case ETHERTYPE.IPV4: {
      const ip = decodeIpv4(b, off);
      if (ip.kind === 'malformed') { pkt.malformed = ip; return; }
      pkt.net = ip;
      if (ip.moreFragments || ip.fragmentOffset > 0) {
        pkt.fragment = true;
        if (ip.fragmentOffset > 0) return;
      }
      end = ip.payloadEnd; declaredEnd = Math.min(ip.declaredEnd, reportedEnd); l4 = ip.payloadOffset; proto = ip.protocol; version = 4;
      break;
    }
    case ETHERTYPE.IPV6: {
      const ip = decodeIpv6(b, off);
      if (ip.kind === 'malformed') { pkt.malformed = ip; return; }
      pkt.net = ip;
      if (ip.fragment) {
        pkt.fragment = true;
        if (ip.fragment.offset > 0) return;
      }
      end = ip.payloadEnd; declaredEnd = Math.min(ip.declaredEnd, reportedEnd); l4 = ip.payloadOffset; proto = ip.protocol; version = 6;
      break;
    }
    case ETHERTYPE.ARP:
    case ETHERTYPE.RARP: {
      const arp = decodeArp(b, off);
      if (arp.kind === 'malformed') pkt.malformed = arp; else pkt.net = arp;
      return;
    }
    case ETHERTYPE.MPLS:
    case ETHERTYPE.MPLS_MULTICAST: {
      const inner = mplsPayload(b, off);
      if (inner === null) return;
      if (inner.kind === 'malformed') { pkt.malformed = inner; return; }
      (pkt.tunnels ??= []).push('mpls');
      decodeNetwork(pkt, inner.etherType, inner.offset, depth + 1);
      return;
    }
    default:
      return;
  }
  let t: Transport | Malformed | null = null;
  switch (proto) {
    case IPPROTO.TCP: t = decodeTcp(b, l4, end, declaredEnd); break;
    case IPPROTO.UDP: t = decodeUdp(b, l4, end); break;
    case IPPROTO.ICMP: if (version === 4) t = decodeIcmp(b, l4, end, 4); break;
    case IPPROTO.ICMPV6: if (version === 6) t = decodeIcmp(b, l4, end, 6); break;
    case IPPROTO.IGMP: if (version === 4) t = decodeIgmp(b, l4, end); break;
    case IPPROTO.IPV4_IN_IP:
    case IPPROTO.IPV6_IN_IP:
      // IP-in-IP and 6in4 (RFC 2003, RFC 4213): the conversation is the inner packet's.
      if (depth < 4 && end > l4) {
        (pkt.tunnels ??= []).push(proto === IPPROTO.IPV4_IN_IP ? 'ipip' : '6in4');
        decodeNetwork(pkt, proto === IPPROTO.IPV4_IN_IP ? ETHERTYPE.IPV4 : ETHERTYPE.IPV6, l4, depth + 1);
      }
      return;
    case IPPROTO.GRE: {
      // A fragment carries a piece of the tunnelled packet: the tunnel is left as it is.
      const inner = depth < 4 && !pkt.fragment ? greInner(b, l4, end) : null;
      if (inner !== null) decapsulate(pkt, inner, depth + 1);
      return;
    }
  }
  if (t === null) return;
  if (t.kind === 'malformed') { pkt.malformed = t; return; }
  pkt.transport = t;
  if (t.kind !== 'udp' || depth >= 4 || pkt.fragment) return;
  // VXLAN and Geneve carry tenants' frames between hypervisors and gateways (cloud traffic
  // mirroring delivers captures this way): the conversations are the inner ones.
  const inner = t.dstPort === VXLAN_PORT || t.srcPort === VXLAN_PORT ? vxlanInner(b, t.payloadOffset, t.payloadOffset + t.payloadLength)
    : t.dstPort === GENEVE_PORT || t.srcPort === GENEVE_PORT ? geneveInner(b, t.payloadOffset, t.payloadOffset + t.payloadLength) : null;
  if (inner !== null) { decapsulate(pkt, inner, depth + 1); return; }
  // GTP-U carries users' IP packets between mobile-core nodes; conversations are the inner ones.
  if (t.dstPort === GTP_U_PORT || t.srcPort === GTP_U_PORT) {
    const inner = gtpPayloadOffset(b, t.payloadOffset, t.payloadOffset + t.payloadLength);
    if (inner < 0) return;
    const v = b[inner] >> 4;
    if (v !== 4 && v !== 6) return;
    (pkt.tunnels ??= []).push('gtp-u');
    pkt.transport = null;
    decodeNetwork(pkt, v === 4 ? ETHERTYPE.IPV4 : ETHERTYPE.IPV6, inner, depth + 1);
  }
}

/** What decodeNetwork reads (the rest of a tunnel's payloads: keepalives, WCCP, NHRP ... are not). */
const INNER_TYPES = new Set<number>([ETHERTYPE.IPV4, ETHERTYPE.IPV6, ETHERTYPE.ARP, ETHERTYPE.RARP, ETHERTYPE.MPLS, ETHERTYPE.MPLS_MULTICAST]);

/**
 * Goes inside a tunnel: an Ethernet frame becomes the packet's link layer and is decoded from
 * there on (whatever it carries: the frame is the packet now); a network packet (IP, ARP, MPLS)
 * replaces the outer one, as in GTP-U. A payload we do not read, or an inner Ethernet header
 * that does not fit, leaves the packet as it was (a UDP or GRE packet of its endpoints).
 */
function decapsulate(pkt: Packet, inner: TunnelInner, depth: number): void {
  if (inner.etherType === ETHERTYPE_TEB) {
    const link = decodeEthernet(pkt.frame.data, inner.offset);
    if (link.kind === 'malformed') return;
    (pkt.tunnels ??= []).push(inner.name);
    pkt.link = link;
    pkt.net = null;
    pkt.transport = null;
    decodeNetwork(pkt, link.etherType, link.offset, depth);
    return;
  }
  if (!INNER_TYPES.has(inner.etherType)) return;
  (pkt.tunnels ??= []).push(inner.name);
  pkt.transport = null;
  if ((inner.etherType === ETHERTYPE.ARP || inner.etherType === ETHERTYPE.RARP) && pkt.link !== null) {
    // ARP without an Ethernet header of its own (Geneve or GRE can carry it so): the outer one
    // stands in front of it, as tshark shows it (eth.src, vlan.id), and the ARP starts here.
    pkt.link = { ...pkt.link, etherType: inner.etherType, offset: inner.offset };
  }
  decodeNetwork(pkt, inner.etherType, inner.offset, depth);
}
