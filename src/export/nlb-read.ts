/**
 * Windows NLB and layer-2 facts for exports, read from SQLite: clusters and hosts with their
 * heartbeat gaps and stops, the flooded traffic (first frame and the peak second), ARP
 * addresses claimed by several MACs or bound to multicast MACs.
 */
import type { Db } from '../store/db.js';
import { arr, hasColumns, num, obj, parseJson, str, type Json } from './sqlite.js';

export interface HeartbeatGapView { afterFrame: number; beforeFrame: number; fromTs: number; toTs: number; seconds: number; missed: number; beyondTolerance: boolean }

export interface NlbHostView {
  ip: string | null;
  priority: number;
  name: string | null;
  heartbeats: number;
  firstFrame: number;
  lastFrame: number;
  firstTs: number;
  lastTs: number;
  gaps: HeartbeatGapView[];
  stopped: { lastTs: number; silentSeconds: number } | null;
  convergence: Array<{ frame: number; ts: number; state: number }>;
}

export interface FloodView {
  frames: number;
  shareFrames: number;
  firstFrame: number | null;
  firstTs: number | null;
  peak: { second: number; frames: number; shareFrames: number } | null;
}

export interface NlbClusterView {
  clusterIp: string;
  mode: string;
  clusterMac: string;
  firstFrame: number;
  lastFrame: number;
  firstTs: number;
  lastTs: number;
  periodSeconds: number;
  hosts: NlbHostView[];
  flooded: FloodView | null;
}

export interface ArpClaimView { ip: string; mac: string; firstFrame: number; firstTs: number; frames: number; multicast: boolean }

export interface L2View {
  clusters: NlbClusterView[];
  unknownUnicast: FloodView | null;
  /** Bindings of IPs claimed by several MACs (per IP, oldest first) and of IPs bound to a multicast MAC. */
  conflicts: Array<{ ip: string; claims: ArpClaimView[] }>;
  multicastBindings: ArpClaimView[];
}

function flood(v: unknown): FloodView | null {
  const f = obj(v);
  if (!f || (num(f.frames) ?? 0) === 0) return null;
  const p = obj(f.peak);
  return {
    frames: num(f.frames) ?? 0, shareFrames: num(f.shareFrames) ?? 0, firstFrame: num(f.firstFrame), firstTs: num(f.firstTs),
    peak: p && num(p.second) !== null ? { second: num(p.second)!, frames: num(p.frames) ?? 0, shareFrames: num(p.shareFrames) ?? 0 } : null,
  };
}

function gaps(v: unknown): HeartbeatGapView[] {
  return arr(v).map(obj).filter((g): g is Json => g !== null && num(g.fromTs) !== null).map((g) => ({
    afterFrame: num(g.afterFrame) ?? 0, beforeFrame: num(g.beforeFrame) ?? 0, fromTs: num(g.fromTs)!, toTs: num(g.toTs) ?? num(g.fromTs)!,
    seconds: num(g.seconds) ?? 0, missed: num(g.missed) ?? 0, beyondTolerance: g.beyondTolerance === true,
  }));
}

export function readL2(db: Db, captureId: number): L2View {
  const view: L2View = { clusters: [], unknownUnicast: null, conflicts: [], multicastBindings: [] };
  if (hasColumns(db, 'nlb_clusters', ['cluster_ip', 'mode', 'cluster_mac', 'first_ts', 'traffic'])) {
    const hostRows = hasColumns(db, 'nlb_hosts', ['cluster_ip', 'seq', 'priority', 'host_ip', 'gaps', 'stopped'])
      ? db.prepare(`SELECT * FROM nlb_hosts WHERE capture_id = ? AND cluster_ip = ? ORDER BY seq`) : null;
    for (const c of db.prepare(`SELECT * FROM nlb_clusters WHERE capture_id = ? ORDER BY first_frame, cluster_ip`).all(captureId) as Json[]) {
      const hosts = (hostRows?.all(captureId, c.cluster_ip) ?? []) as Json[];
      view.clusters.push({
        clusterIp: String(c.cluster_ip), mode: String(c.mode), clusterMac: String(c.cluster_mac),
        firstFrame: Number(c.first_frame), lastFrame: Number(c.last_frame), firstTs: Number(c.first_ts), lastTs: Number(c.last_ts),
        periodSeconds: num(c.period_seconds) ?? 1,
        flooded: flood(parseJson(c.traffic)),
        hosts: hosts.map((h) => {
          const stopped = obj(parseJson(h.stopped));
          return {
            ip: str(h.host_ip), priority: Number(h.priority), name: str(h.host_name), heartbeats: num(h.heartbeats) ?? 0,
            firstFrame: Number(h.first_frame), lastFrame: Number(h.last_frame), firstTs: Number(h.first_ts), lastTs: Number(h.last_ts),
            gaps: gaps(parseJson(h.gaps)),
            stopped: stopped && num(stopped.lastTs) !== null ? { lastTs: num(stopped.lastTs)!, silentSeconds: num(stopped.silentSeconds) ?? 0 } : null,
            convergence: arr(parseJson(h.convergence)).map(obj).filter((x): x is Json => x !== null && num(x.ts) !== null)
              .map((x) => ({ frame: num(x.frame) ?? 0, ts: num(x.ts)!, state: num(x.state) ?? -1 })),
          };
        }),
      });
    }
  }
  if (hasColumns(db, 'l2_summary', ['unknown_unicast'])) {
    const s = db.prepare(`SELECT unknown_unicast FROM l2_summary WHERE capture_id = ?`).get(captureId) as { unknown_unicast: string } | undefined;
    view.unknownUnicast = s ? flood(parseJson(s.unknown_unicast)) : null;
  }
  if (hasColumns(db, 'arp_bindings', ['ip', 'mac', 'first_frame', 'first_ts', 'frames', 'multicast_mac'])) {
    const claim = (b: Json): ArpClaimView => ({
      ip: String(b.ip), mac: String(b.mac), firstFrame: Number(b.first_frame), firstTs: Number(b.first_ts), frames: Number(b.frames), multicast: b.multicast_mac === 1,
    });
    const byIp = db.prepare(`SELECT * FROM arp_bindings WHERE capture_id = ? AND ip = ? ORDER BY first_ts, first_frame`);
    if (hasColumns(db, 'arp_conflicts', ['ip', 'macs'])) {
      for (const c of db.prepare(`SELECT ip, macs FROM arp_conflicts WHERE capture_id = ? ORDER BY ip`).all(captureId) as Json[]) {
        const macs = new Set(arr(parseJson(c.macs)).map(String));
        view.conflicts.push({ ip: String(c.ip), claims: (byIp.all(captureId, c.ip) as Json[]).map(claim).filter((b) => macs.has(b.mac)) });
      }
    }
    view.multicastBindings = (db.prepare(`SELECT * FROM arp_bindings WHERE capture_id = ? AND multicast_mac = 1 ORDER BY first_ts`).all(captureId) as Json[]).map(claim);
  }
  return view;
}
