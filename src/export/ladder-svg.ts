/**
 * The FTP ladder as an SVG string, for the HTML report: three lanes (client, NAT/firewall,
 * server), control commands and replies as arrows, each announcement boxed with its port
 * arithmetic, data connections drawn to where they really went and a ✕ (class "break-mark")
 * where one died. No DOM: strings only, every packet-derived text through xml(). Presentation
 * attributes carry the styling, so the drawing also reads right outside the report.
 */
import type { FtpSessionView } from './ftp-read.js';
import { connectionDetail, connectionPath, DATA_FAILURE_CODES, FAILED_STATES } from './ftp-words.js';
import { clip, endpoint, xml } from './text.js';
import { dataGeometry, ladderRows, type Lane, type LadderRow } from './ladder.js';

const COLOR = { ctl: '#2c3e50', reply: '#5d6d7e', bad: '#c0392b', ok: '#1e8449', other: '#7f8c8d', lane: '#aab7b8', band: '#fdebd0', box: '#eaf2f8', boxBad: '#fadbd8' };
const WIDTH = 980;
const GUTTER = 120;
const TOP = 78;
/** Monospace glyph width at font-size 12, for label plates (no layout engine to ask). */
const CHAR = 7.3;

function attrs(a: Record<string, string | number | null | undefined>): string {
  return Object.entries(a).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => ` ${k}="${xml(v)}"`).join('');
}

function el(name: string, a: Record<string, string | number | null | undefined>, body?: string): string {
  return body === undefined ? `<${name}${attrs(a)}/>` : `<${name}${attrs(a)}>${body}</${name}>`;
}

/** A label on a white plate, so lane lines do not run through the letters. */
function label(x: number, y: number, text: string, cls: string, fill: string, anchor: 'middle' | 'start' | 'end' = 'middle'): string {
  const w = text.length * CHAR + 8;
  const left = anchor === 'middle' ? x - w / 2 : anchor === 'start' ? x - 4 : x - w + 4;
  return el('rect', { class: 'label-plate', x: left.toFixed(1), y: y - 12, width: w.toFixed(1), height: 16, rx: 3, fill: '#ffffff', 'fill-opacity': 0.92 })
    + el('text', { class: cls, x, y, 'text-anchor': anchor, fill }, xml(text));
}

function breakMark(x: number, y: number, kind: string, title: string): string {
  return el('g', { class: 'break-mark', 'data-kind': kind, transform: `translate(${x.toFixed(1)},${y})` },
    el('circle', { r: 11, fill: '#ffffff', stroke: COLOR.bad, 'stroke-width': 2 })
    + el('path', { d: 'M-6,-6 L6,6 M-6,6 L6,-6', stroke: COLOR.bad, 'stroke-width': 2.5, 'stroke-linecap': 'round' })
    + el('title', {}, xml(title)));
}

