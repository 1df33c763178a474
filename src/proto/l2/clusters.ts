/**
 * NLB cluster inference at the end of a capture, from heartbeats, ARP, destination MACs, masked
 * source MACs and IGMP joins together (FACTS §1.1–§1.6). A cluster-shaped MAC alone is not
 * enough: 01-00-5E-7F-x-y is the MAC of every 239.255.x.y group (SSDP's 239.255.255.250 is
 * 01-00-5E-7F-FF-FA), and 02-04-96 is an ExtremeNetworks prefix that looks like a masked source.
 * A cluster is confirmed by a heartbeat naming its IP, an ARP binding of the IP to its cluster
 * MAC, or a frame to the cluster MAC whose IPv4 destination is the IP the MAC encodes.
 *
 * Mode: what ARP resolves the VIP to is decisive (that is what routers and clients use), then the
 * MAC the traffic is addressed to, then where heartbeats go (broadcast in unicast mode).
 */
import { BROADCAST_MAC, classifyClusterMac, clusterMacFor, igmpGroupFor, macToString, parseMac, parseMaskedSourceMac, type NlbMode } from './cluster-mac.js';
import { DST_NLB_IGMP, DST_NLB_MULTICAST, DST_NLB_UNICAST, isUnicastIpv4, type DestinationTally, type FloodMeter, type SourceStation } from './flood-meter.js';
import { counted, floodFact } from './flood-facts.js';
import { maskedMacText, TOLERANCE_PERIODS, type ClusterHeartbeats } from './heartbeats.js';
import type { ArpBindingFact, ClusterLikeMacFact, IgmpGroupFact, NlbClusterFact, NlbHostFact } from './facts.js';

export interface InferenceInput {
  heartbeats: Map<string, ClusterHeartbeats>;
  /** Marked in place: `nlb` is set on bindings that belong to a cluster. */
  bindings: ArpBindingFact[];
  igmpGroups: IgmpGroupFact[];
  meter: FloodMeter;
}

export interface InferenceResult {
  clusters: NlbClusterFact[];
  clusterLikeMacs: ClusterLikeMacFact[];
  /** Tallies that belong to a cluster (the rest may be unknown unicast). */
  claimed: Set<DestinationTally>;
}

/** Higher wins when deciding the mode. */
const RANK_HEARTBEAT = 1, RANK_TRAFFIC = 2, RANK_ARP = 3;

interface ModeVote { rank: number; mode: NlbMode; text: string }

interface Candidate {
  clusterIp: string;
  confirmedBy: Set<string>;
  votes: ModeVote[];
  hb: ClusterHeartbeats | null;
  arp: ArpBindingFact[];
  tallies: DestinationTally[];
}

const SHAPE_MODE: Record<number, NlbMode> = { [DST_NLB_UNICAST]: 'unicast', [DST_NLB_MULTICAST]: 'multicast', [DST_NLB_IGMP]: 'igmp' };

