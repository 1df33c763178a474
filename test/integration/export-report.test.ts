/**
 * `faultline export --format markdown|html`: incident reports of real captures (the lab's
 * PASV-behind-NAT failure, a generated NLB heartbeat loss) and of hostile ones (markup,
 * backticks, pipes and control characters in every FTP string, a TLS SNI and certificate
 * subject made of HTML). The HTML is opened in Debian's headless Chromium with every request
 * but the file itself refused, and checked for what a reader must see (findings, mitigations,
 * the SVG ladder with its break mark where the data connection died) and what must never
 * happen (a request, a script, an element made from packet text, a password).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { chromium, type Browser } from 'playwright-core';
import { repoRoot, runCli as cli } from '../helpers.js';
import { tshark } from '../tshark.js';
import { Capture } from '../unit/ftp/synth.js';
import { writeXssCapture, XSS } from '../e2e/captures.js';

const CHROMIUM = '/usr/bin/chromium';
const FTP = join(repoRoot, 'captures', 'lab', 'pasv-nat-no-helper-no-pasv_address.outside.pcap');
const NLB = join(repoRoot, 'captures', 'nlb', 'nlb-heartbeat-loss.pcap');
const LAB_PASSWORD = 'lab-pass-1';

const tmp = mkdtempSync(join(tmpdir(), 'faultline-export-report-'));
const db = join(tmp, 'r.db');
const HOSTILE = join(tmp, 'hostile.pcap');
const XSS_CAPTURE = join(tmp, 'xss.pcap');
const ids: Record<string, number> = {};
let browser: Browser;

/** Packet strings an attacker controls. */
const EVIL = {
  greeting: '220 <script>alert(1)</script><img src="http://127.0.0.1:9/g.png"> `x` | *y* ]]> \x1b[31mred',
  user: '<b>eve</b>|`',
  password: 'Sup3r-Secret!',
  reply425: "425 Can't open data connection <style>body{background:url(http://127.0.0.1:9/bg)}</style>",
  file: '<iframe src=//127.0.0.1:9/>.txt',
};

/**
 * A public client, a public server that announces a private address (RFC 1918 10.0.0.5, port
 * 195*256+80 = 50000 by RFC 959's PASV arithmetic), a SYN to it sent three times and never
 * answered, then 425: the ladder must end that connection with a break mark.
 */
function writeHostileFtp(path: string): void {
  const cap = new Capture();
  const ctl = cap.tcp('198.51.100.20', 50123, '203.0.113.7', 21).handshake();
  ctl.send('s', `${EVIL.greeting}\r\n`);
  ctl.exchange(`USER ${EVIL.user}`, '331 Password required');
  ctl.exchange(`PASS ${EVIL.password}`, '230 Logged in');
  ctl.exchange('PASV', '227 Entering Passive Mode (10,0,0,5,195,80)');
  const data = cap.tcp('198.51.100.20', 40001, '10.0.0.5', 50000);
  data.syn();
  cap.tick(1000);
  data.syn();
  cap.tick(2000);
  data.syn();
  cap.tick(3000);
  ctl.exchange(`RETR ${EVIL.file}`, EVIL.reply425);
  ctl.exchange('QUIT', '221 Goodbye');
  ctl.close();
  cap.write(path);
}

function exportTo(id: number, format: 'markdown' | 'html'): string {
  const out = join(tmp, `c${id}.${format === 'html' ? 'html' : 'md'}`);
  const r = cli(['export', '--db', db, '--capture', String(id), '--format', format, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  return out;
}

before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
  writeHostileFtp(HOSTILE);
  writeXssCapture(XSS_CAPTURE);
  for (const f of [FTP, NLB, HOSTILE, XSS_CAPTURE]) {
    const r = cli(['analyze', f, '--db', db]);
    assert.equal(r.status, 0, r.stderr);
  }
  const conn = new Database(db, { readonly: true });
  for (const r of conn.prepare('SELECT id, file FROM captures').all() as Array<{ id: number; file: string }>) ids[r.file] = r.id;
  conn.close();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  rmSync(tmp, { recursive: true, force: true });
});

