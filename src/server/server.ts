/**
 * `faultline serve`: node:http, no framework. Static front end from web/, the JSON API under
 * /api (token-checked when one is set), uploads analysed in worker threads.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { openDb } from '../store/db.js';
import type { Db } from '../store/db.js';
import { DEFAULT_OPTIONS, type AnalyzeOptions } from '../analysis/context.js';
import { isLoopbackHost, type ServeOptions } from './config.js';
import { Access } from './auth.js';
import { JobQueue } from './jobs.js';
import { handleApi, type ApiContext } from './api.js';
import { serveStatic } from './static.js';
import { securityHeaders, sendError, refuseBody } from './http.js';
import { tooLargeMessage } from './upload.js';
import { LiveHub } from './live.js';

export interface FaultlineServer {
  server: Server;
  jobs: JobQueue;
  db: Db;
  /** Live updates (GET /api/live) of a capture running in this process (serve --sniff). */
  live: LiveHub;
  /** Resolves with the base URL once listening. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export function createFaultlineServer(opts: ServeOptions, analyzeOptions: AnalyzeOptions = DEFAULT_OPTIONS, version = '0.1.0'): FaultlineServer {
  const db = openDb(opts.dbPath);
  db.pragma('busy_timeout = 10000');
  const ownUploadDir = opts.uploadDir === null;
  const uploadDir = opts.uploadDir ?? mkdtempSync(join(tmpdir(), 'faultline-uploads-'));
  if (!ownUploadDir) mkdirSync(uploadDir, { recursive: true });
  const access = new Access(opts.token, isLoopbackHost(opts.host));
  const jobs = new JobQueue(opts.dbPath, analyzeOptions, Math.max(1, opts.workers));
  const live = new LiveHub();
  const ctx: ApiContext = { db, jobs, access, uploadDir, maxUpload: opts.maxUpload, version, live };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    securityHeaders(res);
    if (!access.hostAllowed(req)) {
      refuseBody(req, res, 421, 'wrong-host', 'this server answers only to localhost / 127.0.0.1 / [::1]; start it with --host (and a token) to expose it', 0, 200);
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://faultline.invalid');
    } catch {
      sendError(res, 400, 'bad-request', 'unreadable request path');
      return;
    }
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      if (!access.authorized(req)) {
        refuseBody(req, res, 401, 'unauthorized', 'this server needs its token: open the URL it printed at start (…/?token=…) or send "Authorization: Bearer TOKEN"', 0, 200);
        return;
      }
      handleApi(ctx, req, res, url).catch((e: unknown) => {
        sendError(res, 500, 'internal', `internal error: ${(e as Error).message}`);
      });
      return;
    }
    if (url.pathname === '/' && url.searchParams.has('token')) {
      const token = url.searchParams.get('token') ?? '';
      if (!access.tokenMatches(token)) { sendError(res, 401, 'unauthorized', 'wrong token'); return; }
      // The token leaves the address bar (and history) and lives on as an HttpOnly cookie.
      res.writeHead(303, { Location: '/', 'Set-Cookie': access.cookieHeader(token), 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    serveStatic(req, res, url.pathname);
  };

  const server = createServer({ requestTimeout: 0, headersTimeout: 60_000 }, handle);
  // Clients that ask first (Expect: 100-continue, as curl does for big bodies) learn about a
  // refused upload before sending a byte of it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    securityHeaders(res);
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (access.hostAllowed(req) && !access.authorized(req)) {
      refuseBody(req, res, 401, 'unauthorized', 'this server needs its token', 0, 200);
      return;
    }
    if (Number.isFinite(declared) && declared > opts.maxUpload) {
      refuseBody(req, res, 413, 'too-large', tooLargeMessage(opts.maxUpload, declared), 0, 200);
      return;
    }
    res.writeContinue();
    handle(req, res);
  });

  return {
    server, jobs, db, live,
    listen: () => new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        const a = server.address() as AddressInfo;
        const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
        resolve(`http://${host}:${a.port}`);
      });
    }),
    close: async () => {
      live.close();
      await jobs.close();
      await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
      db.close();
      if (ownUploadDir) rmSync(uploadDir, { recursive: true, force: true });
    },
  };
}
