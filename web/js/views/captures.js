// The start page: drop or pick capture files, watch them upload and get analysed, and the list
// of captures in the database.
import { el, mount, fmtBytes, fmtCount, fmtTime, severityBadge, SEVERITY_ORDER, emptyNote } from '../dom.js';
import { config, getJson, uploadFile, followJob, ApiError } from '../api.js';

const jobList = el('ul', { class: 'jobs', id: 'jobs', 'aria-live': 'polite' });

export async function renderCaptures(view, { isCurrent, setCrumbs }) {
  setCrumbs([{ text: 'captures' }]);
  const cfg = await config();
  const list = el('div', { id: 'capture-list' });
  const uploader = uploadZone(cfg, () => refresh(list, isCurrent));
  mount(view, el('div', { class: 'page' },
    el('section', { class: 'card' }, el('h2', {}, 'Analyse a capture'), uploader, jobList),
    el('section', { class: 'card' }, el('h2', {}, 'Captures'), list)));
  await refresh(list, isCurrent);
}

async function refresh(list, isCurrent) {
  const { captures } = await getJson('/api/captures');
  if (!isCurrent()) return;
  if (captures.length === 0) { mount(list, emptyNote('No captures yet: upload one above, or run faultline analyze FILE --db with this database.')); return; }
  mount(list, el('table', { class: 'grid captures' },
    el('thead', {}, el('tr', {}, ['capture', 'format', 'frames', 'size', 'starts', 'findings', ''].map((h) => el('th', {}, h)))),
    el('tbody', {}, captures.map((c) => el('tr', { dataset: { capture: c.id } },
      el('td', {}, el('a', { href: `#/capture/${c.id}`, class: 'capture-name' }, c.name), c.damaged ? el('span', { class: 'badge warn', title: 'damaged: analysed up to the damage' }, 'damaged') : null),
      el('td', {}, `${c.format ?? '?'}${c.compressed ? ' (gzip)' : ''}`),
      el('td', { class: 'num' }, fmtCount(c.frames)),
      el('td', { class: 'num' }, fmtBytes(c.bytes)),
      el('td', {}, fmtTime(c.firstTs)),
      el('td', {}, SEVERITY_ORDER.filter((s) => (c.findings?.[s] ?? 0) > 0).map((s) => el('span', { class: 'sevcount' }, severityBadge(s), ` ${c.findings[s]}`)),
        Object.values(c.findings ?? {}).every((n) => !n) ? el('span', { class: 'muted' }, 'none') : null),
      el('td', {}, c.warnings ? el('span', { class: 'muted' }, `${c.warnings} warning${c.warnings === 1 ? '' : 's'}`) : null),
    )))));
}

function uploadZone(cfg, onDone) {
  const input = el('input', { type: 'file', id: 'file-input', multiple: true, accept: '.pcap,.pcapng,.cap,.gz,.dmp,application/vnd.tcpdump.pcap' });
  const zone = el('div', { class: 'dropzone', id: 'dropzone', tabindex: '0', role: 'button', 'aria-label': 'drop capture files here or choose them' },
    el('p', { class: 'big' }, 'Drop pcap / pcapng files here (gzip is fine)'),
    el('p', {}, 'or ', el('label', { for: 'file-input', class: 'button' }, 'choose files'), input),
    el('p', { class: 'muted' }, `Up to ${fmtBytes(cfg.maxUpload)} each. Files are analysed on the server, stored in its database, and not kept.`));
  const start = (files) => { for (const f of files) void uploadOne(f, cfg, onDone); };
  input.addEventListener('change', () => { start([...input.files]); input.value = ''; });
  zone.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); } });
  for (const ev of ['dragenter', 'dragover']) zone.addEventListener(ev, (e) => { e.preventDefault(); zone.classList.add('over'); });
  for (const ev of ['dragleave', 'dragend']) zone.addEventListener(ev, () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    start([...(e.dataTransfer?.files ?? [])]);
  });
  return zone;
}

async function uploadOne(file, cfg, onDone) {
  const bar = el('progress', { max: '100', value: '0' });
  const status = el('span', { class: 'status' }, 'uploading…');
  const item = el('li', { class: 'job', dataset: { state: 'uploading' } }, el('span', { class: 'job-name' }, file.name), bar, status);
  jobList.prepend(item);
  const setState = (state, text, cls) => {
    item.dataset.state = state;
    status.textContent = text;
    if (cls) item.classList.add(cls);
    if (state === 'failed') bar.remove();
  };
  if (file.size > cfg.maxUpload) {
    setState('failed', `too large: ${fmtBytes(file.size)} is over this server's limit of ${fmtBytes(cfg.maxUpload)} (faultline serve --max-upload)`, 'error');
    return;
  }
  try {
    const job = await uploadFile(file, (loaded, total) => {
      bar.value = Math.floor((loaded / total) * 100);
      status.textContent = `uploading ${Math.floor((loaded / total) * 100)}%`;
    });
    item.dataset.job = job.id;
    const final = await followJob(job.id, (j) => {
      if (j.state === 'queued') setState('queued', 'waiting for a free analyser…');
      else if (j.state === 'analysing') { bar.value = j.percent; setState('analysing', `analysing ${j.percent}%`); }
      else if (j.state === 'storing') { bar.value = 99; setState('storing', 'storing results…'); }
    });
    bar.value = 100;
    if (final.state === 'failed') {
      setState('failed', final.errorCode === 'not-a-capture' ? `not a capture: ${final.message}` : `analysis failed: ${final.message}`, 'error');
      return;
    }
    const summary = `${fmtCount(final.frames)} frames, ${final.findings} finding${final.findings === 1 ? '' : 's'}`;
    setState('done', final.damaged ? `analysed up to the damage (${summary}; ${final.warnings} warning${final.warnings === 1 ? '' : 's'})` : `analysed: ${summary}`, final.damaged ? 'warn' : 'ok');
    item.appendChild(el('a', { href: `#/capture/${final.captureId}`, class: 'button open' }, 'open'));
    onDone();
  } catch (e) {
    const text = e instanceof ApiError
      ? (e.status === 413 ? `too large: ${e.message}` : e.status === 415 ? `wrong file type: ${e.message}` : e.message)
      : String(e.message ?? e);
    setState('failed', text, 'error');
  }
}
