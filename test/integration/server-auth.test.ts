/**
 * Who may talk to `faultline serve`: a token beyond loopback (header or cookie, checked on every
 * API request, uploads refused before their body), Host checking on loopback (DNS rebinding),
 * same-origin uploads, the security headers, and the static files confined to web/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { startServer, leftoverUploads, rawRequest, getJson } from '../e2e/harness.js';
import { isLoopbackHost, parseSize, resolveToken } from '../../src/server/config.js';
import { repoRoot } from '../helpers.js';

const TOKEN = 'test-token-0123456789abcdef';

test('binding beyond loopback needs a token: given, or generated', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
    assert.equal(isLoopbackHost(h), true, h);
    assert.deepEqual(resolveToken(h, undefined), { token: null, generated: false }, h);
  }
  for (const h of ['0.0.0.0', '::', '192.168.1.5', '10.0.0.1', 'example.org']) {
    assert.equal(isLoopbackHost(h), false, h);
    const t = resolveToken(h, undefined);
    assert.equal(t.generated, true, h);
    assert.ok(t.token !== null && t.token.length >= 32, h);
  }
  assert.notEqual(resolveToken('0.0.0.0', undefined).token, resolveToken('0.0.0.0', undefined).token, 'random each time');
  assert.deepEqual(resolveToken('0.0.0.0', TOKEN), { token: TOKEN, generated: false });
  assert.deepEqual(resolveToken('127.0.0.1', TOKEN), { token: TOKEN, generated: false }, 'a token given on loopback is enforced too');
});

test('--max-upload sizes', () => {
  assert.equal(parseSize('2G'), 2 * 1024 ** 3);
  assert.equal(parseSize('500M'), 500 * 1024 ** 2);
  assert.equal(parseSize('64k'), 64 * 1024);
  assert.equal(parseSize('1.5MiB'), 1.5 * 1024 ** 2);
  assert.equal(parseSize('1048576'), 1048576);
  for (const bad of ['', 'lots', '-5M', '0', '3T', '1e9']) assert.equal(parseSize(bad), null, bad);
});

test('with a token: every API request must carry it, by header or by the cookie /?token= sets', async () => {
  const s = await startServer({ token: TOKEN });
  try {
    const attempts: Array<Record<string, string>> = [{}, { Authorization: 'Bearer wrong-token-0123456789' }, { Authorization: `Basic ${TOKEN}` }, { Cookie: 'faultline_token=nope' }];
    for (const headers of attempts) {
      for (const path of ['/api/captures', '/api/config', '/api/jobs', '/api/captures/1']) {
        const r = await getJson<{ error: { code: string } }>(s, path, headers);
        assert.equal(r.status, 401, `${path} ${JSON.stringify(headers)}`);
        assert.equal(r.json.error.code, 'unauthorized');
      }
    }
    assert.equal((await getJson(s, '/api/captures', { Authorization: `Bearer ${TOKEN}` })).status, 200);

    const wrong = await fetch(`${s.url}/?token=wrong`, { redirect: 'manual' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);
    const login = await fetch(`${s.url}/?token=${TOKEN}`, { redirect: 'manual' });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/', 'the token leaves the address bar');
    const cookie = login.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^faultline_token=[^;]+; HttpOnly; SameSite=Strict; Path=\//);
    assert.equal((await getJson(s, '/api/captures', { Cookie: cookie.split(';')[0] })).status, 200);

    // The page itself holds no data and loads without the token; its API calls then need it.
    assert.equal((await fetch(`${s.url}/`)).status, 200);
  } finally {
    await s.close();
  }
});

test('with a token: an upload without it is refused before its body is read or stored', async () => {
  const s = await startServer({ token: TOKEN, maxUpload: 1024 ** 3 });
  try {
    const head = `POST /api/uploads?name=x.pcap HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nContent-Length: ${512 * 1024 ** 2}\r\n\r\n`;
    const r = await rawRequest(s.port, head, [], 1500);
    assert.equal(r.status, 401);
    const r2 = await rawRequest(s.port, head.replace('\r\n\r\n', `\r\nAuthorization: Bearer nope-nope-nope-nope\r\nExpect: 100-continue\r\n\r\n`), [], 1500);
    assert.equal(r2.status, 401);
    assert.equal(r2.continued, false);
    assert.deepEqual(leftoverUploads(s), []);
  } finally {
    await s.close();
  }
});

function rawGet(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { Host: host } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', reject);
    req.end();
  });
}

test('on loopback, requests naming another host are refused (DNS rebinding)', async () => {
  const s = await startServer();
  try {
    assert.equal(await rawGet(s.port, '/api/captures', 'evil.example'), 421);
    assert.equal(await rawGet(s.port, '/api/captures', `evil.example:${s.port}`), 421);
    assert.equal(await rawGet(s.port, '/', 'attacker.test'), 421);
    assert.equal(await rawGet(s.port, '/api/captures', `localhost:${s.port}`), 200);
    assert.equal(await rawGet(s.port, '/api/captures', `127.0.0.1:${s.port}`), 200);
    assert.equal(await rawGet(s.port, '/api/captures', `[::1]:${s.port}`), 200);
  } finally {
    await s.close();
  }
});

test('uploads from another origin are refused', async () => {
  const s = await startServer();
  try {
    const res = await fetch(`${s.url}/api/uploads?name=a.pcap`, { method: 'POST', body: new Uint8Array(24), headers: { Origin: 'http://evil.example' } });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'cross-origin');
    assert.deepEqual(leftoverUploads(s), []);
  } finally {
    await s.close();
  }
});

test('security headers on pages, scripts, API answers and errors; strict CSP; no inline script in the page', async () => {
  const s = await startServer();
  try {
    for (const path of ['/', '/js/app.js', '/css/app.css', '/vendor/d3.min.js', '/api/captures', '/api/nope', '/nope.html']) {
      const res = await fetch(`${s.url}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/, path);
      assert.match(csp, /script-src 'self'(;|$)/, path);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/, path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
    }
    const d3 = await fetch(`${s.url}/vendor/d3.min.js`);
    assert.equal(d3.status, 200);
    assert.match(d3.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(await d3.text(), /d3js\.org v7\./, 'd3 v7 from node_modules');
    const html = readFileSync(join(repoRoot, 'web', 'index.html'), 'utf8');
    assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/i, 'every script has a src');
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i, 'no inline event handlers');
    assert.doesNotMatch(html, /https?:\/\//, 'nothing from a CDN');
  } finally {
    await s.close();
  }
});

test('static files come from web/ only', async () => {
  const s = await startServer();
  try {
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/js/../../package.json', '/js/%2e%2e/%2e%2e/package.json', '/.git/config', '/..%2fpackage.json', '/node_modules/d3/package.json', '/web/index.html']) {
      const status = await rawGet(s.port, path, `127.0.0.1:${s.port}`);
      assert.equal(status, 404, path);
    }
    assert.equal((await fetch(`${s.url}/js/views/ladder.js`)).status, 200);
    const post = await fetch(`${s.url}/index.html`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
  } finally {
    await s.close();
  }
});

test('faultline serve: prints where it listens, refuses bad flags with exit 2', async () => {
  const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
  const run = (args: string[]): Promise<{ code: number | null; stderr: string }> => new Promise((resolve) => {
    const p = spawn(process.execPath, [cli, 'serve', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.on('exit', (code) => resolve({ code, stderr }));
  });
  assert.equal((await run(['--max-upload', 'lots'])).code, 2);
  assert.equal((await run(['--token', 'short'])).code, 2);
  assert.equal((await run(['--port', '70000'])).code, 2);

  mkdirSync(join(repoRoot, 'test-output'), { recursive: true });
  const db = join(repoRoot, 'test-output', `serve-cli-${process.pid}.db`);
  const p = spawn(process.execPath, [cli, 'serve', '--port', '0', '--db', db, '--token', TOKEN], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let err = '';
      const t = setTimeout(() => reject(new Error(`no start line: ${err}`)), 10000);
      p.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /open (http:\/\/127\.0\.0\.1:\d+)\/\?token=(\S+)/.exec(err);
        if (m && /serving http:\/\/127\.0\.0\.1:\d+\//.test(err)) { clearTimeout(t); assert.equal(decodeURIComponent(m[2]), TOKEN); resolve(m[1]); }
      });
    });
    assert.equal((await fetch(`${url}/api/captures`)).status, 401);
    assert.equal((await fetch(`${url}/api/captures`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status, 200);
  } finally {
    p.kill('SIGTERM');
    await new Promise((r) => p.on('exit', r));
    for (const ext of ['', '-wal', '-shm']) rmSync(db + ext, { force: true });
  }
});
