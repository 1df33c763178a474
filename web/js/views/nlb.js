// Windows NLB: cluster mode, members, a heartbeat timeline per host (gaps stand out: a host is
// declared dead after 5 missed 1 s periods) and the share of this port's traffic that was
// flooded to it over time. Reads the `nlb` section; its per-host and per-second fields are read
// under the names listed in `model` so that the view copes with what the L2 module emits.
import { el, mount, section, badge, emptyNote, kvTable, valueNode, isoToMicros, d3, fmtTime } from '../dom.js';

const first = (o, names) => { for (const n of names) if (o && o[n] !== undefined && o[n] !== null) return o[n]; return undefined; };

/** µs since the epoch from an ISO string, a µs number, or {ts}. */
function micros(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v > 1e14 ? v : v > 1e11 ? v * 1000 : v * 1e6;
  if (typeof v === 'string') return isoToMicros(v);
  if (typeof v === 'object') return micros(first(v, ['ts', 'time', 't', 'firstTs', 'start']));
  return null;
}

function hostKey(h) {
  return String(first(h, ['ip', 'hostIp', 'dedicatedIp', 'host']) ?? first(h, ['priority', 'hostId']) ?? '?');
}

export function floodSeries(flooding, span = null) {
  if (!flooding) return [];
  const arr = Array.isArray(flooding) ? flooding : first(flooding, ['perSecond', 'series', 'seconds', 'buckets', 'timeline']) ?? [];
  const points = arr.map((p) => {
    const t = micros(first(p, ['t', 'ts', 'time', 'start', 'second']));
    // {frames, totalFrames}: frames are the flooded ones; {flooded, frames}: frames are all.
    const total = first(p, ['totalFrames', 'total']) ?? (p.flooded !== undefined ? p.frames : undefined);
    const flooded = first(p, ['flooded', 'floodedFrames']) ?? (p.totalFrames !== undefined ? p.frames : undefined);
    let share = first(p, ['share', 'floodedShare', 'shareFrames']);
    if (share === undefined && Number.isFinite(total) && total > 0 && Number.isFinite(flooded)) share = flooded / total;
    if (Number.isFinite(share) && share > 1) share /= 100;
    return { t, second: Number.isInteger(p.second) ? p.second : null, share: Number.isFinite(share) ? share : null, frames: total ?? null, flooded: flooded ?? null };
  }).filter((p) => p.t !== null && p.share !== null).sort((a, b) => a.t - b.t);
  // Per-second rows list only the seconds in which something was flooded: the others are 0 %.
  if (span && points.length && points.every((p) => p.second !== null)) {
    const lo = Math.floor(span[0] / 1e6), hi = Math.floor(span[1] / 1e6);
    if (hi - lo < 200000) {
      const have = new Map(points.map((p) => [p.second, p]));
      const filled = [];
      for (let s = Math.min(lo, points[0].second); s <= Math.max(hi, points[points.length - 1].second); s++) {
        filled.push(have.get(s) ?? { t: s * 1e6, second: s, share: 0, frames: null, flooded: 0 });
      }
      return filled;
    }
  }
  return points;
}

const HOST_SKIP = ['ip', 'priority', 'heartbeats', 'heartbeatTimes', 'beats', 'gaps', 'timeline', 'convergence', 'teaming', 'srcMacs', 'dstMacs', 'addresses', 'vlans', 'packetsHandled'];
const CLUSTER_MAIN = ['clusterIp', 'mode', 'clusterMac', 'confirmedBy', 'igmpGroup', 'heartbeatPeriod', 'heartbeatFrames', 'firstFrame', 'lastFrame', 'firstTs', 'lastTs', 'duplicatePriorities', 'virtualIps', 'modeEvidence'];

