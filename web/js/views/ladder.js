// The FTP session ladder: three lanes (client, NAT/firewall, server), control commands and
// replies as arrows in frame order, each PASV/EPSV/PORT announcement with its port arithmetic,
// and every data connection drawn to where it really went, with a break mark where it failed.
// Built only from the `ftp` JSON section (sessions → channels, transfers) and the session's
// command/reply dialogue; unknown or missing fields leave parts out, never break the drawing.
import { d3, showTooltip, hideTooltip } from '../dom.js';

const PASSIVE_REPLY = { PASV: 227, LPSV: 228, EPSV: 229 };
/** Replies that mean "the data connection failed" (RFC 959 425/426, RFC 4217 522). */
const DATA_FAILURE_CODES = new Set([425, 426, 522]);

function clip(s, n = 72) {
  const t = String(s ?? '');
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
}

/** Rows in frame order from the session record and its commands (possibly empty). */
export function ladderRows(session, commands) {
  const rows = [];
  let order = 0;
  const add = (r) => { rows.push({ ...r, order: order++ }); return rows[rows.length - 1]; };
  if (session.greeting) add({ kind: 'reply', dir: 's2c', frame: session.greeting.frame, code: session.greeting.code, text: `${session.greeting.code} ${session.greeting.text ?? ''}` });
  if (commands.length > 0) {
    for (const c of commands) {
      const arg = c.masked ? '••••••' : c.arg;
      add({ kind: 'command', dir: 'c2s', frame: c.frame, verb: c.verb, text: arg === null || arg === undefined || arg === '' ? c.verb : `${c.verb} ${arg}`, ts: c.ts });
      if (c.preliminary) add({ kind: 'reply', dir: 's2c', frame: c.preliminary.frame, code: c.preliminary.code, text: String(c.preliminary.code), verb: c.verb });
      if (c.reply) add({ kind: 'reply', dir: 's2c', frame: c.reply.frame, code: c.reply.code, text: `${c.reply.code} ${c.reply.text ?? ''}`, verb: c.verb, ts: c.reply.ts });
    }
  } else {
    // No dialogue table: the transfers and announcements still tell most of the story.
    for (const t of session.transfers ?? []) {
      add({ kind: 'command', dir: 'c2s', frame: t.frame, verb: t.verb, text: t.name ? `${t.verb} ${t.name}` : t.verb });
      if (t.preliminary) add({ kind: 'reply', dir: 's2c', frame: t.preliminary.frame, code: t.preliminary.code, text: String(t.preliminary.code), verb: t.verb });
      if (t.reply) add({ kind: 'reply', dir: 's2c', frame: t.reply.frame, code: t.reply.code, text: `${t.reply.code} ${t.reply.text ?? ''}`, verb: t.verb });
    }
  }
  if (session.tlsFrom && Number.isFinite(session.tlsFrom.frame)) {
    add({ kind: 'band', frame: session.tlsFrom.frame + 0.4, text: `TLS from here (${session.tlsMode ?? 'FTPS'}): commands below are only what could be read` });
  }
  for (const ch of session.channels ?? []) {
    const passive = ch.mode === 'passive' || ch.kind in PASSIVE_REPLY;
    const dir = passive ? 's2c' : 'c2s';
    let anchor = rows.find((r) => r.frame === ch.frame && r.dir === dir && r.kind !== 'data');
    if (!anchor) {
      anchor = add(passive
        ? { kind: 'reply', dir, frame: ch.frame, code: PASSIVE_REPLY[ch.kind] ?? null, text: `${PASSIVE_REPLY[ch.kind] ?? ''} ${ch.text ?? ''}`.trim() }
        : { kind: 'command', dir, frame: ch.frame, verb: ch.kind, text: `${ch.kind} ${ch.text ?? ''}`.trim() });
    }
    anchor.announcement = ch;
    const conn = ch.observed;
    if (conn && Number.isFinite(conn.frame)) {
      add({ kind: 'data', frame: conn.frame, channel: ch, conn, state: conn.state ?? ch.outcome });
    } else if (ch.outcome === 'never-seen' || ch.outcome === 'not-captured') {
      const frame = ch.windowClosedFrame ? ch.windowClosedFrame - 0.5 : ch.frame + 0.5;
      add({ kind: 'data', frame, channel: ch, conn: null, state: ch.outcome });
    }
  }
  for (const conn of session.encryptedDataConnections ?? []) {
    if (Number.isFinite(conn.frame)) add({ kind: 'data', frame: conn.frame, channel: null, conn, state: conn.state });
  }
  rows.sort((a, b) => a.frame - b.frame || a.order - b.order);
  return rows;
}

