/**
 * NLB heartbeats per host over time. Hosts send one membership heartbeat per period (1 s by
 * default, AliveMsgPeriod) and the others declare a host dead after 5 missed periods
 * (AliveMsgTolerance), then reconverge (FACTS §1.4). A host is (cluster IP, unique host id =
 * priority, dedicated IP); heartbeats cut by the snaplen before their header are attributed
 * through the masked source MAC 02-<priority>-<cluster IP> when it has that shape.
 */
import type { Packet } from '../../decode/packet.js';
import { decodeNlbHeartbeat, type NlbTeaming } from './nlb.js';
import { macToString, maskedSourceMac, parseMaskedSourceMac } from './cluster-mac.js';
import type { ConvergenceChange, HeartbeatGap, HeartbeatProblemFact, HeartbeatRun, NlbHostFact } from './facts.js';

export const DEFAULT_PERIOD_US = 1_000_000;
export const TOLERANCE_PERIODS = 5;
/** An interval this many periods long means at least one heartbeat went missing. */
const GAP_FACTOR = 1.5;
const MAX_HOSTS = 1_024;
const MAX_GAPS = 5_000;
const MAX_INTERVALS = 2_000;
const MAX_CONVERGENCE = 200;
const MAX_MACS = 8;
const MAX_SAMPLES = 20;

interface RawGap { afterFrame: number; afterTs: number; beforeFrame: number; beforeTs: number; index: number }

class HostState {
  hostName: string | null = null;
  addresses: string[] = [];
  myHostId: number | null = null;
  defaultHostId: number | null = null;
  version: string | null = null;
  versionRaw: number | null = null;
  portRules: number | null = null;
  uniqueHostCode: number | null = null;
  packetsHandledFirst: number | null = null;
  packetsHandledLast: number | null = null;
  teaming: NlbTeaming | null = null;
  convergence: ConvergenceChange[] = [];
  heartbeats = 0;
  extended = 0;
  truncated = 0;
  firstFrame = 0;
  lastFrame = 0;
  firstTs = 0;
  lastTs = 0;
  /** Timeline: membership heartbeats only (extended ones are a different message stream). */
  beats = 0;
  beatFirstFrame = 0;
  beatFirstTs = 0;
  beatLastFrame = 0;
  beatLastTs = 0;
  readonly gaps: RawGap[] = [];
  readonly intervals: number[] = [];
  readonly srcMacs = new Set<number>();
  readonly dstMacs = new Set<number>();
  readonly vlans = new Set<number>();

  constructor(readonly clusterIp: string, readonly priority: number, public hostIp: string | null) {}

  seen(pkt: Packet): void {
    const f = pkt.frame;
    if (this.heartbeats + this.extended + this.truncated === 0) { this.firstFrame = f.no; this.firstTs = f.ts; }
    this.lastFrame = f.no;
    this.lastTs = f.ts;
    const link = pkt.link;
    if (link === null) return;
    if (this.srcMacs.size < MAX_MACS && link.src >= 0) this.srcMacs.add(link.src);
    if (this.dstMacs.size < MAX_MACS && link.dst >= 0) this.dstMacs.add(link.dst);
    if (link.vlans !== null) for (const v of link.vlans) this.vlans.add(v);
  }

  beat(no: number, ts: number, limits: Set<string>): void {
    if (this.beats > 0) {
      const interval = ts - this.beatLastTs;
      if (this.intervals.length < MAX_INTERVALS && interval > 0) this.intervals.push(interval);
      if (interval > GAP_FACTOR * DEFAULT_PERIOD_US) {
        if (this.gaps.length < MAX_GAPS) this.gaps.push({ afterFrame: this.beatLastFrame, afterTs: this.beatLastTs, beforeFrame: no, beforeTs: ts, index: this.beats });
        else limits.add(`more than ${MAX_GAPS} heartbeat gaps for one host: later ones are not listed`);
      }
    } else {
      this.beatFirstFrame = no;
      this.beatFirstTs = ts;
    }
    this.beats++;
    this.beatLastFrame = no;
    this.beatLastTs = ts;
  }
}

export interface ClusterHeartbeats {
  clusterIp: string;
  hosts: NlbHostFact[];
  heartbeatFrames: number;
  periodSeconds: number;
  periodSource: 'default' | 'observed';
  firstFrame: number;
  lastFrame: number;
  firstTs: number;
  lastTs: number;
}

export class HeartbeatTracker {
  frames = 0;
  membership = 0;
  extended = 0;
  other = 0;
  malformed = 0;
  foreign = 0;
  readonly malformedSample: HeartbeatProblemFact[] = [];
  readonly foreignSample: number[] = [];
  readonly limits = new Set<string>();
  private readonly hosts = new Map<string, HostState>();

  constructor(private readonly warn: (offset: number, message: string, frame: number) => void) {}

