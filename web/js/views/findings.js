// Findings: what broke, why, what to do, and the frames that prove it (Wireshark's numbering,
// so "frame 22" is `frame.number == 22` there).
import { el, mount, severityBadge, fmtTime, emptyNote, kvTable, SEVERITY_ORDER } from '../dom.js';

export function findingCard(f, captureId) {
  const subject = f.subject ?? {};
  const frames = Array.isArray(f.frames) ? f.frames : [];
  return el('article', { class: ['finding', `sev-${f.severity}`], dataset: { code: f.code, severity: f.severity } },
    el('header', {}, severityBadge(f.severity), el('code', { class: 'code' }, f.code), el('h3', {}, f.title)),
    el('p', { class: 'explanation' }, f.explanation),
    el('p', { class: 'mitigation' }, el('strong', {}, 'What to do: '), f.mitigation),
    el('p', { class: 'evidence' }, el('strong', {}, 'Evidence: '),
      frames.length ? ['frames ', el('span', { class: 'frames mono' }, frames.join(', ')),
        el('span', { class: 'muted' }, ` (Wireshark filter: frame.number in {${frames.join(' ')}})`)] : el('span', { class: 'muted' }, 'no frames'),
      f.firstTs ? el('span', { class: 'muted' }, ` · first at ${fmtTime(f.firstTs)}`) : null),
    subject.session !== undefined && subject.session !== null
      ? el('p', {}, el('a', { href: `#/capture/${captureId}/ftp/${subject.session}`, class: 'ladder-link' }, `FTP session ${subject.session}: ladder diagram →`))
      : null,
    f.details && Object.keys(f.details).length ? el('details', {}, el('summary', {}, 'details'), kvTable(f.details)) : null);
}

export function renderFindings(body, { id, doc }) {
  const findings = [...(doc.findings ?? [])].sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity));
  if (findings.length === 0) { mount(body, emptyNote('No findings in this capture.')); return; }
  const list = el('div', { class: 'findings', id: 'findings' });
  const active = new Set(SEVERITY_ORDER);
  const draw = () => mount(list, findings.filter((f) => active.has(f.severity) || !SEVERITY_ORDER.includes(f.severity)).map((f) => findingCard(f, id)));
  const filters = el('div', { class: 'filters' }, 'Show: ', SEVERITY_ORDER.filter((s) => findings.some((f) => f.severity === s)).map((s) => {
    const box = el('input', { type: 'checkbox', checked: true, on: { change: () => { if (box.checked) active.add(s); else active.delete(s); draw(); } } });
    return el('label', { class: 'filter' }, box, severityBadge(s), ` ${findings.filter((f) => f.severity === s).length}`);
  }));
  draw();
  mount(body, filters, list);
}