export function ladderSvg(s: FtpSessionView, uid = `s${s.capture}-${s.id}`): string {
  const rows = ladderRows(s);
  const lanes: Record<Lane, number> = { client: GUTTER + 90, nat: GUTTER + (WIDTH - GUTTER) / 2, server: WIDTH - 90 };
  const mid = (lanes.client + lanes.server) / 2;
  const heights = rows.map((r) => (r.kind === 'band' ? 30 : (r.kind === 'command' || r.kind === 'reply') && r.announcement ? 84 : r.kind === 'data' ? 62 : 40));
  const ys: number[] = [];
  heights.reduce((y, h, i) => { ys[i] = y; return y + h; }, TOP);
  const height = TOP + heights.reduce((a, b) => a + b, 0) + 30;
  const marker = (name: string): string => `${uid}-${name}`;

  const parts: string[] = [];
  parts.push(el('title', {}, xml(`FTP session ${s.id}: ${endpoint(s.client, s.clientPort)} → ${endpoint(s.server, s.serverPort)}`)));
  parts.push(el('defs', {}, (['ctl', 'reply', 'ok', 'bad'] as const).map((k) => el('marker', {
    id: marker(k), viewBox: '0 0 10 10', refX: 9, refY: 5, markerUnits: 'userSpaceOnUse', markerWidth: 10, markerHeight: 10, orient: 'auto-start-reverse',
  }, el('path', { d: 'M0,0 L10,5 L0,10 z', fill: COLOR[k] }))).join('')));

  const laneInfo: Array<[Lane, string, string]> = [
    ['client', 'client', endpoint(s.client, s.clientPort)],
    ['nat', 'NAT / firewall', 'between the two'],
    ['server', 'server', endpoint(s.server, s.serverPort)],
  ];
  parts.push(el('g', { class: 'lanes' }, laneInfo.map(([key, title, sub]) => el('g', { class: `lane lane-${key}`, 'data-lane': key },
    el('line', { x1: lanes[key], x2: lanes[key], y1: TOP - 16, y2: height - 10, stroke: COLOR.lane, 'stroke-width': key === 'nat' ? 1 : 2, 'stroke-dasharray': key === 'nat' ? '6 4' : null })
    + el('text', { class: 'lane-title', x: lanes[key], y: 22, 'text-anchor': 'middle', 'font-weight': 'bold', fill: COLOR.ctl }, xml(title))
    + el('text', { class: 'lane-sub', x: lanes[key], y: 40, 'text-anchor': 'middle', fill: COLOR.reply }, xml(sub)))).join('')));
  parts.push(el('text', { class: 'gutter-title', x: 8, y: 40, fill: COLOR.reply }, 'frame'));

  rows.forEach((r, i) => {
    const y = ys[i] + 22;
    const frameNo = r.kind !== 'band' && Number.isInteger(r.frame) ? el('text', { class: 'frame-no', x: 8, y: y + 4, fill: COLOR.reply }, xml(`#${r.frame}`)) : '';
    parts.push(frameNo + row(s, r, y, lanes, mid, marker));
  });

  return `<svg xmlns="http://www.w3.org/2000/svg"${attrs({
    class: 'ladder', viewBox: `0 0 ${WIDTH} ${height}`, width: WIDTH, height, role: 'img', 'aria-label': `FTP session ${s.id} ladder diagram`,
    'font-family': 'DejaVu Sans Mono, Menlo, Consolas, monospace', 'font-size': 12, 'data-session': s.id,
  })}>${parts.join('')}</svg>`;
}

