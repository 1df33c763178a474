/** The front end: files under web/ and d3's bundle from node_modules, nothing else. */
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WEB_ROOT, d3Path } from './paths.js';
import { sendError } from './http.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

const D3 = d3Path();

/** web/-relative file for a URL path, or null when it would leave web/ or is not a plain name. */
export function webFile(urlPath: string): string | null {
  if (urlPath === '/' || urlPath === '') return join(WEB_ROOT, 'index.html');
  if (!/^\/[A-Za-z0-9._\-/]+$/.test(urlPath) || urlPath.split('/').some((s) => s === '..' || s.startsWith('.') && s !== '')) return null;
  const file = normalize(join(WEB_ROOT, urlPath));
  return file.startsWith(WEB_ROOT + sep) ? file : null;
}

export function serveStatic(req: IncomingMessage, res: ServerResponse, urlPath: string): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendError(res, 405, 'method-not-allowed', `${req.method} is not allowed here`, { Allow: 'GET, HEAD' });
    return;
  }
  const file = urlPath === '/vendor/d3.min.js' ? D3 : webFile(urlPath);
  if (file === null) { sendError(res, 404, 'not-found', `no such page: ${urlPath}`); return; }
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    sendError(res, 404, 'not-found', `no such page: ${urlPath}`);
    return;
  }
  res.writeHead(200, {
    'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    'Content-Length': size,
    'Cache-Control': 'no-cache',
  });
  if (req.method === 'HEAD') { res.end(); return; }
  createReadStream(file).on('error', () => res.destroy()).pipe(res);
}