const STATE_TEXT = {
  completed: 'connected',
  'syn-unanswered': 'SYN never answered',
  refused: 'refused with RST',
  'icmp-unreachable': 'ICMP unreachable',
  'half-open': 'half-open: SYN-ACK, then nothing',
  midstream: 'already open when the capture started',
  'never-seen': 'no connection attempt in the capture',
  'not-captured': 'not in the capture (filtered?)',
};

const FAILED = new Set(['syn-unanswered', 'refused', 'icmp-unreachable', 'half-open', 'never-seen']);

/** Draws into `holder` (an element); returns the svg node. */
export function drawLadder(holder, session, rows) {
  const lib = d3();
  const width = Math.max(980, holder.clientWidth || 980);
  const gutter = 120;
  const lanes = { client: gutter + 90, nat: gutter + (width - gutter) / 2, server: width - 90 };
  const top = 78;
  const heights = rows.map((r) => (r.kind === 'band' ? 30 : r.announcement ? 84 : r.kind === 'data' ? 62 : 40));
  const ys = [];
  heights.reduce((y, h, i) => { ys[i] = y; return y + h; }, top);
  const height = top + heights.reduce((a, b) => a + b, 0) + 30;
  const laneOf = (ip) => (ip === session.client ? 'client' : ip === session.server ? 'server' : null);

  const svg = lib.select(holder).append('svg')
    .attr('class', 'ladder').attr('viewBox', `0 0 ${width} ${height}`).attr('width', width).attr('height', height)
    .attr('role', 'img').attr('aria-label', `FTP session ${session.id ?? ''} ladder diagram`);
  const defs = svg.append('defs');
  for (const [id, cls] of [['arrow-ctl', 'ah-ctl'], ['arrow-ok', 'ah-ok'], ['arrow-bad', 'ah-bad'], ['arrow-reply', 'ah-reply']]) {
    defs.append('marker').attr('id', id).attr('viewBox', '0 0 10 10').attr('refX', 9).attr('refY', 5)
      .attr('markerUnits', 'userSpaceOnUse').attr('markerWidth', 10).attr('markerHeight', 10).attr('orient', 'auto-start-reverse')
      .append('path').attr('d', 'M0,0 L10,5 L0,10 z').attr('class', cls);
  }

  // Lanes and their headers.
  const laneInfo = [
    ['client', 'client', `${session.client ?? '?'}${session.clientPort ? `:${session.clientPort}` : ''}`],
    ['nat', 'NAT / firewall', 'between the two'],
    ['server', 'server', `${session.server ?? '?'}${session.serverPort ? `:${session.serverPort}` : ''}`],
  ];
  const lane = svg.append('g').attr('class', 'lanes');
  for (const [key, title, sub] of laneInfo) {
    const g = lane.append('g').attr('class', `lane lane-${key}`).attr('data-lane', key);
    g.append('line').attr('x1', lanes[key]).attr('x2', lanes[key]).attr('y1', top - 16).attr('y2', height - 10);
    g.append('text').attr('class', 'lane-title').attr('x', lanes[key]).attr('y', 22).attr('text-anchor', 'middle').text(title);
    g.append('text').attr('class', 'lane-sub').attr('x', lanes[key]).attr('y', 40).attr('text-anchor', 'middle').text(sub);
  }
  svg.append('text').attr('class', 'gutter-title').attr('x', 8).attr('y', 40).text('frame');

  rows.forEach((r, i) => {
    const y = ys[i] + 22;
    const g = svg.append('g').attr('class', `row row-${r.kind}`).attr('data-kind', r.kind).attr('data-frame', Math.floor(r.frame)).attr('data-y', y);
    if (r.kind !== 'band' && Number.isInteger(r.frame)) g.append('text').attr('class', 'frame-no').attr('x', 8).attr('y', y + 4).text(`#${r.frame}`);
    if (r.kind === 'band') { drawBand(g, r, y, lanes); return; }
    if (r.kind === 'data') { drawData(g, r, y, lanes, laneOf); return; }
    drawControl(g, r, y, lanes);
    if (r.announcement) drawAnnouncement(g, r.announcement, y, lanes, session);
  });
  // Labels sit on a plate so the lane lines they cross do not run through the letters.
  svg.selectAll('text.msg, text.data-state-label').each(function () {
    const box = this.getBBox();
    if (!box.width) return;
    this.parentNode.insertBefore(document.createElementNS('http://www.w3.org/2000/svg', 'rect'), this);
    lib.select(this.previousSibling).attr('class', 'label-plate')
      .attr('x', box.x - 4).attr('y', box.y - 1).attr('width', box.width + 8).attr('height', box.height + 2).attr('rx', 3);
  });
  return svg.node();
}

