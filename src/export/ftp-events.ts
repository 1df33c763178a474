/** Dated FTP events: session start and end, FTPS, login, announcements, data connections and their outcome, transfers, refusals. */
import { endpoint } from './text.js';
import type { FlowIndex } from './flows.js';
import type { ChannelView, ConnectionView, FtpSessionView } from './ftp-read.js';
import { announcementText, commandText, connectionDetail, connectionPath, FAILED_STATES } from './ftp-words.js';
import { onFlow, type EventDraft, type TimelineEvent } from './event.js';

const TRANSFER_VERBS = new Set(['RETR', 'STOR', 'STOU', 'APPE', 'LIST', 'NLST', 'MLSD']);
const LOGIN_VERBS = new Set(['USER', 'PASS', 'ACCT']);

/** When a frame of the session's dialogue was seen (commands and replies are the dated ones). */
function tsOfFrame(s: FtpSessionView, frame: number | null): number | null {
  if (frame === null) return null;
  for (const c of s.commands) {
    if (c.frame === frame) return c.ts;
    if (c.reply?.frame === frame && c.reply.ts !== null) return c.reply.ts;
  }
  return null;
}

export function ftpEvents(s: FtpSessionView, flows: FlowIndex): TimelineEvent[] {
  const control = flows.get(s.id);
  const out: TimelineEvent[] = [];
  const sessionKey = `session:${s.id}`;
  const base = { type: 'ftp' as const, session: s.id, user: s.user, host: s.client };
  const add = (d: Omit<EventDraft, 'type' | 'keys'> & { keys?: string[] }, flow = control): void => {
    out.push(onFlow({ ...base, ...d, keys: [sessionKey, ...(d.keys ?? [])] }, flow));
  };
  const name = `${endpoint(s.client, s.clientPort)} → ${endpoint(s.server, s.serverPort)}`;

  add({
    ts: s.firstTs, kind: 'session-start', desc: 'FTP session start', frame: s.firstFrame,
    message: `FTP session ${s.id} ${name} starts${s.greeting ? `; greeting ${s.greeting.code} ${s.greeting.text}` : ''}`,
    data: { event: 'session-start', session: s.id, client: s.client, clientPort: s.clientPort, server: s.server, serverPort: s.serverPort, greeting: s.greeting ? { code: s.greeting.code, text: s.greeting.text, frame: s.greeting.frame } : null },
  });
  if (s.tlsMode !== 'none') {
    const ts = tsOfFrame(s, s.tlsFrom) ?? s.firstTs;
    add({
      ts, kind: 'tls-start', desc: 'FTPS TLS start', frame: s.tlsFrom ?? s.firstFrame,
      message: `FTP session ${s.id}: TLS protects the control connection (${s.tlsMode} FTPS${s.prot ? `, PROT ${s.prot}` : ''})`,
      data: { event: 'tls-start', session: s.id, mode: s.tlsMode, prot: s.prot, ccc: s.ccc },
    });
  }
  if (s.login !== 'none') {
    const ts = tsOfFrame(s, s.loginFrame) ?? tsOfFrame(s, s.userFrame) ?? s.firstTs;
    const ok = s.login === 'success';
    add({
      ts, kind: 'login', desc: 'FTP login', frame: s.loginFrame ?? s.userFrame ?? s.firstFrame, outcome: s.login === 'failed' ? 'failed' : ok ? 'ok' : null,
      message: `FTP session ${s.id}: login${s.user !== null ? ` as ${JSON.stringify(s.user)}` : ''} ${s.login === 'success' ? 'accepted' : s.login === 'failed' ? 'refused' : 'pending'}${s.loginCode !== null ? ` (${s.loginCode})` : ''}${s.anonymous ? ', anonymous' : ''}`,
      data: { event: 'login', session: s.id, user: s.user, result: s.login, code: s.loginCode, anonymous: s.anonymous, tls: s.tlsMode !== 'none' },
    });
  }
  for (const ch of s.channels) channelEvents(s, ch, flows, add);
  const seen = new Set(s.channels.flatMap((ch) => ch.connections.map((c) => c.flow)));
  for (const c of s.encryptedConnections) {
    if (seen.has(c.flow)) continue;
    connectionEvent(s, null, c, flows, add);
  }
  for (const t of s.transfers) {
    const failed = t.result === 'failed';
    add({
      ts: t.ts ?? tsOfFrame(s, t.frame) ?? s.firstTs, kind: 'transfer', desc: 'FTP transfer', frame: t.frame, outcome: failed ? 'failed' : t.result === 'ok' ? 'ok' : null,
      frames: [t.frame, ...(t.reply?.frame ? [t.reply.frame] : [])],
      message: `FTP session ${s.id}: ${t.verb}${t.name ? ` ${t.name}` : ''} — ${t.reply ? `${t.reply.code} ${t.reply.text}` : 'no reply in the capture'}${t.bytes !== null ? `, ${t.bytes} bytes` : ''}`,
      data: { event: 'transfer', session: s.id, verb: t.verb, name: t.name, result: t.result, reply: t.reply, bytes: t.bytes, durationMs: t.durationMs, channel: t.channel },
    });
  }
  for (const c of s.commands) {
    // Transfers and the login have their own events; other refusals (500 Illegal PORT, 550 on CWD) are listed here.
    if (!c.reply || c.reply.code < 400 || TRANSFER_VERBS.has(c.verb.toUpperCase()) || LOGIN_VERBS.has(c.verb.toUpperCase())) continue;
    add({
      ts: c.reply.ts ?? c.ts, kind: 'command-failed', desc: 'FTP command refused', frame: c.reply.frame ?? c.frame, outcome: 'failed',
      frames: [c.frame, ...(c.reply.frame !== null ? [c.reply.frame] : [])],
      message: `FTP session ${s.id}: ${commandText(c)} — ${c.reply.code} ${c.reply.text}`,
      data: { event: 'command-failed', session: s.id, verb: c.verb, arg: c.arg, code: c.reply.code, text: c.reply.text },
    });
  }
  add({
    ts: s.lastTs, kind: 'session-end', desc: 'FTP session last packet', frame: s.lastFrame,
    message: `FTP session ${s.id} ${name}: last packet (${s.commandCount} commands)`,
    data: { event: 'session-end', session: s.id, commands: s.commandCount },
  });
  return out;
}

