import type { Flow } from '../flow/flow.js';
import type { HostFact, ProtocolCount } from './facts.js';

const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 2: 'igmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 47: 'gre', 50: 'esp', 51: 'ah', 132: 'sctp' };

export function protocolName(p: number): string {
  return PROTO_NAMES[p] ?? `ip-proto-${p}`;
}

/** Per-host and per-protocol totals, accumulated as flows end (no per-packet work). */
export class HostTable {
  private hosts = new Map<string, HostFact>();
  private protocols = new Map<string, ProtocolCount>();

  flowEnded(f: Flow): void {
    this.add(f.srcIp, f, 0);
    this.add(f.dstIp, f, 1);
    const label = protocolName(f.protocol) + (f.app ? '/' + f.app : '');
    let p = this.protocols.get(label);
    if (!p) { p = { protocol: label, flows: 0, packets: 0, bytes: 0 }; this.protocols.set(label, p); }
    p.flows++;
    p.packets += f.packets[0] + f.packets[1];
    p.bytes += f.bytes[0] + f.bytes[1];
  }

  private add(ip: string, f: Flow, side: 0 | 1): void {
    let h = this.hosts.get(ip);
    if (!h) {
      h = { ip, packetsSent: 0, packetsReceived: 0, bytesSent: 0, bytesReceived: 0, flows: 0, firstTs: f.firstTs, lastTs: f.lastTs };
      this.hosts.set(ip, h);
    }
    const out = side, back = side === 0 ? 1 : 0;
    h.packetsSent += f.packets[out];
    h.packetsReceived += f.packets[back];
    h.bytesSent += f.bytes[out];
    h.bytesReceived += f.bytes[back];
    h.flows++;
    if (f.firstTs < h.firstTs) h.firstTs = f.firstTs;
    if (f.lastTs > h.lastTs) h.lastTs = f.lastTs;
  }

  hostFacts(): HostFact[] {
    return [...this.hosts.values()].sort((a, b) => (b.bytesSent + b.bytesReceived) - (a.bytesSent + a.bytesReceived));
  }

  protocolCounts(): ProtocolCount[] {
    return [...this.protocols.values()].sort((a, b) => b.packets - a.packets);
  }
}
