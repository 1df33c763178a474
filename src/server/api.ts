/**
 * The JSON API under /api, named like the CLI's `--json` document: a capture's document is
 * exactly what `faultline analyze --json` prints for it (protocol sections included, read
 * through the modules), and the sub-resources are slices of it.
 *
 *   GET  /api/config                         limits and sections, for the front end
 *   GET  /api/captures                       captures with finding counts by severity
 *   GET  /api/captures/:id                   the analysis document of one capture
 *   GET  /api/captures/:id/findings          its findings
 *   GET  /api/captures/:id/flows             its flows (?limit=, ?app=)
 *   GET  /api/captures/:id/hosts             its hosts
 *   GET  /api/captures/:id/warnings          its warnings (damage, skipped link types)
 *   GET  /api/captures/:id/timeline          dated events for the incident timeline
 *   GET  /api/captures/:id/ftp/sessions/:s/commands   one FTP session's commands and replies
 *   POST /api/uploads?name=FILE              body = the capture file; 202 with the job
 *   GET  /api/jobs, /api/jobs/:id            analysis jobs and their progress
 *   GET  /api/compare?inside=A&outside=B     `faultline compare --json` for two stored captures (no packet detail)
 *   GET  /api/live                           server-sent events of the live capture (serve --sniff)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Db } from '../store/db.js';
import { analysisDocument, captureJson, captureRows, findingsFor, flowsFor, hostsFor, isoTime, warningsFor } from '../store/queries.js';
import { PROTOCOLS } from '../protocols.js';
import { SEVERITIES } from '../findings/types.js';
import { refuseBody, sendError, sendJson } from './http.js';
import { receiveUpload } from './upload.js';
import type { JobQueue } from './jobs.js';
import { ftpDialogue, timelineEvents } from './facts-queries.js';
import type { Access } from './auth.js';
import { knownSecrets, redact } from './secrets.js';
import { CompareInputError, compareDocument } from '../compare/document.js';
import type { LiveHub } from './live.js';

export interface ApiContext {
  db: Db;
  jobs: JobQueue;
  access: Access;
  uploadDir: string;
  maxUpload: number;
  version: string;
  live: LiveHub;
}

const SECTIONS = PROTOCOLS.map((p) => p.document);

/** A file name as the user gave it, without directories or control characters. */
export function uploadName(raw: string | null): string {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 200);
  return clean === '' ? 'upload.pcap' : clean;
}

function captureId(text: string): number | null {
  return /^\d{1,12}$/.test(text) ? Number(text) : null;
}

function intParam(url: URL, name: string, dflt: number, max: number): number {
  const v = url.searchParams.get(name);
  if (v === null || !/^\d+$/.test(v)) return dflt;
  return Math.min(Number(v), max);
}

function captureSummary(db: Db): Array<Record<string, unknown>> {
  const counts = db.prepare(`SELECT capture_id, severity, COUNT(*) AS n FROM findings GROUP BY capture_id, severity`).all() as Array<{ capture_id: number; severity: string; n: number }>;
  const warnings = db.prepare(`SELECT capture_id, COUNT(*) AS n FROM warnings GROUP BY capture_id`).all() as Array<{ capture_id: number; n: number }>;
  return captureRows(db).reverse().map((c) => {
    const bySeverity: Record<string, number> = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
    for (const r of counts) if (r.capture_id === c.id) bySeverity[r.severity] = (bySeverity[r.severity] ?? 0) + r.n;
    return {
      ...captureJson(c), analyzedAt: c.analyzed_at,
      findings: bySeverity, warnings: warnings.find((w) => w.capture_id === c.id)?.n ?? 0,
    };
  });
}

