/**
 * Flow and finding rows: what the capture writer puts in, and the one mapping of a stored flow
 * row back to Flow's field names that every reader (the JSON document, exports, compare) uses.
 */
import type { Db } from './db.js';
import type { Flow } from '../flow/flow.js';
import { flowState } from '../flow/flow.js';
import type { Finding } from '../findings/types.js';

export const INSERT_FLOW = `INSERT INTO flows (capture_id, idx, protocol, src_ip, src_port, dst_ip, dst_port,
  first_ts, last_ts, first_frame, last_frame, packets_fwd, packets_rev, bytes_fwd, bytes_rev, payload_fwd, payload_rev,
  state, tcp, icmp_errors, community_id, app) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`;

/** A flow's row after capture_id, as plain values. */
export type FlowRow = Array<string | number | null>;

export function flowRow(f: Flow): FlowRow {
  const t = f.tcp;
  return [f.index, f.protocol, f.srcIp, f.srcPort, f.dstIp, f.dstPort,
    Math.round(f.firstTs), Math.round(f.lastTs), f.firstFrame, f.lastFrame,
    f.packets[0], f.packets[1], f.bytes[0], f.bytes[1], f.payloadBytes[0], f.payloadBytes[1],
    flowState(f),
    t ? JSON.stringify({ synSeen: t.synSeen, synFrame: t.synFrame, synRetransmissions: t.synRetransmissions, synAckSeen: t.synAckSeen, synAckFrame: t.synAckFrame, rstFrom: t.rstFrom, rstFrame: t.rstFrame, handshakeComplete: t.handshakeComplete, finFrom: t.finFrom }) : null,
    f.icmpErrors.length ? JSON.stringify(f.icmpErrors) : null,
    f.communityId, f.app];
}

export function insertFlowRows(db: Db, captureId: number, rows: FlowRow[]): void {
  const ins = db.prepare(INSERT_FLOW);
  db.transaction(() => { for (const r of rows) ins.run(captureId, ...r); })();
}

export function insertFindings(db: Db, captureId: number, findings: Finding[]): void {
  const fi = db.prepare(`INSERT INTO findings (capture_id, code, severity, title, explanation, mitigation, frames, first_ts, subject, details) VALUES (?,?,?,?,?,?,?,?,?,?)`);
  for (const x of findings) fi.run(captureId, x.code, x.severity, x.title, x.explanation, x.mitigation, JSON.stringify(x.frames), x.firstTs === null ? null : Math.round(x.firstTs), JSON.stringify(x.subject), JSON.stringify(x.details));
}

/** Every column of a `flows` row, as SQLite returns it. */
export interface FlowDbRow {
  idx: number; protocol: number; src_ip: string; src_port: number; dst_ip: string; dst_port: number;
  first_frame: number; last_frame: number; first_ts: number; last_ts: number; packets_fwd: number; packets_rev: number;
  bytes_fwd: number; bytes_rev: number; payload_fwd: number; payload_rev: number; state: string;
  community_id: string | null; app: string | null; tcp: string | null; icmp_errors: string | null;
}

/**
 * A stored flow under Flow's names. The JSON columns stay text: the document parses them
 * strictly, exports leniently (a database from an older faultline yields less, never an error).
 */
export interface StoredFlow {
  index: number; protocol: number; src: string; srcPort: number; dst: string; dstPort: number;
  firstFrame: number; lastFrame: number; firstTs: number; lastTs: number;
  packets: [number, number]; bytes: [number, number]; payloadBytes: [number, number];
  state: string; communityId: string | null; app: string | null;
  tcpJson: string | null; icmpJson: string | null;
}

export function storedFlow(r: FlowDbRow): StoredFlow {
  return {
    index: r.idx, protocol: r.protocol, src: r.src_ip, srcPort: r.src_port, dst: r.dst_ip, dstPort: r.dst_port,
    firstFrame: r.first_frame, lastFrame: r.last_frame, firstTs: r.first_ts, lastTs: r.last_ts,
    packets: [r.packets_fwd, r.packets_rev], bytes: [r.bytes_fwd, r.bytes_rev], payloadBytes: [r.payload_fwd, r.payload_rev],
    state: r.state, communityId: r.community_id, app: r.app, tcpJson: r.tcp, icmpJson: r.icmp_errors,
  };
}
