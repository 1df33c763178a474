// Live capture (faultline serve --sniff IFACE): a small indicator in the top bar fed by the
// server-sent events of /api/live, and a refresh of the page being read when the live capture
// gains findings or FTP sessions (at most every few seconds, and not while the tab is hidden).
import { config, forgetCapture } from './api.js';

const REFRESH_MS = 3000;

export async function startLive(indicator, refresh) {
  let cfg;
  try { cfg = await config(); } catch { return; }
  if (!cfg.live) return;
  let status = cfg.live;
  let counters = null;
  let dirty = false;
  let lastRefresh = 0;
  const show = () => {
    indicator.hidden = false;
    indicator.href = `#/capture/${status.captureId}`;
    indicator.classList.toggle('stopped', !status.running);
    const c = counters ? ` — ${Number(counters.packets).toLocaleString()} pkts, ${counters.findings} finding${counters.findings === 1 ? '' : 's'}${counters.dropped ? `, ${counters.dropped} dropped` : ''}` : '';
    indicator.textContent = `${status.running ? '●' : '○'} live ${status.iface}${status.running ? '' : ' (stopped)'}${c}`;
    indicator.title = status.running ? `capturing on ${status.iface} via ${status.via}${status.filter ? ` (${status.filter})` : ''}` : (status.message ?? 'the live capture has stopped');
  };
  const viewingLive = () => {
    const h = location.hash.replace(/^#\/?/, '');
    return h === '' || h.startsWith(`capture/${status.captureId}`);
  };
  const maybeRefresh = () => {
    if (!dirty || document.hidden || Date.now() - lastRefresh < REFRESH_MS) return;
    dirty = false;
    lastRefresh = Date.now();
    forgetCapture(status.captureId);
    if (viewingLive()) refresh();
  };
  setInterval(maybeRefresh, 1000);
  show();
  const es = new EventSource('/api/live');
  es.addEventListener('status', (e) => { status = JSON.parse(e.data); show(); dirty = true; });
  es.addEventListener('counters', (e) => { counters = JSON.parse(e.data); show(); });
  for (const ev of ['finding', 'finding-cleared', 'session']) es.addEventListener(ev, () => { dirty = true; });
}