interface Opened {
  requests: string[];
  blocked: string[];
  dialogs: string[];
  info: {
    title: string; text: string; scripts: number; styles: number; linked: number; ladders: number;
    breakMarks: Array<{ kind: string; x: number }>; natX: number[]; announcements: string[]; svgErrors: number;
    findings: string[]; foreign: number;
  };
}

/** Opens a report with every request except the file itself refused, and reads what a reader sees. */
async function open(path: string): Promise<Opened> {
  const url = pathToFileURL(path).href;
  const page = await browser.newPage();
  const o: Opened = { requests: [], blocked: [], dialogs: [], info: undefined as unknown as Opened['info'] };
  page.on('request', (r) => o.requests.push(r.url()));
  page.on('dialog', (d) => { o.dialogs.push(d.message()); void d.dismiss(); });
  await page.route('**', (route) => {
    if (route.request().url() === url) return route.continue();
    o.blocked.push(route.request().url());
    return route.abort();
  });
  await page.goto(url, { waitUntil: 'load' });
  const svgSources = [...readFileSync(path, 'utf8').matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
  o.info = await page.evaluate((sources) => {
    const parse = (s: string): number => new DOMParser().parseFromString(s, 'image/svg+xml').getElementsByTagName('parsererror').length;
    const knownTags = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'h1', 'h2', 'h3', 'p', 'ul', 'li', 'table', 'thead', 'tbody', 'tr', 'th', 'td',
      'section', 'strong', 'code', 'span', 'div', 'footer', 'svg', 'defs', 'marker', 'path', 'g', 'line', 'text', 'rect', 'circle']);
    return {
      title: document.title,
      text: document.body.textContent ?? '',
      scripts: document.scripts.length,
      styles: document.querySelectorAll('style').length,
      linked: document.querySelectorAll('[src], [href], link, img, iframe, object, embed, image, use, foreignObject').length,
      ladders: document.querySelectorAll('svg.ladder').length,
      breakMarks: [...document.querySelectorAll('svg.ladder .break-mark')].map((m) => ({
        kind: m.getAttribute('data-kind') ?? '', x: Number(/translate\(([-\d.]+),/.exec(m.getAttribute('transform') ?? '')?.[1]),
      })),
      natX: [...document.querySelectorAll('svg.ladder .lane-nat line')].map((l) => Number(l.getAttribute('x1'))),
      announcements: [...document.querySelectorAll('svg.ladder .announcement')].map((a) => a.textContent ?? ''),
      svgErrors: sources.map(parse).reduce((a, b) => a + b, 0),
      findings: [...document.querySelectorAll('section.finding')].map((s) => s.getAttribute('data-code') ?? ''),
      foreign: [...document.querySelectorAll('*')].filter((e) => !knownTags.has(e.localName)).length,
    };
  }, svgSources);
  await page.close();
  return o;
}

function mustBeInert(o: Opened, path: string): void {
  assert.deepEqual(o.blocked, [], 'no request was attempted');
  assert.deepEqual(o.requests, [pathToFileURL(path).href], 'the file itself is the only request');
  assert.deepEqual(o.dialogs, []);
  assert.equal(o.info.scripts, 0, 'no script');
  assert.equal(o.info.styles, 1, 'only the report\'s own style sheet');
  assert.equal(o.info.linked, 0, 'nothing that links or embeds');
  assert.equal(o.info.foreign, 0, 'no element outside the report\'s own vocabulary');
  assert.equal(o.info.svgErrors, 0, 'every SVG is well-formed XML');
}

