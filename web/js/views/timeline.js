// Incident timeline: findings and dated facts (FTP commands and replies, announcements, failed
// connections, and anything dated in the protocol sections) on one zoomable UTC axis. Scroll
// or drag to zoom and pan; the list below follows the visible window.
import { el, mount, section, emptyNote, isoToMicros, d3, fmtTime, showTooltip, hideTooltip } from '../dom.js';
import { getJson } from '../api.js';

const LANES = ['findings', 'ftp', 'flows', 'tls', 'nlb', 'other', 'capture'];
const SECTION_LIMIT = 2000;

function laneOf(e) {
  if (e.kind === 'finding') return 'findings';
  if (e.kind.startsWith('ftp')) return 'ftp';
  if (e.kind === 'flow-failure') return 'flows';
  if (e.kind === 'capture') return 'capture';
  return LANES.includes(e.kind) ? e.kind : 'other';
}

/** Dated records of the protocol sections other than ftp (the server's timeline has FTP). */
export function sectionEvents(doc) {
  const out = [];
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'captures' || key === 'findings' || key === 'ftp') continue;
    let n = 0;
    const walk = (v, depth, path) => {
      if (n >= SECTION_LIMIT || depth > 8 || v === null || typeof v !== 'object') return;
      if (Array.isArray(v)) { for (const x of v) walk(x, depth + 1, path); return; }
      const when = v.ts ?? v.firstTs ?? v.fromTs ?? v.time;
      const us = typeof when === 'string' ? isoToMicros(when) : null;
      if (us !== null) {
        n++;
        out.push({ us, ts: when, kind: key, label: labelFor(key, v, path), severity: path === 'gaps' && v.beyondTolerance ? 'high' : null, frame: Number.isFinite(v.frame) ? v.frame : (Number.isFinite(v.firstFrame) ? v.firstFrame : (Number.isFinite(v.afterFrame) ? v.afterFrame : null)) });
      }
      for (const [k, x] of Object.entries(v)) if (x && typeof x === 'object') walk(x, depth + 1, k);
    };
    walk(value, 0, key);
  }
  return out;
}

function labelFor(key, v, path) {
  if (key === 'tls') {
    const who = v.sni ?? v.server ?? '';
    return `TLS ${path === 'handshakes' ? 'handshake' : path} ${who} ${v.version ?? ''}${v.resumed === true ? ' (resumed)' : ''}`.replace(/\s+/g, ' ').trim();
  }
  if (path === 'bindings' && v.ip && v.mac) return `ARP: ${v.ip} is at ${v.mac}${v.nlb ? ` (${v.nlb})` : ''}`;
  if (path === 'groups' && v.group) return `IGMP group ${v.group}`;
  if (path === 'clusters' && v.clusterIp) return `NLB cluster ${v.clusterIp} (${v.mode ?? '?'} mode) first seen`;
  if (path === 'hosts' && v.ip) return `NLB host ${v.ip} (priority ${v.priority ?? '?'}) first heartbeat`;
  if (path === 'gaps') return `NLB heartbeat gap: ${v.seconds ?? '?'} s, ${v.missed ?? '?'} missed${v.beyondTolerance ? ' (beyond tolerance: reconvergence)' : ''}`;
  if (path === 'timeline') return `NLB heartbeats: ${v.heartbeats ?? '?'} without a miss from here`;
  if (path === 'convergence') return `NLB convergence state ${v.state ?? '?'}`;
  const words = ['code', 'kind', 'type', 'event', 'ip', 'clusterIp', 'host', 'message'].map((k) => v[k]).filter((x) => typeof x === 'string' || typeof x === 'number');
  return `${key} ${path}${words.length ? `: ${words.join(' ')}` : ''}`;
}

