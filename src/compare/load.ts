/** Reads one stored capture's FTP sessions and TCP/UDP flows back from SQLite for `compare`. */
import type { Db } from '../store/db.js';
import { storedFlow, type FlowDbRow } from '../store/rows.js';
import type { CaptureView, ChannelRecord, CommandRecord, FlowRecord, SessionRecord } from './model.js';

interface CaptureRow { id: number; file: string; name: string; sha256: string | null; frames: number; first_ts: number | null; last_ts: number | null }
interface SessionRow {
  session: number; client: string; client_port: number; server: string; server_port: number; first_frame: number; last_frame: number;
  first_ts: number; last_ts: number; greeting_code: number | null; tls_mode: string; command_count: number;
}
interface CommandRow { session: number; seq: number; verb: string; frame: number; ts: number; reply_code: number | null; reply_frame: number | null; reply_ts: number | null }
interface ChannelRow {
  session: number; channel: number; kind: string; mode: string; frame: number; ts: number; announced_ip: string; announced_port: number;
  text: string; command_seq: number | null; via: string; outcome: string; connections: string;
}
function flowRecord(capture: number, r: FlowDbRow): FlowRecord {
  const f = storedFlow(r);
  const tcp = f.tcpJson ? JSON.parse(f.tcpJson) as { synSeen?: boolean; synFrame?: number; synRetransmissions?: number; synAckSeen?: boolean } : null;
  return {
    capture, index: f.index, protocol: f.protocol, src: f.src, srcPort: f.srcPort, dst: f.dst, dstPort: f.dstPort,
    firstTs: f.firstTs, lastTs: f.lastTs, firstFrame: f.firstFrame, lastFrame: f.lastFrame, packets: f.packets, state: f.state,
    synFrame: tcp?.synSeen && tcp.synFrame ? tcp.synFrame : null, synRetransmissions: tcp?.synRetransmissions ?? 0, synAckSeen: tcp?.synAckSeen === true,
  };
}

/** null when no complete capture has that id. */
export function loadCapture(db: Db, id: number): CaptureView | null {
  const c = db.prepare(`SELECT id, file, name, sha256, frames, first_ts, last_ts FROM captures WHERE id = ? AND complete = 1`).get(id) as CaptureRow | undefined;
  if (!c) return null;
  const commands = new Map<number, CommandRecord[]>();
  for (const r of db.prepare(`SELECT session, seq, verb, frame, ts, reply_code, reply_frame, reply_ts FROM ftp_commands WHERE capture_id = ? ORDER BY session, seq`).all(id) as CommandRow[]) {
    const list = commands.get(r.session) ?? [];
    list.push({ seq: r.seq, verb: r.verb, frame: r.frame, ts: r.ts, replyCode: r.reply_code, replyFrame: r.reply_frame, replyTs: r.reply_ts });
    commands.set(r.session, list);
  }
  const channels = new Map<number, ChannelRecord[]>();
  for (const r of db.prepare(`SELECT session, channel, kind, mode, frame, ts, announced_ip, announced_port, text, command_seq, via, outcome, connections
      FROM ftp_channels WHERE capture_id = ? ORDER BY session, channel`).all(id) as ChannelRow[]) {
    const list = channels.get(r.session) ?? [];
    list.push({
      id: r.channel, kind: r.kind, mode: r.mode === 'active' ? 'active' : 'passive', frame: r.frame, ts: r.ts,
      announcedIp: r.announced_ip, announcedPort: r.announced_port, text: r.text, command: r.command_seq, via: r.via, outcome: r.outcome,
      connections: (JSON.parse(r.connections) as Array<{ flow: number }>).map((x) => x.flow),
    });
    channels.set(r.session, list);
  }
  const sessions: SessionRecord[] = (db.prepare(`SELECT session, client, client_port, server, server_port, first_frame, last_frame, first_ts, last_ts,
      greeting_code, tls_mode, command_count FROM ftp_sessions WHERE capture_id = ? ORDER BY session`).all(id) as SessionRow[]).map((r) => ({
    capture: id, flow: r.session, client: r.client, clientPort: r.client_port, server: r.server, serverPort: r.server_port,
    firstFrame: r.first_frame, lastFrame: r.last_frame, firstTs: r.first_ts, lastTs: r.last_ts, greetingCode: r.greeting_code,
    tlsMode: r.tls_mode, commandCount: r.command_count, commands: commands.get(r.session) ?? [], channels: channels.get(r.session) ?? [],
  }));
  const flows = (db.prepare(`SELECT * FROM flows WHERE capture_id = ? AND protocol IN (6, 17) ORDER BY idx`).all(id) as FlowDbRow[]).map((r) => flowRecord(id, r));
  return { id: c.id, file: c.file, name: c.name, sha256: c.sha256 ?? '', frames: c.frames, firstTs: c.first_ts, lastTs: c.last_ts, sessions, flows };
}