export function inferClusters(input: InferenceInput): InferenceResult {
  const cands = new Map<string, Candidate>();
  const cand = (ip: string): Candidate => {
    let c = cands.get(ip);
    if (c === undefined) {
      c = { clusterIp: ip, confirmedBy: new Set(), votes: [], hb: null, arp: [], tallies: [] };
      cands.set(ip, c);
    }
    return c;
  };

  for (const [ip, hb] of input.heartbeats) {
    const c = cand(ip);
    c.hb = hb;
    c.confirmedBy.add('heartbeat');
    for (const host of hb.hosts) {
      for (const dst of host.dstMacs) {
        const mac = parseMac(dst);
        if (mac === null) continue;
        const mode: NlbMode | null = mac === BROADCAST_MAC ? 'unicast' : classifyClusterMac(mac)?.mode ?? null;
        if (mode !== null) c.votes.push({ rank: RANK_HEARTBEAT, mode, text: `heartbeats to ${dst} (${mode} mode)` });
      }
    }
  }

  // ARP for the VIP: the binding itself tells the mode.
  const nicBindings: Array<{ b: ArpBindingFact; guess: string; mode: NlbMode }> = [];
  for (const b of input.bindings) {
    const mac = parseMac(b.mac);
    const cls = mac === null ? null : classifyClusterMac(mac);
    if (cls === null || !isUnicastIpv4(b.ip)) continue;
    const matches = cls.mode === 'igmp' ? lastTwoOctets(b.ip) === lastTwoOctets(cls.igmpGroup ?? '') : cls.clusterIpGuess === b.ip;
    if (matches) {
      const c = cand(b.ip);
      b.nlb = 'cluster-mac';
      c.arp.push(b);
      c.confirmedBy.add('arp');
      c.votes.push({ rank: RANK_ARP, mode: cls.mode, text: `ARP binds ${b.ip} to ${b.mac} (${cls.mode} mode)` });
    } else if (cls.mode !== 'igmp') {
      nicBindings.push({ b, guess: cls.clusterIpGuess, mode: cls.mode });
    }
  }
  // A dedicated IP resolving to 02-BF-<VIP> only happens on an NLB unicast-mode NIC.
  for (const { b, guess, mode } of nicBindings) {
    const c = cand(guess);
    b.nlb = 'cluster-nic';
    c.arp.push(b);
    c.confirmedBy.add('arp');
    c.votes.push({ rank: RANK_ARP, mode, text: `ARP binds host address ${b.ip} to the cluster MAC ${b.mac} (${mode} mode)` });
  }

  const masked = maskedStations(input.meter);
  const clusterLikeMacs: ClusterLikeMacFact[] = [];
  const claimed = new Set<DestinationTally>();
  const shaped = [...input.meter.tallies.values()].filter((t) => t.shape !== 0 && t.frames > 0);
  // 02-BF / 03-BF: the MAC carries the whole IP.
  for (const t of shaped.filter((x) => x.shape !== DST_NLB_IGMP)) {
    const mode = SHAPE_MODE[t.shape];
    const guess = classifyClusterMac(t.mac)!.clusterIpGuess;
    const byDestination = t.dstIps.has(guess);
    if (cands.has(guess) || byDestination || masked.has(guess)) {
      const c = cand(guess);
      c.tallies.push(t);
      claimed.add(t);
      if (byDestination) c.confirmedBy.add('ip-destination');
      c.votes.push({ rank: RANK_TRAFFIC, mode, text: `${t.frames} frames to ${macToString(t.mac)} (${mode} mode)` });
    } else {
      clusterLikeMacs.push(likeMac(t, mode, `no heartbeat, ARP binding or IPv4 destination confirms ${guess}`));
    }
  }
  // 01-00-5E-7F-c-d: only a unicast IPv4 destination ending in c.d (or a known cluster) makes it NLB.
  for (const t of shaped.filter((x) => x.shape === DST_NLB_IGMP)) {
    const cd = lastTwoOctets(classifyClusterMac(t.mac)!.igmpGroup ?? '');
    const viaTraffic = [...t.dstIps].filter(([ip]) => isUnicastIpv4(ip) && lastTwoOctets(ip) === cd).sort((a, b) => b[1] - a[1])[0]?.[0];
    const known = [...cands.keys()].find((ip) => lastTwoOctets(ip) === cd && cands.get(ip)!.votes.some((v) => v.mode === 'igmp'));
    const ip = viaTraffic ?? known;
    if (ip === undefined) {
      const why = t.unicastIpFrames === 0
        ? 'only group-addressed IPv4 goes to it (an ordinary 239.255.x.y multicast group such as SSDP, not an NLB cluster)'
        : `no unicast IPv4 destination ending in .${cd} and no heartbeat or ARP confirms a cluster`;
      clusterLikeMacs.push(likeMac(t, 'igmp', why));
      continue;
    }
    const c = cand(ip);
    c.tallies.push(t);
    claimed.add(t);
    if (viaTraffic !== undefined) c.confirmedBy.add('ip-destination');
    c.votes.push({ rank: RANK_TRAFFIC, mode: 'igmp', text: `${t.frames} frames to ${macToString(t.mac)} carrying unicast IP ${ip} (igmp mode)` });
  }

  const clusters: NlbClusterFact[] = [];
  for (const c of cands.values()) clusters.push(clusterFact(c, input, masked));
  clusters.sort((a, b) => a.firstFrame - b.firstFrame || a.clusterIp.localeCompare(b.clusterIp));
  clusterLikeMacs.sort((a, b) => a.firstFrame - b.firstFrame);
  return { clusters, clusterLikeMacs, claimed };
}

