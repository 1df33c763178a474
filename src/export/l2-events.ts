/** Dated layer-2 events: NLB clusters, heartbeat gaps and stops, convergence, flooding start and peak, ARP claims. */
import type { L2View, NlbClusterView, NlbHostView, FloodView } from './nlb-read.js';
import { onFlow, type EventDraft, type TimelineEvent } from './event.js';

function hostName(h: NlbHostView): string {
  return `${h.ip ?? `priority ${h.priority}`}${h.name ? ` (${h.name})` : ''}`;
}

function pct(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}

function nlb(d: Omit<EventDraft, 'type'>): TimelineEvent {
  return onFlow({ type: 'nlb', ...d }, null);
}

function floodEvents(f: FloodView, what: string, keys: string[], host: string | null, extra: Record<string, unknown>): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  if (f.firstTs !== null) {
    out.push(nlb({
      ts: f.firstTs, kind: 'flood-start', desc: 'Flooding first frame', frame: f.firstFrame, keys, host,
      message: `${what}: first flooded frame (${f.frames} frames in all, ${pct(f.shareFrames)} of this port's frames)`,
      data: { event: 'flood-start', ...extra, frames: f.frames, shareFrames: f.shareFrames },
    }));
  }
  if (f.peak) {
    out.push(nlb({
      ts: f.peak.second * 1e6, kind: 'flood-peak', desc: 'Flooding peak second', frame: null, keys, host, outcome: 'failed',
      message: `${what}: peak second, ${f.peak.frames} flooded frames (${pct(f.peak.shareFrames)} of the port's frames that second)`,
      data: { event: 'flood-peak', ...extra, second: f.peak.second, frames: f.peak.frames, shareFrames: f.peak.shareFrames },
    }));
  }
  return out;
}

function clusterEvents(c: NlbClusterView): TimelineEvent[] {
  const ck = `host:${c.clusterIp}`;
  const cluster = { clusterIp: c.clusterIp, mode: c.mode, clusterMac: c.clusterMac };
  const out: TimelineEvent[] = [nlb({
    ts: c.firstTs, kind: 'cluster-detected', desc: 'NLB cluster first seen', frame: c.firstFrame, keys: [ck], host: c.clusterIp,
    message: `NLB cluster ${c.clusterIp} (${c.mode} mode, cluster MAC ${c.clusterMac}) with ${c.hosts.length} host${c.hosts.length === 1 ? '' : 's'}`,
    data: { event: 'cluster-detected', ...cluster, hosts: c.hosts.map((h) => ({ ip: h.ip, priority: h.priority, name: h.name })) },
  })];
  for (const h of c.hosts) {
    const keys = [ck, ...(h.ip ? [`host:${h.ip}`] : [])];
    const host = { ...cluster, hostIp: h.ip, priority: h.priority, hostName: h.name };
    for (const g of h.gaps) {
      out.push(nlb({
        ts: g.fromTs, kind: 'heartbeat-gap', desc: 'NLB heartbeat gap start', frame: g.afterFrame, frames: [g.afterFrame, g.beforeFrame], keys, host: h.ip,
        outcome: g.beyondTolerance ? 'failed' : null,
        message: `NLB host ${hostName(h)} sent no heartbeat for ${g.seconds.toFixed(1)} s (${g.missed} missed)${g.beyondTolerance ? ': beyond the tolerance, the cluster reconverges' : ''}`,
        data: { event: 'heartbeat-gap', ...host, seconds: g.seconds, missed: g.missed, beyondTolerance: g.beyondTolerance, afterFrame: g.afterFrame, beforeFrame: g.beforeFrame },
      }));
      out.push(nlb({
        ts: g.toTs, kind: 'heartbeat-resumed', desc: 'NLB heartbeats resumed', frame: g.beforeFrame, keys, host: h.ip,
        message: `NLB host ${hostName(h)} heartbeats again after ${g.seconds.toFixed(1)} s`,
        data: { event: 'heartbeat-resumed', ...host, seconds: g.seconds },
      }));
    }
    if (h.stopped) {
      out.push(nlb({
        ts: h.stopped.lastTs, kind: 'heartbeats-stopped', desc: 'NLB last heartbeat', frame: h.lastFrame, keys, host: h.ip, outcome: 'failed',
        message: `NLB host ${hostName(h)}: last heartbeat; silent for the remaining ${h.stopped.silentSeconds.toFixed(1)} s of the capture`,
        data: { event: 'heartbeats-stopped', ...host, silentSeconds: h.stopped.silentSeconds },
      }));
    }
    for (const cv of h.convergence) {
      out.push(nlb({
        ts: cv.ts, kind: 'convergence', desc: 'NLB convergence state change', frame: cv.frame, keys, host: h.ip,
        message: `NLB host ${hostName(h)}: convergence state ${cv.state}`,
        data: { event: 'convergence', ...host, state: cv.state },
      }));
    }
  }
  if (c.flooded) out.push(...floodEvents(c.flooded, `NLB cluster ${c.clusterIp} traffic flooded to this port`, [ck], c.clusterIp, { kind: 'nlb', ...cluster }));
  return out;
}

export function l2Events(v: L2View): TimelineEvent[] {
  const out = v.clusters.flatMap(clusterEvents);
  if (v.unknownUnicast) out.push(...floodEvents(v.unknownUnicast, 'Unknown-unicast flooding', ['l2:unknown-unicast'], null, { kind: 'unknown-unicast' }));
  for (const c of v.conflicts) {
    for (const b of c.claims) {
      out.push(nlb({
        ts: b.firstTs, kind: 'arp-claim', desc: 'ARP address claimed', frame: b.firstFrame, keys: [`host:${b.ip}`], host: b.ip, outcome: 'failed',
        message: `ARP: ${b.ip} claimed by ${b.mac} (${b.frames} frames); ${c.claims.length} MACs claim this address`,
        data: { event: 'arp-claim', ip: b.ip, mac: b.mac, frames: b.frames, claimants: c.claims.map((x) => x.mac) },
      }));
    }
  }
  for (const b of v.multicastBindings) {
    out.push(nlb({
      ts: b.firstTs, kind: 'arp-multicast-mac', desc: 'ARP binding to multicast MAC', frame: b.firstFrame, keys: [`host:${b.ip}`], host: b.ip,
      message: `ARP binds unicast ${b.ip} to multicast MAC ${b.mac} (${b.frames} frames)`,
      data: { event: 'arp-multicast-mac', ip: b.ip, mac: b.mac, frames: b.frames },
    }));
  }
  return out;
}