export async function handleApi(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const parts = url.pathname.split('/').filter(Boolean).slice(1);
  const method = req.method ?? 'GET';
  const get = method === 'GET' || method === 'HEAD';

  if (parts[0] === 'uploads' && parts.length === 1) {
    if (method !== 'POST') { sendError(res, 405, 'method-not-allowed', 'upload with POST /api/uploads?name=FILE and the file as the body', { Allow: 'POST' }); return; }
    if (!ctx.access.sameOrigin(req)) { refuseBody(req, res, 403, 'cross-origin', 'uploads are accepted only from this server\'s own pages', 0, 200); return; }
    const name = uploadName(url.searchParams.get('name') ?? headerName(req));
    const upload = await receiveUpload(req, res, { dir: ctx.uploadDir, maxBytes: ctx.maxUpload });
    if (upload === null) return;
    const job = ctx.jobs.submit(upload.path, name, upload.bytes);
    sendJson(res, 202, { job, format: upload.verdict.kind === 'capture' ? upload.verdict.format : null, compressed: upload.verdict.compressed }, { Location: `/api/jobs/${job.id}` });
    return;
  }
  if (!get) { sendError(res, 405, 'method-not-allowed', `${method} is not allowed on ${url.pathname}`, { Allow: 'GET' }); return; }

  if (parts[0] === 'config' && parts.length === 1) {
    sendJson(res, 200, { version: ctx.version, maxUpload: ctx.maxUpload, sections: SECTIONS.filter((s) => s !== null).map((s) => s!.key), tokenRequired: ctx.access.tokenRequired, compare: true, live: ctx.live.status });
    return;
  }
  if (parts[0] === 'live' && parts.length === 1) { ctx.live.handle(req, res); return; }
  if (parts[0] === 'jobs') {
    if (parts.length === 1) { sendJson(res, 200, { jobs: ctx.jobs.list() }); return; }
    const job = parts.length === 2 ? ctx.jobs.get(parts[1]) : null;
    if (!job) { sendError(res, 404, 'not-found', 'no such job (finished jobs are kept for a while only)'); return; }
    sendJson(res, 200, { job });
    return;
  }
  if (parts[0] === 'compare' && parts.length === 1) {
    const inside = captureId(url.searchParams.get('inside') ?? '');
    const outside = captureId(url.searchParams.get('outside') ?? '');
    if (inside === null || outside === null) { sendError(res, 400, 'bad-request', 'give two stored captures: /api/compare?inside=ID&outside=ID'); return; }
    let doc: Record<string, unknown>;
    try {
      // From SQLite alone: the server keeps no capture files, so there is no per-packet detail
      // (sequence shifts, which packets went missing); `faultline compare FILE FILE` has it.
      doc = compareDocument(ctx.db, inside, outside, { showPasswords: false });
    } catch (e) {
      if (e instanceof CompareInputError) { sendError(res, 404, 'not-found', e.message); return; }
      throw e;
    }
    sendJson(res, 200, redact(doc, knownSecrets(ctx.db, [inside, outside])));
    return;
  }
  if (parts[0] === 'captures') {
    if (parts.length === 1) { sendJson(res, 200, { captures: captureSummary(ctx.db) }); return; }
    const id = captureId(parts[1]);
    if (id === null || captureRows(ctx.db, [id]).length === 0) { sendError(res, 404, 'not-found', `no capture ${parts[1]} in this database`); return; }
    const sub = parts.slice(2);
    const answer = captureResource(ctx, id, sub, url);
    if (answer !== null) {
      sendJson(res, 200, redact(answer, knownSecrets(ctx.db, [id])));
      return;
    }
  }
  sendError(res, 404, 'not-found', `no API route ${url.pathname}`);
}

/** One capture's resources (null: no such route); the caller masks passwords in them. */
function captureResource(ctx: ApiContext, id: number, sub: string[], url: URL): unknown {
  if (sub.length === 0) return analysisDocument(ctx.db, [id], { showPasswords: false }, SECTIONS);
  if (sub.length === 1) {
    switch (sub[0]) {
      case 'findings': return { findings: findingsFor(ctx.db, id).map((f) => ({ ...f, firstTs: isoTime(f.firstTs) })) };
      case 'flows': return { flows: flowsFor(ctx.db, id, { app: url.searchParams.get('app') ?? undefined, limit: intParam(url, 'limit', 1000, 100000) }) };
      case 'hosts': return { hosts: hostsFor(ctx.db, id, intParam(url, 'limit', 1000, 100000)) };
      case 'warnings': return { warnings: warningsFor(ctx.db, id) };
      case 'timeline': return timelineEvents(ctx.db, id);
    }
  }
  if (sub.length === 4 && sub[0] === 'ftp' && sub[1] === 'sessions' && sub[3] === 'commands' && captureId(sub[2]) !== null) {
    const commands = ftpDialogue(ctx.db, id, Number(sub[2]));
    return { commands: commands ?? [], available: commands !== null };
  }
  return null;
}

function headerName(req: IncomingMessage): string | null {
  const h = req.headers['x-filename'];
  if (typeof h !== 'string') return null;
  try { return decodeURIComponent(h); } catch { return h; }
}