function clusterFact(c: Candidate, input: InferenceInput, masked: Map<string, SourceStation[]>): NlbClusterFact {
  const best = c.votes.reduce<ModeVote | null>((a, v) => (a === null || v.rank > a.rank ? v : a), null);
  const mode: NlbMode = best?.mode ?? 'unicast';
  const clusterMac = clusterMacFor(c.clusterIp, mode);
  const meter = input.meter;
  const hosts: NlbHostFact[] = (c.hb?.hosts ?? []).map((h) => ({ ...h }));
  const maskedHere = masked.get(c.clusterIp) ?? [];
  if (maskedHere.length > 0) c.confirmedBy.add('masked-source');
  for (const st of maskedHere) {
    const priority = parseMaskedSourceMac(st.mac)!.priority;
    const matching = hosts.filter((h) => h.priority === priority);
    for (const h of matching) h.maskedFrames = st.frames;
    if (matching.length === 0) hosts.push(maskedOnlyHost(c.clusterIp, priority, st));
  }
  hosts.sort((a, b) => a.priority - b.priority);

  const group = mode === 'igmp' ? igmpGroupFor(c.clusterIp) : null;
  const igmp = group === null ? undefined : input.igmpGroups.find((g) => g.group === group);
  if (igmp !== undefined && igmp.joins > 0) c.confirmedBy.add('igmp-join');

  // MACs a cluster host sends from: seeing them send unicast means a host (or its peer) is here.
  const hostMacs = new Set<number>([clusterMac, ...maskedHere.map((s) => s.mac)]);
  for (const h of hosts) for (const m of h.srcMacs) hostMacs.add(parseMac(m)!);
  const dedicated = new Set(hosts.map((h) => h.hostIp).filter((ip): ip is string => ip !== null));
  for (const b of input.bindings) {
    if (!dedicated.has(b.ip)) continue;
    hostMacs.add(parseMac(b.mac)!);
    for (const e of b.ethSrcs) hostMacs.add(parseMac(e)!);
  }
  let memberEvidenceFrames = 0;
  const memberSample: number[] = [];
  for (const mac of hostMacs) {
    const st = meter.station(mac);
    if (st === undefined) continue;
    memberEvidenceFrames += st.unicastFrames;
    memberSample.push(...st.firstUnicastFrames);
  }

  const virtualIps = new Map<string, number>();
  const clientMacs = new Map<string, number>();
  const clientIps = new Map<string, number>();
  for (const t of c.tallies) {
    for (const [ip, n] of t.dstIps) virtualIps.set(ip, (virtualIps.get(ip) ?? 0) + n);
    for (const [m, n] of t.srcMacs) clientMacs.set(macToString(m), (clientMacs.get(macToString(m)) ?? 0) + n);
    for (const [ip, n] of t.srcIps) clientIps.set(ip, (clientIps.get(ip) ?? 0) + n);
  }
  const traffic = floodFact(c.tallies, meter, mode === 'unicast');
  const hb = c.hb;
  const firsts = [hb?.firstFrame, traffic.firstFrame, ...c.arp.map((b) => b.firstFrame), ...hosts.map((h) => h.firstFrame)].filter((x): x is number => typeof x === 'number' && x > 0);
  const lasts = [hb?.lastFrame, traffic.lastFrame, ...c.arp.map((b) => b.lastFrame)].filter((x): x is number => typeof x === 'number' && x > 0);
  const firstTss = [hb?.firstTs, traffic.firstTs, ...c.arp.map((b) => b.firstTs)].filter((x): x is number => typeof x === 'number');
  const lastTss = [hb?.lastTs, ...c.tallies.map((t) => t.lastTs), ...c.arp.map((b) => b.lastTs)].filter((x): x is number => typeof x === 'number');
  const vlans = new Set<number>();
  for (const h of hosts) for (const v of h.vlans) vlans.add(v);
  const priorities = new Map<number, Set<string>>();
  for (const h of hosts) if (h.hostIp !== null) priorities.set(h.priority, (priorities.get(h.priority) ?? new Set()).add(h.hostIp));
  return {
    clusterIp: c.clusterIp, mode, clusterMac: macToString(clusterMac),
    confirmedBy: [...c.confirmedBy].sort(),
    modeEvidence: [...new Set(c.votes.sort((a, b) => b.rank - a.rank).map((v) => v.text))].slice(0, 20),
    igmpGroup: group, hosts,
    duplicatePriorities: [...priorities].filter(([, ips]) => ips.size > 1).map(([p]) => p),
    heartbeatFrames: hb?.heartbeatFrames ?? 0,
    firstFrame: firsts.length ? Math.min(...firsts) : 0,
    lastFrame: lasts.length ? Math.max(...lasts) : 0,
    firstTs: firstTss.length ? Math.min(...firstTss) : 0,
    lastTs: lastTss.length ? Math.max(...lastTss) : 0,
    periodSeconds: hb?.periodSeconds ?? 1, periodSource: hb?.periodSource ?? 'default', tolerancePeriods: TOLERANCE_PERIODS,
    virtualIps: counted(virtualIps), clientMacs: counted(clientMacs), clientIps: counted(clientIps),
    traffic,
    memberEvidenceFrames, memberEvidenceSample: [...new Set(memberSample)].sort((a, b) => a - b).slice(0, 20),
    arpFrames: c.arp.reduce((n, b) => n + b.frames, 0),
    arpMacs: [...new Set(c.arp.map((b) => b.mac))],
    arpEthSrcMismatchFrames: c.arp.reduce((n, b) => n + b.ethSrcMismatch, 0),
    igmpJoins: igmp?.joins ?? 0,
    igmpReporters: igmp?.reporters ?? [],
    clusterMacAsSourceFrames: meter.station(clusterMac)?.frames ?? 0,
    vlans: [...vlans].sort((a, b) => a - b),
  };
}

