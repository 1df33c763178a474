// Hash routes, so the page works from any path and needs no server-side routing:
//   #/                                 captures and uploads
//   #/capture/ID[/TAB[/ARG]]           one capture: overview, findings, ftp[/SESSION], tls, nlb, timeline
//   #/compare[/INSIDE/OUTSIDE]         inside/outside pair, as `faultline compare` sees it
import { el, mount } from './dom.js';
import { ApiError } from './api.js';
import { renderCaptures } from './views/captures.js';
import { renderCapture } from './views/capture.js';
import { renderCompare } from './views/compare.js';
import { startLive } from './live.js';

const view = document.getElementById('view');
const crumbs = document.getElementById('crumbs');
let generation = 0;

export function setCrumbs(items) {
  mount(crumbs, items.map((it, i) => [i > 0 ? el('span', { class: 'sep' }, '›') : null,
    it.href ? el('a', { href: it.href }, it.text) : el('span', {}, it.text)]));
}

function parse(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return parts;
}

async function route() {
  const gen = ++generation;
  const parts = parse(location.hash);
  const isCurrent = () => gen === generation;
  view.dataset.loading = 'true';
  try {
    if (parts[0] === 'capture' && parts[1]) {
      await renderCapture(view, { id: parts[1], tab: parts[2] ?? 'overview', arg: parts[3] ?? null, isCurrent, setCrumbs });
    } else if (parts[0] === 'compare') {
      await renderCompare(view, { inside: parts[1] ?? null, outside: parts[2] ?? null, setCrumbs });
    } else {
      await renderCaptures(view, { isCurrent, setCrumbs });
    }
  } catch (e) {
    if (!isCurrent()) return;
    const msg = e instanceof ApiError && e.status === 401
      ? 'This server needs its token: open the address it printed at start (ending in ?token=…).'
      : `Could not show this page: ${e.message}`;
    mount(view, el('div', { class: 'card error', role: 'alert' }, msg));
    console.error(e);
  } finally {
    if (isCurrent()) view.dataset.loading = 'false';
  }
}

window.addEventListener('hashchange', route);
route();
startLive(document.getElementById('live'), route);
