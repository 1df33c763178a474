/**
 * FTP facts in SQLite: one row per session, per command and per data-channel announcement.
 * Sessions are keyed by (capture, control flow index) so they join `flows.idx`; each channel
 * names its observed data connection's flow index too. Nested records without their own
 * queries (TLS state, transfers, connection details) are JSON columns.
 */
import type { Db } from '../../store/db.js';
import type { FactSet } from '../../analysis/context.js';
import type { DataConnectionFact } from './facts.js';

/** The FTP tables. Their `*_capture` indexes are dropped again by a later migration (src/store/schema.ts: LATER). */
export const FTP_MIGRATION = `
  CREATE TABLE ftp_sessions (
    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    session INTEGER NOT NULL,
    client TEXT NOT NULL, client_port INTEGER NOT NULL,
    server TEXT NOT NULL, server_port INTEGER NOT NULL,
    detected_by TEXT NOT NULL,
    first_frame INTEGER NOT NULL, last_frame INTEGER NOT NULL,
    first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL,
    greeting_code INTEGER, greeting_text TEXT, greeting_frame INTEGER,
    username TEXT, user_frame INTEGER, user_via TEXT,
    password TEXT, pass_frame INTEGER, pass_via TEXT,
    login TEXT NOT NULL, login_code INTEGER, login_frame INTEGER,
    anonymous INTEGER NOT NULL,
    tls_mode TEXT NOT NULL,
    tls TEXT NOT NULL,
    command_count INTEGER NOT NULL, commands_dropped INTEGER NOT NULL, channels_dropped INTEGER NOT NULL,
    malformed_lines INTEGER NOT NULL, gap_bytes INTEGER NOT NULL,
    transfers TEXT NOT NULL,
    encrypted_data TEXT NOT NULL,
    unsolicited TEXT NOT NULL,
    PRIMARY KEY (capture_id, session)
  );
  CREATE INDEX ftp_sessions_capture ON ftp_sessions(capture_id);
  CREATE TABLE ftp_commands (
    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    session INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    verb TEXT NOT NULL, arg TEXT, known INTEGER NOT NULL,
    frame INTEGER NOT NULL, ts INTEGER NOT NULL, via TEXT NOT NULL,
    prelim_code INTEGER, prelim_frame INTEGER,
    reply_code INTEGER, reply_text TEXT, reply_frame INTEGER, reply_ts INTEGER,
    PRIMARY KEY (capture_id, session, seq)
  );
  CREATE INDEX ftp_commands_capture ON ftp_commands(capture_id);
  CREATE INDEX ftp_commands_verb ON ftp_commands(capture_id, verb);
  CREATE TABLE ftp_channels (
    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    session INTEGER NOT NULL,
    channel INTEGER NOT NULL,
    kind TEXT NOT NULL, mode TEXT NOT NULL,
    frame INTEGER NOT NULL, ts INTEGER NOT NULL,
    announced_ip TEXT NOT NULL, announced_port INTEGER NOT NULL, arithmetic TEXT NOT NULL, text TEXT NOT NULL,
    command_seq INTEGER, accepted INTEGER, accept_code INTEGER, accept_frame INTEGER,
    via TEXT NOT NULL, transfer_seq INTEGER, outcome TEXT NOT NULL, window_closed_frame INTEGER,
    data_flow INTEGER, observed TEXT, connections TEXT NOT NULL,
    PRIMARY KEY (capture_id, session, channel)
  );
  CREATE INDEX ftp_channels_capture ON ftp_channels(capture_id);
  CREATE INDEX ftp_channels_data_flow ON ftp_channels(capture_id, data_flow);
`;

function bool(v: boolean | null): number | null {
  return v === null ? null : v ? 1 : 0;
}

function round(v: number): number {
  return Math.round(v);
}

function connectionJson(c: DataConnectionFact): DataConnectionFact {
  return { ...c, firstTs: round(c.firstTs), lastTs: round(c.lastTs) };
}

export function writeFtpFacts(db: Db, captureId: number, facts: FactSet): void {
  const insSession = db.prepare(`INSERT INTO ftp_sessions (capture_id, session, client, client_port, server, server_port, detected_by,
    first_frame, last_frame, first_ts, last_ts, greeting_code, greeting_text, greeting_frame, username, user_frame, user_via,
    password, pass_frame, pass_via, login, login_code, login_frame, anonymous, tls_mode, tls, command_count, commands_dropped,
    channels_dropped, malformed_lines, gap_bytes, transfers, encrypted_data, unsolicited)
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
  const insCommand = db.prepare(`INSERT INTO ftp_commands (capture_id, session, seq, verb, arg, known, frame, ts, via,
    prelim_code, prelim_frame, reply_code, reply_text, reply_frame, reply_ts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
  const insChannel = db.prepare(`INSERT INTO ftp_channels (capture_id, session, channel, kind, mode, frame, ts, announced_ip,
    announced_port, arithmetic, text, command_seq, accepted, accept_code, accept_frame, via, transfer_seq, outcome,
    window_closed_frame, data_flow, observed, connections) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
  for (const s of facts.ftp.sessions) {
    insSession.run(captureId, s.flow, s.client, s.clientPort, s.server, s.serverPort, s.detectedBy,
      s.firstFrame, s.lastFrame, round(s.firstTs), round(s.lastTs),
      s.greeting?.code ?? null, s.greeting?.text ?? null, s.greeting?.frame ?? null,
      s.user, s.userFrame, s.userVia, s.password, s.passFrame, s.passVia,
      s.login, s.loginReply?.code ?? null, s.loginReply?.frame ?? null, s.anonymous ? 1 : 0,
      s.tls.mode, JSON.stringify(s.tls), s.commandCount, s.commandsDropped, s.channelsDropped, s.malformedLines, s.gapBytes,
      JSON.stringify(s.transfers.map((t) => ({ ...t, ts: round(t.ts) }))),
      JSON.stringify(s.encryptedDataConnections.map(connectionJson)),
      JSON.stringify(s.unsolicited));
    for (const c of s.commands) {
      insCommand.run(captureId, s.flow, c.seq, c.verb, c.arg, c.known ? 1 : 0, c.frame, round(c.ts), c.via,
        c.preliminary?.code ?? null, c.preliminary?.frame ?? null,
        c.final?.code ?? null, c.final?.text ?? null, c.final?.frame ?? null, c.final ? round(c.final.ts) : null);
    }
    for (const ch of s.channels) {
      insChannel.run(captureId, s.flow, ch.id, ch.kind, ch.mode, ch.frame, round(ch.ts), ch.announcedIp, ch.announcedPort,
        ch.arithmetic, ch.text, ch.command, bool(ch.accepted), ch.acceptReply?.code ?? null, ch.acceptReply?.frame ?? null,
        ch.via, ch.transfer, ch.outcome, ch.windowClosedFrame, ch.observed?.flow ?? null,
        ch.observed ? JSON.stringify(connectionJson(ch.observed)) : null, JSON.stringify(ch.connections.map(connectionJson)));
    }
  }
}
