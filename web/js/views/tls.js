// TLS handshakes: who talked to whom, what was negotiated, whether the session was resumed,
// and the certificates. Field names follow the `tls` section of the JSON contract
// (frame, client, server, sni, version, cipher, ja3, ja4, resumed, certs); whatever else a
// handshake or certificate record carries is listed as it comes.
import { el, mount, section, badge, emptyNote, kvTable, valueNode } from '../dom.js';

const pick = (o, ...names) => { for (const n of names) if (o && o[n] !== undefined && o[n] !== null) return o[n]; return null; };

function resumedBadge(h) {
  const r = pick(h, 'resumed', 'resumption');
  if (r === true) return badge('resumed', 'ok');
  if (r === false) return badge('full handshake', '');
  if (typeof r === 'string') return badge(r, r === 'no' || r === 'none' ? '' : 'ok');
  if (r && typeof r === 'object') return badge(pick(r, 'verdict', 'kind', 'mechanism') ?? 'resumed?', 'ok');
  return el('span', { class: 'muted' }, 'unknown');
}

function endpoint(h, ip, port) {
  const a = pick(h, ip);
  const p = pick(h, `${ip}Port`, port);
  return a === null ? '?' : p === null ? String(a) : `${a}:${p}`;
}

/** µs numbers (the store's unit) or ISO strings, shown the same way. */
const when = (v) => (typeof v === 'number' && Number.isFinite(v) ? new Date(v / 1000).toISOString() : v);

const CERT_MAIN = [
  ['subject', ['subject', 'subjectDn']], ['issuer', ['issuer', 'issuerDn']],
  ['names (SAN)', ['sanDns', 'san', 'sans', 'subjectAltNames', 'subjectAltName']], ['addresses (SAN)', ['sanIp']],
  ['valid from', ['validFrom', 'notBefore'], when], ['valid to', ['validTo', 'notAfter'], when],
  ['key', ['keyType', 'key', 'publicKey']], ['key size', ['keyBits', 'keySize']], ['curve', ['curve']],
  ['signature', ['signatureAlgorithm', 'sigAlg']], ['SHA-256', ['sha256', 'fingerprint', 'fingerprint256']],
  ['serial', ['serialNumber']], ['self-signed', ['selfSigned']],
];

function certCard(cert, i) {
  const used = new Set();
  const rows = [];
  for (const [label, names, format] of CERT_MAIN) {
    const n = names.find((k) => cert[k] !== undefined && cert[k] !== null);
    if (n === undefined) continue;
    used.add(n);
    const v = format ? format(cert[n]) : cert[n];
    rows.push(el('tr', {}, el('th', { scope: 'row' }, label), el('td', { class: label === 'SHA-256' || label === 'serial' ? 'mono wrap' : null }, valueNode(v))));
  }
  const rest = Object.fromEntries(Object.entries(cert).filter(([k]) => !used.has(k)));
  return el('div', { class: 'cert', dataset: { index: i } },
    el('h4', {}, i === 0 ? 'server certificate' : `chain certificate ${i}`, pick(cert, 'selfSigned') === true ? badge('self-signed', 'warn') : null),
    el('table', { class: 'kv' }, el('tbody', {}, rows)),
    Object.keys(rest).length ? el('details', {}, el('summary', {}, 'all fields'), kvTable(rest)) : null);
}

export function renderTls(body, { doc }) {
  const handshakes = doc.tls?.handshakes ?? [];
  if (handshakes.length === 0) { mount(body, emptyNote('No TLS handshakes in this capture (or the TLS analysis is not available in this build).')); return; }
  const detail = el('div', { id: 'tls-detail' });
  const show = (h, tr) => {
    for (const r of tr.parentNode.children) r.classList.remove('selected');
    tr.classList.add('selected');
    const certs = Array.isArray(h.certs) ? h.certs : Array.isArray(h.certificates) ? h.certificates : [];
    mount(detail, section(`Handshake in frame ${pick(h, 'frame') ?? '?'}`,
      el('div', { class: 'grid2' },
        kvTable(h, ['certs', 'certificates']),
        el('div', {}, el('h3', {}, 'Resumption'), el('p', {}, resumedBadge(h)),
          el('h3', {}, `Certificates (${certs.length})`),
          certs.length ? certs.map(certCard) : emptyNote('No certificate seen (resumed session, TLS 1.3 without keys, or cut short).')))));
  };
  const rows = handshakes.map((h) => {
    const tr = el('tr', { class: 'clickable', tabindex: '0', dataset: { frame: pick(h, 'frame') } },
      el('td', { class: 'num' }, String(pick(h, 'frame') ?? '')),
      el('td', { class: 'mono' }, `${endpoint(h, 'client', 'clientPort')} → ${endpoint(h, 'server', 'serverPort')}`),
      el('td', { class: 'sni' }, pick(h, 'sni') ?? el('span', { class: 'muted' }, '–')),
      el('td', {}, String(pick(h, 'version') ?? '–')),
      el('td', { class: 'mono small' }, String(pick(h, 'cipher') ?? '–')),
      el('td', {}, resumedBadge(h)),
      el('td', { class: 'mono small' }, String(pick(h, 'ja3') ?? '–')),
      el('td', { class: 'mono small' }, String(pick(h, 'ja4') ?? '–')));
    tr.addEventListener('click', () => show(h, tr));
    tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') show(h, tr); });
    return tr;
  });
  const table = el('table', { class: 'grid handshakes' },
    el('thead', {}, el('tr', {}, ['frame', 'client → server', 'SNI', 'version', 'cipher', 'resumption', 'JA3', 'JA4'].map((t) => el('th', {}, t)))),
    el('tbody', {}, rows));
  mount(body, section('TLS handshakes', table), detail);
  show(handshakes[0], rows[0]);
}
