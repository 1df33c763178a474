/**
 * Packets seen at one vantage point and not at the other: dropped by the router between the
 * two captures (firewall rule, no NAT rule or route for them), or missed by a capture. Each
 * connection is looked at through its pair in the other capture (per-direction packet counts,
 * and with packet detail the exact frames); a connection with no pair at all is missing as a
 * whole. Only the time both captures cover counts, and where a packet's sender sits says which:
 * seen on its sender's side and not beyond = dropped in between.
 */
import type { CaptureView, FlowRecord, Side } from './model.js';
import { otherSide } from './model.js';
import { orientedOutside, type FlowPair } from './flows.js';
import type { FlowMapping, HostSides } from './mappings.js';
import { matchPackets, type PacketDetail, type PacketRecord } from './packets.js';
import { TCP_FLAG } from '../decode/tcp.js';

export type MissingVerdict =
  /** Seen arriving on its sender's side, never leaving on the other: dropped between the captures. */
  | 'dropped-between'
  /** Seen leaving towards its receiver but never arriving from its sender: the other capture missed it, or the router sent it itself. */
  | 'not-captured-on-ingress'
  /** The sender's side is unknown. */
  | 'unknown';

export interface MissingPackets {
  seenOn: Side;
  missingOn: Side;
  /** The connection as the capture that saw the packets shows it, and its pair in the other capture. */
  flow: FlowRecord;
  counterpart: FlowRecord | null;
  /** Direction in `flow`'s orientation: 0 initiator→responder. */
  dir: 0 | 1;
  senderSide: Side | null;
  verdict: MissingVerdict;
  count: number;
  /** Frames of the missing packets in the `seenOn` capture (first 50); exact only with packet detail. */
  frames: number[];
  framesExact: boolean;
  /** The missing packets include a connection-opening SYN. */
  syn: boolean;
  firstTs: number;
  lastTs: number;
  /** Without packet detail: the connection reaches beyond the time the other capture covers. */
  partial: boolean;
  /**
   * A connection missing as a whole: how it would have looked on the other side, through the
   * address translations the paired connections showed (ports kept); null for partial losses.
   */
  expectedAs: { src: string; srcPort: number; dst: string; dstPort: number; translated: boolean } | null;
}

export const MAX_MISSING_FRAMES = 50;

export interface MissingInput {
  inside: CaptureView;
  outside: CaptureView;
  pairs: FlowPair[];
  mappings: FlowMapping[];
  hosts: HostSides;
  offsetUs: number;
  detail: { inside: PacketDetail | null; outside: PacketDetail | null };
}

/**
 * A connection seen on one side only but answered there (handshake completed, or traffic both
 * ways) did not need the other side: it ended at the router itself (management, a local
 * service) or its twin could not be recognised. Nothing in it is reported missing.
 */
export function answeredOnOneSide(f: FlowRecord): boolean {
  if (f.protocol === 6) return f.synAckSeen || (f.synFrame === null && f.packets[0] > 0 && f.packets[1] > 0);
  return f.packets[0] > 0 && f.packets[1] > 0;
}

/** Destinations that never cross a router: multicast, broadcast, link-local. */
export function localOnly(ip: string): boolean {
  if (ip.includes(':')) {
    const head = ip.toLowerCase();
    return head.startsWith('ff') || /^fe[89ab]/.test(head);
  }
  const [a, b] = ip.split('.').map(Number);
  return a >= 224 || (a === 169 && b === 254);
}

/** The span of the other capture in this capture's clock. */
function otherSpan(inp: MissingInput, seenOn: Side): [number, number] | null {
  const other = seenOn === 'inside' ? inp.outside : inp.inside;
  if (other.firstTs === null || other.lastTs === null) return null;
  // offset = outside time − inside time.
  const shift = seenOn === 'inside' ? -inp.offsetUs : inp.offsetUs;
  return [other.firstTs + shift, other.lastTs + shift];
}

function verdictFor(senderSide: Side | null, seenOn: Side): MissingVerdict {
  if (senderSide === null) return 'unknown';
  return senderSide === seenOn ? 'dropped-between' : 'not-captured-on-ingress';
}

