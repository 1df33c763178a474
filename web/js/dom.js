// DOM building without markup strings. Every value lands in the page as a text node or an
// attribute set through setAttribute; nothing here ever parses HTML, so a user name such as
// "<script>…" or a file name with "><img onerror=…> shows up as the characters it is.

const URL_ATTRS = new Set(['href', 'src', 'action', 'xlink:href', 'formaction']);

/** Only in-app links: '#/…' routes and same-origin '/…' paths. */
export function safeHref(v) {
  const s = String(v);
  return /^#/.test(s) || /^\/(?!\/)/.test(s) ? s : '#';
}

function setProp(node, k, v) {
  if (v === null || v === undefined || v === false) return;
  if (k === 'class') node.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : String(v));
  else if (k === 'text') node.textContent = String(v);
  else if (k === 'on') for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
  else if (k === 'dataset') for (const [dk, dv] of Object.entries(v)) { if (dv !== undefined && dv !== null) node.dataset[dk] = String(dv); }
  else if (/^on/i.test(k)) throw new Error(`event handler attribute ${k} refused: use {on: {...}}`);
  else if (URL_ATTRS.has(k)) node.setAttribute(k, safeHref(v));
  else node.setAttribute(k, v === true ? '' : String(v));
}

function appendAll(node, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) appendAll(node, c);
    else if (c instanceof Node) node.appendChild(c);
    else node.appendChild(document.createTextNode(String(c)));
  }
}

/** el('td', {class: 'num'}, 'text', childNode, [more]) */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) setProp(node, k, v);
  appendAll(node, children);
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function mount(node, ...children) {
  clear(node);
  appendAll(node, children);
  return node;
}

// ---- formatting ----

export function fmtBytes(n) {
  if (n === null || n === undefined || !Number.isFinite(Number(n))) return '–';
  const v = Number(n);
  for (const [u, s] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]]) if (v >= s) return `${(v / s).toFixed(1)} ${u}`;
  return `${v} B`;
}

export function fmtCount(n) {
  return n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US');
}

/** ISO time (µs precision) → "2024-05-14 09:30:00.007200 UTC". */
export function fmtTime(iso) {
  if (!iso) return '–';
  return String(iso).replace('T', ' ').replace('Z', ' UTC');
}

/** Microseconds since the epoch from our ISO strings (Date keeps only milliseconds). */
export function isoToMicros(iso) {
  if (typeof iso !== 'string') return null;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(iso);
  if (!m) {
    const t = Date.parse(iso);
    return Number.isFinite(t) ? t * 1000 : null;
  }
  const base = Date.parse(m[1] + 'Z');
  const frac = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return base * 1000 + Number(frac);
}

export function fmtDuration(us) {
  if (us === null || us === undefined || !Number.isFinite(us)) return '–';
  const s = us / 1e6;
  if (s < 1) return `${(us / 1000).toFixed(1)} ms`;
  if (s < 120) return `${s.toFixed(2)} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${(s / 3600).toFixed(1)} h`;
}

export const SEVERITY_ORDER = ['high', 'medium', 'low', 'info'];

export function severityBadge(sev) {
  return el('span', { class: ['badge', `sev-${SEVERITY_ORDER.includes(sev) ? sev : 'other'}`] }, String(sev ?? '?'));
}

export function badge(text, cls = '') {
  return el('span', { class: ['badge', cls] }, String(text));
}

/** A two-column key/value table for records whose fields we may not know yet. */
export function kvTable(obj, skip = [], depth = 0) {
  const rows = [];
  for (const [k, v] of Object.entries(obj ?? {})) {
    if (skip.includes(k)) continue;
    rows.push(el('tr', {}, el('th', { scope: 'row' }, k), el('td', {}, valueNode(v, depth))));
  }
  return el('table', { class: 'kv' }, el('tbody', {}, rows));
}

export function valueNode(v, depth = 0) {
  if (v === null || v === undefined) return el('span', { class: 'muted' }, '–');
  if (Array.isArray(v)) {
    if (v.length === 0) return el('span', { class: 'muted' }, 'none');
    if (v.every((x) => typeof x !== 'object' || x === null)) return document.createTextNode(v.map(String).join(', '));
    if (depth > 2) return document.createTextNode(`${v.length} items`);
    return el('ol', { class: 'plain' }, v.slice(0, 50).map((x) => el('li', {}, valueNode(x, depth + 1))), v.length > 50 ? el('li', { class: 'muted' }, `… ${v.length - 50} more`) : null);
  }
  if (typeof v === 'object') {
    if (depth > 2) return document.createTextNode(JSON.stringify(v));
    return kvTable(v, [], depth + 1);
  }
  return document.createTextNode(String(v));
}

export function section(title, ...children) {
  return el('section', { class: 'card' }, el('h2', {}, title), ...children);
}

export function emptyNote(text) {
  return el('p', { class: 'empty' }, text);
}

/** The page's tooltip, positioned near the pointer; text only. */
export function showTooltip(event, lines) {
  const tip = document.getElementById('tooltip');
  if (!tip) return;
  mount(tip, ...lines.map((l) => el('div', {}, l)));
  tip.hidden = false;
  const x = Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
  const y = Math.min(event.clientY + 14, window.innerHeight - tip.offsetHeight - 8);
  tip.style.left = `${Math.max(4, x)}px`;
  tip.style.top = `${Math.max(4, y)}px`;
}

export function hideTooltip() {
  const tip = document.getElementById('tooltip');
  if (tip) tip.hidden = true;
}

/** d3, loaded as a classic script before the modules (no CDN: served from node_modules). */
export function d3() {
  const lib = globalThis.d3;
  if (!lib) throw new Error('d3 did not load (/vendor/d3.min.js)');
  return lib;
}