export async function renderTimeline(body, { id, doc, isCurrent }) {
  const server = await getJson(`/api/captures/${id}/timeline`);
  if (!isCurrent()) return;
  const events = [...(server.events ?? []), ...sectionEvents(doc)]
    .filter((e) => Number.isFinite(e.us))
    .map((e) => ({ ...e, lane: laneOf(e), date: new Date(e.us / 1000) }))
    .sort((a, b) => a.us - b.us);
  if (events.length === 0) { mount(body, emptyNote('Nothing dated in this capture.')); return; }
  const lanes = LANES.filter((l) => events.some((e) => e.lane === l));
  const lib = d3();
  const width = 1000, left = 90, right = 20, laneH = 46, top = 10;
  const height = top + lanes.length * laneH + 34;
  const [t0, t1] = lib.extent(events, (e) => e.date);
  const pad = Math.max(5, (t1 - t0) * 0.03);
  const x = lib.scaleUtc().domain([new Date(+t0 - pad), new Date(+t1 + pad)]).range([left, width - right]);
  const holder = el('div', { class: 'chart timeline', id: 'timeline-chart' });
  const list = el('div', { class: 'timeline-list' });
  const windowNote = el('p', { class: 'muted', id: 'timeline-window' });
  const svg = lib.select(holder).append('svg').attr('viewBox', `0 0 ${width} ${height}`).attr('class', 'timeline-svg').attr('role', 'img').attr('aria-label', 'incident timeline');
  svg.append('defs').append('clipPath').attr('id', 'tl-clip').append('rect').attr('x', left).attr('y', 0).attr('width', width - left - right).attr('height', height);
  lanes.forEach((l, i) => {
    svg.append('rect').attr('class', `tl-lane ${i % 2 ? 'odd' : ''}`).attr('x', left).attr('y', top + i * laneH).attr('width', width - left - right).attr('height', laneH);
    svg.append('text').attr('class', 'tl-lane-label').attr('x', left - 8).attr('y', top + i * laneH + laneH / 2).attr('dy', '0.35em').attr('text-anchor', 'end').text(l);
  });
  const axisG = svg.append('g').attr('class', 'axis').attr('transform', `translate(0,${top + lanes.length * laneH})`);
  const axis = lib.axisBottom(x).ticks(9);
  const marks = svg.append('g').attr('clip-path', 'url(#tl-clip)').selectAll('circle').data(events).join('circle')
    .attr('class', (e) => `tl-mark lane-${e.lane} ${e.severity ? `sev-fill-${e.severity}` : ''}`)
    .attr('r', (e) => (e.lane === 'findings' ? 7 : 4.5))
    .attr('cy', (e, i) => top + lanes.indexOf(e.lane) * laneH + laneH / 2 + ((i % 3) - 1) * 9)
    .on('mousemove', (event, e) => showTooltip(event, [fmtTime(e.ts), e.label, e.frame ? `frame ${e.frame}` : '']))
    .on('mouseleave', hideTooltip);
  marks.append('title').text((e) => `${e.ts}\n${e.label}`);

  let zx = x;
  const redraw = () => {
    axisG.call(axis.scale(zx));
    marks.attr('cx', (e) => zx(e.date));
    const [a, b] = zx.domain();
    const visible = events.filter((e) => e.date >= a && e.date <= b);
    windowNote.textContent = `${fmtTime(a.toISOString())} → ${fmtTime(b.toISOString())}: ${visible.length} of ${events.length} events`;
    mount(list, el('table', { class: 'grid small' },
      el('thead', {}, el('tr', {}, ['time (UTC)', 'lane', 'what', 'frame'].map((h) => el('th', {}, h)))),
      el('tbody', {}, visible.slice(0, 300).map((e) => el('tr', { class: e.severity ? `sev-row-${e.severity}` : null },
        el('td', { class: 'mono' }, String(e.ts).slice(11).replace('Z', '')), el('td', {}, e.lane), el('td', { class: 'label' }, e.label), el('td', { class: 'num' }, e.frame ?? ''))))),
      visible.length > 300 ? el('p', { class: 'muted' }, `… ${visible.length - 300} more: zoom in`) : null);
  };
  const focusX = () => {
    const [a, b] = zx.domain();
    const visible = events.filter((e) => e.date >= a && e.date <= b);
    return visible.length ? zx(visible[Math.floor(visible.length / 2)].date) : (left + width - right) / 2;
  };
  // Zoom down to a window of a few milliseconds (frames are µs apart, Date keeps ms).
  const span = +x.domain()[1] - +x.domain()[0];
  const zoom = lib.zoom().scaleExtent([1, Math.max(1, span / 5)]).extent([[left, 0], [width - right, height]]).translateExtent([[left, 0], [width - right, height]])
    .on('zoom', (ev) => { zx = ev.transform.rescaleX(x); redraw(); });
  svg.call(zoom);
  const button = (text, fn) => el('button', { type: 'button', class: 'button small', on: { click: fn } }, text);
  const controls = el('div', { class: 'controls' },
    // Buttons zoom around the middle event of the window, where there is something to see.
    button('zoom in', () => svg.transition().duration(200).call(zoom.scaleBy, 2, [focusX(), 0])),
    button('zoom out', () => svg.transition().duration(200).call(zoom.scaleBy, 0.5, [focusX(), 0])),
    button('reset', () => svg.transition().duration(200).call(zoom.transform, lib.zoomIdentity)),
    el('span', { class: 'muted' }, ' scroll to zoom, drag to pan'));
  redraw();
  mount(body, section('Incident timeline', controls, holder, windowNote, list),
    server.truncated ? el('p', { class: 'muted' }, 'Only the first events are shown.') : null);
}
