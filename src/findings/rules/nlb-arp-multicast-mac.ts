import type { FindingDraft, Rule } from '../types.js';
import { isUnicastIpv4 } from '../../proto/l2/flood-meter.js';
import { clusterDetails, evidenceFrames } from './nlb-evidence.js';

/**
 * An ARP answer mapping a unicast IPv4 address to a group MAC. RFC 1812 tells routers not to
 * accept that, so many ignore it and the VIP stays unreachable from other subnets until someone
 * adds a static ARP entry (FACTS §1.3). Multicast and IGMP-mode NLB do exactly this.
 */
export const NLB_ARP_MULTICAST_MAC: Rule = {
  code: 'NLB_ARP_MULTICAST_MAC',
  severity: 'medium',
  title: 'ARP binds a unicast IP address to a multicast MAC',
  explanation: 'An ARP packet maps a unicast IPv4 address to a multicast MAC address. Routers are not supposed to accept such an entry (RFC 1812), so many ignore it and the address becomes unreachable through them.',
  mitigation: 'On every router (and layer-3 switch) of the VLAN, add a static ARP entry mapping the address to that MAC, and a static MAC-table entry for the MAC listing the cluster hosts\' ports so the traffic is not flooded. Or run the cluster in unicast mode in its own VLAN.',
  evaluate(facts) {
    const out: FindingDraft[] = [];
    for (const b of facts.l2.arp.bindings) {
      if (!b.multicastMac || !isUnicastIpv4(b.ip)) continue;
      const cluster = facts.l2.clusters.find((c) => c.arpMacs.includes(b.mac));
      const kind = b.replies > 0 ? `${b.replies} ARP repl${b.replies === 1 ? 'y' : 'ies'}` : `${b.requests} ARP request${b.requests === 1 ? '' : 's'}`;
      out.push({
        frames: evidenceFrames(b.sampleFrames),
        firstTs: b.firstTs,
        subject: { host: b.ip },
        explanation: `${kind} from frame ${b.firstFrame} on bind the unicast address ${b.ip} to the multicast MAC ${b.mac}${cluster ? `, the ${cluster.mode}-mode cluster MAC of NLB cluster ${cluster.clusterIp}` : ''}. Routers that follow RFC 1812 refuse to learn a multicast MAC for a unicast address, so hosts behind them cannot reach ${b.ip} until a static ARP entry is added.`,
        details: {
          ip: b.ip, mac: b.mac, replies: b.replies, requests: b.requests, gratuitous: b.gratuitous, firstFrame: b.firstFrame,
          ...(cluster ? clusterDetails(cluster) : { mode: null, clusterIp: null, hosts: [] }),
        },
      });
    }
    return out;
  },
};
