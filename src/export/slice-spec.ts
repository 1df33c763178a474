/**
 * Which frames a pcap slice keeps for some findings: their evidence frames, every frame of the
 * flows they concern (an FTP finding's control connection and all its data connection
 * attempts; a TLS finding's connection) with the ICMP errors that quoted those flows, and for
 * layer-2 findings the cluster's or address's own traffic (NLB heartbeats, frames to or from
 * the cluster MAC and the hosts' masked MACs, ARP for the cluster or host addresses, IGMP for
 * the cluster group; for unknown-unicast flooding the flooded destinations' frames plus a few
 * two-way conversations to contrast them with), so that analysing the slice diagnoses the same
 * problem again.
 */
import type { Db } from '../store/db.js';
import type { ExportFinding } from './timeline.js';
import { FlowIndex, type FlowView } from './flows.js';
import { dataFlows, readFtpSessions } from './ftp-read.js';
import { arr, obj, str } from './sqlite.js';

export interface L2Selector {
  /** EtherTypes kept whole (NLB heartbeats). */
  etherTypes: Set<number>;
  /** Lower-case colon MACs: frames from or to them are kept. */
  macs: Set<string>;
  /** ARP frames naming one of these IPv4 addresses as sender or target. */
  arpIps: Set<string>;
  /** IP destinations kept (the IGMP-mode cluster group). */
  ipDsts: Set<string>;
}

export interface SliceSpec {
  frames: Set<number>;
  flows: FlowView[];
  l2: L2Selector | null;
}

/** Two-way conversations kept as context for unknown-unicast flooding. */
const TWO_WAY_CONTEXT_FLOWS = 3;

/** NLB heartbeat EtherTypes: 0x886F, and 0xBF01 of older Windows versions. */
const NLB_ETHERTYPES = [0x886f, 0xbf01];

function addL2(spec: SliceSpec, f: ExportFinding): void {
  const d = f.details ?? {};
  const sel = spec.l2 ??= { etherTypes: new Set(), macs: new Set(), arpIps: new Set(), ipDsts: new Set() };
  const host = f.subject?.host;
  if (f.code.startsWith('NLB_')) {
    for (const t of NLB_ETHERTYPES) sel.etherTypes.add(t);
    const mac = str(d.clusterMac);
    if (mac) sel.macs.add(mac.toLowerCase());
    for (const h of arr(d.hosts).map(obj)) {
      const masked = str(h?.maskedMac);
      if (masked) sel.macs.add(masked.toLowerCase());
      const ip = str(h?.ip);
      if (ip) sel.arpIps.add(ip);
    }
    const cluster = str(d.clusterIp) ?? host;
    if (cluster) sel.arpIps.add(cluster);
    const group = str(d.igmpGroup);
    if (group) sel.ipDsts.add(group);
  } else if (f.code === 'ARP_DUPLICATE_IP') {
    const ip = str(d.ip) ?? host;
    if (ip) sel.arpIps.add(ip);
  } else if (f.code === 'L2_UNKNOWN_UNICAST_FLOODING') {
    for (const x of arr(d.destinations).map(obj)) {
      const mac = str(x?.mac);
      if (mac) sel.macs.add(mac.toLowerCase());
    }
  }
}

export function sliceSpec(db: Db, captureId: number, findings: ExportFinding[]): SliceSpec {
  const spec: SliceSpec = { frames: new Set(), flows: [], l2: null };
  const flows = new FlowIndex(db, captureId);
  const sessions = new Map(readFtpSessions(db, captureId).map((s) => [s.id, s]));
  const wanted = new Set<number>();
  for (const f of findings) {
    for (const n of f.frames) spec.frames.add(n);
    for (const key of f.keys) {
      const [kind, value] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
      if (kind === 'session') {
        const s = sessions.get(Number(value));
        wanted.add(Number(value));
        if (s) for (const d of dataFlows(s)) wanted.add(d);
      } else if (kind === 'flow') wanted.add(Number(value));
    }
    if (f.code.startsWith('NLB_') || f.code.startsWith('ARP_') || f.code.startsWith('L2_')) addL2(spec, f);
  }
  if (findings.some((f) => f.code === 'L2_UNKNOWN_UNICAST_FLOODING')) {
    // The finding contrasts the flood with stations that talk both ways on this port; without
    // a few such conversations the slice would look like a one-way capture, which the rule
    // (rightly) refuses to judge.
    const twoWay = db.prepare(`SELECT idx FROM flows WHERE capture_id = ? AND packets_fwd > 0 AND packets_rev > 0 ORDER BY idx LIMIT ?`)
      .all(captureId, TWO_WAY_CONTEXT_FLOWS) as Array<{ idx: number }>;
    for (const r of twoWay) wanted.add(r.idx);
  }
  for (const idx of [...wanted].sort((a, b) => a - b)) {
    const flow = flows.get(idx);
    if (!flow) continue;
    spec.flows.push(flow);
    for (const n of flow.icmpFrames) spec.frames.add(n);
  }
  return spec;
}
