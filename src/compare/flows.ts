/**
 * Which connection seen inside is which connection seen outside. Control connections come from
 * the paired FTP sessions; their endpoints teach the address translation (inside address ↔
 * outside address). Every other TCP/UDP flow then pairs with the flow of the other capture that
 * starts at the same moment (after the clock offset) and whose endpoints agree: identical or
 * translated as learned, same port — a data connection of a paired announcement counts extra.
 */
import type { ChannelPair } from './channels.js';
import type { FlowRecord } from './model.js';
import type { SessionPair } from './pairing.js';

export type FlowPairBasis = 'ftp-control' | 'ftp-data' | 'address-mapping' | 'endpoint-and-timing';

export interface FlowPair {
  inside: FlowRecord;
  outside: FlowRecord;
  /** The outside flow's initiator is the inside flow's responder (a capture began mid-connection). */
  reversed: boolean;
  basis: FlowPairBasis;
  role: 'control' | 'data' | 'other';
  /** The inside session (control flow index) the flow belongs to, if any. */
  session: number | null;
}

/** The outside flow's endpoints and packet counts in the inside flow's orientation. */
export function orientedOutside(p: FlowPair): { src: string; srcPort: number; dst: string; dstPort: number; packets: [number, number] } {
  const o = p.outside;
  return p.reversed
    ? { src: o.dst, srcPort: o.dstPort, dst: o.src, dstPort: o.srcPort, packets: [o.packets[1], o.packets[0]] }
    : { src: o.src, srcPort: o.srcPort, dst: o.dst, dstPort: o.dstPort, packets: [o.packets[0], o.packets[1]] };
}

type AddressMap = Map<string, Set<string>>;

function learn(map: AddressMap, inside: string, outside: string): void {
  const s = map.get(inside) ?? new Set<string>();
  s.add(outside);
  map.set(inside, s);
}

/** 3: same (or translated as learned) address and same port; 1: one of the two; 0: neither. */
function endpointScore(map: AddressMap, ip: string, port: number, oip: string, oport: number): number {
  const ipAgrees = ip === oip || (map.get(ip)?.has(oip) ?? false);
  if (ipAgrees && port === oport) return 3;
  return ipAgrees || port === oport ? 1 : 0;
}

/** One endpoint agreeing fully and the other by port at least (or a shared announcement). */
const MIN_FLOW_SCORE = 4;

interface Candidate { inside: FlowRecord; outside: FlowRecord; reversed: boolean; score: number; skew: number; linked: boolean }

/** Outside flows by port (either end), sorted by start, for windowed look-ups. */
class PortIndex {
  private byPort = new Map<number, FlowRecord[]>();
  constructor(flows: FlowRecord[]) {
    for (const f of flows) {
      for (const p of new Set([f.srcPort, f.dstPort])) {
        const list = this.byPort.get(p) ?? [];
        list.push(f);
        this.byPort.set(p, list);
      }
    }
    for (const list of this.byPort.values()) list.sort((a, b) => a.firstTs - b.firstTs);
  }
  around(port: number, from: number, to: number): FlowRecord[] {
    const list = this.byPort.get(port);
    if (!list) return [];
    let lo = 0, hi = list.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (list[m].firstTs < from) lo = m + 1; else hi = m; }
    const out: FlowRecord[] = [];
    for (let i = lo; i < list.length && list[i].firstTs <= to; i++) out.push(list[i]);
    return out;
  }
}

export function pairFlows(
  insideFlows: FlowRecord[], outsideFlows: FlowRecord[], sessions: SessionPair[], channels: Map<SessionPair, ChannelPair[]>,
  offsetUs: number, windowUs: number,
): FlowPair[] {
  const inByIdx = new Map(insideFlows.map((f) => [f.index, f]));
  const outByIdx = new Map(outsideFlows.map((f) => [f.index, f]));
  const pairs: FlowPair[] = [];
  const usedIn = new Set<FlowRecord>(), usedOut = new Set<FlowRecord>();
  const map: AddressMap = new Map();
  const sessionOf = new Map<FlowRecord, number>();
  const linked = new Set<string>();

  for (const sp of sessions) {
    const fi = inByIdx.get(sp.inside.flow), fo = outByIdx.get(sp.outside.flow);
    if (!fi || !fo || usedIn.has(fi) || usedOut.has(fo)) continue;
    const inFromClient = fi.src === sp.inside.client && fi.srcPort === sp.inside.clientPort;
    const outFromClient = fo.src === sp.outside.client && fo.srcPort === sp.outside.clientPort;
    pairs.push({ inside: fi, outside: fo, reversed: inFromClient !== outFromClient, basis: 'ftp-control', role: 'control', session: sp.inside.flow });
    usedIn.add(fi);
    usedOut.add(fo);
    learn(map, sp.inside.client, sp.outside.client);
    learn(map, sp.inside.server, sp.outside.server);
    for (const cp of channels.get(sp) ?? []) {
      for (const a of cp.inside.connections) {
        const f = inByIdx.get(a);
        if (f) sessionOf.set(f, sp.inside.flow);
        for (const b of cp.outside.connections) linked.add(`${a}|${b}`);
      }
    }
  }

  const index = new PortIndex(outsideFlows.filter((f) => !usedOut.has(f)));
  const cands: Candidate[] = [];
  for (const f of insideFlows) {
    if (usedIn.has(f)) continue;
    const from = f.firstTs + offsetUs - windowUs, to = f.firstTs + offsetUs + windowUs;
    const seen = new Set<FlowRecord>();
    for (const o of [...index.around(f.srcPort, from, to), ...index.around(f.dstPort, from, to)]) {
      if (seen.has(o) || o.protocol !== f.protocol) continue;
      seen.add(o);
      const isLinked = linked.has(`${f.index}|${o.index}`);
      const bonus = isLinked ? 3 : 0;
      const straight = endpointScore(map, f.src, f.srcPort, o.src, o.srcPort) + endpointScore(map, f.dst, f.dstPort, o.dst, o.dstPort) + bonus;
      const reversed = endpointScore(map, f.src, f.srcPort, o.dst, o.dstPort) + endpointScore(map, f.dst, f.dstPort, o.src, o.srcPort) + bonus;
      const score = Math.max(straight, reversed);
      if (score < MIN_FLOW_SCORE) continue;
      cands.push({ inside: f, outside: o, reversed: reversed > straight, score, skew: Math.abs(o.firstTs - f.firstTs - offsetUs), linked: isLinked });
    }
  }
  cands.sort((a, b) => b.score - a.score || a.skew - b.skew || a.inside.index - b.inside.index || a.outside.index - b.outside.index);
  for (const c of cands) {
    if (usedIn.has(c.inside) || usedOut.has(c.outside)) continue;
    usedIn.add(c.inside);
    usedOut.add(c.outside);
    const session = sessionOf.get(c.inside) ?? null;
    const o = c.reversed ? { src: c.outside.dst, dst: c.outside.src } : { src: c.outside.src, dst: c.outside.dst };
    const mapped = (map.get(c.inside.src)?.has(o.src) ?? false) || (map.get(c.inside.dst)?.has(o.dst) ?? false);
    pairs.push({
      inside: c.inside, outside: c.outside, reversed: c.reversed,
      basis: c.linked ? 'ftp-data' : mapped && (c.inside.src !== o.src || c.inside.dst !== o.dst) ? 'address-mapping' : 'endpoint-and-timing',
      role: c.linked || session !== null ? 'data' : 'other', session,
    });
  }
  return pairs.sort((a, b) => a.inside.firstTs - b.inside.firstTs || a.inside.index - b.inside.index);
}