export function model(sectionData, span) {
  const clusters = (sectionData?.clusters ?? []).map((c) => {
    const hosts = new Map();
    for (const h of c.hosts ?? []) {
      const beats = first(h, ['heartbeatTimes', 'beats', 'heartbeats']);
      const runs = (first(h, ['timeline']) ?? []).map((r) => ({ from: micros(r.firstTs), to: micros(r.lastTs), count: r.heartbeats ?? null, firstFrame: r.firstFrame, lastFrame: r.lastFrame })).filter((r) => r.from !== null && r.to !== null);
      const gaps = (first(h, ['gaps', 'heartbeatGaps']) ?? []).map((g) => ({ from: micros(first(g, ['fromTs', 'from', 'firstTs'])), to: micros(first(g, ['toTs', 'to', 'lastTs'])), seconds: g.seconds, missed: g.missed, beyond: g.beyondTolerance === true })).filter((g) => g.from !== null && g.to !== null);
      hosts.set(hostKey(h), { record: h, beats: Array.isArray(beats) ? beats.map(micros).filter((x) => x !== null) : [], runs, gaps, stopped: h.stopped ?? null });
    }
    for (const hb of first(c, ['heartbeatTimeline']) ?? []) {
      const key = hostKey(hb);
      if (!hosts.has(key)) hosts.set(key, { record: { ip: key }, beats: [], runs: [], gaps: [], stopped: null });
      const t = micros(hb);
      if (t !== null) hosts.get(key).beats.push(t);
    }
    for (const h of hosts.values()) h.beats.sort((a, b) => a - b);
    const flooding = first(c, ['flooded', 'flooding', 'flood']);
    return { record: c, hosts: [...hosts.entries()].map(([key, h]) => ({ key, ...h })), flooding, flood: floodSeries(flooding, span) };
  });
  const ports = (sectionData?.ports ?? []).map((p) => ({ record: p, flood: floodSeries(first(p, ['unknownUnicast']), span) }));
  return { clusters, ports, flood: floodSeries(first(sectionData ?? {}, ['flooding', 'flood']), span) };
}

const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '–');

export function renderNlb(body, { doc }) {
  const cap = doc.captures?.[0] ?? {};
  const span = cap.firstTs && cap.lastTs ? [isoToMicros(cap.firstTs), isoToMicros(cap.lastTs)] : null;
  const m = model(doc.nlb, span);
  const arp = doc.nlb?.arp ?? {};
  const otherFlood = m.ports.filter((p) => p.flood.some((x) => x.share > 0));
  if (m.clusters.length === 0 && m.flood.length === 0 && otherFlood.length === 0 && !(arp.conflicts ?? []).length) {
    mount(body, emptyNote('No NLB cluster seen in this capture (or the NLB analysis is not available in this build).'));
    return;
  }
  mount(body,
    m.flood.length ? section('Traffic flooded to this port', floodChart(m.flood)) : null,
    m.clusters.map((c) => {
      const r = c.record;
      const mode = first(r, ['mode']) ?? '?';
      const f = c.flooding && !Array.isArray(c.flooding) ? c.flooding : null;
      return el('section', { class: 'card nlb-cluster', dataset: { mode, cluster: first(r, ['clusterIp']) } },
        el('h2', {}, `NLB cluster ${first(r, ['clusterIp', 'vip']) ?? '?'} `, badge(`${mode} mode`, mode === 'unicast' ? 'warn' : '')),
        el('div', { class: 'grid2' },
          el('div', {}, kvTable(Object.fromEntries(CLUSTER_MAIN.filter((k) => r[k] !== undefined).map((k) => [k, r[k]]))),
            el('details', {}, el('summary', {}, 'all fields'), kvTable(Object.fromEntries(Object.entries(r).filter(([k]) => !CLUSTER_MAIN.includes(k) && !['hosts', 'flooded', 'flooding'].includes(k)))))),
          el('div', {}, el('h3', {}, 'Member hosts'), hostsTable(c.hosts))),
        el('h3', {}, 'Heartbeats'),
        c.hosts.some((h) => h.beats.length || h.runs.length) ? heartbeatChart(c.hosts, span) : emptyNote('No heartbeat times in this analysis.'),
        el('h3', {}, 'Share of the frames reaching this port that were flooded cluster traffic'),
        f ? el('p', {}, `${f.frames ?? '?'} frames flooded in all: ${pct(f.shareFrames)} of the port's frames, ${pct(f.shareUnicastFrames)} of its unicast frames`,
          f.peak ? `; peak ${pct(f.peak.shareFrames)} in one second` : '', '.') : null,
        c.flood.length ? floodChart(c.flood) : emptyNote('Nothing of this cluster was flooded to this port.'));
    }),
    otherFlood.map((p) => section('Other unknown-unicast traffic flooded to this port', floodChart(p.flood))),
    (arp.bindings ?? []).length || (arp.conflicts ?? []).length ? section('ARP', arpTables(arp)) : null);
}