  observe(pkt: Packet): void {
    const link = pkt.link;
    if (link === null) return;
    const f = pkt.frame;
    this.frames++;
    const hb = decodeNlbHeartbeat(f.data.subarray(link.offset));
    if (hb.kind === 'malformed') {
      if (hb.signature === undefined) {
        this.foreign++;
        if (this.foreignSample.length < MAX_SAMPLES) this.foreignSample.push(f.no);
        return;
      }
      this.malformed++;
      if (this.malformed === 1) this.warn(f.offset, `frame ${f.no}: NLB heartbeat cut short at payload byte ${hb.offset}: ${hb.reason}`, f.no);
      if (this.malformedSample.length < MAX_SAMPLES) this.malformedSample.push({ frame: f.no, offset: hb.offset, reason: hb.reason });
      // Still a sign of life: the masked source MAC names the host (FACTS §1.2).
      const masked = parseMaskedSourceMac(link.src);
      if (masked === null) return;
      const h = this.host(masked.ip, masked.priority, null);
      if (h === null) return;
      h.seen(pkt);
      h.truncated++;
      h.beat(f.no, f.ts, this.limits);
      return;
    }
    if (hb.kind === 'other') { this.other++; return; }
    const h = this.host(hb.clusterIp, hb.uniqueHostId, hb.hostIp);
    if (h === null) return;
    h.seen(pkt);
    h.version = hb.version;
    h.versionRaw = hb.versionRaw;
    if (hb.kind === 'extended') {
      this.extended++;
      h.extended++;
      if (hb.hostName !== undefined) h.hostName = hb.hostName;
      for (const a of hb.addresses) if (!h.addresses.includes(a) && h.addresses.length < MAX_MACS) h.addresses.push(a);
      return;
    }
    this.membership++;
    if (hb.truncated) {
      h.truncated++;
      if (this.malformedSample.length < MAX_SAMPLES) this.malformedSample.push({ frame: f.no, offset: f.data.length - link.offset, reason: 'membership heartbeat body cut short (snaplen)' });
    } else {
      h.heartbeats++;
    }
    h.beat(f.no, f.ts, this.limits);
    if (hb.myHostId !== undefined) h.myHostId = hb.myHostId;
    if (hb.defaultHostId !== undefined) h.defaultHostId = hb.defaultHostId;
    if (hb.numberOfPortRules !== undefined) h.portRules = hb.numberOfPortRules;
    if (hb.uniqueHostCode !== undefined) h.uniqueHostCode = hb.uniqueHostCode;
    if (hb.packetsHandled !== undefined) {
      h.packetsHandledFirst ??= hb.packetsHandled;
      h.packetsHandledLast = hb.packetsHandled;
    }
    if (hb.teaming !== undefined) h.teaming = hb.teaming;
    if (hb.convergenceState !== undefined) {
      const last = h.convergence[h.convergence.length - 1];
      if ((last === undefined || last.state !== hb.convergenceState) && h.convergence.length < MAX_CONVERGENCE) {
        h.convergence.push({ frame: f.no, ts: f.ts, state: hb.convergenceState });
      }
    }
  }

  /** Hosts per cluster, gaps judged against the cluster's period; `endTs` is the capture's last timestamp. */
  finish(endTs: number | null): Map<string, ClusterHeartbeats> {
    this.mergeAnonymous();
    const byCluster = new Map<string, HostState[]>();
    for (const h of this.hosts.values()) {
      const list = byCluster.get(h.clusterIp) ?? [];
      list.push(h);
      byCluster.set(h.clusterIp, list);
    }
    const out = new Map<string, ClusterHeartbeats>();
    for (const [clusterIp, states] of byCluster) {
      const { periodUs, source } = clusterPeriod(states);
      const hosts = states.map((h) => hostFact(h, periodUs, endTs)).sort((a, b) => a.priority - b.priority || (a.hostIp ?? '').localeCompare(b.hostIp ?? ''));
      out.set(clusterIp, {
        clusterIp, hosts, periodSeconds: periodUs / 1e6, periodSource: source,
        heartbeatFrames: states.reduce((n, h) => n + h.heartbeats + h.extended + h.truncated, 0),
        firstFrame: Math.min(...states.map((h) => h.firstFrame)),
        lastFrame: Math.max(...states.map((h) => h.lastFrame)),
        firstTs: Math.min(...states.map((h) => h.firstTs)),
        lastTs: Math.max(...states.map((h) => h.lastTs)),
      });
    }
    return out;
  }

  private host(clusterIp: string, priority: number, hostIp: string | null): HostState | null {
    const key = `${clusterIp}|${priority}|${hostIp ?? ''}`;
    let h = this.hosts.get(key);
    if (h === undefined) {
      if (this.hosts.size >= MAX_HOSTS) { this.limits.add(`more than ${MAX_HOSTS} NLB hosts: later ones are not tracked`); return null; }
      h = new HostState(clusterIp, priority, hostIp);
      this.hosts.set(key, h);
    }
    return h;
  }