function isSyn(p: PacketRecord): boolean {
  return (p.flags & TCP_FLAG.SYN) !== 0 && (p.flags & TCP_FLAG.ACK) === 0;
}

function fromPackets(base: Omit<MissingPackets, 'count' | 'frames' | 'framesExact' | 'syn' | 'firstTs' | 'lastTs' | 'partial' | 'expectedAs'> & { expectedAs?: MissingPackets['expectedAs'] }, pk: PacketRecord[]): MissingPackets {
  return {
    ...base, count: pk.length, frames: pk.slice(0, MAX_MISSING_FRAMES).map((p) => p.frame), framesExact: true,
    syn: pk.some(isSyn), firstTs: pk[0].ts, lastTs: pk[pk.length - 1].ts, partial: false, expectedAs: base.expectedAs ?? null,
  };
}

function inSpan(pk: PacketRecord[], span: [number, number]): PacketRecord[] {
  return pk.filter((p) => p.ts >= span[0] && p.ts <= span[1]);
}

/** Flows whose packets the report needs: unpaired ones in the common time, paired ones whose counts differ. */
export function flowsNeedingDetail(inp: Omit<MissingInput, 'detail'>): { inside: FlowRecord[]; outside: FlowRecord[] } {
  const out = { inside: [] as FlowRecord[], outside: [] as FlowRecord[] };
  const pairedIn = new Set(inp.pairs.map((p) => p.inside)), pairedOut = new Set(inp.pairs.map((p) => p.outside));
  for (const side of ['inside', 'outside'] as const) {
    const view = side === 'inside' ? inp.inside : inp.outside;
    const paired = side === 'inside' ? pairedIn : pairedOut;
    const span = otherSpan({ ...inp, detail: { inside: null, outside: null } }, side);
    for (const f of view.flows) {
      if (paired.has(f) || localOnly(f.dst) || answeredOnOneSide(f) || !span || f.lastTs < span[0] || f.firstTs > span[1]) continue;
      out[side].push(f);
    }
  }
  for (const p of inp.pairs) {
    const o = p.reversed ? [p.outside.packets[1], p.outside.packets[0]] : p.outside.packets;
    if (p.inside.packets[0] !== o[0] || p.inside.packets[1] !== o[1]) { out.inside.push(p.inside); out.outside.push(p.outside); }
  }
  return out;
}

export interface MissingReport {
  missing: MissingPackets[];
  /** Connections seen and answered on one side only (see answeredOnOneSide). */
  answered: Array<{ seenOn: Side; flow: FlowRecord }>;
}

/** Address translations the paired connections showed, per direction of travel across the router. */
function addressMaps(mappings: FlowMapping[]): Record<Side, Map<string, Set<string>>> {
  const maps: Record<Side, Map<string, Set<string>>> = { inside: new Map(), outside: new Map() };
  const add = (from: Side, a: string, b: string): void => {
    const set = maps[from].get(a) ?? new Set<string>();
    set.add(b);
    maps[from].set(a, set);
  };
  for (const m of mappings) {
    const o = orientedOutside(m.pair);
    for (const [i, x] of [[m.pair.inside.src, o.src], [m.pair.inside.dst, o.dst]] as const) {
      if (i === x) continue;
      add('inside', i, x);
      add('outside', x, i);
    }
  }
  return maps;
}

function expectedAs(f: FlowRecord, seenOn: Side, maps: Record<Side, Map<string, Set<string>>>): MissingPackets['expectedAs'] {
  const t = (ip: string): string => {
    const set = maps[seenOn].get(ip);
    return set && set.size === 1 ? [...set][0] : ip;
  };
  const src = t(f.src), dst = t(f.dst);
  return { src, srcPort: f.srcPort, dst, dstPort: f.dstPort, translated: src !== f.src || dst !== f.dst };
}

