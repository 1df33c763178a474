/**
 * Layer-2 facts in SQLite: NLB clusters and hosts, the flooded share per second, ARP bindings
 * and conflicts, IGMP groups, and one summary row per capture. Nested records that are only
 * ever read whole (heartbeat timelines, gaps, address lists) are JSON columns.
 */
import type { Db } from '../../store/db.js';
import type { FactSet } from '../../analysis/context.js';
import type { FloodFact } from './facts.js';

export const L2_MIGRATION = `
  CREATE TABLE nlb_clusters (
    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    cluster_ip TEXT NOT NULL,
    mode TEXT NOT NULL,
    cluster_mac TEXT NOT NULL,
    confirmed_by TEXT NOT NULL, mode_evidence TEXT NOT NULL, igmp_group TEXT,
    first_frame INTEGER NOT NULL, last_frame INTEGER NOT NULL, first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL,
    heartbeat_frames INTEGER NOT NULL, period_seconds REAL NOT NULL, period_source TEXT NOT NULL, tolerance_periods INTEGER NOT NULL,
    traffic TEXT NOT NULL,
    member_evidence_frames INTEGER NOT NULL, member_evidence_sample TEXT NOT NULL,
    arp_frames INTEGER NOT NULL, arp_macs TEXT NOT NULL, arp_eth_src_mismatch INTEGER NOT NULL,
    igmp_joins INTEGER NOT NULL, igmp_reporters TEXT NOT NULL,
    cluster_mac_as_source INTEGER NOT NULL, duplicate_priorities TEXT NOT NULL,
    virtual_ips TEXT NOT NULL, client_macs TEXT NOT NULL, client_ips TEXT NOT NULL, vlans TEXT NOT NULL,
    PRIMARY KEY (capture_id, cluster_ip)
  );
  CREATE TABLE nlb_hosts (
    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    cluster_ip TEXT NOT NULL,
    seq INTEGER NOT NULL,
    priority INTEGER NOT NULL, host_ip TEXT, host_name TEXT, addresses TEXT NOT NULL, source TEXT NOT NULL,
    my_host_id INTEGER, default_host_id INTEGER, version TEXT, version_raw INTEGER,
    heartbeats INTEGER NOT NULL, extended_heartbeats INTEGER NOT NULL, truncated_heartbeats INTEGER NOT NULL,
    first_frame INTEGER NOT NULL, last_frame INTEGER NOT NULL, first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL,
    port_rules INTEGER, unique_host_code INTEGER, packets_handled_first INTEGER, packets_handled_last INTEGER,
    teaming TEXT, convergence TEXT NOT NULL, src_macs TEXT NOT NULL, dst_macs TEXT NOT NULL,
    masked_mac TEXT NOT NULL, masked_frames INTEGER NOT NULL, vlans TEXT NOT NULL,
    timeline TEXT NOT NULL, gaps TEXT NOT NULL, stopped TEXT,
    PRIMARY KEY (capture_id, cluster_ip, seq)
  );
  CREATE TABLE l2_flood_seconds (
    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    cluster_ip TEXT NOT NULL,
    second INTEGER NOT NULL,
    frames INTEGER NOT NULL, bytes INTEGER NOT NULL, total_frames INTEGER NOT NULL, total_bytes INTEGER NOT NULL,
    PRIMARY KEY (capture_id, kind, cluster_ip, second)
  );
  CREATE TABLE arp_bindings (
    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    ip TEXT NOT NULL, mac TEXT NOT NULL, vlan INTEGER,
    first_frame INTEGER NOT NULL, last_frame INTEGER NOT NULL, first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL,
    frames INTEGER NOT NULL, requests INTEGER NOT NULL, replies INTEGER NOT NULL, gratuitous INTEGER NOT NULL,
    eth_src_mismatch INTEGER NOT NULL, eth_srcs TEXT NOT NULL, multicast_mac INTEGER NOT NULL, nlb TEXT,
    sample_frames TEXT NOT NULL
  );
  CREATE INDEX arp_bindings_ip ON arp_bindings(capture_id, ip);
  CREATE TABLE arp_conflicts (
    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    ip TEXT NOT NULL, vlan INTEGER, macs TEXT NOT NULL, interleaved INTEGER NOT NULL, nlb_macs TEXT NOT NULL
  );
  CREATE INDEX arp_conflicts_capture ON arp_conflicts(capture_id);
  CREATE TABLE igmp_groups (
    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    group_ip TEXT NOT NULL, reports INTEGER NOT NULL, joins INTEGER NOT NULL, leaves INTEGER NOT NULL,
    reporters TEXT NOT NULL, first_frame INTEGER NOT NULL, last_frame INTEGER NOT NULL,
    first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL,
    PRIMARY KEY (capture_id, group_ip)
  );
  CREATE TABLE l2_summary (
    capture_id INTEGER PRIMARY KEY REFERENCES captures(id) ON DELETE CASCADE,
    ethernet_frames INTEGER NOT NULL, ethernet_bytes INTEGER NOT NULL,
    unicast_frames INTEGER NOT NULL, unicast_bytes INTEGER NOT NULL, source_macs INTEGER NOT NULL,
    two_way_stations INTEGER NOT NULL, answered_unknown_destinations INTEGER NOT NULL,
    heartbeats TEXT NOT NULL, arp TEXT NOT NULL, igmp TEXT NOT NULL,
    unknown_unicast TEXT NOT NULL, unknown_destinations TEXT NOT NULL, cluster_like_macs TEXT NOT NULL, limits TEXT NOT NULL
  );
`;