  /**
   * Truncated heartbeats known only by masked MAC join the one full host with that priority;
   * with none (or several: a duplicate priority) they stay a host of their own.
   */
  private mergeAnonymous(): void {
    for (const [key, anon] of this.hosts) {
      if (anon.hostIp !== null) continue;
      const named = [...this.hosts.values()].filter((h) => h.hostIp !== null && h.clusterIp === anon.clusterIp && h.priority === anon.priority);
      if (named.length !== 1) continue;
      const h = named[0];
      // Replay the anonymous beats' effect coarsely: counts and bounds (their gaps are lost).
      h.truncated += anon.truncated;
      h.beats += anon.beats;
      if (anon.firstTs < h.firstTs) { h.firstTs = anon.firstTs; h.firstFrame = anon.firstFrame; }
      if (anon.lastTs > h.lastTs) { h.lastTs = anon.lastTs; h.lastFrame = anon.lastFrame; }
      if (anon.beatLastTs > h.beatLastTs) { h.beatLastTs = anon.beatLastTs; h.beatLastFrame = anon.beatLastFrame; }
      for (const m of anon.srcMacs) h.srcMacs.add(m);
      for (const m of anon.dstMacs) h.dstMacs.add(m);
      this.hosts.delete(key);
    }
  }
}

/**
 * 1 s unless the hosts' median interval says the period was configured longer; convergence
 * halves the period, which keeps the median at or below 1 s and so the default.
 */
function clusterPeriod(states: HostState[]): { periodUs: number; source: 'default' | 'observed' } {
  const all = states.flatMap((h) => h.intervals).filter((i) => i < 60e6).sort((a, b) => a - b);
  if (all.length < 3) return { periodUs: DEFAULT_PERIOD_US, source: 'default' };
  const median = all[Math.floor(all.length / 2)];
  if (median < GAP_FACTOR * DEFAULT_PERIOD_US) return { periodUs: DEFAULT_PERIOD_US, source: 'default' };
  return { periodUs: Math.round(median / 1e5) * 1e5, source: 'observed' };
}

function hostFact(h: HostState, periodUs: number, endTs: number | null): NlbHostFact {
  const rawGaps = h.gaps.filter((g) => g.beforeTs - g.afterTs > GAP_FACTOR * periodUs);
  const gaps: HeartbeatGap[] = rawGaps.map((g) => {
    const us = g.beforeTs - g.afterTs;
    return {
      afterFrame: g.afterFrame, beforeFrame: g.beforeFrame, fromTs: g.afterTs, toTs: g.beforeTs,
      seconds: us / 1e6, missed: Math.max(0, Math.round(us / periodUs) - 1), beyondTolerance: us > TOLERANCE_PERIODS * periodUs,
    };
  });
  const timeline: HeartbeatRun[] = [];
  if (h.beats > 0) {
    let start = { frame: h.beatFirstFrame, ts: h.beatFirstTs, index: 0 };
    for (const g of rawGaps) {
      timeline.push({ firstFrame: start.frame, firstTs: start.ts, lastFrame: g.afterFrame, lastTs: g.afterTs, heartbeats: g.index - start.index });
      start = { frame: g.beforeFrame, ts: g.beforeTs, index: g.index };
    }
    timeline.push({ firstFrame: start.frame, firstTs: start.ts, lastFrame: h.beatLastFrame, lastTs: h.beatLastTs, heartbeats: h.beats - start.index });
  }
  const lastAlive = h.beats > 0 ? h.beatLastTs : h.lastTs;
  const silentUs = endTs === null ? 0 : endTs - lastAlive;
  return {
    clusterIp: h.clusterIp, priority: h.priority, hostIp: h.hostIp, hostName: h.hostName, addresses: h.addresses,
    source: 'heartbeat', myHostId: h.myHostId, defaultHostId: h.defaultHostId, version: h.version, versionRaw: h.versionRaw,
    heartbeats: h.heartbeats, extendedHeartbeats: h.extended, truncatedHeartbeats: h.truncated,
    firstFrame: h.firstFrame, lastFrame: h.lastFrame, firstTs: h.firstTs, lastTs: h.lastTs,
    convergence: h.convergence, portRules: h.portRules, uniqueHostCode: h.uniqueHostCode,
    packetsHandledFirst: h.packetsHandledFirst, packetsHandledLast: h.packetsHandledLast, teaming: h.teaming,
    srcMacs: [...h.srcMacs].map(macToString), dstMacs: [...h.dstMacs].map(macToString),
    maskedMac: maskedMacText(h.clusterIp, h.priority), maskedFrames: 0,
    vlans: [...h.vlans].sort((a, b) => a - b),
    timeline, gaps,
    stopped: h.beats > 0 && endTs !== null && silentUs > TOLERANCE_PERIODS * periodUs
      ? { lastTs: lastAlive, silentSeconds: silentUs / 1e6, captureEndTs: endTs } : null,
  };
}

/** 02-<priority>-<cluster IP>; '' when the priority is outside NLB's 1..32. */
export function maskedMacText(clusterIp: string, priority: number): string {
  try {
    return macToString(maskedSourceMac(clusterIp, priority));
  } catch {
    return '';
  }
}
