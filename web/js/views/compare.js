// Inside/outside pair: the document `faultline compare` prints, for two stored captures
// (GET /api/compare): what the comparison worked out (which side is which, the clock offset,
// NAT rules, packets seen on one side only), its findings with FTP_ADDRESS_REWRITTEN first, and
// every announcement that differs between matched sessions, inside text beside outside text.
// Everything shown is packet text: it goes into the page as text nodes only (el()).
import { el, mount, section, emptyNote } from '../dom.js';
import { getJson } from '../api.js';
import { findingCard } from './findings.js';

function announced(side, kind) {
  return [
    el('div', { class: 'mono' }, `${kind} ${side.announcedIp}:${side.announcedPort}`),
    el('div', { class: 'muted small' }, `frame ${side.frame}: ${side.text ?? ''}`),
  ];
}

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
  const doc = await getJson(`/api/compare?inside=${encodeURIComponent(inside)}&outside=${encodeURIComponent(outside)}`);
  const c = doc.compare;
  const n = (count, one, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;
  const name = (ref) => `#${ref.capture} ${ref.name ?? ''}`;
  const facts = [
    `inside ${name(c.inside)}, outside ${name(c.outside)}${c.roles.swapped ? ' (swapped: the evidence says the first capture is the outside one)' : ''}${c.roles.determined ? '' : ' (roles not determined from the traffic; taken as given)'}`,
    `clock: outside − inside = ${(c.clock.offsetUs / 1e6).toFixed(6)} s (from ${c.clock.basis}${c.clock.samples ? `, ${n(c.clock.samples, 'sample')}` : ''})`,
    `${n(c.counts.pairs, 'FTP session')} matched (${c.counts.unpairedInside} inside only, ${c.counts.unpairedOutside} outside only), ${n(c.counts.flowsPaired, 'connection')} paired, ${c.counts.translated} translated`,
    ...c.nat.map((r) => `NAT: ${r.text}`),
    `${n(c.counts.missingPackets, 'packet')} seen on one side only${c.packetDetail ? '' : ' (from per-connection counts: the server keeps no capture files, `faultline compare FILE FILE` lists the frames)'}`,
  ];
  const findings = [...(doc.findings ?? [])].sort((a, b) => (a.code === 'FTP_ADDRESS_REWRITTEN' ? -1 : 0) - (b.code === 'FTP_ADDRESS_REWRITTEN' ? -1 : 0));
  const rewrites = c.rewrites ?? [];
  mount(result,
    section('What the comparison worked out', el('ul', { id: 'compare-facts' }, facts.map((t) => el('li', {}, t)))),
    el('section', { class: 'card' },
      el('h2', {}, 'Announcements rewritten on the way'),
      rewrites.length === 0 ? emptyNote('No announcement differs between the matched sessions.') : el('table', { class: 'grid compare' },
        el('thead', {}, el('tr', {}, el('th', {}, '#'), el('th', {}, 'inside'), el('th', {}, 'outside'), el('th', {}, ''))),
        el('tbody', {}, rewrites.map((r, i) => el('tr', { class: 'differs' },
          el('td', { class: 'num' }, String(i + 1)),
          el('td', {}, announced(r.inside, r.kind)),
          el('td', {}, announced(r.outside, r.kind)),
          el('td', {}, `rewritten: sessions ${r.session.inside} / ${r.session.outside}${r.lengthDelta ? `, line ${r.lengthDelta > 0 ? '+' : ''}${r.lengthDelta} bytes` : ''}`))))),
    ),
    section('Findings of the comparison', findings.length === 0 ? emptyNote('No findings in either capture.') : el('div', { class: 'findings' },
      findings.map((f) => findingCard(f, f.capture ?? outside)))),
  );
}