type Add = (d: Omit<EventDraft, 'type' | 'keys'> & { keys?: string[] }, flow?: ReturnType<FlowIndex['get']>) => void;

function channelEvents(s: FtpSessionView, ch: ChannelView, flows: FlowIndex, add: Add): void {
  const differs = ch.mode === 'passive' && ch.announcedIp !== s.server && ch.kind !== 'EPSV';
  add({
    ts: ch.ts, kind: 'announcement', desc: 'FTP data channel announced', frame: ch.frame,
    message: `FTP session ${s.id}: ${announcementText(ch)}${differs ? ` (not the server address ${s.server} the client connected to)` : ''}`,
    data: { event: 'announcement', session: s.id, channel: ch.id, kind: ch.kind, mode: ch.mode, announcedIp: ch.announcedIp, announcedPort: ch.announcedPort, arithmetic: ch.arithmetic, text: ch.text, outcome: ch.outcome },
  });
  const conns = ch.connections.length > 0 ? ch.connections : ch.observed ? [ch.observed] : [];
  for (const c of conns) connectionEvent(s, ch, c, flows, add);
  if (conns.length === 0 && (ch.outcome === 'never-seen' || ch.outcome === 'not-captured' || ch.outcome === 'rejected')) {
    const frame = ch.windowClosedFrame ?? ch.frame;
    const ts = tsOfFrame(s, ch.windowClosedFrame) ?? ch.ts;
    add({
      ts, kind: 'data-connection-missing', desc: 'FTP data connection expected', frame, outcome: FAILED_STATES.has(ch.outcome) ? 'failed' : null,
      frames: [ch.frame, frame],
      message: `FTP session ${s.id}: no data connection to ${endpoint(ch.announcedIp, ch.announcedPort)} (${ch.kind} channel ${ch.id}): ${connectionDetail(null, ch.outcome)}`,
      data: { event: 'data-connection', session: s.id, channel: ch.id, kind: ch.kind, state: ch.outcome, connection: null },
    });
  }
}

function connectionEvent(s: FtpSessionView, ch: ChannelView | null, c: ConnectionView, flows: FlowIndex, add: Add): void {
  const flow = flows.get(c.flow);
  const failed = FAILED_STATES.has(c.state);
  const wrongPlace = ch && ch.mode === 'passive' && c.dst !== ch.announcedIp ? ` (announced ${ch.announcedIp}, went to ${c.dst})` : '';
  const frames = [c.synFrame ?? c.firstFrame, ...(c.rstFrame !== null ? [c.rstFrame] : []), ...c.icmp.map((e) => e.frame)];
  add({
    ts: c.firstTs ?? flow?.firstTs ?? ch?.ts ?? s.firstTs, kind: 'data-connection', desc: 'FTP data connection', frame: c.synFrame ?? c.firstFrame,
    outcome: failed ? 'failed' : c.state === 'completed' ? 'ok' : null, frames, keys: c.flow !== null ? [`flow:${c.flow}`] : [],
    message: `FTP session ${s.id}: data connection ${connectionPath(c)}${ch ? ` (${ch.kind} channel ${ch.id})` : ' (while the control channel was encrypted)'}${wrongPlace}: ${connectionDetail(c, c.state)}`,
    data: {
      event: 'data-connection', session: s.id, channel: ch?.id ?? null, kind: ch?.kind ?? null, state: c.state, matchedBy: c.matchedBy,
      connection: { flow: c.flow, src: c.src, srcPort: c.srcPort, dst: c.dst, dstPort: c.dstPort, synRetransmissions: c.synRetransmissions, rstFrame: c.rstFrame, icmp: c.icmp, bytesFromClient: c.bytesFromClient, bytesFromServer: c.bytesFromServer, tls: c.tls },
    },
  }, flow);
}