function arpTables(arp) {
  const conflicts = arp.conflicts ?? [];
  const bindings = (arp.bindings ?? []).filter((b) => b.ethSrcMismatch || b.multicastMac || b.nlb || conflicts.some((c) => c.ip === b.ip));
  return [
    conflicts.length ? el('table', { class: 'grid' }, el('thead', {}, el('tr', {}, ['address claimed by several MACs', 'MACs', 'NLB MACs'].map((h) => el('th', {}, h)))),
      el('tbody', {}, conflicts.map((c) => el('tr', {}, el('td', { class: 'mono' }, c.ip), el('td', { class: 'mono' }, valueNode(c.macs)), el('td', { class: 'mono' }, valueNode(c.nlbMacs)))))) : null,
    bindings.length ? el('table', { class: 'grid' }, el('thead', {}, el('tr', {}, ['address', 'MAC', 'Ethernet source ≠ ARP sender', 'multicast MAC', 'NLB', 'frames'].map((h) => el('th', {}, h)))),
      el('tbody', {}, bindings.map((b) => el('tr', {}, el('td', { class: 'mono' }, b.ip), el('td', { class: 'mono' }, b.mac), el('td', { class: 'num' }, String(b.ethSrcMismatch ?? '')),
        el('td', {}, b.multicastMac ? 'yes' : ''), el('td', {}, b.nlb ?? ''), el('td', { class: 'num' }, String(b.frames ?? '')))))) : emptyNote('No unusual ARP bindings.'),
  ];
}

function hostsTable(hosts) {
  if (hosts.length === 0) return emptyNote('No member hosts identified.');
  return el('table', { class: 'grid nlb-hosts' },
    el('thead', {}, el('tr', {}, ['host', 'priority', 'heartbeats', 'gaps', 'details'].map((h) => el('th', {}, h)))),
    el('tbody', {}, hosts.map((h) => el('tr', { class: h.gaps.some((g) => g.beyond) || h.stopped ? 'bad' : null },
      el('td', { class: 'mono' }, h.key),
      el('td', { class: 'num' }, String(first(h.record, ['priority', 'hostId']) ?? '–')),
      el('td', { class: 'num' }, String(Number.isFinite(h.record.heartbeats) ? h.record.heartbeats : h.beats.length)),
      el('td', { class: 'num' }, String(h.gaps.length), h.stopped ? el('div', { class: 'bad-text' }, 'stopped') : null),
      el('td', {}, el('details', {}, el('summary', {}, 'fields'), kvTable(Object.fromEntries(Object.entries(h.record).filter(([k]) => !HOST_SKIP.includes(k))))))))));
}

