/**
 * The `nlb` section of the `--json` document, read back from SQLite. FINDINGS.md's contract,
 * clusters[{clusterIp, mode, hosts[{ip, priority}]}], plus what a reader needs to see the
 * problem: per-host heartbeat timelines and gaps, the flooded share per second, ARP bindings
 * and conflicts, IGMP groups, and per capture what reached the port.
 */
import type { Db } from '../../store/db.js';
import { isoTime } from '../../store/queries.js';

interface ClusterRow {
  capture_id: number; cluster_ip: string; mode: string; cluster_mac: string; confirmed_by: string; mode_evidence: string;
  igmp_group: string | null; first_frame: number; last_frame: number; first_ts: number; last_ts: number;
  heartbeat_frames: number; period_seconds: number; period_source: string; tolerance_periods: number; traffic: string;
  member_evidence_frames: number; member_evidence_sample: string; arp_frames: number; arp_macs: string;
  arp_eth_src_mismatch: number; igmp_joins: number; igmp_reporters: string; cluster_mac_as_source: number;
  duplicate_priorities: string; virtual_ips: string; client_macs: string; client_ips: string; vlans: string;
}

interface HostRow {
  cluster_ip: string; seq: number; priority: number; host_ip: string | null; host_name: string | null; addresses: string;
  source: string; my_host_id: number | null; default_host_id: number | null; version: string | null;
  heartbeats: number; extended_heartbeats: number; truncated_heartbeats: number; first_frame: number; last_frame: number;
  first_ts: number; last_ts: number; port_rules: number | null; unique_host_code: number | null;
  packets_handled_first: number | null; packets_handled_last: number | null; teaming: string | null; convergence: string;
  src_macs: string; dst_macs: string; masked_mac: string; masked_frames: number; vlans: string; timeline: string;
  gaps: string; stopped: string | null;
}

interface SecondRow { second: number; frames: number; bytes: number; total_frames: number; total_bytes: number }

interface BindingRow {
  ip: string; mac: string; vlan: number | null; first_frame: number; last_frame: number; first_ts: number; last_ts: number;
  frames: number; requests: number; replies: number; gratuitous: number; eth_src_mismatch: number; eth_srcs: string;
  multicast_mac: number; nlb: string | null; sample_frames: string;
}

interface SummaryRow {
  ethernet_frames: number; ethernet_bytes: number; unicast_frames: number; unicast_bytes: number; source_macs: number;
  two_way_stations: number; answered_unknown_destinations: number;
  heartbeats: string; arp: string; igmp: string; unknown_unicast: string; unknown_destinations: string;
  cluster_like_macs: string; limits: string;
}

const parse = (s: string): unknown => JSON.parse(s) as unknown;

function seconds(rows: SecondRow[]): Array<Record<string, unknown>> {
  return rows.map((r) => ({
    second: r.second, t: isoTime(r.second * 1e6), frames: r.frames, bytes: r.bytes, totalFrames: r.total_frames, totalBytes: r.total_bytes,
    share: r.total_frames === 0 ? 0 : r.frames / r.total_frames, byteShare: r.total_bytes === 0 ? 0 : r.bytes / r.total_bytes,
  }));
}

function withIso(v: unknown, keys: string[]): unknown {
  if (Array.isArray(v)) return v.map((x) => withIso(x, keys));
  if (v === null || typeof v !== 'object') return v;
  const o = { ...(v as Record<string, unknown>) };
  for (const k of keys) if (typeof o[k] === 'number') o[k] = isoTime(o[k] as number);
  return o;
}

function host(r: HostRow): Record<string, unknown> {
  return {
    ip: r.host_ip, priority: r.priority, name: r.host_name, addresses: parse(r.addresses), source: r.source,
    myHostId: r.my_host_id, defaultHostId: r.default_host_id, version: r.version,
    heartbeats: r.heartbeats, extendedHeartbeats: r.extended_heartbeats, truncatedHeartbeats: r.truncated_heartbeats,
    firstFrame: r.first_frame, lastFrame: r.last_frame, firstTs: isoTime(r.first_ts), lastTs: isoTime(r.last_ts),
    portRules: r.port_rules, uniqueHostCode: r.unique_host_code,
    packetsHandled: r.packets_handled_last === null ? null : { first: r.packets_handled_first, last: r.packets_handled_last },
    teaming: r.teaming === null ? null : parse(r.teaming),
    convergence: withIso(parse(r.convergence), ['ts']),
    srcMacs: parse(r.src_macs), dstMacs: parse(r.dst_macs), maskedMac: r.masked_mac, maskedFrames: r.masked_frames,
    vlans: parse(r.vlans),
    timeline: withIso(parse(r.timeline), ['firstTs', 'lastTs']),
    gaps: withIso(parse(r.gaps), ['fromTs', 'toTs']),
    stopped: r.stopped === null ? null : withIso(parse(r.stopped), ['lastTs', 'captureEndTs']),
  };
}

