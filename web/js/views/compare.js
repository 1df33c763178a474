// Inside/outside pair. The real comparison belongs to `faultline compare` (GET /api/compare,
// which answers 501 until that command exists): when it answers, its document is shown with
// FTP_ADDRESS_REWRITTEN first. Until then the two captures' FTP announcements are set side by
// side in order, which already shows a NAT helper rewriting (or not rewriting) the 227 address.
import { el, mount, section, emptyNote } from '../dom.js';
import { getJson, captureDocument, ApiError } from '../api.js';
import { findingCard } from './findings.js';

export async function renderCompare(view, { inside, outside, setCrumbs }) {
  setCrumbs([{ text: 'captures', href: '#/' }, { text: 'compare inside / outside' }]);
  const { captures } = await getJson('/api/captures');
  const pickInside = el('select', { id: 'compare-inside' }, captures.map((c) => el('option', { value: c.id, selected: String(c.id) === inside }, `#${c.id} ${c.name}`)));
  const pickOutside = el('select', { id: 'compare-outside' }, captures.map((c) => el('option', { value: c.id, selected: String(c.id) === outside }, `#${c.id} ${c.name}`)));
  const go = el('button', { type: 'button', class: 'button', on: { click: () => { location.hash = `#/compare/${pickInside.value}/${pickOutside.value}`; } } }, 'compare');
  const result = el('div', { id: 'compare-result' });
  mount(view, el('div', { class: 'page' },
    section('Compare an inside and an outside capture of the same session',
      el('p', {}, 'inside (server side of the NAT) ', pickInside, ' outside (client side) ', pickOutside, ' ', go)),
    result));
  if (!inside || !outside) return;
  try {
    const doc = await getJson(`/api/compare?inside=${encodeURIComponent(inside)}&outside=${encodeURIComponent(outside)}`);
    mount(result, section('Findings of the comparison', el('div', { class: 'findings' },
      [...(doc.findings ?? [])].sort((a, b) => (a.code === 'FTP_ADDRESS_REWRITTEN' ? -1 : 0) - (b.code === 'FTP_ADDRESS_REWRITTEN' ? -1 : 0)).map((f) => findingCard(f, outside)))));
    return;
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 501)) throw e;
  }
  const [a, b] = await Promise.all([captureDocument(inside), captureDocument(outside)]);
  const ann = (d) => (d.ftp?.sessions ?? []).flatMap((s) => (s.channels ?? []).map((c) => ({ s, c })));
  const left = ann(a), right = ann(b);
  const n = Math.max(left.length, right.length);
  const cell = (x) => (x ? [el('div', { class: 'mono' }, `${x.c.kind} ${x.c.announcedIp}:${x.c.announcedPort}`), el('div', { class: 'muted small' }, `frame ${x.c.frame}: ${x.c.text ?? ''}`)] : el('span', { class: 'muted' }, '–'));
  mount(result, el('section', { class: 'card' },
    el('h2', {}, 'Announcements side by side'),
    el('p', { class: 'notice' }, 'The compare command is not available yet: this is the pair\'s FTP announcements in order, not a matched comparison.'),
    n === 0 ? emptyNote('Neither capture has FTP announcements.') : el('table', { class: 'grid compare' },
      el('thead', {}, el('tr', {}, el('th', {}, '#'), el('th', {}, `inside: ${a.captures?.[0]?.name ?? inside}`), el('th', {}, `outside: ${b.captures?.[0]?.name ?? outside}`), el('th', {}, ''))),
      el('tbody', {}, Array.from({ length: n }, (_, i) => {
        const differs = left[i] && right[i] && (left[i].c.announcedIp !== right[i].c.announcedIp || left[i].c.announcedPort !== right[i].c.announcedPort);
        return el('tr', { class: differs ? 'differs' : null }, el('td', { class: 'num' }, String(i + 1)), el('td', {}, cell(left[i])), el('td', {}, cell(right[i])),
          el('td', {}, differs ? 'differs: rewritten on the way' : ''));
      })))));
}
