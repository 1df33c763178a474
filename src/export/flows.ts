/** Flow rows by index, read on demand: exports touch few flows of a capture that may hold millions. */
import type { Db } from '../store/db.js';
import { arr, num, obj, parseJson } from './sqlite.js';
import { storedFlow, type FlowDbRow } from '../store/rows.js';

export interface FlowView {
  index: number;
  protocol: number;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  firstTs: number;
  lastTs: number;
  firstFrame: number;
  lastFrame: number;
  packets: [number, number];
  bytes: [number, number];
  state: string;
  communityId: string | null;
  app: string | null;
  synRetransmissions: number;
  /** Frames of ICMP errors that quoted this flow. */
  icmpFrames: number[];
  icmp: Array<{ frame: number; reporter: string; type: number; code: number }>;
}

export function flowView(r: FlowDbRow): FlowView {
  const f = storedFlow(r);
  const icmp = arr(parseJson(f.icmpJson)).map(obj).filter((e) => e !== null).map((e) => ({
    frame: num(e.frame) ?? 0, reporter: String(e.reporter ?? '?'), type: num(e.type) ?? -1, code: num(e.code) ?? -1,
  }));
  return {
    index: f.index, protocol: f.protocol, src: f.src, srcPort: f.srcPort, dst: f.dst, dstPort: f.dstPort,
    firstTs: f.firstTs, lastTs: f.lastTs, firstFrame: f.firstFrame, lastFrame: f.lastFrame,
    packets: f.packets, bytes: f.bytes, state: f.state, communityId: f.communityId, app: f.app,
    synRetransmissions: num(obj(parseJson(f.tcpJson))?.synRetransmissions) ?? 0,
    icmpFrames: icmp.map((e) => e.frame).filter((x) => x > 0), icmp,
  };
}

export class FlowIndex {
  private cache = new Map<number, FlowView | null>();
  private byIdx;

  constructor(private db: Db, private captureId: number) {
    this.byIdx = db.prepare(`SELECT * FROM flows WHERE capture_id = ? AND idx = ?`);
  }

  get(index: number | null | undefined): FlowView | null {
    if (index === null || index === undefined) return null;
    if (!this.cache.has(index)) {
      const r = this.byIdx.get(this.captureId, index) as FlowDbRow | undefined;
      this.cache.set(index, r ? flowView(r) : null);
    }
    return this.cache.get(index)!;
  }

  /** Flows that ended badly (never answered, refused) or drew ICMP errors: the ones a timeline shows. */
  failures(): FlowView[] {
    const rows = this.db.prepare(`SELECT * FROM flows WHERE capture_id = ? AND (state IN ('syn-unanswered', 'rejected', 'syn-no-synack')
      OR icmp_errors IS NOT NULL) ORDER BY first_ts, idx`).all(this.captureId) as FlowDbRow[];
    return rows.map((r) => { const f = flowView(r); this.cache.set(f.index, f); return f; });
  }
}

export const PROTO_NAMES: Record<number, string> = { 1: 'ICMP', 2: 'IGMP', 6: 'TCP', 17: 'UDP', 58: 'IPv6-ICMP', 132: 'SCTP' };

export function protoName(p: number): string {
  return PROTO_NAMES[p] ?? `IP-${p}`;
}