export function nlbDocument(db: Db, captureIds: number[]): Record<string, unknown> {
  const clusterRows = db.prepare(`SELECT * FROM nlb_clusters WHERE capture_id = ? ORDER BY first_frame, cluster_ip`);
  const hostRows = db.prepare(`SELECT * FROM nlb_hosts WHERE capture_id = ? AND cluster_ip = ? ORDER BY seq`);
  const secondRows = db.prepare(`SELECT second, frames, bytes, total_frames, total_bytes FROM l2_flood_seconds
    WHERE capture_id = ? AND kind = ? AND cluster_ip = ? ORDER BY second`);
  const bindingRows = db.prepare(`SELECT * FROM arp_bindings WHERE capture_id = ? ORDER BY first_frame, ip`);
  const conflictRows = db.prepare(`SELECT ip, vlan, macs, interleaved, nlb_macs FROM arp_conflicts WHERE capture_id = ?`);
  const groupRows = db.prepare(`SELECT * FROM igmp_groups WHERE capture_id = ? ORDER BY first_frame`);
  const summaryRow = db.prepare(`SELECT * FROM l2_summary WHERE capture_id = ?`);

  const clusters: Array<Record<string, unknown>> = [];
  const bindings: Array<Record<string, unknown>> = [];
  const conflicts: Array<Record<string, unknown>> = [];
  const groups: Array<Record<string, unknown>> = [];
  const ports: Array<Record<string, unknown>> = [];
  for (const cid of captureIds) {
    for (const c of clusterRows.all(cid) as ClusterRow[]) {
      const traffic = parse(c.traffic) as Record<string, unknown>;
      clusters.push({
        capture: cid, clusterIp: c.cluster_ip, mode: c.mode, clusterMac: c.cluster_mac,
        hosts: (hostRows.all(cid, c.cluster_ip) as HostRow[]).map(host),
        confirmedBy: parse(c.confirmed_by), modeEvidence: parse(c.mode_evidence), igmpGroup: c.igmp_group,
        firstFrame: c.first_frame, lastFrame: c.last_frame, firstTs: isoTime(c.first_ts), lastTs: isoTime(c.last_ts),
        heartbeatFrames: c.heartbeat_frames,
        heartbeatPeriod: { seconds: c.period_seconds, source: c.period_source, tolerancePeriods: c.tolerance_periods },
        flooded: {
          ...traffic, firstTs: isoTime(traffic.firstTs as number | null),
          perSecond: seconds(secondRows.all(cid, 'nlb', c.cluster_ip) as SecondRow[]),
        },
        memberEvidenceFrames: c.member_evidence_frames, memberEvidenceSample: parse(c.member_evidence_sample),
        virtualIps: parse(c.virtual_ips), clientMacs: parse(c.client_macs), clientIps: parse(c.client_ips),
        arp: { frames: c.arp_frames, macs: parse(c.arp_macs), ethSrcMismatchFrames: c.arp_eth_src_mismatch },
        igmp: { group: c.igmp_group, joins: c.igmp_joins, reporters: parse(c.igmp_reporters) },
        clusterMacAsSourceFrames: c.cluster_mac_as_source, duplicatePriorities: parse(c.duplicate_priorities), vlans: parse(c.vlans),
      });
    }
    for (const b of bindingRows.all(cid) as BindingRow[]) {
      bindings.push({
        capture: cid, ip: b.ip, mac: b.mac, vlan: b.vlan, firstFrame: b.first_frame, lastFrame: b.last_frame,
        firstTs: isoTime(b.first_ts), lastTs: isoTime(b.last_ts), frames: b.frames, requests: b.requests, replies: b.replies,
        gratuitous: b.gratuitous, ethSrcMismatch: b.eth_src_mismatch, ethSrcs: parse(b.eth_srcs),
        multicastMac: b.multicast_mac === 1, nlb: b.nlb, sampleFrames: parse(b.sample_frames),
      });
    }
    for (const r of conflictRows.all(cid) as Array<{ ip: string; vlan: number | null; macs: string; interleaved: number; nlb_macs: string }>) {
      conflicts.push({ capture: cid, ip: r.ip, vlan: r.vlan, macs: parse(r.macs), interleaved: r.interleaved === 1, nlbMacs: parse(r.nlb_macs) });
    }
    for (const g of groupRows.all(cid) as Array<{ group_ip: string; reports: number; joins: number; leaves: number; reporters: string; first_frame: number; last_frame: number; first_ts: number; last_ts: number }>) {
      groups.push({
        capture: cid, group: g.group_ip, reports: g.reports, joins: g.joins, leaves: g.leaves, reporters: parse(g.reporters),
        firstFrame: g.first_frame, lastFrame: g.last_frame, firstTs: isoTime(g.first_ts), lastTs: isoTime(g.last_ts),
      });
    }
    const s = summaryRow.get(cid) as SummaryRow | undefined;
    if (s !== undefined) {
      const unknown = parse(s.unknown_unicast) as Record<string, unknown>;
      ports.push({
        capture: cid, ethernetFrames: s.ethernet_frames, ethernetBytes: s.ethernet_bytes, unicastFrames: s.unicast_frames,
        unicastBytes: s.unicast_bytes, sourceMacs: s.source_macs,
        twoWayStations: s.two_way_stations, answeredUnknownDestinations: s.answered_unknown_destinations, heartbeats: parse(s.heartbeats), arp: parse(s.arp),
        igmp: parse(s.igmp),
        unknownUnicast: { ...unknown, firstTs: isoTime(unknown.firstTs as number | null), perSecond: seconds(secondRows.all(cid, 'unknown-unicast', '') as SecondRow[]) },
        unknownDestinations: parse(s.unknown_destinations), clusterLikeMacs: parse(s.cluster_like_macs), limits: parse(s.limits),
      });
    }
  }
  return { clusters, arp: { bindings, conflicts }, igmp: { groups }, ports };
}