test('HTML report of the lab capture: findings, mitigations, and the ladder with the PASV arithmetic and a break mark at the NAT', async () => {
  const path = exportTo(ids[FTP], 'html');
  const html = readFileSync(path, 'utf8');
  assert.ok(!html.includes(LAB_PASSWORD));
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  const o = await open(path);
  mustBeInert(o, path);
  const lab = JSON.parse(readFileSync(join(repoRoot, 'captures', 'lab', 'expected.json'), 'utf8')) as { scenarios: Record<string, { captures: { outside: { must: string[] } } }> };
  for (const code of lab.scenarios['pasv-nat-no-helper-no-pasv_address'].captures.outside.must) assert.ok(o.info.findings.includes(code), code);
  assert.match(o.info.text, /What broke/);
  assert.match(o.info.text, /Mitigations/);
  assert.match(o.info.text, /pasv_address/, 'the vsftpd mitigation for a private PASV address (FINDINGS.md)');
  const [ip, port] = tshark(['-r', FTP, '-Y', 'ftp.response.code == 227', '-T', 'fields', '-e', 'ftp.passive.ip', '-e', 'ftp.passive.port']).trim().split('\t');
  const [p1, p2] = [Math.floor(Number(port) / 256), Number(port) % 256];
  assert.equal(o.info.ladders, 1, 'one FTP session, one ladder');
  assert.ok(o.info.announcements.some((a) => a.includes(`${ip}:${port}`) && a.includes(`${p1}*256+${p2} = ${port}`)), o.info.announcements.join(' / '));
  // The SYN to the private address was never answered (tshark: no SYN-ACK from it): the line stops at the NAT lane.
  assert.equal(tshark(['-r', FTP, '-Y', `tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.srcport == ${port}`]).trim(), '');
  const mark = o.info.breakMarks.find((m) => m.kind === 'syn-unanswered');
  assert.ok(mark, JSON.stringify(o.info.breakMarks));
  assert.equal(mark.x, o.info.natX[0]);
});

test('HTML report of hostile captures: markup, control characters and ]]> stay text; the password never appears', async () => {
  for (const file of [HOSTILE, XSS_CAPTURE]) {
    const path = exportTo(ids[file], 'html');
    const html = readFileSync(path, 'utf8');
    assert.ok(!html.includes(EVIL.password) && !html.includes('hunter2'), 'passwords masked');
    assert.ok(!html.includes('\x1b'), 'no raw control characters');
    const o = await open(path);
    mustBeInert(o, path);
    if (file === HOSTILE) {
      for (const s of ['<script>alert(1)</script>', '<b>eve</b>', EVIL.file, "425 Can't open data connection <style>", ']]>']) assert.ok(o.info.text.includes(s), s);
      assert.ok(o.info.text.includes('\\x1b[31mred'), 'the escape character shown as \\x1b');
      const kinds = o.info.breakMarks.map((m) => m.kind);
      assert.ok(kinds.includes('syn-unanswered') && kinds.includes('reply-425'), kinds.join(','));
      assert.ok(o.info.announcements.some((a) => a.includes('10.0.0.5:50000') && a.includes('195*256+80 = 50000')));
      assert.ok(o.info.findings.includes('FTP_PASV_PRIVATE_ADDRESS') && o.info.findings.includes('FTP_DATA_CONNECT_FAILED'), o.info.findings.join(','));
    } else {
      for (const s of [XSS.user, XSS.file, XSS.stor]) assert.ok(o.info.text.includes(s), s);
      assert.equal(o.info.ladders, 1);
    }
  }
});

test('HTML report of the NLB capture: the cluster (as tshark reads its heartbeats), its hosts and the heartbeat loss', async () => {
  const path = exportTo(ids[NLB], 'html');
  const o = await open(path);
  mustBeInert(o, path);
  const clusters = new Set(tshark(['-r', NLB, '-Y', 'msnlb', '-T', 'fields', '-e', 'msnlb.cluster_ip']).trim().split('\n'));
  const hosts = new Set(tshark(['-r', NLB, '-Y', 'msnlb', '-T', 'fields', '-e', 'msnlb.host_ip']).trim().split('\n'));
  for (const c of clusters) assert.ok(o.info.text.includes(c), c);
  for (const h of hosts) assert.ok(o.info.text.includes(h), h);
  assert.ok(o.info.findings.includes('NLB_HEARTBEAT_LOSS'));
  assert.equal(o.info.ladders, 0, 'no FTP, no ladder');
});

