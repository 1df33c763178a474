import type { FindingDraft, Rule } from '../types.js';
import { clusterDetails, evidenceFrames, floodDetails, hostsText, peakText, shareText } from './nlb-evidence.js';

/**
 * Multicast and IGMP-mode NLB: frames to the cluster's group MAC go to every port unless the
 * switch constrains them (static MAC entries, or IGMP snooping on the joins to 239.255.c.d).
 * Multicast mode sends no joins at all. IGMP mode does, but the frames carry the unicast VIP as
 * IP destination, which a switch snooping by IP group never matches: Cisco documents Catalyst
 * 9000 flooding NLB traffic in all three modes (FACTS §1.3), while the Linux bridge in our lab
 * drops such frames instead (captures/nlb/README.md). Either way, seeing the cluster's frames on
 * a port without a cluster host means they were flooded there.
 */
export const NLB_MULTICAST_FLOODING: Rule = {
  code: 'NLB_MULTICAST_FLOODING',
  severity: 'medium',
  title: 'Multicast NLB cluster traffic is flooded to this port',
  explanation: 'Frames addressed to a multicast-mode NLB cluster MAC (03-BF-… or 01-00-5E-7F-…) reach a port with no cluster host on it, and no IGMP membership limits them there, so the switch floods them to every port in the VLAN.',
  mitigation: 'Multicast mode: add a static MAC-table entry for the cluster MAC that lists only the cluster hosts\' ports (plus the static ARP entry routers need), or put the cluster in its own VLAN. IGMP multicast mode: turn on IGMP snooping with a querier in the VLAN; switches that snoop by IP address rather than MAC still flood NLB traffic, so use static MAC entries or a dedicated VLAN there.',
  evaluate(facts) {
    const out: FindingDraft[] = [];
    for (const c of facts.l2.clusters) {
      if (c.mode === 'unicast' || c.traffic.frames === 0 || c.memberEvidenceFrames > 0) continue;
      const t = c.traffic;
      const membership = c.mode === 'multicast'
        ? 'Multicast mode sends no IGMP joins, so nothing tells the switch where the members are.'
        : c.igmpJoins > 0
          ? `The hosts did join ${c.igmpGroup} (${c.igmpJoins} IGMP reports from ${c.igmpReporters.join(', ')}), yet the frames still reached this port, which has no member: the switch is not limiting them to the members, either because it does not snoop IGMP or because it snoops by IP group, which never matches these frames (their IP destination is the unicast VIP ${c.clusterIp}).`
          : `No IGMP membership report for ${c.igmpGroup} was seen, so a snooping switch has no member list and floods.`;
      out.push({
        frames: evidenceFrames(t.sampleFrames),
        firstTs: t.firstTs,
        subject: { host: c.clusterIp },
        explanation: `${shareText(t)} were addressed to ${c.clusterMac}, the ${c.mode === 'igmp' ? 'IGMP-mode' : 'multicast'} cluster MAC of NLB cluster ${c.clusterIp} (hosts: ${hostsText(c)}), although no cluster host sends from this port. ${membership}${peakText(t)}`,
        details: {
          ...clusterDetails(c), flooded: floodDetails(t), virtualIps: c.virtualIps, clients: c.clientIps, clientMacs: c.clientMacs,
          igmpJoins: c.igmpJoins, igmpReporters: c.igmpReporters, memberEvidenceFrames: 0,
          queriers: facts.l2.igmp.queriers,
        },
      });
    }
    return out;
  },
};
