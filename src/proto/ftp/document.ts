/**
 * The `ftp` section of the `--json` document, read back from SQLite. FINDINGS.md's contract
 * (client, server, user, tls, commands, channels[kind, frame, announcedIp, announcedPort,
 * observed{src, dst, frame, state}]) plus what helps a reader: ports, login, FTPS state,
 * transfers. A password appears only with showPasswords (and only if the analysis kept it).
 */
import type { Db } from '../../store/db.js';
import { DOCUMENT_BATCH, isoTime, type DocumentOptions } from '../../store/queries.js';
import { concatLazy, inBatches } from '../../store/json-stream.js';
import type { DataConnectionFact, FtpTlsFact, FtpTransferFact } from './facts.js';

interface SessionRow {
  capture_id: number; session: number; client: string; client_port: number; server: string; server_port: number;
  detected_by: string; first_frame: number; last_frame: number; first_ts: number; last_ts: number;
  greeting_code: number | null; greeting_text: string | null; greeting_frame: number | null;
  username: string | null; user_frame: number | null; password: string | null; pass_frame: number | null;
  login: string; login_code: number | null; login_frame: number | null; anonymous: number;
  tls_mode: string; tls: string; command_count: number; commands_dropped: number; channels_dropped: number;
  malformed_lines: number; gap_bytes: number; transfers: string; encrypted_data: string;
}

interface ChannelRow {
  session: number; channel: number; kind: string; mode: string; frame: number; announced_ip: string; announced_port: number;
  arithmetic: string; text: string; command_seq: number | null; accepted: number | null; accept_code: number | null;
  via: string; transfer_seq: number | null; outcome: string; window_closed_frame: number | null; observed: string | null;
  connections: string;
}

function connection(c: DataConnectionFact): Record<string, unknown> {
  return {
    flow: c.flow, src: c.src, srcPort: c.srcPort, dst: c.dst, dstPort: c.dstPort, frame: c.synFrame ?? c.firstFrame,
    state: c.state, matchedBy: c.matchedBy, lastFrame: c.lastFrame, synRetransmissions: c.synRetransmissions,
    rstFrame: c.rstFrame, icmp: c.icmp.map((e) => ({ frame: e.frame, reporter: e.reporter, type: e.type, code: e.code })),
    bytesFromClient: c.bytesFromClient, bytesFromServer: c.bytesFromServer, durationMs: (c.lastTs - c.firstTs) / 1000, tls: c.tls,
  };
}

function channel(r: ChannelRow): Record<string, unknown> {
  const observed = r.observed ? connection(JSON.parse(r.observed) as DataConnectionFact) : null;
  const attempts = (JSON.parse(r.connections) as DataConnectionFact[]).length;
  return {
    id: r.channel, kind: r.kind, mode: r.mode, frame: r.frame, announcedIp: r.announced_ip, announcedPort: r.announced_port,
    arithmetic: r.arithmetic, text: r.text, command: r.command_seq, accepted: r.accepted === null ? null : r.accepted === 1,
    acceptCode: r.accept_code, via: r.via, transfer: r.transfer_seq, outcome: r.outcome, windowClosedFrame: r.window_closed_frame,
    attempts, observed,
  };
}

function transfer(t: FtpTransferFact): Record<string, unknown> {
  return {
    command: t.command, verb: t.verb, name: t.name, frame: t.frame, restOffset: t.restOffset, channel: t.channel,
    preliminary: t.preliminary ? { code: t.preliminary.code, frame: t.preliminary.frame } : null,
    reply: t.final ? { code: t.final.code, text: t.final.text, frame: t.final.frame } : null,
    result: t.result, bytes: t.bytes, durationMs: t.durationUs === null ? null : t.durationUs / 1000,
  };
}

export function ftpDocument(db: Db, captureIds: number[], opts: DocumentOptions): { sessions: Iterable<Record<string, unknown>> } {
  const order = db.prepare(`SELECT session FROM ftp_sessions WHERE capture_id = ? ORDER BY session`).pluck();
  // A batch is a run of consecutive sessions in key order: a range of the primary key.
  const sessionRows = db.prepare(`SELECT * FROM ftp_sessions WHERE capture_id = ? AND session BETWEEN ? AND ? ORDER BY session`);
  const channelRows = db.prepare(`SELECT * FROM ftp_channels WHERE capture_id = ? AND session BETWEEN ? AND ? ORDER BY session, channel`);
  const batch = opts.batch ?? DOCUMENT_BATCH;
  return {
    sessions: concatLazy(captureIds.map((cid) => inBatches(order.all(cid) as number[], batch, (some) => {
      const [lo, hi] = [some[0], some[some.length - 1]];
      const channels = new Map<number, Array<Record<string, unknown>>>();
      for (const r of channelRows.all(cid, lo, hi) as ChannelRow[]) {
        const list = channels.get(r.session) ?? [];
        list.push(channel(r));
        channels.set(r.session, list);
      }
      return (sessionRows.all(cid, lo, hi) as SessionRow[]).map((r) => session(cid, r, channels.get(r.session) ?? [], opts));
    }))),
  };
}

function session(cid: number, r: SessionRow, channels: Array<Record<string, unknown>>, opts: DocumentOptions): Record<string, unknown> {
  const tls = JSON.parse(r.tls) as FtpTlsFact;
  const s: Record<string, unknown> = {
    id: r.session, capture: cid, flow: r.session,
    client: r.client, clientPort: r.client_port, server: r.server, serverPort: r.server_port, detectedBy: r.detected_by,
    firstFrame: r.first_frame, lastFrame: r.last_frame, firstTs: isoTime(r.first_ts), lastTs: isoTime(r.last_ts),
    greeting: r.greeting_code === null ? null : { code: r.greeting_code, text: r.greeting_text, frame: r.greeting_frame },
    user: r.username, userFrame: r.user_frame, passFrame: r.pass_frame,
    login: r.login, loginReply: r.login_code === null ? null : { code: r.login_code, frame: r.login_frame },
    anonymous: r.anonymous === 1,
    tls: r.tls_mode !== 'none', tlsMode: r.tls_mode, implicit: r.tls_mode === 'implicit',
    auth: tls.auth, tlsFrom: tls.tlsFrom, pbsz: tls.pbsz, prot: tls.prot, ccc: tls.ccc, controlReadable: !tls.partial,
    commands: r.command_count, commandsDropped: r.commands_dropped, channelsDropped: r.channels_dropped,
    malformedLines: r.malformed_lines, gapBytes: r.gap_bytes,
    channels,
    transfers: (JSON.parse(r.transfers) as FtpTransferFact[]).map(transfer),
    encryptedDataConnections: (JSON.parse(r.encrypted_data) as DataConnectionFact[]).map(connection),
  };
  if (opts.showPasswords && r.password !== null) s.password = r.password;
  return s;
}
