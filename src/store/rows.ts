/** Flow and finding rows: the statements and values the capture writer uses. */
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
