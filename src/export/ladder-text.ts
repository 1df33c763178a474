/**
 * The FTP ladder as monospace text, for the Markdown report: the same rows as the SVG, lanes
 * as columns ('|' client and server, ':' the NAT/firewall between them), commands "--->",
 * replies "<---", data connections "===" to where they went and an "X" where one died.
 * Callers put the result in a fenced code block (text.ts mdFence) so nothing in it is markup.
 */
import type { FtpSessionView } from './ftp-read.js';
import { connectionDetail, connectionPath, DATA_FAILURE_CODES, FAILED_STATES } from './ftp-words.js';
import { clip, endpoint, printable } from './text.js';
import { dataGeometry, ladderRows, type Lane } from './ladder.js';

const GUTTER = 8;
const W = 84;
const LANE: Record<Lane, number> = { client: 0, nat: W / 2, server: W };

function blank(): string[] {
  const cells = new Array<string>(W + 1).fill(' ');
  cells[LANE.client] = '|';
  cells[LANE.nat] = ':';
  cells[LANE.server] = '|';
  return cells;
}

function put(cells: string[], at: number, text: string): void {
  for (let i = 0; i < text.length && at + i <= W; i++) if (at + i >= 0) cells[at + i] = text[i];
}

function line(gutter: string, cells: string[]): string {
  return (gutter.padEnd(GUTTER) + cells.join('')).trimEnd();
}

/** An arrow from column a to column b with `text` centred on it. */
function arrow(a: number, b: number, fill: string, text: string, head: boolean): string[] {
  const cells = blank();
  const dir = Math.sign(b - a) || 1;
  for (let x = a + dir; x !== b; x += dir) cells[x] = fill;
  if (head) cells[b - dir] = dir > 0 ? '>' : '<';
  if (text === '') return cells;
  const span = Math.abs(b - a) - 4;
  const t = ` ${clip(printable(text), Math.max(4, span - 2))} `;
  put(cells, Math.min(a, b) + Math.floor((Math.abs(b - a) - t.length) / 2) + 1, t);
  return cells;
}

function note(text: string): string[] {
  const cells = blank();
  put(cells, 3, clip(printable(text), W - 5));
  return cells;
}

export function ladderText(s: FtpSessionView): string {
  const out: string[] = [];
  const head = new Array<string>(W + 1).fill(' ');
  const c = `client ${endpoint(s.client, s.clientPort)}`;
  const sv = `server ${endpoint(s.server, s.serverPort)}`;
  put(head, 0, c);
  put(head, LANE.nat - 7, 'NAT / firewall');
  put(head, W + 1 - sv.length, sv);
  out.push(line('frame', head));
  out.push(line('', blank()));
  for (const r of ladderRows(s)) {
    const frame = Number.isInteger(r.frame) ? `#${r.frame}` : '';
    if (r.kind === 'band') {
      out.push(line('', arrow(LANE.client, LANE.server, '~', r.text, false)));
      continue;
    }
    if (r.kind === 'command' || r.kind === 'reply') {
      const code = r.kind === 'reply' ? r.code : null;
      const failed = code !== null && code >= 400;
      out.push(line(frame, r.kind === 'command'
        ? arrow(LANE.client, LANE.server, '-', r.text, true)
        : arrow(LANE.server, LANE.client, failed ? '~' : '-', r.text, true)));
      if (failed && DATA_FAILURE_CODES.has(code)) out.push(line('', note(`X ${code}: the server gave up on the data connection`)));
      if (r.announcement) {
        const ch = r.announcement;
        const differs = ch.mode !== 'active' && ch.kind !== 'EPSV' && ch.announcedIp !== s.server;
        out.push(line('', note(`[${ch.kind} announces ${endpoint(ch.announcedIp, ch.announcedPort)}${differs ? ` — not the server's address ${s.server}` : ''}]`)));
        out.push(line('', note(`[${ch.arithmetic ? `port: ${ch.arithmetic}` : `port ${ch.announcedPort}`}]`)));
      }
      continue;
    }
    const g = dataGeometry(s, r);
    const from = LANE[g.from];
    const target = g.to ? LANE[g.to] : Math.round(LANE.nat + (LANE.server - LANE.nat) * 0.55);
    const dir = Math.sign(target - from) || 1;
    let end = target;
    let breakAt: number | null = null;
    if (g.breakAt === 'nat') { end = LANE.nat; breakAt = LANE.nat; }
    else if (g.breakAt === 'target') breakAt = target;
    else if (g.breakAt === 'start') { end = from + dir * (r.state === 'half-open' ? 4 : 8); breakAt = end; }
    const what = r.channel ? `data (${r.channel.kind})` : 'data (encrypted session)';
    const path = r.conn ? connectionPath(r.conn) : r.channel ? `→ ${endpoint(r.channel.announcedIp, r.channel.announcedPort)}` : '';
    const text = `${what} ${path}`;
    const fits = text.length + 6 <= Math.abs(end - from);
    if (!fits) out.push(line('', note(text)));
    const cells = arrow(from, end, '=', fits ? text : '', breakAt === null);
    if (breakAt !== null) cells[breakAt] = 'X';
    out.push(line(frame, cells));
    const wrongPlace = r.conn && r.channel && r.channel.mode !== 'active' && r.conn.dst !== r.channel.announcedIp ? ` (announced ${r.channel.announcedIp}, went to ${r.conn.dst})` : '';
    const elsewhere = r.conn && !g.to ? `; ${r.conn.dst} is neither client nor server` : '';
    out.push(line('', note(`${FAILED_STATES.has(r.state) ? 'X ' : '» '}${connectionDetail(r.conn, r.state)}${wrongPlace}${elsewhere}`)));
  }
  out.push(line('', blank()));
  return out.join('\n');
}
