/**
 * Live updates for the web view (`faultline serve --sniff IFACE`): server-sent events on
 * GET /api/live. One stream per open page; each commit of the live capture sends
 *
 *   status           {iface, via, filter, captureId, running, timestamps, startedAt}
 *   counters         {packets, bytes, flows, openFlows, sessions, findings, dropped, ...}
 *   finding          a finding as GET /api/captures/:id/findings shows it (published now)
 *   finding-cleared  a published finding that no longer holds
 *   session          an FTP session that started or changed
 *
 * A page that connects late gets the status and the last counters at once and reads the rest
 * from the capture's ordinary API resources, which each commit keeps current.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveSnapshot } from '../analysis/live.js';
import type { LiveStats } from '../source/live.js';
import type { Finding } from '../findings/types.js';
import { isoTime } from '../store/queries.js';
import { sendError } from './http.js';
import { redact } from './secrets.js';

export interface LiveStatus {
  iface: string;
  via: string;
  filter: string;
  captureId: number;
  running: boolean;
  timestamps: 'kernel' | 'receipt';
  startedAt: string;
  /** Why it stopped, when it did on its own. */
  message: string | null;
}

const KEEPALIVE_MS = 15000;

export class LiveHub {
  private clients = new Set<ServerResponse>();
  private current: LiveStatus | null = null;
  private lastCounters: Record<string, unknown> | null = null;
  private keepalive: NodeJS.Timeout | null = null;

  /** The live capture being served, or null (the API's config says so). */
  get status(): LiveStatus | null {
    return this.current;
  }

  setStatus(s: LiveStatus): void {
    this.current = s;
    this.send('status', s);
  }

  /** One commit of the live capture, as events. */
  committed(snap: LiveSnapshot, stats: LiveStats, final: boolean): void {
    const id = this.current?.captureId ?? null;
    const finding = (f: Finding): Record<string, unknown> => ({ ...f, capture: id, firstTs: isoTime(f.firstTs) });
    for (const f of snap.changes.added) this.send('finding', finding(f));
    for (const f of snap.changes.cleared) this.send('finding-cleared', finding(f));
    for (const s of snap.changes.sessions) this.send('session', { ...s, capture: id, firstTs: isoTime(s.firstTs), lastTs: isoTime(s.lastTs) });
    const c = snap.counters;
    this.lastCounters = {
      capture: id, packets: c.frames, bytes: c.bytes, flows: c.flows + c.openFlows, openFlows: c.openFlows,
      sessions: c.sessions + c.settledSessions, findings: c.findings,
      received: stats.received, dropped: stats.dropped, ifDropped: stats.ifDropped, interfacePackets: stats.interfacePackets,
      at: new Date().toISOString(),
    };
    this.send('counters', this.lastCounters);
    if (final && this.current) this.setStatus({ ...this.current, running: false });
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.current === null) {
      sendError(res, 404, 'not-live', 'this server is not capturing live (start it with faultline serve --sniff IFACE)');
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    this.clients.add(res);
    this.write(res, 'status', this.current);
    if (this.lastCounters) this.write(res, 'counters', this.lastCounters);
    const drop = (): void => { this.clients.delete(res); this.idle(); };
    req.on('close', drop);
    res.on('error', drop);
    this.keepalive ??= setInterval(() => { for (const c of this.clients) c.write(': keepalive\n\n'); }, KEEPALIVE_MS);
  }

  close(): void {
    for (const c of this.clients) c.end();
    this.clients.clear();
    this.idle();
  }

  private idle(): void {
    if (this.clients.size === 0 && this.keepalive) { clearInterval(this.keepalive); this.keepalive = null; }
  }

  private send(event: string, data: unknown): void {
    for (const c of this.clients) this.write(c, event, data);
  }

  private write(res: ServerResponse, event: string, data: unknown): void {
    // Live captures in serve never keep passwords; redact() still drops any password field.
    res.write(`event: ${event}\ndata: ${JSON.stringify(redact(data, []))}\n\n`);
  }
}
