// FTP sessions of a capture and the ladder of one of them.
import { el, mount, section, badge, emptyNote, kvTable, fmtTime } from '../dom.js';
import { getJson } from '../api.js';
import { findingCard } from './findings.js';
import { ladderRows, drawLadder } from './ladder.js';

const MAX_ROWS = 600;
const BAD_OUTCOMES = new Set(['syn-unanswered', 'refused', 'icmp-unreachable', 'half-open', 'never-seen', 'rejected']);

function outcomeBadge(outcome) {
  return badge(outcome ?? '?', BAD_OUTCOMES.has(outcome) ? 'bad' : outcome === 'completed' ? 'ok' : '');
}

export async function renderFtp(body, { id, doc, arg, isCurrent }) {
  const sessions = doc.ftp?.sessions ?? [];
  if (sessions.length === 0) { mount(body, emptyNote('No FTP sessions in this capture.')); return; }
  const wanted = arg === null ? null : Number(arg);
  const failing = sessions.find((s) => (s.channels ?? []).some((c) => BAD_OUTCOMES.has(c.outcome)));
  const current = sessions.find((s) => s.id === wanted) ?? failing ?? sessions[0];
  const list = el('table', { class: 'grid sessions' },
    el('thead', {}, el('tr', {}, ['session', 'client → server', 'user', 'login', 'TLS', 'commands', 'data channels'].map((h) => el('th', {}, h)))),
    el('tbody', {}, sessions.map((s) => el('tr', { class: s === current ? 'selected' : null, dataset: { session: s.id } },
      el('td', {}, el('a', { href: `#/capture/${id}/ftp/${s.id}` }, `#${s.id}`)),
      el('td', { class: 'mono' }, `${s.client}:${s.clientPort ?? ''} → ${s.server}:${s.serverPort ?? ''}`),
      el('td', { class: 'user' }, s.user ?? el('span', { class: 'muted' }, '–')),
      el('td', {}, s.login ?? '–'),
      el('td', {}, s.tls ? badge(s.tlsMode ?? 'tls', 'ok') : badge('clear', 'warn')),
      el('td', { class: 'num' }, String(s.commands ?? '–')),
      el('td', {}, (s.channels ?? []).map((c) => [el('span', { class: 'mono' }, `${c.kind} ${c.announcedPort ?? ''} `), outcomeBadge(c.outcome), ' '])),
    ))));
  const ladderHolder = el('div', { class: 'ladder-holder', id: 'ladder' });
  const sessionFindings = (doc.findings ?? []).filter((f) => f.subject && f.subject.session === current.id);
  mount(body,
    section('FTP sessions', list),
    el('section', { class: 'card' },
      el('h2', {}, `Session #${current.id}: ${current.client} → ${current.server}:${current.serverPort ?? 21}`),
      el('div', { class: 'grid2' },
        kvTable({
          user: current.user, login: current.login, anonymous: current.anonymous, TLS: current.tls ? current.tlsMode : 'none (clear text)',
          PROT: current.prot?.level, frames: `${current.firstFrame ?? '?'} … ${current.lastFrame ?? '?'}`,
          starts: fmtTime(current.firstTs), ends: fmtTime(current.lastTs), greeting: current.greeting ? `${current.greeting.code} ${current.greeting.text ?? ''}` : null,
          'control readable': current.controlReadable,
        }),
        transfersTable(current.transfers ?? [])),
      ladderHolder),
    sessionFindings.length ? section('Findings for this session', el('div', { class: 'findings' }, sessionFindings.map((f) => findingCard(f, id)))) : null);
  let commands = [];
  try {
    commands = (await getJson(`/api/captures/${id}/ftp/sessions/${current.id}/commands`)).commands ?? [];
  } catch { /* the ladder works from the section alone */ }
  if (!isCurrent()) return;
  const all = ladderRows(current, commands);
  // Long sessions: the first rows, and beyond them only what matters (announcements, data
  // connections, error replies), so the drawing stays readable.
  const rows = all.length <= MAX_ROWS ? all : all.filter((r, i) => i < MAX_ROWS || r.kind === 'data' || r.announcement || r.code >= 400);
  mount(ladderHolder, el('h3', {}, 'Ladder'), el('p', { class: 'muted legend' },
    'Control commands and replies in frame order; boxes give each announced data address with its port arithmetic; data connections are drawn as far as they got, ✕ where they failed.',
    rows.length < all.length ? ` Long session: after the first ${MAX_ROWS} rows only announcements, data connections and error replies are drawn (${all.length - rows.length} rows left out).` : ''));
  const scroller = el('div', { class: 'ladder-scroll' });
  ladderHolder.appendChild(scroller);
  drawLadder(scroller, current, rows);
}

function transfersTable(transfers) {
  if (transfers.length === 0) return emptyNote('No transfer or listing commands.');
  return el('table', { class: 'grid transfers' },
    el('thead', {}, el('tr', {}, ['frame', 'command', 'reply', 'result', 'bytes'].map((h) => el('th', {}, h)))),
    el('tbody', {}, transfers.map((t) => el('tr', { class: t.result === 'failed' ? 'bad' : null },
      el('td', { class: 'num' }, String(t.frame ?? '')),
      el('td', { class: 'mono filename' }, t.name ? `${t.verb} ${t.name}` : t.verb),
      el('td', {}, t.reply ? `${t.reply.code} ${t.reply.text ?? ''}` : el('span', { class: 'muted' }, 'no reply')),
      el('td', {}, t.result ?? ''),
      el('td', { class: 'num' }, t.bytes === null || t.bytes === undefined ? '–' : String(t.bytes))))));
}
