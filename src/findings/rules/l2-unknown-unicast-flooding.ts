import type { FindingDraft, Rule } from '../types.js';
import { evidenceFrames, floodDetails, peakText, pct } from './nlb-evidence.js';

/** Below these, a few frames to silent hosts are normal (ARP cache outliving the MAC table). */
export const MIN_FLOODED_FRAMES = 20;
export const MIN_UNICAST_SHARE = 0.05;

/**
 * Unicast frames to MACs that never send anything on this port: the switch did not know where
 * they live and flooded them here. NLB cluster MACs are reported by the NLB rules instead.
 */
export const L2_UNKNOWN_UNICAST_FLOODING: Rule = {
  code: 'L2_UNKNOWN_UNICAST_FLOODING',
  severity: 'medium',
  title: 'Unicast frames for unknown MACs are flooded to this port',
  explanation: 'A significant share of the unicast frames on this port is addressed to MAC addresses that never appear as a source here. The switch does not know where those stations are and floods their frames to every port in the VLAN.',
  mitigation: 'Find out why the switch has not learned those MACs: receivers that never transmit (one-way streams, backup or syslog targets), a MAC aging time shorter than the routers\' ARP timeout (make the aging time at least as long), asymmetric routing that keeps replies on another path, or a station behind a device that hides its MAC. Static MAC entries or a dedicated VLAN contain the flood. If the capture used a filter that kept only one direction, this finding does not apply.',
  evaluate(facts) {
    const u = facts.l2.unknownUnicast;
    const share = u.shareUnicastFrames ?? 0;
    if (u.frames < MIN_FLOODED_FRAMES || share < MIN_UNICAST_SHARE) return [];
    // Every unicast frame went one way (capture filter, single talker): nothing to tell a flood by.
    if (facts.l2.twoWayStations === 0) return [];
    const top = facts.l2.unknownDestinations.slice(0, 5);
    const draft: FindingDraft = {
      frames: evidenceFrames(u.sampleFrames, top.map((d) => d.firstFrame)),
      firstTs: u.firstTs,
      subject: {},
      explanation: `${u.frames} unicast frames (${pct(share)} of this port's unicast frames, ${pct(u.shareBytes)} of all bytes) were addressed to ${facts.l2.unknownDestinations.length} MAC address${facts.l2.unknownDestinations.length === 1 ? '' : 'es'} that never sent anything on this port, so the switch flooded them here: ${top.map((d) => `${d.mac} (${d.frames} frames${d.ipDestinations.length ? ` to ${d.ipDestinations.slice(0, 2).map((a) => a.address).join(', ')}` : ''})`).join(', ')}.${peakText(u)}`,
      details: {
        flooded: floodDetails(u), destinations: facts.l2.unknownDestinations, sourceMacs: facts.l2.sourceMacs,
        twoWayStations: facts.l2.twoWayStations, unicastFrames: facts.l2.unicastFrames,
      },
    };
    return [draft];
  },
};
