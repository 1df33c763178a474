/**
 * ARP over time: which MAC claimed which IPv4 address, from which frame to which. A binding is
 * the sender pair (SPA, SHA) of a request or reply (RFC 826); RARP and unknown opcodes say
 * nothing about the sender's own address and are only counted. Gratuitous = sender IP equals
 * target IP, as Wireshark's `arp.isgratuitous` decides; a probe (RFC 5227) has sender IP 0.0.0.0.
 */
import type { Packet } from '../../decode/packet.js';
import type { ArpPacket } from '../../decode/arp.js';
import { macToString } from './cluster-mac.js';
import type { ArpBindingFact, ArpConflictFact } from './facts.js';

const MAX_IPS = 65_536;
const MAX_MACS_PER_IP = 16;
const MAX_ETH_SRCS = 8;
const SAMPLE_FRAMES = 10;
const BROADCAST = 0xffff_ffff_ffff;
const HW_ETHERNET = 1;
const HW_IEEE802 = 6;

class Binding {
  firstFrame = 0;
  lastFrame = 0;
  firstTs = 0;
  lastTs = 0;
  frames = 0;
  requests = 0;
  replies = 0;
  gratuitous = 0;
  ethSrcMismatch = 0;
  readonly ethSrcs = new Set<number>();
  readonly sampleFrames: number[] = [];
  constructor(readonly ip: string, readonly mac: number, readonly vlan: number | null) {}
}

export class ArpTable {
  frames = 0;
  requests = 0;
  replies = 0;
  otherOpcodes = 0;
  /** ARP for other hardware than Ethernet/IEEE 802: its sender address is no MAC. */
  otherHardware = 0;
  probes = 0;
  gratuitous = 0;
  readonly limits = new Set<string>();
  /** IP (prefixed by the VLAN path when tagged) → sender MAC → binding. */
  private readonly byIp = new Map<string, Map<number, Binding>>();

  observe(pkt: Packet, arp: ArpPacket): void {
    this.frames++;
    const link = pkt.link;
    // The decoder takes any hardware type with 6-byte addresses; only Ethernet (1) and IEEE 802
    // (6) put a MAC there, which is also when Wireshark reads the field as one (arp.src.hw_mac).
    if (link !== null) {
      const data = pkt.frame.data;
      const htype = data.length >= link.offset + 2 ? data.readUInt16BE(link.offset) : -1;
      if (htype !== HW_ETHERNET && htype !== HW_IEEE802) { this.otherHardware++; return; }
    }
    const op = arp.opcode;
    if (op !== 1 && op !== 2) { this.otherOpcodes++; return; }
    if (op === 1) this.requests++; else this.replies++;
    const gratuitous = arp.senderIp === arp.targetIp;
    if (gratuitous) this.gratuitous++;
    if (arp.senderIp === '0.0.0.0') { this.probes++; return; }
    const vlans = link?.vlans ?? null;
    // ARP is per broadcast domain: the same IP on two VLANs of a trunk is two addresses.
    const key = vlans === null ? arp.senderIp : `${vlans.join('.')}/${arp.senderIp}`;
    let macs = this.byIp.get(key);
    if (macs === undefined) {
      if (this.byIp.size >= MAX_IPS) { this.limits.add(`more than ${MAX_IPS} ARP addresses: later ones are not tracked`); return; }
      macs = new Map();
      this.byIp.set(key, macs);
    }
    let b = macs.get(arp.senderMac);
    if (b === undefined) {
      if (macs.size >= MAX_MACS_PER_IP) { this.limits.add(`more than ${MAX_MACS_PER_IP} MACs for one ARP address: later ones are not tracked`); return; }
      b = new Binding(arp.senderIp, arp.senderMac, vlans === null ? null : vlans[vlans.length - 1]);
      macs.set(arp.senderMac, b);
    }
    const f = pkt.frame;
    if (b.frames === 0) { b.firstFrame = f.no; b.firstTs = f.ts; }
    b.frames++;
    b.lastFrame = f.no;
    b.lastTs = f.ts;
    if (op === 1) b.requests++; else b.replies++;
    if (gratuitous) b.gratuitous++;
    if (b.sampleFrames.length < SAMPLE_FRAMES) b.sampleFrames.push(f.no);
    const ethSrc = link?.src ?? -1;
    if (ethSrc >= 0 && ethSrc !== arp.senderMac) {
      b.ethSrcMismatch++;
      if (b.ethSrcs.size < MAX_ETH_SRCS) b.ethSrcs.add(ethSrc);
    }
  }

  bindings(): ArpBindingFact[] {
    const out: ArpBindingFact[] = [];
    for (const macs of this.byIp.values()) for (const b of macs.values()) out.push(bindingFact(b));
    return out.sort((a, b) => a.firstFrame - b.firstFrame || a.ip.localeCompare(b.ip));
  }

  /**
   * IPs claimed by several MACs. NLB cluster MACs (marked on the bindings by the cluster
   * inference) are set aside: every unicast-mode host answers for the VIP with the same
   * cluster MAC from its own masked source, which is NLB working, not a conflict.
   */
  conflicts(bindings: ArpBindingFact[]): ArpConflictFact[] {
    const byIp = new Map<string, ArpBindingFact[]>();
    for (const b of bindings) {
      const key = `${b.vlan ?? ''}/${b.ip}`;
      const list = byIp.get(key) ?? [];
      list.push(b);
      byIp.set(key, list);
    }
    const out: ArpConflictFact[] = [];
    for (const list of byIp.values()) {
      if (list.length < 2) continue;
      const nlbMacs = list.filter((b) => b.nlb !== null).map((b) => b.mac);
      const real = list.filter((b) => b.nlb === null && b.mac !== '00:00:00:00:00:00' && b.mac !== 'ff:ff:ff:ff:ff:ff');
      if (real.length < 2) continue;
      real.sort((a, b) => a.firstFrame - b.firstFrame);
      out.push({ ip: real[0].ip, vlan: real[0].vlan, macs: real, interleaved: interleaved(real), nlbMacs });
    }
    return out.sort((a, b) => a.macs[1].firstFrame - b.macs[1].firstFrame);
  }
}

/** A, then B, then A again: both stations are live, not a replacement. */
function interleaved(list: ArpBindingFact[]): boolean {
  return list.some((a) => list.some((b) => a !== b && b.firstFrame > a.firstFrame && a.lastFrame > b.firstFrame));
}

function bindingFact(b: Binding): ArpBindingFact {
  const groupMac = Math.floor(b.mac / 0x100_0000_0000) & 1;
  return {
    ip: b.ip, mac: macToString(b.mac), vlan: b.vlan, firstFrame: b.firstFrame, lastFrame: b.lastFrame,
    firstTs: b.firstTs, lastTs: b.lastTs, frames: b.frames, requests: b.requests, replies: b.replies,
    gratuitous: b.gratuitous, ethSrcMismatch: b.ethSrcMismatch, ethSrcs: [...b.ethSrcs].map(macToString),
    multicastMac: groupMac === 1 && b.mac !== BROADCAST, nlb: null, sampleFrames: b.sampleFrames,
  };
}
