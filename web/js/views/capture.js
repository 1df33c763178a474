// One capture: a header, tabs, and the tab's view. Every view reads the same analysis document
// (GET /api/captures/ID, the CLI's --json); a protocol section that is missing or empty gives
// an empty view, not an error, so modules can add fields without the front end changing.
import { el, mount, fmtTime, fmtCount, badge } from '../dom.js';
import { captureDocument } from '../api.js';
import { renderOverview } from './overview.js';
import { renderFindings } from './findings.js';
import { renderFtp } from './ftp.js';
import { renderTls } from './tls.js';
import { renderNlb } from './nlb.js';
import { renderTimeline } from './timeline.js';

const TABS = [
  { key: 'overview', label: 'Overview', render: renderOverview },
  { key: 'findings', label: 'Findings', render: renderFindings, count: (d) => d.findings?.length },
  { key: 'ftp', label: 'FTP', render: renderFtp, count: (d) => d.ftp?.sessions?.length },
  { key: 'tls', label: 'TLS', render: renderTls, count: (d) => d.tls?.handshakes?.length },
  { key: 'nlb', label: 'NLB', render: renderNlb, count: (d) => d.nlb?.clusters?.length },
  { key: 'timeline', label: 'Timeline', render: renderTimeline },
];

export async function renderCapture(view, { id, tab, arg, isCurrent, setCrumbs }) {
  const doc = await captureDocument(id);
  if (!isCurrent()) return;
  const cap = doc.captures?.[0] ?? {};
  const current = TABS.find((t) => t.key === tab) ?? TABS[0];
  setCrumbs([{ text: 'captures', href: '#/' }, { text: cap.name ?? `capture ${id}`, href: `#/capture/${id}` }, { text: current.label }]);
  const body = el('div', { class: 'tab-body', id: `tab-${current.key}` });
  mount(view, el('div', { class: 'page' },
    el('div', { class: 'capture-head' },
      el('h1', {}, el('span', { class: 'capture-title' }, cap.name ?? `capture ${id}`)),
      el('div', { class: 'facts' },
        el('span', {}, `${cap.format ?? '?'}${cap.compressed ? ' (gzip)' : ''}`),
        el('span', {}, `${fmtCount(cap.frames)} frames`),
        el('span', {}, `${fmtTime(cap.firstTs)} → ${fmtTime(cap.lastTs)}`),
        cap.damaged ? badge('damaged: analysed up to the damage', 'warn') : null)),
    el('nav', { class: 'tabs', role: 'tablist' }, TABS.map((t) => {
      const n = t.count ? t.count(doc) : undefined;
      return el('a', { href: `#/capture/${id}/${t.key}`, role: 'tab', class: t === current ? 'active' : null, 'aria-selected': t === current ? 'true' : 'false', dataset: { tab: t.key } },
        t.label, n !== undefined ? el('span', { class: 'count' }, String(n)) : null);
    })),
    body));
  await current.render(body, { id, doc, arg, isCurrent });
}
