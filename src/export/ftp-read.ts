/**
 * FTP sessions as exports need them, read from SQLite (ftp_sessions, ftp_commands,
 * ftp_channels): the dialogue for ladders, the announcements with where their data
 * connections really went, transfers and FTPS state. Secrets never leave this file: PASS and
 * ACCT arguments are masked whatever the database holds, and the stored password is not read.
 */
import type { Db } from '../store/db.js';
import { arr, bool, hasColumns, num, obj, parseJson, str, type Json } from './sqlite.js';

/** RFC 959 commands whose argument is a secret. */
export const SECRET_VERBS = new Set(['PASS', 'ACCT']);
export const MASK = '******';

export interface ReplyView { code: number; text: string; frame: number | null; ts: number | null }

export interface CommandView {
  seq: number;
  verb: string;
  /** Masked for PASS/ACCT. */
  arg: string | null;
  masked: boolean;
  frame: number;
  ts: number;
  via: string;
  preliminary: { code: number; frame: number | null } | null;
  reply: ReplyView | null;
}

export interface ConnectionView {
  flow: number | null;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  state: string;
  matchedBy: string | null;
  firstFrame: number;
  lastFrame: number | null;
  firstTs: number | null;
  synFrame: number | null;
  synRetransmissions: number;
  rstFrame: number | null;
  icmp: Array<{ frame: number; reporter: string; type: number; code: number }>;
  bytesFromClient: number;
  bytesFromServer: number;
  durationMs: number | null;
  tls: boolean;
}

export interface ChannelView {
  id: number;
  kind: string;
  mode: string;
  frame: number;
  ts: number;
  announcedIp: string;
  announcedPort: number;
  arithmetic: string;
  text: string;
  accepted: boolean | null;
  acceptCode: number | null;
  transfer: number | null;
  outcome: string;
  windowClosedFrame: number | null;
  observed: ConnectionView | null;
  connections: ConnectionView[];
}

export interface TransferView {
  command: number;
  verb: string;
  name: string | null;
  frame: number;
  ts: number | null;
  channel: number | null;
  reply: { code: number; text: string; frame: number | null } | null;
  result: string;
  bytes: number | null;
  durationMs: number | null;
}

export interface FtpSessionView {
  capture: number;
  /** The control connection's flow index (findings' subject.session). */
  id: number;
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  firstFrame: number;
  lastFrame: number;
  firstTs: number;
  lastTs: number;
  greeting: ReplyView | null;
  user: string | null;
  userFrame: number | null;
  login: string;
  loginCode: number | null;
  loginFrame: number | null;
  anonymous: boolean;
  tlsMode: string;
  tlsFrom: number | null;
  prot: string | null;
  ccc: boolean;
  commandCount: number;
  commands: CommandView[];
  channels: ChannelView[];
  transfers: TransferView[];
  encryptedConnections: ConnectionView[];
  gapBytes: number;
}

function connection(v: unknown): ConnectionView | null {
  const c = obj(v);
  if (!c) return null;
  const first = num(c.firstTs), last = num(c.lastTs);
  return {
    flow: num(c.flow), src: String(c.src ?? '?'), srcPort: num(c.srcPort) ?? 0, dst: String(c.dst ?? '?'), dstPort: num(c.dstPort) ?? 0,
    state: String(c.state ?? 'unknown'), matchedBy: str(c.matchedBy),
    firstFrame: num(c.firstFrame) ?? num(c.synFrame) ?? 0, lastFrame: num(c.lastFrame), firstTs: first,
    synFrame: num(c.synFrame), synRetransmissions: num(c.synRetransmissions) ?? 0, rstFrame: num(c.rstFrame),
    icmp: arr(c.icmp).map(obj).filter((e): e is Json => e !== null)
      .map((e) => ({ frame: num(e.frame) ?? 0, reporter: String(e.reporter ?? '?'), type: num(e.type) ?? -1, code: num(e.code) ?? -1 })),
    bytesFromClient: num(c.bytesFromClient) ?? 0, bytesFromServer: num(c.bytesFromServer) ?? 0,
    durationMs: first !== null && last !== null ? Math.round((last - first) / 100) / 10 : null,
    tls: c.tls === true,
  };
}

function reply(v: unknown): ReplyView | null {
  const r = obj(v);
  const code = num(r?.code);
  if (!r || code === null) return null;
  return { code, text: String(r.text ?? ''), frame: num(r.frame), ts: num(r.ts) };
}

const SESSION_COLUMNS = ['session', 'client', 'client_port', 'server', 'server_port', 'first_frame', 'last_frame', 'first_ts', 'last_ts'];