/** Lines of a Markdown document outside fenced code blocks, and the blocks themselves. */
function splitFences(text: string): { prose: string[]; blocks: string[] } {
  const prose: string[] = [], blocks: string[] = [];
  let fence: string | null = null;
  let block: string[] = [];
  for (const line of text.split('\n')) {
    if (fence === null) {
      const m = /^(`{3,})/.exec(line);
      if (m) { fence = m[1]; block = []; } else prose.push(line);
    } else if (line === fence) {
      blocks.push(block.join('\n'));
      fence = null;
    } else block.push(line);
  }
  assert.equal(fence, null, 'every fence is closed');
  return { prose, blocks };
}

test('Markdown report: escaped prose, well-formed tables, the text ladder in a fence no backtick can close, no password', () => {
  const lab = readFileSync(exportTo(ids[FTP], 'markdown'), 'utf8');
  assert.ok(!lab.includes(LAB_PASSWORD));
  const { prose, blocks } = splitFences(lab);
  assert.match(prose.join('\n'), /^## What broke$/m);
  assert.match(prose.join('\n'), /^## Mitigations$/m);
  assert.match(prose.join('\n'), /`FTP_PASV_PRIVATE_ADDRESS`/);
  const [ip, port] = tshark(['-r', FTP, '-Y', 'ftp.response.code == 227', '-T', 'fields', '-e', 'ftp.passive.ip', '-e', 'ftp.passive.port']).trim().split('\t');
  // Each finding's Wireshark filter, run through tshark, shows exactly its evidence frames.
  const filters = [...lab.matchAll(/Evidence frames: ([\d, ]+) \(Wireshark filter: `([^`]+)`\)/g)];
  assert.ok(filters.length > 0);
  for (const [, frames, filter] of filters) {
    assert.deepEqual(tshark(['-r', FTP, '-Y', filter, '-T', 'fields', '-e', 'frame.number']).trim().split('\n'), frames.split(', '), filter);
  }
  const ladder = blocks.find((b) => b.includes('NAT / firewall'));
  assert.ok(ladder, 'a text ladder');
  assert.ok(ladder.includes(`${ip}:${port}`));
  assert.match(ladder, /=+X/, 'the data connection ends in an X');
  assert.match(ladder, /PASS \*+/, 'PASS masked in the ladder');

  const hostile = readFileSync(exportTo(ids[HOSTILE], 'markdown'), 'utf8');
  assert.ok(!hostile.includes(EVIL.password) && !hostile.includes('\x1b'));
  const h = splitFences(hostile);
  for (const line of h.prose) {
    assert.ok(!/<(script|img|style|iframe|b)\b/i.test(line), `raw markup outside code: ${line}`);
    if (line.startsWith('|')) {
      // Every cell boundary is an unescaped pipe; packet pipes are escaped.
      const cells = line.replace(/\\\|/g, '').split('|').length - 2;
      const header = h.prose.slice(0, h.prose.indexOf(line) + 1).reverse().find((l, i, all) => l.startsWith('|') && !(all[i + 1] ?? '').startsWith('|'));
      assert.equal(cells, header!.replace(/\\\|/g, '').split('|').length - 2, line);
    }
  }
  assert.ok(h.prose.join('\n').includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  const hl = h.blocks.find((b) => b.includes('NAT / firewall'));
  assert.ok(hl && hl.includes('220 <script>alert(1)</script>'), 'inside the fence, text as it was');
  assert.match(hl, /=+X/);
  assert.match(hl, /425 Can't open data connection/);
});
