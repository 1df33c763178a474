// Capture overview: what the file is, what went wrong reading it, findings by severity, flows
// by protocol, the busiest hosts.
import { el, mount, section, fmtBytes, fmtCount, fmtTime, fmtDuration, isoToMicros, emptyNote, SEVERITY_ORDER, d3, kvTable } from '../dom.js';

export function renderOverview(body, { id, doc }) {
  const cap = doc.captures?.[0] ?? {};
  const findings = doc.findings ?? [];
  const warnings = cap.warnings ?? [];
  const duration = (isoToMicros(cap.lastTs) ?? 0) - (isoToMicros(cap.firstTs) ?? 0);
  mount(body,
    el('div', { class: 'grid2' },
      section('Capture', kvTable({
        name: cap.name, format: `${cap.format ?? '?'}${cap.compressed ? ' (gzip)' : ''}`, 'link types': (cap.linktypes ?? []).join(', '),
        frames: fmtCount(cap.frames), bytes: fmtBytes(cap.bytes), starts: fmtTime(cap.firstTs), ends: fmtTime(cap.lastTs),
        duration: cap.firstTs ? fmtDuration(duration) : '–', sha256: cap.sha256,
      })),
      section('Findings by severity', severityChart(findings, id))),
    warnings.length ? el('section', { class: ['card', cap.damaged ? 'warn' : null], id: 'warnings' },
      el('h2', {}, cap.damaged ? 'Damaged capture: analysed up to the damage' : 'Warnings'),
      el('ul', { class: 'warnings' }, warnings.map((w) => el('li', {},
        w.offset >= 0 ? el('span', { class: 'mono' }, `byte ${fmtCount(w.offset)}: `) : null,
        w.frame ? el('span', { class: 'mono' }, `frame ${w.frame}: `) : null,
        w.message)))) : null,
    el('div', { class: 'grid2' },
      section('Flows by protocol', protocolChart(cap.protocols ?? [])),
      section('Protocol analyses', el('ul', { class: 'plain links' },
        el('li', {}, el('a', { href: `#/capture/${id}/ftp` }, `FTP sessions: ${doc.ftp?.sessions?.length ?? 0}`)),
        el('li', {}, el('a', { href: `#/capture/${id}/tls` }, `TLS handshakes: ${doc.tls?.handshakes?.length ?? 0}`)),
        el('li', {}, el('a', { href: `#/capture/${id}/nlb` }, `NLB clusters: ${doc.nlb?.clusters?.length ?? 0}`)),
        el('li', {}, el('a', { href: `#/capture/${id}/timeline` }, 'Incident timeline'))))),
    section('Hosts', hostsTable(cap.hosts ?? [])));
}

function severityChart(findings, id) {
  if (findings.length === 0) return emptyNote('No findings: nothing in this capture matched a known problem.');
  const counts = SEVERITY_ORDER.map((s) => ({ sev: s, n: findings.filter((f) => f.severity === s).length }));
  const holder = el('div', { class: 'chart', id: 'severity-chart' });
  const lib = d3();
  const w = 520, bar = 22, left = 70, h = counts.length * (bar + 8);
  const x = lib.scaleLinear().domain([0, lib.max(counts, (d) => d.n) || 1]).range([0, w - left - 40]);
  const svg = lib.select(holder).append('svg').attr('viewBox', `0 0 ${w} ${h}`).attr('class', 'bars').attr('role', 'img').attr('aria-label', 'findings by severity');
  const g = svg.selectAll('g').data(counts).join('g').attr('transform', (d, i) => `translate(0,${i * (bar + 8)})`);
  g.append('text').attr('x', left - 8).attr('y', bar / 2).attr('dy', '0.35em').attr('text-anchor', 'end').text((d) => d.sev);
  g.append('rect').attr('x', left).attr('height', bar).attr('width', (d) => Math.max(d.n ? 2 : 0, x(d.n))).attr('class', (d) => `sev-fill-${d.sev}`);
  g.append('text').attr('x', (d) => left + x(d.n) + 6).attr('y', bar / 2).attr('dy', '0.35em').attr('class', 'value').text((d) => d.n);
  return [holder, el('p', {}, el('a', { href: `#/capture/${id}/findings` }, `See all ${findings.length} findings →`))];
}

function protocolChart(protocols) {
  if (protocols.length === 0) return emptyNote('No flows.');
  const rows = protocols.slice(0, 12);
  const holder = el('div', { class: 'chart', id: 'protocol-chart' });
  const lib = d3();
  const w = 520, bar = 20, left = 120, h = rows.length * (bar + 6);
  const x = lib.scaleLinear().domain([0, lib.max(rows, (d) => d.flows) || 1]).range([0, w - left - 170]);
  const svg = lib.select(holder).append('svg').attr('viewBox', `0 0 ${w} ${h}`).attr('class', 'bars').attr('role', 'img').attr('aria-label', 'flows by protocol');
  const g = svg.selectAll('g').data(rows).join('g').attr('transform', (d, i) => `translate(0,${i * (bar + 6)})`);
  g.append('text').attr('x', left - 8).attr('y', bar / 2).attr('dy', '0.35em').attr('text-anchor', 'end').text((d) => d.protocol);
  g.append('rect').attr('x', left).attr('height', bar).attr('width', (d) => Math.max(2, x(d.flows))).attr('class', 'proto-fill');
  g.append('text').attr('x', (d) => left + x(d.flows) + 6).attr('y', bar / 2).attr('dy', '0.35em').attr('class', 'value')
    .text((d) => `${fmtCount(d.flows)} flow${d.flows === 1 ? '' : 's'}, ${fmtCount(d.packets)} pkts`);
  g.append('title').text((d) => `${d.protocol}: ${d.flows} flows, ${d.packets} packets, ${fmtBytes(d.bytes)}`);
  return holder;
}

function hostsTable(hosts) {
  if (hosts.length === 0) return emptyNote('No IP hosts.');
  return el('table', { class: 'grid' },
    el('thead', {}, el('tr', {}, ['address', 'packets sent', 'packets received', 'bytes sent', 'bytes received', 'flows'].map((h) => el('th', {}, h)))),
    el('tbody', {}, hosts.slice(0, 50).map((h) => el('tr', {},
      el('td', { class: 'mono' }, h.ip),
      el('td', { class: 'num' }, fmtCount(h.packetsSent)), el('td', { class: 'num' }, fmtCount(h.packetsReceived)),
      el('td', { class: 'num' }, fmtBytes(h.bytesSent)), el('td', { class: 'num' }, fmtBytes(h.bytesReceived)),
      el('td', { class: 'num' }, fmtCount(h.flows))))));
}