/** Every FTP session of a capture, or [] when the FTP tables are missing. */
export function readFtpSessions(db: Db, captureId: number): FtpSessionView[] {
  if (!hasColumns(db, 'ftp_sessions', SESSION_COLUMNS)) return [];
  const sessions = db.prepare(`SELECT * FROM ftp_sessions WHERE capture_id = ? ORDER BY session`).all(captureId) as Json[];
  const commands = new Map<number, CommandView[]>();
  if (hasColumns(db, 'ftp_commands', ['session', 'seq', 'verb', 'arg', 'frame', 'ts'])) {
    for (const r of db.prepare(`SELECT * FROM ftp_commands WHERE capture_id = ? ORDER BY session, seq`).all(captureId) as Json[]) {
      const verb = String(r.verb ?? '');
      const masked = SECRET_VERBS.has(verb.toUpperCase());
      const list = commands.get(Number(r.session)) ?? [];
      list.push({
        seq: num(r.seq) ?? list.length, verb, arg: masked ? MASK : str(r.arg), masked,
        frame: num(r.frame) ?? 0, ts: num(r.ts) ?? 0, via: String(r.via ?? 'clear'),
        preliminary: num(r.prelim_code) === null ? null : { code: num(r.prelim_code)!, frame: num(r.prelim_frame) },
        reply: num(r.reply_code) === null ? null : { code: num(r.reply_code)!, text: String(r.reply_text ?? ''), frame: num(r.reply_frame), ts: num(r.reply_ts) },
      });
      commands.set(Number(r.session), list);
    }
  }
  const channels = new Map<number, ChannelView[]>();
  if (hasColumns(db, 'ftp_channels', ['session', 'channel', 'kind', 'frame', 'ts', 'announced_ip', 'announced_port'])) {
    for (const r of db.prepare(`SELECT * FROM ftp_channels WHERE capture_id = ? ORDER BY session, channel`).all(captureId) as Json[]) {
      const list = channels.get(Number(r.session)) ?? [];
      const conns = arr(parseJson(r.connections)).map(connection).filter((c): c is ConnectionView => c !== null);
      list.push({
        id: num(r.channel) ?? list.length, kind: String(r.kind ?? '?'), mode: String(r.mode ?? ''), frame: num(r.frame) ?? 0, ts: num(r.ts) ?? 0,
        announcedIp: String(r.announced_ip ?? '?'), announcedPort: num(r.announced_port) ?? 0, arithmetic: String(r.arithmetic ?? ''),
        text: String(r.text ?? ''), accepted: bool(r.accepted), acceptCode: num(r.accept_code), transfer: num(r.transfer_seq),
        outcome: String(r.outcome ?? 'unknown'), windowClosedFrame: num(r.window_closed_frame),
        observed: connection(parseJson(r.observed)), connections: conns,
      });
      channels.set(Number(r.session), list);
    }
  }
  return sessions.map((r) => {
    const id = Number(r.session);
    const tls = obj(parseJson(r.tls));
    const prot = obj(tls?.prot);
    return {
      capture: captureId, id, client: String(r.client), clientPort: Number(r.client_port), server: String(r.server), serverPort: Number(r.server_port),
      firstFrame: Number(r.first_frame), lastFrame: Number(r.last_frame), firstTs: Number(r.first_ts), lastTs: Number(r.last_ts),
      greeting: num(r.greeting_code) === null ? null : { code: num(r.greeting_code)!, text: String(r.greeting_text ?? ''), frame: num(r.greeting_frame), ts: null },
      user: str(r.username), userFrame: num(r.user_frame),
      login: String(r.login ?? 'none'), loginCode: num(r.login_code), loginFrame: num(r.login_frame), anonymous: r.anonymous === 1,
      tlsMode: String(r.tls_mode ?? 'none'), tlsFrom: num(obj(tls?.tlsFrom)?.frame), prot: str(prot?.level), ccc: obj(tls?.ccc) !== null,
      commandCount: num(r.command_count) ?? 0,
      commands: commands.get(id) ?? [],
      channels: channels.get(id) ?? [],
      transfers: arr(parseJson(r.transfers)).map(obj).filter((t): t is Json => t !== null).map((t) => ({
        command: num(t.command) ?? -1, verb: String(t.verb ?? '?'), name: str(t.name), frame: num(t.frame) ?? 0, ts: num(t.ts),
        channel: num(t.channel), reply: reply(t.final), result: String(t.result ?? 'no-reply'), bytes: num(t.bytes),
        durationMs: num(t.durationUs) === null ? null : num(t.durationUs)! / 1000,
      })),
      encryptedConnections: arr(parseJson(r.encrypted_data)).map(connection).filter((c): c is ConnectionView => c !== null),
      gapBytes: num(r.gap_bytes) ?? 0,
    };
  });
}

/** Flow indexes of a session's data connections (announced, observed or seen while encrypted). */
export function dataFlows(s: FtpSessionView): number[] {
  const out = new Set<number>();
  for (const ch of s.channels) {
    if (ch.observed?.flow !== null && ch.observed?.flow !== undefined) out.add(ch.observed.flow);
    for (const c of ch.connections) if (c.flow !== null) out.add(c.flow);
  }
  for (const c of s.encryptedConnections) if (c.flow !== null) out.add(c.flow);
  return [...out].sort((a, b) => a - b);
}
