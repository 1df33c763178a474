import type { Db } from './db.js';
import type { Flow } from '../flow/flow.js';
import { flowState } from '../flow/flow.js';
import type { FactSet } from '../analysis/context.js';
import type { Finding } from '../findings/types.js';
import type { FlowSink } from '../analysis/pipeline.js';

const BATCH = 5000;

/**
 * Writes one capture's rows. Flows stream in as they end, in batched transactions of prepared
 * inserts; facts and findings go in at the end. Analysing a file again (same sha256) replaces
 * the earlier rows, so a database holds each capture once.
 */
export class CaptureWriter implements FlowSink {
  readonly captureId: number;
  private batch: Flow[] = [];
  private insertFlow;

  constructor(private db: Db, file: string, name: string) {
    this.captureId = Number(db.prepare(
      `INSERT INTO captures (file, name, analyzed_at) VALUES (?, ?, ?)`,
    ).run(file, name, new Date().toISOString()).lastInsertRowid);
    this.insertFlow = db.prepare(`INSERT INTO flows (capture_id, idx, protocol, src_ip, src_port, dst_ip, dst_port,
      first_ts, last_ts, first_frame, last_frame, packets_fwd, packets_rev, bytes_fwd, bytes_rev, payload_fwd, payload_rev,
      state, tcp, icmp_errors, community_id, app) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
  }

  flow(f: Flow): void {
    this.batch.push(f);
    if (this.batch.length >= BATCH) this.flushFlows();
  }

  private flushFlows(): void {
    if (this.batch.length === 0) return;
    const rows = this.batch;
    this.batch = [];
    const cid = this.captureId;
    const ins = this.insertFlow;
    this.db.transaction(() => {
      for (const f of rows) {
        const t = f.tcp;
        ins.run(cid, f.index, f.protocol, f.srcIp, f.srcPort, f.dstIp, f.dstPort,
          Math.round(f.firstTs), Math.round(f.lastTs), f.firstFrame, f.lastFrame,
          f.packets[0], f.packets[1], f.bytes[0], f.bytes[1], f.payloadBytes[0], f.payloadBytes[1],
          flowState(f),
          t ? JSON.stringify({ synSeen: t.synSeen, synFrame: t.synFrame, synRetransmissions: t.synRetransmissions, synAckSeen: t.synAckSeen, synAckFrame: t.synAckFrame, rstFrom: t.rstFrom, rstFrame: t.rstFrame, handshakeComplete: t.handshakeComplete, finFrom: t.finFrom }) : null,
          f.icmpErrors.length ? JSON.stringify(f.icmpErrors) : null,
          f.communityId, f.app);
      }
    })();
  }

  /** Facts and findings of the finished capture; replaces earlier analyses of the same file. */
  finish(facts: FactSet, findings: Finding[], extra?: (db: Db, captureId: number) => void): void {
    this.flushFlows();
    const cid = this.captureId;
    const c = facts.capture;
    const db = this.db;
    db.transaction(() => {
      db.prepare(`DELETE FROM captures WHERE sha256 = ? AND id <> ?`).run(c.sha256, cid);
      db.prepare(`UPDATE captures SET sha256 = ?, format = ?, compressed = ?, link_types = ?, frames = ?, bytes = ?,
        first_ts = ?, last_ts = ?, damaged = ?, complete = 1, stats = ? WHERE id = ?`).run(
        c.sha256, c.format, c.compressed ? 1 : 0, JSON.stringify(c.linkTypes), c.frames, c.bytes,
        c.firstTs === null ? null : Math.round(c.firstTs), c.lastTs === null ? null : Math.round(c.lastTs),
        c.damaged ? 1 : 0, JSON.stringify(facts.stats), cid);
      const w = db.prepare(`INSERT INTO warnings (capture_id, byte_offset, frame, message) VALUES (?, ?, ?, ?)`);
      for (const x of facts.warnings) w.run(cid, x.offset, x.frame, x.message);
      const h = db.prepare(`INSERT INTO hosts (capture_id, ip, packets_sent, packets_received, bytes_sent, bytes_received, flows, first_ts, last_ts) VALUES (?,?,?,?,?,?,?,?,?)`);
      for (const x of facts.hosts) h.run(cid, x.ip, x.packetsSent, x.packetsReceived, x.bytesSent, x.bytesReceived, x.flows, Math.round(x.firstTs), Math.round(x.lastTs));
      const fi = db.prepare(`INSERT INTO findings (capture_id, code, severity, title, explanation, mitigation, frames, first_ts, subject, details) VALUES (?,?,?,?,?,?,?,?,?,?)`);
      for (const x of findings) fi.run(cid, x.code, x.severity, x.title, x.explanation, x.mitigation, JSON.stringify(x.frames), x.firstTs === null ? null : Math.round(x.firstTs), JSON.stringify(x.subject), JSON.stringify(x.details));
      extra?.(db, cid);
    })();
  }

  /** The analysis failed: remove the partial capture. */
  abort(): void {
    this.batch = [];
    this.db.prepare(`DELETE FROM captures WHERE id = ?`).run(this.captureId);
  }
}
