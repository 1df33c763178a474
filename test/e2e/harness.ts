/**
 * Test-only: a faultline server in this process on a free loopback port, with its own database
 * and upload directory, plus small HTTP helpers (fetch for the API, raw sockets where the test
 * must control exactly what goes on the wire).
 */
import { mkdtempSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { createFaultlineServer, type FaultlineServer } from '../../src/server/server.js';
import { DEFAULT_MAX_UPLOAD, type ServeOptions } from '../../src/server/config.js';

export interface TestServer {
  url: string;
  port: number;
  app: FaultlineServer;
  dir: string;
  dbPath: string;
  uploadDir: string;
  close(): Promise<void>;
}

export async function startServer(opts: Partial<ServeOptions> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-web-test-'));
  const dbPath = opts.dbPath ?? join(dir, 'faultline.db');
  const uploadDir = join(dir, 'uploads');
  const app = createFaultlineServer({
    host: '127.0.0.1', port: 0, dbPath, token: null, maxUpload: DEFAULT_MAX_UPLOAD, uploadDir, workers: 2, ...opts,
  });
  const url = await app.listen();
  return {
    url, port: Number(new URL(url).port), app, dir, dbPath, uploadDir,
    close: async () => { await app.close(); rmSync(dir, { recursive: true, force: true }); },
  };
}

/** Files left in the upload directory (there should be none once jobs end or uploads fail). */
export function leftoverUploads(s: TestServer): string[] {
  return existsSync(s.uploadDir) ? readdirSync(s.uploadDir) : [];
}

export interface JobJson {
  id: string; state: string; captureId: number | null; damaged: boolean; warnings: number; findings: number;
  message: string | null; errorCode: string | null; percent: number; frames: number | null; name: string;
}

export async function upload(s: TestServer, name: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${s.url}/api/uploads?name=${encodeURIComponent(name)}`, { method: 'POST', body: new Uint8Array(body), headers: { 'Content-Type': 'application/octet-stream', ...headers } });
  return { status: res.status, json: await res.json() as Record<string, unknown> };
}

export async function waitForJob(s: TestServer, id: string, headers: Record<string, string> = {}, timeoutMs = 30000): Promise<JobJson> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await fetch(`${s.url}/api/jobs/${id}`, { headers });
    const { job } = await r.json() as { job: JobJson };
    if (job.state === 'done' || job.state === 'failed') return job;
    if (Date.now() > end) throw new Error(`job ${id} still ${job.state} after ${timeoutMs} ms`);
    await new Promise((r2) => setTimeout(r2, 50));
  }
}

export async function getJson<T = Record<string, unknown>>(s: TestServer, path: string, headers: Record<string, string> = {}): Promise<{ status: number; json: T; headers: Headers }> {
  const res = await fetch(`${s.url}${path}`, { headers });
  return { status: res.status, json: await res.json() as T, headers: res.headers };
}

export interface RawExchange {
  /** Raw response text (head and body) as received before the server closed or we stopped. */
  response: string;
  status: number | null;
  /** Body bytes the kernel accepted from us before the answer came or the socket closed. */
  bodyBytesSent: number;
  closedByServer: boolean;
  /** The server said 100 Continue first. */
  continued: boolean;
}

/**
 * Sends `head` and then body chunks from `chunks` (with backpressure) until the server answers
 * or closes, or `chunks` runs out; waits up to `settleMs` for the rest of the answer.
 */
export function rawRequest(port: number, head: string, chunks: Iterable<Buffer>, settleMs = 3000): Promise<RawExchange> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let response = '';
    let bodyBytesSent = 0;
    let answered = false;
    let closedByServer = false;
    let done = false;
    let continued = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      sock.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(response);
      resolve({ response, status: m ? Number(m[1]) : null, bodyBytesSent, closedByServer, continued });
    };
    sock.on('data', (d: Buffer) => {
      response += d.toString('latin1');
      // A 100 Continue is not the answer: note it and keep sending.
      const stripped = response.replace(/^HTTP\/1\.1 100 [^\r]*\r\n\r\n/, '');
      if (stripped !== response) { continued = true; response = stripped; }
      if (response.length > 0) answered = true;
    });
    sock.on('end', () => { closedByServer = true; finish(); });
    sock.on('close', () => { closedByServer = true; finish(); });
    sock.on('error', () => { closedByServer = true; finish(); });
    sock.on('connect', async () => {
      sock.write(head);
      let written = 0;
      for (const c of chunks) {
        if (answered || done) break;
        const ok = sock.write(c);
        written += c.length;
        bodyBytesSent = Math.max(0, written - sock.writableLength);
        if (!ok) {
          const drained = await new Promise<boolean>((r) => {
            const t = setTimeout(() => r(false), 300);
            sock.once('drain', () => { clearTimeout(t); r(true); });
          });
          // The server stopped reading: what it did with the request is in its answer.
          bodyBytesSent = Math.max(0, written - sock.writableLength);
          if (!drained) break;
        }
      }
      if (!done) bodyBytesSent = Math.max(0, written - sock.writableLength);
      setTimeout(finish, settleMs);
    });
  });
}