function drawBand(g, r, y, lanes) {
  g.append('rect').attr('class', 'band').attr('x', lanes.client - 40).attr('width', lanes.server - lanes.client + 80).attr('y', y - 12).attr('height', 20);
  g.append('text').attr('class', 'band-text').attr('x', lanes.nat).attr('y', y + 2).attr('text-anchor', 'middle').text(r.text);
}

function drawControl(g, r, y, lanes) {
  const c2s = r.dir === 'c2s';
  const [x1, x2] = c2s ? [lanes.client, lanes.server] : [lanes.server, lanes.client];
  const failed = r.kind === 'reply' && Number.isFinite(r.code) && r.code >= 400;
  const dataFailure = failed && DATA_FAILURE_CODES.has(r.code);
  g.classed(c2s ? 'command' : 'reply', true).classed('failed', failed);
  if (r.code !== undefined && r.code !== null) g.attr('data-code', r.code);
  if (r.verb) g.attr('data-verb', r.verb);
  g.append('line').attr('class', c2s ? 'ctl' : failed ? 'ctl bad' : 'ctl reply')
    .attr('x1', x1).attr('x2', x2 + (c2s ? -2 : 2)).attr('y1', y).attr('y2', y)
    .attr('marker-end', `url(#${failed ? 'arrow-bad' : c2s ? 'arrow-ctl' : 'arrow-reply'})`);
  g.append('text').attr('class', 'msg').attr('x', (lanes.client + lanes.server) / 2).attr('y', y - 7).attr('text-anchor', 'middle').text(clip(r.text, 90));
  g.append('title').text(`${r.text}\nframe ${r.frame}${r.ts ? `, ${r.ts}` : ''}`);
  if (dataFailure) breakMark(g, lanes.client + 26, y, `reply-${r.code}`, `${r.code}: the server gave up on the data connection`);
}

