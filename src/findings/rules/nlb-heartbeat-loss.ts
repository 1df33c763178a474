import type { FindingDraft, Rule } from '../types.js';
import { clusterDetails, evidenceFrames, hostName } from './nlb-evidence.js';

/**
 * A host's heartbeats stop, or pause for longer than the tolerance (5 periods of 1 s by
 * default, AliveMsgTolerance/AliveMsgPeriod): the other hosts drop it and the cluster
 * reconverges, moving its share of the connections (FACTS §1.4).
 */
export const NLB_HEARTBEAT_LOSS: Rule = {
  code: 'NLB_HEARTBEAT_LOSS',
  severity: 'high',
  title: 'An NLB host stopped sending heartbeats',
  explanation: 'An NLB host\'s heartbeats stopped or paused for longer than the tolerance of 5 periods. The other hosts then treat it as failed and reconverge, so the clients it served lose their connections.',
  mitigation: 'Find out why the host went quiet: the NLB service or driver stopped, the NIC or teaming failed over, the VM was paused or moved, or the heartbeats were dropped on the way (VLAN or switch-port change, storm control, a congested uplink). Heartbeats are 1.5 KB frames once per second per host; make sure every cluster port passes them.',
  evaluate(facts) {
    const out: FindingDraft[] = [];
    for (const c of facts.l2.clusters) {
      for (const h of c.hosts) {
        const gaps = h.gaps.filter((g) => g.beyondTolerance);
        if (gaps.length === 0 && h.stopped === null) continue;
        const tolerance = c.tolerancePeriods * c.periodSeconds;
        const parts: string[] = [];
        if (gaps.length) {
          const g = gaps[0];
          parts.push(`its heartbeats paused ${gaps.length} time${gaps.length === 1 ? '' : 's'} for longer than ${tolerance} s; the first time for ${g.seconds.toFixed(1)} s between frames ${g.afterFrame} and ${g.beforeFrame} (${g.missed} heartbeats missed)`);
        }
        if (h.stopped) {
          parts.push(`its last heartbeat was frame ${h.lastFrame}, after which it stayed silent for the remaining ${h.stopped.silentSeconds.toFixed(1)} s of the capture`);
        }
        const others = c.hosts.filter((x) => x !== h && x.stopped === null && x.heartbeats > 0).length;
        out.push({
          frames: evidenceFrames(gaps.flatMap((g) => [g.afterFrame, g.beforeFrame]), h.stopped ? [h.lastFrame] : []),
          firstTs: gaps.length ? gaps[0].fromTs : h.stopped!.lastTs,
          subject: { host: h.hostIp ?? c.clusterIp },
          explanation: `Host ${hostName(h)} of NLB cluster ${c.clusterIp} (${c.mode} mode): ${parts.join('; and ')}. With a heartbeat period of ${c.periodSeconds} s and a tolerance of ${c.tolerancePeriods} periods, the ${others} other host${others === 1 ? '' : 's'} still heartbeating declare it failed and reconverge.`,
          details: {
            ...clusterDetails(c),
            host: { ip: h.hostIp, priority: h.priority, name: h.hostName, heartbeats: h.heartbeats + h.truncatedHeartbeats, lastFrame: h.lastFrame },
            gaps, stopped: h.stopped, periodSeconds: c.periodSeconds, tolerancePeriods: c.tolerancePeriods,
          },
        });
      }
    }
    return out;
  },
};
