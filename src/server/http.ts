/**
 * Response helpers shared by the API and the static files: security headers on everything,
 * JSON bodies, uniform errors, and a lingering close for requests whose body we refuse.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * No inline script or style, nothing from other origins: packet-derived strings that slipped
 * into markup still could not run. d3 sets styles through the CSSOM, which CSP allows.
 */
export const CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

export function securityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Errors as `{ error: { status, code, message } }`; code is a stable word scripts can match. */
export function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) { res.destroy(); return; }
  sendJson(res, status, { error: { status, code, message } }, headers);
}

/**
 * Answer now and stop taking the body. Node closes a `Connection: close` socket as soon as the
 * answer is written; with the client still sending, that close turns into a reset which can
 * destroy the answer before the client reads it. So this is a lingering close (RFC 9112 §9.6):
 * send FIN after the answer, read and discard at most `maxDiscard` more bytes, then stop
 * reading (the client's sends stall) and cut the connection after `lingerMs`. The refused body
 * is never stored.
 */
export function refuseBody(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, maxDiscard = 1 << 20, lingerMs = 2000): void {
  const socket = req.socket as Socket & { destroySoon?: () => void };
  socket.destroySoon = () => { socket.end(); };
  const timer = setTimeout(() => socket.destroy(), lingerMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  sendError(res, status, code, message, { Connection: 'close' });
  let discarded = 0;
  req.removeAllListeners('data');
  req.on('data', (c: Buffer) => {
    discarded += c.length;
    if (discarded > maxDiscard) req.pause();
  });
  req.on('error', () => undefined);
  req.resume();
}