function drawAnnouncement(g, ch, y, lanes, session) {
  const box = g.append('g').attr('class', 'announcement').attr('data-channel', ch.id ?? '');
  const x = lanes.client + 40;
  const w = lanes.server - lanes.client - 80;
  box.append('rect').attr('x', x).attr('y', y + 8).attr('width', w).attr('height', 50).attr('rx', 5);
  const differs = ch.announcedIp && session.server && ch.mode !== 'active' && ch.announcedIp !== session.server;
  box.append('text').attr('class', 'ann-main').attr('x', x + 10).attr('y', y + 28)
    .text(`${ch.kind ?? 'announcement'} announces ${ch.announcedIp ?? '?'}:${ch.announcedPort ?? '?'}${differs ? ` — not the server's address ${session.server} the client connected to` : ''}`);
  box.append('text').attr('class', 'ann-math').attr('x', x + 10).attr('y', y + 48).text(ch.arithmetic ? `port: ${ch.arithmetic}` : `port ${ch.announcedPort ?? '?'}`);
  if (differs) box.classed('mismatch', true);
}

function drawData(g, r, y, lanes, laneOf) {
  const ch = r.channel;
  const conn = r.conn;
  const state = r.state ?? 'unknown';
  const failed = FAILED.has(state);
  g.attr('class', `row row-data data-conn state-${state}`).attr('data-state', state).attr('data-channel', ch?.id ?? '');
  let fromLane, toLane;
  if (conn) {
    fromLane = laneOf(conn.src) ?? 'nat';
    toLane = laneOf(conn.dst);
  } else {
    const active = ch?.mode === 'active';
    fromLane = active ? 'server' : 'client';
    toLane = active ? 'client' : 'server';
  }
  const x1 = lanes[fromLane];
  // A destination that is neither endpoint (e.g. the private address of a 227 reply) is
  // somewhere beyond the NAT/firewall: the connection is drawn as far as it could get.
  const xTarget = toLane ? lanes[toLane] : lanes.nat + (lanes.server - lanes.nat) * 0.55;
  let xEnd = xTarget;
  let breakX = null;
  if (state === 'syn-unanswered' || state === 'icmp-unreachable') { xEnd = lanes.nat; breakX = lanes.nat; }
  else if (state === 'refused') { breakX = xTarget; }
  else if (state === 'half-open') { breakX = x1 + Math.sign(xTarget - x1) * 30; }
  else if (state === 'never-seen') { xEnd = x1 + Math.sign(xTarget - x1) * 60; breakX = xEnd; }
  const dir = Math.sign(xEnd - x1) || 1;
  g.append('line').attr('class', `data ${failed ? 'bad' : state === 'completed' ? 'ok' : 'other'}`)
    .attr('x1', x1).attr('x2', breakX !== null ? breakX - dir * 10 : xEnd - dir * 2).attr('y1', y).attr('y2', y)
    .attr('marker-end', breakX !== null ? null : `url(#${state === 'completed' ? 'arrow-ok' : 'arrow-ctl'})`);
  if (state === 'refused') {
    g.append('line').attr('class', 'data rst').attr('x1', xTarget).attr('x2', xTarget - dir * 60).attr('y1', y + 12).attr('y2', y + 12).attr('marker-end', 'url(#arrow-bad)');
    g.append('text').attr('class', 'rst-label').attr('x', xTarget - dir * 66).attr('y', y + 16).attr('text-anchor', dir > 0 ? 'end' : 'start').text('RST');
  }
  const endpoint = conn ? `${conn.src}:${conn.srcPort} → ${conn.dst}:${conn.dstPort}` : ch ? `→ ${ch.announcedIp}:${ch.announcedPort}` : '';
  const what = ch ? `data connection (${ch.kind})` : 'data connection (encrypted session)';
  let detail = STATE_TEXT[state] ?? state;
  if (conn && state === 'syn-unanswered') detail += ` — SYN sent ${1 + (conn.synRetransmissions ?? 0)}×`;
  if (conn && state === 'icmp-unreachable' && Array.isArray(conn.icmp) && conn.icmp[0]) detail += ` — type ${conn.icmp[0].type} code ${conn.icmp[0].code} from ${conn.icmp[0].reporter}`;
  if (conn && state === 'refused' && conn.rstFrame) detail += ` (frame ${conn.rstFrame})`;
  if (conn && state === 'completed') {
    const bytes = (conn.bytesFromServer ?? 0) + (conn.bytesFromClient ?? 0);
    detail += `, ${bytes} bytes${Number.isFinite(conn.durationMs) ? ` in ${conn.durationMs} ms` : ''}${conn.tls ? ', TLS' : ''}`;
  }
  const wrongPlace = conn && ch && conn.dst !== ch.announcedIp && ch.mode !== 'active' ? ` (announced ${ch.announcedIp}, went to ${conn.dst})` : '';
  const toText = conn && !toLane ? ` — ${conn.dst} is neither the client nor the server seen on the control connection` : '';
  g.append('text').attr('class', `msg data-label ${failed ? 'bad' : ''}`).attr('x', (lanes.client + lanes.server) / 2).attr('y', y - 8).attr('text-anchor', 'middle')
    .text(clip(`${what} ${endpoint}${wrongPlace}`, 110));
  g.append('text').attr('class', `data-state-label ${failed ? 'bad' : 'ok'}`).attr('x', (lanes.client + lanes.server) / 2).attr('y', y + 26).attr('text-anchor', 'middle')
    .text(clip(detail + toText, 120));
  g.append('title').text(`${what}\n${endpoint}\n${detail}${toText}${conn ? `\nframes ${conn.frame}…${conn.lastFrame ?? ''}` : ''}`);
  if (breakX !== null) breakMark(g, breakX, y, state, detail);
  g.on('mousemove', (event) => showTooltip(event, [what, endpoint, detail, ...(conn ? [`frames ${conn.frame}…${conn.lastFrame ?? ''}`] : [])]))
    .on('mouseleave', hideTooltip);
}

/** The ✕ where a connection died. */
function breakMark(g, x, y, kind, label) {
  const m = g.append('g').attr('class', 'break-mark').attr('data-kind', kind).attr('transform', `translate(${x},${y})`);
  m.append('circle').attr('r', 11);
  m.append('path').attr('d', 'M-6,-6 L6,6 M-6,6 L6,-6');
  m.append('title').text(label);
  return m;
}