export function findMissing(inp: MissingInput): MissingReport {
  const out: MissingPackets[] = [];
  const answered: MissingReport['answered'] = [];
  const maps = addressMaps(inp.mappings);
  const pairedIn = new Set(inp.pairs.map((p) => p.inside)), pairedOut = new Set(inp.pairs.map((p) => p.outside));
  for (const seenOn of ['inside', 'outside'] as const) {
    const view = seenOn === 'inside' ? inp.inside : inp.outside;
    const paired = seenOn === 'inside' ? pairedIn : pairedOut;
    const span = otherSpan(inp, seenOn);
    const detail = inp.detail[seenOn];
    for (const f of view.flows) {
      if (paired.has(f) || localOnly(f.dst) || !span || f.lastTs < span[0] || f.firstTs > span[1]) continue;
      if (answeredOnOneSide(f)) { answered.push({ seenOn, flow: f }); continue; }
      // A refused SYN: the reset came from this side (the router or whoever answered for it); the SYN is what did not cross.
      for (const dir of (f.state === 'rejected' ? [0] : [0, 1]) as Array<0 | 1>) {
        if (f.packets[dir] === 0) continue;
        const senderSide = inp.hosts.of(seenOn, dir === 0 ? f.src : f.dst);
        const base = { seenOn, missingOn: otherSide(seenOn), flow: f, counterpart: null, dir, senderSide, verdict: verdictFor(senderSide, seenOn), expectedAs: expectedAs(f, seenOn, maps) };
        const pk = detail?.get(f.index);
        if (pk) {
          const mine = inSpan(pk.filter((p) => p.dir === dir), span);
          if (mine.length > 0) out.push(fromPackets(base, mine));
          continue;
        }
        out.push({
          ...base, count: f.packets[dir],
          frames: [...new Set([...(dir === 0 ? [f.synFrame ?? f.firstFrame] : []), ...(f.packets[1 - dir] === 0 ? [f.firstFrame, f.lastFrame] : [])])].sort((a, b) => a - b),
          framesExact: false, syn: dir === 0 && f.synFrame !== null, firstTs: f.firstTs, lastTs: f.lastTs,
          partial: f.firstTs < span[0] || f.lastTs > span[1], expectedAs: base.expectedAs,
        });
      }
    }
  }
  const mappingOf = new Map(inp.mappings.map((m) => [m.pair, m]));
  for (const p of inp.pairs) {
    const m = mappingOf.get(p);
    for (const dir of [0, 1] as const) {
      const odir = (p.reversed ? 1 - dir : dir) as 0 | 1;
      const nIn = p.inside.packets[dir], nOut = p.outside.packets[odir];
      if (nIn === nOut) continue;
      const senderSide = m?.initiatorSide ? (dir === 0 ? m.initiatorSide : otherSide(m.initiatorSide)) : null;
      const pin = inp.detail.inside?.get(p.inside.index), pout = inp.detail.outside?.get(p.outside.index);
      const spanIn = otherSpan(inp, 'inside'), spanOut = otherSpan(inp, 'outside');
      if (pin && pout && spanIn && spanOut) {
        const match = matchPackets(inSpan(pin.filter((x) => x.dir === dir), spanIn), inSpan(pout.filter((x) => x.dir === odir), spanOut));
        if (match.onlyA.length > 0) {
          out.push(fromPackets({ seenOn: 'inside', missingOn: 'outside', flow: p.inside, counterpart: p.outside, dir, senderSide, verdict: verdictFor(senderSide, 'inside') }, match.onlyA));
        }
        if (match.onlyB.length > 0) {
          out.push(fromPackets({ seenOn: 'outside', missingOn: 'inside', flow: p.outside, counterpart: p.inside, dir: odir, senderSide, verdict: verdictFor(senderSide, 'outside') }, match.onlyB));
        }
        continue;
      }
      const seenOn: Side = nIn > nOut ? 'inside' : 'outside';
      const f = seenOn === 'inside' ? p.inside : p.outside;
      const span = seenOn === 'inside' ? spanIn : spanOut;
      out.push({
        seenOn, missingOn: otherSide(seenOn), flow: f, counterpart: seenOn === 'inside' ? p.outside : p.inside,
        dir: seenOn === 'inside' ? dir : odir, senderSide, verdict: verdictFor(senderSide, seenOn),
        count: Math.abs(nIn - nOut), frames: [], framesExact: false, syn: false, firstTs: f.firstTs, lastTs: f.lastTs,
        partial: !span || f.firstTs < span[0] || f.lastTs > span[1], expectedAs: null,
      });
    }
  }
  return { missing: out.sort((a, b) => a.firstTs - b.firstTs), answered };
}