function heartbeatChart(hosts, span) {
  const lib = d3();
  const holder = el('div', { class: 'chart heartbeat-chart' });
  const times = hosts.flatMap((h) => [...h.beats, ...h.runs.flatMap((r) => [r.from, r.to]), ...h.gaps.flatMap((g) => [g.from, g.to])]);
  if (span) times.push(...span);
  const width = 900, rowH = 28, left = 140, height = hosts.length * rowH + 40;
  const x = lib.scaleUtc().domain(lib.extent(times, (t) => new Date(t / 1000))).range([left, width - 20]);
  const X = (t) => x(new Date(t / 1000));
  const svg = lib.select(holder).append('svg').attr('viewBox', `0 0 ${width} ${height}`).attr('class', 'heartbeats').attr('role', 'img').attr('aria-label', 'heartbeat timeline');
  svg.append('g').attr('transform', `translate(0,${height - 28})`).attr('class', 'axis').call(lib.axisBottom(x).ticks(8));
  hosts.forEach((h, i) => {
    const y = 8 + i * rowH;
    const g = svg.append('g').attr('class', 'hb-row').attr('data-host', h.key);
    g.append('text').attr('x', left - 8).attr('y', y + 12).attr('text-anchor', 'end').attr('class', 'mono').text(h.key);
    g.selectAll('rect.hb-run').data(h.runs).join('rect').attr('class', 'hb-run')
      .attr('x', (r) => X(r.from)).attr('width', (r) => Math.max(2, X(r.to) - X(r.from))).attr('y', y + 3).attr('height', 14)
      .append('title').text((r) => `${r.count ?? '?'} heartbeats without a miss, frames ${r.firstFrame}…${r.lastFrame}`);
    g.selectAll('line.beat').data(h.beats).join('line').attr('class', 'beat').attr('x1', X).attr('x2', X).attr('y1', y).attr('y2', y + 20);
    const gaps = h.gaps.length ? h.gaps : h.beats.slice(1).map((t, k) => ({ from: h.beats[k], to: t, seconds: (t - h.beats[k]) / 1e6, beyond: t - h.beats[k] > 5e6 })).filter((gp) => gp.seconds > 1.5);
    g.selectAll('rect.hb-gap').data(gaps).join('rect').attr('class', (gp) => `hb-gap ${gp.beyond ? 'beyond' : ''}`)
      .attr('x', (gp) => X(gp.from)).attr('width', (gp) => Math.max(2, X(gp.to) - X(gp.from))).attr('y', y).attr('height', 20)
      .append('title').text((gp) => `no heartbeat for ${Number(gp.seconds).toFixed(1)} s${gp.beyond ? ': beyond the 5-period tolerance, the cluster reconverges' : ''}`);
  });
  return holder;
}

function floodChart(series) {
  const lib = d3();
  const holder = el('div', { class: 'chart flood' });
  const width = 900, height = 240, left = 56, bottom = 30, top = 12;
  const [a, b] = lib.extent(series, (p) => new Date(p.t / 1000));
  const x = lib.scaleUtc().domain([a, +b === +a ? new Date(+a + 1000) : b]).range([left, width - 16]);
  const y = lib.scaleLinear().domain([0, 1]).range([height - bottom, top]);
  const svg = lib.select(holder).append('svg').attr('viewBox', `0 0 ${width} ${height}`).attr('class', 'flood-chart')
    .attr('role', 'img').attr('aria-label', 'share of frames flooded over time').attr('data-points', series.length);
  svg.append('g').attr('class', 'axis').attr('transform', `translate(0,${height - bottom})`).call(lib.axisBottom(x).ticks(8));
  svg.append('g').attr('class', 'axis').attr('transform', `translate(${left},0)`).call(lib.axisLeft(y).ticks(5).tickFormat(lib.format('.0%')));
  const area = lib.area().x((p) => x(new Date(p.t / 1000))).y0(y(0)).y1((p) => y(p.share)).curve(lib.curveStepAfter);
  const line = lib.line().x((p) => x(new Date(p.t / 1000))).y((p) => y(p.share)).curve(lib.curveStepAfter);
  svg.append('path').datum(series).attr('class', 'share-area').attr('d', area);
  svg.append('path').datum(series).attr('class', 'share-line').attr('d', line);
  svg.selectAll('circle.pt').data(series).join('circle').attr('class', 'pt').attr('r', series.length > 300 ? 1.2 : 2.5)
    .attr('cx', (p) => x(new Date(p.t / 1000))).attr('cy', (p) => y(p.share)).attr('data-share', (p) => p.share.toFixed(4))
    .append('title').text((p) => `${fmtTime(new Date(p.t / 1000).toISOString())}: ${(p.share * 100).toFixed(1)}% flooded${p.frames !== null ? ` (${p.flooded ?? '?'} of ${p.frames} frames)` : ''}`);
  const max = lib.max(series, (p) => p.share);
  const mean = lib.mean(series, (p) => p.share);
  return [holder, el('p', { class: 'flood-summary' }, el('span', { class: 'flood-max' }, `peak ${(max * 100).toFixed(0)}%`), ` of frames reaching this port were flooded; ${(mean * 100).toFixed(0)}% on average over ${series.length} intervals.`)];
}