function row(s: FtpSessionView, r: LadderRow, y: number, lanes: Record<Lane, number>, mid: number, marker: (n: string) => string): string {
  if (r.kind === 'band') {
    return el('g', { class: 'row row-band', 'data-kind': 'band' },
      el('rect', { class: 'band', x: lanes.client - 40, y: y - 12, width: lanes.server - lanes.client + 80, height: 20, fill: COLOR.band })
      + el('text', { class: 'band-text', x: lanes.nat, y: y + 2, 'text-anchor': 'middle', fill: COLOR.ctl }, xml(r.text)));
  }
  if (r.kind === 'data') return dataRow(s, r, y, lanes, mid, marker);
  const c2s = r.kind === 'command';
  const code = r.kind === 'reply' ? r.code : null;
  const failed = code !== null && code >= 400;
  const [x1, x2] = c2s ? [lanes.client, lanes.server] : [lanes.server, lanes.client];
  const color = failed ? COLOR.bad : c2s ? COLOR.ctl : COLOR.reply;
  let body = el('line', { class: `ctl${failed ? ' bad' : c2s ? '' : ' reply'}`, x1, x2: x2 + (c2s ? -2 : 2), y1: y, y2: y, stroke: color, 'stroke-width': 1.5, 'marker-end': `url(#${marker(failed ? 'bad' : c2s ? 'ctl' : 'reply')})` })
    + label(mid, y - 7, clip(r.text, 90), 'msg', color)
    + el('title', {}, xml(`${r.text}\nframe ${r.frame}`, false));
  if (failed && DATA_FAILURE_CODES.has(code)) body += breakMark(lanes.client + 26, y, `reply-${code}`, `${code}: the server gave up on the data connection`);
  if (r.announcement) {
    const ch = r.announcement;
    const differs = ch.mode !== 'active' && ch.kind !== 'EPSV' && ch.announcedIp !== s.server;
    const x = lanes.client + 40;
    const w = lanes.server - lanes.client - 80;
    body += el('g', { class: `announcement${differs ? ' mismatch' : ''}`, 'data-channel': ch.id },
      el('rect', { x, y: y + 8, width: w, height: 50, rx: 5, fill: differs ? COLOR.boxBad : COLOR.box, stroke: differs ? COLOR.bad : COLOR.lane })
      + el('text', { class: 'ann-main', x: x + 10, y: y + 28, fill: differs ? COLOR.bad : COLOR.ctl }, xml(clip(`${ch.kind} announces ${endpoint(ch.announcedIp, ch.announcedPort)}${differs ? ` — not the server's address ${s.server} the client connected to` : ''}`, 78)))
      + el('text', { class: 'ann-math', x: x + 10, y: y + 48, fill: COLOR.ctl }, xml(clip(ch.arithmetic ? `port: ${ch.arithmetic}` : `port ${ch.announcedPort}`, 78))));
  }
  const attrsRow: Record<string, string | number | null> = { class: `row row-${r.kind} ${c2s ? 'command' : 'reply'}${failed ? ' failed' : ''}`, 'data-kind': r.kind, 'data-frame': Math.floor(r.frame), 'data-code': code, 'data-verb': r.verb };
  return el('g', attrsRow, body);
}

function dataRow(s: FtpSessionView, r: Extract<LadderRow, { kind: 'data' }>, y: number, lanes: Record<Lane, number>, mid: number, marker: (n: string) => string): string {
  const g = dataGeometry(s, r);
  const failed = FAILED_STATES.has(r.state);
  const x1 = lanes[g.from];
  const xTarget = g.to ? lanes[g.to] : lanes.nat + (lanes.server - lanes.nat) * 0.55;
  const dir = Math.sign(xTarget - x1) || 1;
  let xEnd = xTarget;
  let breakX: number | null = null;
  if (g.breakAt === 'nat') { xEnd = lanes.nat; breakX = lanes.nat; }
  else if (g.breakAt === 'target') breakX = xTarget;
  else if (g.breakAt === 'start') { xEnd = x1 + dir * (r.state === 'half-open' ? 30 : 60); breakX = xEnd; }
  const color = failed ? COLOR.bad : r.state === 'completed' ? COLOR.ok : COLOR.other;
  const ch = r.channel, conn = r.conn;
  let body = el('line', {
    class: `data ${failed ? 'bad' : r.state === 'completed' ? 'ok' : 'other'}`, x1, x2: breakX !== null ? breakX - dir * 10 : xEnd - dir * 2, y1: y, y2: y,
    stroke: color, 'stroke-width': 2.5, 'stroke-dasharray': failed ? '7 4' : null,
    'marker-end': breakX !== null ? null : `url(#${marker(r.state === 'completed' ? 'ok' : 'ctl')})`,
  });
  if (r.state === 'refused') {
    body += el('line', { class: 'data rst', x1: xTarget, x2: xTarget - dir * 60, y1: y + 12, y2: y + 12, stroke: COLOR.bad, 'stroke-width': 1.5, 'marker-end': `url(#${marker('bad')})` })
      + el('text', { class: 'rst-label', x: xTarget - dir * 66, y: y + 16, 'text-anchor': dir > 0 ? 'end' : 'start', fill: COLOR.bad }, 'RST');
  }
  const path = conn ? connectionPath(conn) : ch ? `→ ${endpoint(ch.announcedIp, ch.announcedPort)}` : '';
  const what = ch ? `data connection (${ch.kind})` : 'data connection (encrypted session)';
  const wrongPlace = conn && ch && ch.mode !== 'active' && conn.dst !== ch.announcedIp ? ` (announced ${ch.announcedIp}, went to ${conn.dst})` : '';
  const elsewhere = conn && !g.to ? ` — ${conn.dst} is neither the client nor the server of the control connection` : '';
  const detail = connectionDetail(conn, r.state);
  body += label(mid, y - 8, clip(`${what} ${path}${wrongPlace}`, 110), `msg data-label${failed ? ' bad' : ''}`, color)
    + label(mid, y + 28, clip(detail + elsewhere, 120), `data-state-label ${failed ? 'bad' : 'ok'}`, color)
    + el('title', {}, xml(`${what}\n${path}\n${detail}${elsewhere}${conn ? `\nframes ${conn.synFrame ?? conn.firstFrame}…${conn.lastFrame ?? ''}` : ''}`, false));
  if (breakX !== null) body += breakMark(breakX, y, r.state, detail);
  return el('g', { class: `row row-data data-conn state-${r.state}`, 'data-kind': 'data', 'data-state': r.state, 'data-channel': ch?.id ?? null, 'data-frame': Math.floor(r.frame) }, body);
}
