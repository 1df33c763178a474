import type { FindingDraft, Rule } from '../types.js';
import { clusterDetails, evidenceFrames, floodDetails, hostsText, peakText, shareText } from './nlb-evidence.js';

/**
 * Unicast-mode NLB: each host sends from 02-<priority>-<VIP>, so no switch ever learns the
 * cluster MAC 02-BF-<VIP> and floods every frame for it to every port of the VLAN (FACTS §1.2).
 * Frames to it on a port where no cluster host sends unicast are that flood.
 */
export const NLB_UNICAST_FLOODING: Rule = {
  code: 'NLB_UNICAST_FLOODING',
  severity: 'high',
  title: 'Unicast NLB cluster traffic is flooded to this port',
  explanation: 'Frames addressed to a unicast-mode NLB cluster MAC (02-BF-…) reach a port with no cluster host on it. The hosts mask their source MAC, so the switch never learns the cluster MAC and floods every frame for the cluster out of every port in the VLAN.',
  mitigation: 'Keep the flood away from other ports: put the cluster hosts in their own VLAN (or behind their own switch), or add a static MAC-table entry for the cluster MAC that lists only the cluster hosts\' ports. Alternatively run the cluster in IGMP multicast mode with IGMP snooping on the switches. On VMware, unicast NLB also needs "Notify Switches = No" on the port group; many sites use multicast mode there instead. On Hyper-V, unicast NLB needs MAC address spoofing enabled on the VM NICs.',
  evaluate(facts) {
    const out: FindingDraft[] = [];
    for (const c of facts.l2.clusters) {
      if (c.mode !== 'unicast' || c.traffic.frames === 0 || c.memberEvidenceFrames > 0) continue;
      const t = c.traffic;
      const clients = c.clientIps.slice(0, 5).map((x) => x.address);
      out.push({
        frames: evidenceFrames(t.sampleFrames),
        firstTs: t.firstTs,
        subject: { host: c.clusterIp },
        explanation: `${shareText(t)} were addressed to ${c.clusterMac}, the unicast cluster MAC of NLB cluster ${c.clusterIp} (hosts: ${hostsText(c)}), although no cluster host sends unicast frames from this port. The hosts send from their masked MACs 02-<priority>-${c.clusterIp}, so the switch never learns ${c.clusterMac} and floods every frame for the cluster${clients.length ? `, here from ${clients.join(', ')},` : ''} to every port in the VLAN, this one included, over ${t.perSecond.length} second${t.perSecond.length === 1 ? '' : 's'}.${peakText(t)}`,
        details: { ...clusterDetails(c), flooded: floodDetails(t), virtualIps: c.virtualIps, clients: c.clientIps, clientMacs: c.clientMacs, memberEvidenceFrames: 0 },
      });
    }
    return out;
  },
};
