/**
 * The rows of an FTP session's ladder diagram, in frame order: greeting, commands and replies,
 * the point where TLS starts, each announcement (with its port arithmetic) and every data
 * connection drawn to where it really went. The SVG (HTML report) and the text ladder
 * (Markdown report) are two drawings of these rows, as the web view's ladder is a third.
 */
import type { ChannelView, ConnectionView, FtpSessionView } from './ftp-read.js';
import { commandText, PASSIVE_REPLY } from './ftp-words.js';

export type LadderRow =
  | { kind: 'command'; frame: number; order: number; text: string; verb: string; announcement: ChannelView | null }
  | { kind: 'reply'; frame: number; order: number; text: string; code: number | null; verb: string | null; announcement: ChannelView | null }
  | { kind: 'band'; frame: number; order: number; text: string }
  | { kind: 'data'; frame: number; order: number; channel: ChannelView | null; conn: ConnectionView | null; state: string };

type NewRow = LadderRow extends infer R ? R extends LadderRow ? Omit<R, 'order'> : never : never;

export function ladderRows(s: FtpSessionView): LadderRow[] {
  const rows: LadderRow[] = [];
  const add = (r: NewRow): LadderRow => {
    const row = { ...r, order: rows.length } as LadderRow;
    rows.push(row);
    return row;
  };
  if (s.greeting?.frame !== null && s.greeting?.frame !== undefined) {
    add({ kind: 'reply', frame: s.greeting.frame, text: `${s.greeting.code} ${s.greeting.text}`, code: s.greeting.code, verb: null, announcement: null });
  }
  if (s.commands.length > 0) {
    for (const c of s.commands) {
      add({ kind: 'command', frame: c.frame, text: commandText(c), verb: c.verb, announcement: null });
      if (c.preliminary?.frame !== null && c.preliminary?.frame !== undefined) {
        add({ kind: 'reply', frame: c.preliminary.frame, text: String(c.preliminary.code), code: c.preliminary.code, verb: c.verb, announcement: null });
      }
      if (c.reply?.frame !== null && c.reply?.frame !== undefined) {
        add({ kind: 'reply', frame: c.reply.frame, text: `${c.reply.code} ${c.reply.text}`, code: c.reply.code, verb: c.verb, announcement: null });
      }
    }
  } else {
    // No dialogue kept: the transfers and announcements still tell most of the story.
    for (const t of s.transfers) {
      add({ kind: 'command', frame: t.frame, text: t.name ? `${t.verb} ${t.name}` : t.verb, verb: t.verb, announcement: null });
      if (t.reply?.frame !== null && t.reply?.frame !== undefined) {
        add({ kind: 'reply', frame: t.reply.frame, text: `${t.reply.code} ${t.reply.text}`, code: t.reply.code, verb: t.verb, announcement: null });
      }
    }
  }
  if (s.tlsFrom !== null) {
    add({ kind: 'band', frame: s.tlsFrom + 0.4, text: `TLS from here (${s.tlsMode} FTPS): commands below are only what could be read` });
  }
  for (const ch of s.channels) {
    const passive = ch.mode === 'passive' || ch.kind in PASSIVE_REPLY;
    const wanted = passive ? 'reply' : 'command';
    let anchor = rows.find((r) => r.frame === ch.frame && r.kind === wanted);
    if (!anchor) {
      anchor = passive
        ? add({ kind: 'reply', frame: ch.frame, text: `${PASSIVE_REPLY[ch.kind] ?? ''} ${ch.text}`.trim(), code: PASSIVE_REPLY[ch.kind] ?? null, verb: ch.kind, announcement: null })
        : add({ kind: 'command', frame: ch.frame, text: `${ch.kind} ${ch.text}`.trim(), verb: ch.kind, announcement: null });
    }
    if (anchor.kind === 'command' || anchor.kind === 'reply') anchor.announcement = ch;
    const conns = ch.connections.length > 0 ? ch.connections : ch.observed ? [ch.observed] : [];
    for (const conn of conns) add({ kind: 'data', frame: conn.synFrame ?? conn.firstFrame, channel: ch, conn, state: conn.state });
    if (conns.length === 0 && (ch.outcome === 'never-seen' || ch.outcome === 'not-captured')) {
      add({ kind: 'data', frame: ch.windowClosedFrame !== null ? ch.windowClosedFrame - 0.5 : ch.frame + 0.5, channel: ch, conn: null, state: ch.outcome });
    }
  }
  const drawn = new Set(s.channels.flatMap((ch) => ch.connections.map((c) => c.flow)));
  for (const conn of s.encryptedConnections) {
    if (!drawn.has(conn.flow)) add({ kind: 'data', frame: conn.synFrame ?? conn.firstFrame, channel: null, conn, state: conn.state });
  }
  return rows.sort((a, b) => a.frame - b.frame || a.order - b.order);
}

/** Lanes of the ladder: the client, the NAT/firewall between, the server. */
export type Lane = 'client' | 'nat' | 'server';

export interface DataGeometry {
  from: Lane;
  /** null: the destination is neither endpoint (e.g. the private address of a 227 reply). */
  to: Lane | null;
  /** Where the ✕ goes: at the NAT/firewall (no answer), at the target (RST), near the start (half-open, never seen). */
  breakAt: 'nat' | 'target' | 'start' | null;
}

export function dataGeometry(s: FtpSessionView, row: Extract<LadderRow, { kind: 'data' }>): DataGeometry {
  const laneOf = (ip: string): Lane | null => (ip === s.client ? 'client' : ip === s.server ? 'server' : null);
  let from: Lane, to: Lane | null;
  if (row.conn) {
    from = laneOf(row.conn.src) ?? 'nat';
    to = laneOf(row.conn.dst);
  } else {
    const active = row.channel?.mode === 'active';
    from = active ? 'server' : 'client';
    to = active ? 'client' : 'server';
  }
  const breakAt = row.state === 'syn-unanswered' || row.state === 'icmp-unreachable' ? 'nat'
    : row.state === 'refused' ? 'target'
      : row.state === 'half-open' || row.state === 'never-seen' ? 'start' : null;
  return { from, to, breakAt };
}