function maskedOnlyHost(clusterIp: string, priority: number, st: SourceStation): NlbHostFact {
  return {
    clusterIp, priority, hostIp: null, hostName: null, addresses: [], source: 'masked-source', myHostId: null, defaultHostId: null,
    version: null, versionRaw: null, heartbeats: 0, extendedHeartbeats: 0, truncatedHeartbeats: 0,
    firstFrame: st.firstFrame, lastFrame: st.firstFrame, firstTs: 0, lastTs: 0, convergence: [], portRules: null,
    uniqueHostCode: null, packetsHandledFirst: null, packetsHandledLast: null, teaming: null,
    srcMacs: [macToString(st.mac)], dstMacs: [], maskedMac: maskedMacText(clusterIp, priority), maskedFrames: st.frames,
    vlans: [], timeline: [], gaps: [], stopped: null,
  };
}

/** Source MACs shaped 02-<1..32>-a.b.c.d, by the IP they embed. */
function maskedStations(meter: FloodMeter): Map<string, SourceStation[]> {
  const out = new Map<string, SourceStation[]>();
  for (const st of meter.stations((mac) => Math.floor(mac / 0x100_0000_0000) === 0x02)) {
    const m = parseMaskedSourceMac(st.mac);
    if (m === null) continue;
    const list = out.get(m.ip) ?? [];
    list.push(st);
    out.set(m.ip, list);
  }
  return out;
}

function likeMac(t: DestinationTally, mode: NlbMode, reason: string): ClusterLikeMacFact {
  return { mac: macToString(t.mac), mode, frames: t.frames, firstFrame: t.firstFrame, reason, ipDestinations: counted(t.dstIps) };
}

function lastTwoOctets(ip: string): string {
  return ip.split('.').slice(2).join('.');
}
