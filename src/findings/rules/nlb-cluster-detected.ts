import type { FindingDraft, Rule } from '../types.js';
import { clusterDetails, evidenceFrames, hostsText } from './nlb-evidence.js';

const MODE_TEXT = {
  unicast: 'unicast mode: every host carries the cluster MAC and masks its own source MAC',
  multicast: 'multicast mode: the hosts keep their own MACs and add the multicast cluster MAC',
  igmp: 'IGMP multicast mode: the cluster MAC is the MAC of an IGMP group the hosts join',
} as const;

/**
 * One finding per NLB cluster the capture shows (heartbeats, ARP for the VIP, traffic to the
 * cluster MAC). Informational: it names the cluster so the other NLB findings can be read.
 */
export const NLB_CLUSTER_DETECTED: Rule = {
  code: 'NLB_CLUSTER_DETECTED',
  severity: 'info',
  title: 'Windows NLB cluster seen on this segment',
  explanation: 'Heartbeats (EtherType 0x886F), ARP answers or frames addressed to an NLB cluster MAC show a Windows Network Load Balancing cluster on this layer-2 segment.',
  mitigation: 'None needed by itself. Make sure the switches are set up for the cluster mode in use (dedicated VLAN, static MAC entries or IGMP snooping), or the cluster traffic floods other ports.',
  evaluate(facts) {
    const out: FindingDraft[] = [];
    for (const c of facts.l2.clusters) {
      const hb = c.hosts.filter((h) => h.source === 'heartbeat');
      const notes: string[] = [];
      if (c.duplicatePriorities.length) notes.push(` Priority ${c.duplicatePriorities.join(', ')} is claimed by more than one host: NLB needs a unique priority per host, and a host with a duplicate never joins.`);
      if (c.clusterMacAsSourceFrames > 0) notes.push(` ${c.clusterMacAsSourceFrames} frames carried the cluster MAC ${c.clusterMac} as their source, so a switch learns it on one port and sends every cluster frame to that one host only (VMware "Notify Switches", MaskSourceMAC = 0).`);
      out.push({
        frames: evidenceFrames(hb.map((h) => h.firstFrame), c.traffic.sampleFrames.slice(0, 5), c.arpFrames ? [c.firstFrame] : []),
        firstTs: c.firstTs,
        subject: { host: c.clusterIp },
        title: `NLB cluster ${c.clusterIp} in ${c.mode} mode, ${c.hosts.length} host${c.hosts.length === 1 ? '' : 's'}`,
        explanation: `NLB cluster ${c.clusterIp} runs in ${MODE_TEXT[c.mode]}; cluster MAC ${c.clusterMac}${c.igmpGroup ? `, IGMP group ${c.igmpGroup}` : ''}. Hosts: ${hostsText(c)}. Seen through ${c.confirmedBy.join(', ')}: ${c.heartbeatFrames} heartbeats, ${c.arpFrames} ARP frames, ${c.traffic.frames} frames addressed to the cluster MAC.${notes.join('')}`,
        details: {
          ...clusterDetails(c), modeEvidence: c.modeEvidence, heartbeats: c.heartbeatFrames, arpFrames: c.arpFrames,
          clusterFrames: c.traffic.frames, virtualIps: c.virtualIps, duplicatePriorities: c.duplicatePriorities,
          clusterMacAsSourceFrames: c.clusterMacAsSourceFrames, vlans: c.vlans,
          heartbeatPeriodSeconds: c.periodSeconds,
        },
      });
    }
    return out;
  },
};
