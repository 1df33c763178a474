import type { FindingDraft, Rule } from '../types.js';
import { evidenceFrames } from './nlb-evidence.js';

/**
 * One IPv4 address claimed by several MACs in ARP. NLB's unicast pattern (every host answering
 * for the VIP with the cluster MAC from its own masked source) is set aside by the cluster
 * inference and reported by the NLB rules.
 */
export const ARP_DUPLICATE_IP: Rule = {
  code: 'ARP_DUPLICATE_IP',
  severity: 'high',
  title: 'One IP address is claimed by several MAC addresses',
  explanation: 'ARP shows the same IPv4 address announced by more than one MAC address. Neighbours keep switching between them, so connections to that address break or reach the wrong machine.',
  mitigation: 'Find the stations behind each MAC (switch MAC table, the vendor prefix of the MAC) and give one of them another address: usually a static address inside a DHCP pool, a cloned VM, or a device brought back with an old configuration. DHCP snooping with dynamic ARP inspection stops it recurring.',
  evaluate(facts) {
    const out: FindingDraft[] = [];
    for (const c of facts.l2.arp.conflicts) {
      const [first, second] = c.macs;
      out.push({
        frames: evidenceFrames(...c.macs.map((b) => b.sampleFrames.slice(0, 5))),
        firstTs: second.firstTs,
        subject: { host: c.ip },
        explanation: `${c.ip}${c.vlan !== null ? ` (VLAN ${c.vlan})` : ''} is claimed in ARP by ${c.macs.length} MAC addresses: ${c.macs.map((b) => `${b.mac} (${b.frames} frames, ${b.firstFrame}–${b.lastFrame})`).join(', ')}. ${c.interleaved ? 'The claims overlap in time, so both stations are live and neighbours flip between them.' : `${second.mac} took over from ${first.mac} from frame ${second.firstFrame}; if both are still up, neighbours reach whichever answered last.`}`,
        details: {
          ip: c.ip, vlan: c.vlan, interleaved: c.interleaved, nlbMacs: c.nlbMacs,
          macs: c.macs.map((b) => ({ mac: b.mac, frames: b.frames, firstFrame: b.firstFrame, lastFrame: b.lastFrame, gratuitous: b.gratuitous, ethSrcs: b.ethSrcs })),
        },
      });
    }
    return out;
  },
};