const json = (v: unknown): string => JSON.stringify(v);
const us = (v: number): number => Math.round(v);

/** The flood fact without its per-second rows (those have their own table). */
function floodSummary(f: FloodFact): Omit<FloodFact, 'perSecond'> {
  const { perSecond: _perSecond, ...rest } = f;
  return { ...rest, firstTs: rest.firstTs === null ? null : us(rest.firstTs) };
}

export function writeL2Facts(db: Db, captureId: number, facts: FactSet): void {
  const l2 = facts.l2;
  const insCluster = db.prepare(`INSERT INTO nlb_clusters (capture_id, cluster_ip, mode, cluster_mac, confirmed_by, mode_evidence,
    igmp_group, first_frame, last_frame, first_ts, last_ts, heartbeat_frames, period_seconds, period_source, tolerance_periods,
    traffic, member_evidence_frames, member_evidence_sample, arp_frames, arp_macs, arp_eth_src_mismatch, igmp_joins,
    igmp_reporters, cluster_mac_as_source, duplicate_priorities, virtual_ips, client_macs, client_ips, vlans)
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
  const insHost = db.prepare(`INSERT INTO nlb_hosts (capture_id, cluster_ip, seq, priority, host_ip, host_name, addresses, source,
    my_host_id, default_host_id, version, version_raw, heartbeats, extended_heartbeats, truncated_heartbeats, first_frame,
    last_frame, first_ts, last_ts, port_rules, unique_host_code, packets_handled_first, packets_handled_last, teaming,
    convergence, src_macs, dst_macs, masked_mac, masked_frames, vlans, timeline, gaps, stopped)
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
  const insSecond = db.prepare(`INSERT INTO l2_flood_seconds (capture_id, kind, cluster_ip, second, frames, bytes, total_frames, total_bytes)
    VALUES (?,?,?,?,?,?,?,?)`);
  const insBinding = db.prepare(`INSERT INTO arp_bindings (capture_id, ip, mac, vlan, first_frame, last_frame, first_ts, last_ts,
    frames, requests, replies, gratuitous, eth_src_mismatch, eth_srcs, multicast_mac, nlb, sample_frames)
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
  const insConflict = db.prepare(`INSERT INTO arp_conflicts (capture_id, ip, vlan, macs, interleaved, nlb_macs) VALUES (?,?,?,?,?,?)`);
  const insGroup = db.prepare(`INSERT INTO igmp_groups (capture_id, group_ip, reports, joins, leaves, reporters, first_frame,
    last_frame, first_ts, last_ts) VALUES (?,?,?,?,?,?,?,?,?,?)`);
  const insSummary = db.prepare(`INSERT INTO l2_summary (capture_id, ethernet_frames, ethernet_bytes, unicast_frames, unicast_bytes,
    source_macs, two_way_stations, answered_unknown_destinations, heartbeats, arp, igmp, unknown_unicast, unknown_destinations,
    cluster_like_macs, limits) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);

  for (const c of l2.clusters) {
    insCluster.run(captureId, c.clusterIp, c.mode, c.clusterMac, json(c.confirmedBy), json(c.modeEvidence), c.igmpGroup,
      c.firstFrame, c.lastFrame, us(c.firstTs), us(c.lastTs), c.heartbeatFrames, c.periodSeconds, c.periodSource, c.tolerancePeriods,
      json(floodSummary(c.traffic)), c.memberEvidenceFrames, json(c.memberEvidenceSample), c.arpFrames, json(c.arpMacs),
      c.arpEthSrcMismatchFrames, c.igmpJoins, json(c.igmpReporters), c.clusterMacAsSourceFrames, json(c.duplicatePriorities),
      json(c.virtualIps), json(c.clientMacs), json(c.clientIps), json(c.vlans));
    c.hosts.forEach((h, seq) => {
      insHost.run(captureId, c.clusterIp, seq, h.priority, h.hostIp, h.hostName, json(h.addresses), h.source,
        h.myHostId, h.defaultHostId, h.version, h.versionRaw, h.heartbeats, h.extendedHeartbeats, h.truncatedHeartbeats,
        h.firstFrame, h.lastFrame, us(h.firstTs), us(h.lastTs), h.portRules, h.uniqueHostCode, h.packetsHandledFirst,
        h.packetsHandledLast, h.teaming ? json(h.teaming) : null,
        json(h.convergence.map((x) => ({ ...x, ts: us(x.ts) }))), json(h.srcMacs), json(h.dstMacs), h.maskedMac, h.maskedFrames,
        json(h.vlans), json(h.timeline.map((r) => ({ ...r, firstTs: us(r.firstTs), lastTs: us(r.lastTs) }))),
        json(h.gaps.map((g) => ({ ...g, fromTs: us(g.fromTs), toTs: us(g.toTs) }))),
        h.stopped ? json({ ...h.stopped, lastTs: us(h.stopped.lastTs), captureEndTs: us(h.stopped.captureEndTs) }) : null);
    });
    for (const s of c.traffic.perSecond) insSecond.run(captureId, 'nlb', c.clusterIp, s.second, s.frames, s.bytes, s.totalFrames, s.totalBytes);
  }
  for (const s of l2.unknownUnicast.perSecond) insSecond.run(captureId, 'unknown-unicast', '', s.second, s.frames, s.bytes, s.totalFrames, s.totalBytes);
  for (const b of l2.arp.bindings) {
    insBinding.run(captureId, b.ip, b.mac, b.vlan, b.firstFrame, b.lastFrame, us(b.firstTs), us(b.lastTs), b.frames, b.requests,
      b.replies, b.gratuitous, b.ethSrcMismatch, json(b.ethSrcs), b.multicastMac ? 1 : 0, b.nlb, json(b.sampleFrames));
  }
  for (const c of l2.arp.conflicts) {
    insConflict.run(captureId, c.ip, c.vlan, json(c.macs.map((b) => b.mac)), c.interleaved ? 1 : 0, json(c.nlbMacs));
  }
  for (const g of l2.igmp.groups) {
    insGroup.run(captureId, g.group, g.reports, g.joins, g.leaves, json(g.reporters), g.firstFrame, g.lastFrame, us(g.firstTs), us(g.lastTs));
  }
  const { bindings: _b, conflicts: _c, ...arpCounts } = l2.arp;
  const { groups: _g, ...igmpCounts } = l2.igmp;
  insSummary.run(captureId, l2.ethernetFrames, l2.ethernetBytes, l2.unicastFrames, l2.unicastBytes, l2.sourceMacs,
    l2.twoWayStations, l2.answeredUnknownDestinations,
    json(l2.heartbeats), json(arpCounts), json(igmpCounts), json(floodSummary(l2.unknownUnicast)),
    json(l2.unknownDestinations), json(l2.clusterLikeMacs), json(l2.limits));
}
