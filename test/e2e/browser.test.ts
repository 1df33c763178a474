/**
 * The web view in a real browser: Debian's /usr/bin/chromium driven by playwright-core (never a
 * downloaded browser). Captures go in through the page (file picker and drag and drop), and the
 * tests check what a person would look at: the findings, the FTP ladder's break mark on the
 * failed data connection after the 227 reply, the NLB flooded-share chart, the inside/outside
 * pair side by side, clear upload messages — and that markup in packet strings never runs.
 * Screenshots land in test-output/e2e/.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, getJson, type TestServer } from './harness.js';
import { writeFailingPasv, writeXssCapture, writeNlbCapture, writeDamaged, writePasvHelperPair, recorded, XSS, type NlbSecond } from './captures.js';
import { repoRoot } from '../helpers.js';
import { tshark } from '../tshark.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(repoRoot, 'test-output', 'e2e');
const LAB_SCENARIO = 'pasv-nat-no-helper-no-pasv_address';

let browser: Browser;
let server: TestServer;
let dir: string;
let nlbSeconds: NlbSecond[];
const files: Record<string, string> = {};

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's browser with "apt-get install -y chromium" (.ci/run does this); these tests never download one`);
  }
  mkdirSync(SHOTS, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'faultline-e2e-'));
  files.pasv = recorded('lab', `${LAB_SCENARIO}.outside.pcap`) ?? join(dir, `${LAB_SCENARIO}.generated.pcap`);
  if (!existsSync(files.pasv)) writeFailingPasv(files.pasv);
  // The XSS capture's own file name is markup too.
  files.xss = join(dir, `"><img src=x onerror=alert(9)>.pcap`);
  writeXssCapture(files.xss);
  files.nlb = join(dir, 'generated-nlb-flooding.pcap');
  nlbSeconds = writeNlbCapture(files.nlb);
  files.damaged = join(dir, 'damaged.pcap');
  writeDamaged(files.damaged, files.pasv);
  files.text = join(dir, 'notes.txt');
  writeFileSync(files.text, 'these are notes, not packets\n');
  files.inside = recorded('lab', 'pasv-nat-helper.inside.pcap') ?? join(dir, 'pair.inside.pcap');
  files.outside = recorded('lab', 'pasv-nat-helper.outside.pcap') ?? join(dir, 'pair.outside.pcap');
  if (!existsSync(files.inside) || !existsSync(files.outside)) {
    files.inside = join(dir, 'pair.inside.pcap');
    files.outside = join(dir, 'pair.outside.pcap');
    writePasvHelperPair(files.inside, files.outside);
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  server = await startServer();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Watched { page: Page; dialogs: string[]; errors: string[] }

/** A page that records dialogs (alert/confirm), page errors, console errors and CSP violations. */
async function newPage(): Promise<Watched> {
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const w: Watched = { page, dialogs: [], errors: [] };
  page.on('dialog', (d) => { w.dialogs.push(d.message()); void d.dismiss(); });
  page.on('pageerror', (e) => w.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // Chromium logs refused uploads (4xx) as failed resource loads: those are expected answers.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) w.errors.push(`console: ${m.text()}`);
  });
  await page.addInitScript(() => {
    const g = window as unknown as { __csp: string[] };
    g.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => g.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return w;
}

async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => document.getElementById('view')?.dataset.loading === 'false');
}

async function uploadThroughPicker(page: Page, paths: string[]): Promise<number[]> {
  await page.goto(`${server.url}/`);
  await page.waitForSelector('#dropzone');
  await page.setInputFiles('#file-input', paths);
  const ids: number[] = [];
  for (const p of paths) {
    const item = page.locator('.job', { hasText: basename(p) }).first();
    await page.waitForFunction((el) => el !== null && ['done', 'failed'].includes((el as HTMLElement).dataset.state ?? ''), await item.elementHandle(), { timeout: 60000 });
    if ((await item.getAttribute('data-state')) !== 'done') throw new Error(`${basename(p)}: ${await item.locator('.status').textContent()}`);
    const href = await item.locator('a.open').getAttribute('href');
    ids.push(Number(/#\/capture\/(\d+)/.exec(href ?? '')?.[1]));
  }
  return ids;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

function mustCodes(): string[] {
  const expected = join(repoRoot, 'captures', 'lab', 'expected.json');
  if (files.pasv.startsWith(join(repoRoot, 'captures')) && existsSync(expected)) {
    const e = JSON.parse(readFileSync(expected, 'utf8')) as { scenarios: Record<string, { captures: { outside: { must: string[] } } }> };
    return e.scenarios[LAB_SCENARIO].captures.outside.must;
  }
  // The generated stand-in is the same scenario: see writeFailingPasv.
  return ['FTP_CLEARTEXT_LOGIN', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED'];
}

let pasvId: number;

test('a lab capture uploaded through the page shows its findings with explanation, mitigation and frames', async () => {
  const w = await newPage();
  [pasvId] = await uploadThroughPicker(w.page, [files.pasv]);
  const status = await w.page.locator('.job', { hasText: basename(files.pasv) }).first().locator('.status').textContent();
  assert.match(status ?? '', /^analysed: \d+ frames, \d+ findings?$/);
  await shot(w.page, '01-uploaded');
  await w.page.locator('.job', { hasText: basename(files.pasv) }).first().locator('a.open').click();
  await settled(w.page);
  await w.page.click('.tabs a[data-tab=findings]');
  await w.page.waitForSelector('#findings .finding');
  const cards = await w.page.$$eval('#findings .finding', (els) => els.map((e) => ({
    code: (e as HTMLElement).dataset.code,
    explanation: e.querySelector('.explanation')?.textContent ?? '',
    mitigation: e.querySelector('.mitigation')?.textContent ?? '',
    frames: e.querySelector('.frames')?.textContent ?? '',
  })));
  for (const code of mustCodes()) assert.ok(cards.some((c) => c.code === code), `${code} shown; got ${cards.map((c) => c.code).join(', ')}`);
  for (const c of cards) {
    assert.ok(c.explanation.length > 40, `${c.code} explanation`);
    assert.match(c.mitigation, /^What to do: \S/, `${c.code} mitigation`);
    assert.match(c.frames, /^\d+(, \d+)*$/, `${c.code} evidence frames`);
  }
  await shot(w.page, '02-findings');
  assert.deepEqual(w.errors, []);
  await w.page.close();
});

test('the ladder of the failing PASV session draws the break mark on the data connection after the 227 reply', async () => {
  const w = await newPage();
  if (pasvId === undefined) [pasvId] = await uploadThroughPicker(w.page, [files.pasv]);
  await w.page.goto(`${server.url}/#/capture/${pasvId}/ftp`);
  await settled(w.page);
  await w.page.waitForSelector('svg.ladder g.data-conn');
  const ladder = w.page.locator('svg.ladder');

  const reply = ladder.locator('g.row[data-code="227"]').first();
  const replyText = (await reply.locator('text.msg').textContent()) ?? '';
  // The announced endpoint as the wire says it (RFC 959: h1,h2,h3,h4,p1,p2; port = p1*256+p2).
  const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(replyText);
  assert.ok(m, `227 text: ${replyText}`);
  const ip = m.slice(1, 5).join('.');
  const [p1, p2] = [Number(m[5]), Number(m[6])];
  const port = p1 * 256 + p2;
  const announcement = (await reply.locator('.announcement').textContent()) ?? '';
  assert.ok(announcement.includes(`${ip}:${port}`), announcement);
  assert.ok(announcement.includes(`p1*256+p2 = ${p1}*256+${p2} = ${port}`), announcement);

  const data = ladder.locator('g.data-conn').first();
  assert.equal(await data.getAttribute('data-state'), 'syn-unanswered');
  assert.ok(((await data.locator('text.data-label').textContent()) ?? '').includes(`${ip}:${port}`), 'the data connection went to the announced endpoint');
  assert.ok(Number(await data.getAttribute('data-frame')) > Number(await reply.getAttribute('data-frame')), 'SYN after the 227 in frame order');
  const marks = data.locator('.break-mark');
  assert.equal(await marks.count(), 1);
  assert.equal(await marks.getAttribute('data-kind'), 'syn-unanswered');

  const replyLine = await reply.locator('line.ctl').boundingBox();
  const mark = await marks.boundingBox();
  const nat = await ladder.locator('.lane-nat line').boundingBox();
  const server_ = await ladder.locator('.lane-server line').boundingBox();
  assert.ok(replyLine && mark && nat && server_);
  assert.ok(mark.y > replyLine.y + replyLine.height, `break mark (y ${mark.y}) below the 227 arrow (y ${replyLine.y})`);
  // An unanswered SYN to an address nobody here owns dies between the two: on the NAT/firewall lane.
  assert.ok(Math.abs(mark.x + mark.width / 2 - (nat.x + nat.width / 2)) < 3, 'on the NAT/firewall lane');
  assert.ok(mark.x + mark.width < server_.x, 'never reaches the server');
  await w.page.locator('#ladder').screenshot({ path: join(SHOTS, '03-ladder.png') });
  await shot(w.page, '03-ftp-page');

  // The same story on the incident timeline, whose time axis zooms.
  await w.page.click('.tabs a[data-tab=timeline]');
  await settled(w.page);
  await w.page.waitForSelector('#timeline-chart circle.tl-mark');
  const lanes = await w.page.locator('#timeline-chart .tl-lane-label').allTextContents();
  assert.ok(lanes.includes('findings') && lanes.includes('ftp') && lanes.includes('flows'), lanes.join());
  const span = async (): Promise<number> => {
    const text = (await w.page.locator('#timeline-window').textContent()) ?? '';
    const [a, b] = [...text.matchAll(/(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) UTC/g)].map((m) => Date.parse(m[1].replace(' ', 'T') + 'Z'));
    return b - a;
  };
  const before = await span();
  await w.page.click('text=zoom in');
  await w.page.waitForTimeout(400);
  const after = await span();
  assert.ok(after < before * 0.6, `zoom in narrows the window: ${before} ms → ${after} ms`);
  await shot(w.page, '03-timeline-zoomed');
  assert.deepEqual(w.errors, []);
  await w.page.close();
});

test('drag and drop an NLB capture: the chart shows the share of flooded frames per second', async () => {
  const w = await newPage();
  await w.page.goto(`${server.url}/`);
  await w.page.waitForSelector('#dropzone');
  const dt = await w.page.evaluateHandle(({ b64, name }) => {
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const t = new DataTransfer();
    t.items.add(new File([bytes], name, { type: 'application/octet-stream' }));
    return t;
  }, { b64: readFileSync(files.nlb).toString('base64'), name: basename(files.nlb) });
  await w.page.dispatchEvent('#dropzone', 'dragenter', { dataTransfer: dt });
  await w.page.dispatchEvent('#dropzone', 'drop', { dataTransfer: dt });
  const item = w.page.locator('.job', { hasText: basename(files.nlb) }).first();
  await item.locator('a.open').waitFor({ timeout: 60000 });
  await item.locator('a.open').click();
  await settled(w.page);
  await w.page.click('.tabs a[data-tab=nlb]');
  await settled(w.page);
  const cluster = w.page.locator('.nlb-cluster[data-cluster="192.168.10.100"]');
  await cluster.waitFor();
  assert.equal(await cluster.getAttribute('data-mode'), 'unicast');
  const shares = await cluster.locator('svg.flood-chart circle.pt').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-share'))));
  // What writeNlbCapture put on the wire: flooded frames / all frames, second by second.
  const expected = nlbSeconds.map((s) => s.flooded / s.frames);
  assert.equal(shares.length, expected.length);
  shares.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-3, `second ${i}: ${v} vs ${expected[i]}`));
  assert.match((await cluster.locator('svg.flood-chart path.share-line').getAttribute('d')) ?? '', /^M[\d.]+,[\d.]+/);
  assert.match((await cluster.locator('.flood-max').textContent()) ?? '', new RegExp(`^peak ${Math.round(Math.max(...expected) * 100)}%$`));
  assert.equal(await cluster.locator('.hb-row[data-host="192.168.10.12"] rect.hb-gap.beyond').count(), 1, 'host .12 silent beyond the tolerance');
  assert.equal(await cluster.locator('.hb-row[data-host="192.168.10.11"] rect.hb-gap').count(), 0);
  await shot(w.page, '04-nlb');
  assert.deepEqual(w.errors, []);
  await w.page.close();
});

test('recorded NLB captures (captures/nlb) render their flooded share as analysed', async (t) => {
  const nlbDir = join(repoRoot, 'captures', 'nlb');
  const recordedFiles = existsSync(nlbDir) ? readdirSync(nlbDir).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => join(nlbDir, f)) : [];
  if (recordedFiles.length === 0) { t.skip('captures/nlb has not been recorded yet: the generated capture above stands in'); return; }
  const w = await newPage();
  const ids = await uploadThroughPicker(w.page, recordedFiles);
  let drawn = 0;
  for (const [i, id] of ids.entries()) {
    const doc = (await getJson<{ nlb?: { clusters?: Array<{ clusterIp: string; flooded?: { perSecond?: Array<{ share: number }> } }> } }>(server, `/api/captures/${id}`)).json;
    const flooded = (doc.nlb?.clusters ?? []).filter((c) => (c.flooded?.perSecond ?? []).length > 0);
    if (flooded.length === 0) continue;
    await w.page.goto(`${server.url}/#/capture/${id}/nlb`);
    await settled(w.page);
    for (const c of flooded) {
      const shares = await w.page.locator(`.nlb-cluster[data-cluster="${c.clusterIp}"] svg.flood-chart circle.pt`).evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-share'))));
      const peak = Math.max(...c.flooded!.perSecond!.map((p) => p.share));
      assert.ok(shares.length >= c.flooded!.perSecond!.length, basename(recordedFiles[i]));
      assert.ok(Math.abs(Math.max(...shares) - peak) < 1e-3, basename(recordedFiles[i]));
      drawn++;
    }
    await shot(w.page, `05-nlb-${basename(recordedFiles[i])}`);
  }
  assert.ok(drawn > 0, 'at least one recorded capture has flooding to draw');
  await w.page.close();
});

/** Nothing injected: no dialogs, no script ran, no CSP violation, no element or attribute from packet text. */
async function assertNothingExecuted(w: Watched, where: string): Promise<void> {
  const state = await w.page.evaluate(() => {
    const g = window as unknown as { __xss?: unknown; __csp: string[] };
    const handlers: string[] = [];
    for (const e of document.querySelectorAll('*')) for (const a of e.attributes) if (/^on/i.test(a.name)) handlers.push(`${e.tagName} ${a.name}`);
    return {
      xss: g.__xss ?? null,
      csp: g.__csp,
      imgs: document.querySelectorAll('img').length,
      inlineScripts: [...document.querySelectorAll('script')].filter((s) => !s.src).length,
      scripts: document.querySelectorAll('script').length,
      handlers,
    };
  });
  assert.deepEqual(w.dialogs, [], `${where}: dialogs`);
  assert.equal(state.xss, null, `${where}: window.__xss set`);
  assert.deepEqual(state.csp, [], `${where}: CSP violations (an injection attempt was blocked)`);
  assert.equal(state.imgs, 0, `${where}: <img> elements (the page has none of its own)`);
  assert.equal(state.inlineScripts, 0, `${where}: inline scripts`);
  assert.equal(state.scripts, 2, `${where}: d3 and app.js only`);
  assert.deepEqual(state.handlers, [], `${where}: inline event handler attributes`);
  assert.deepEqual(w.errors, [], `${where}: errors`);
}

test('markup in file names, FTP user and file names, reply texts and certificates is shown as text and never runs', async () => {
  const w = await newPage();
  const [id] = await uploadThroughPicker(w.page, [files.xss]);
  await assertNothingExecuted(w, 'captures list');
  assert.ok((await w.page.locator('#capture-list .capture-name').allTextContents()).includes(basename(files.xss)), 'file name shown verbatim');
  for (const tab of ['overview', 'findings', 'ftp', 'tls', 'nlb', 'timeline']) {
    await w.page.goto(`${server.url}/#/capture/${id}/${tab}`);
    await settled(w.page);
    await w.page.waitForTimeout(100);
    await assertNothingExecuted(w, tab);
    if (tab === 'overview') assert.equal(await w.page.locator('.capture-title').textContent(), basename(files.xss));
    if (tab === 'ftp') {
      await w.page.waitForSelector('svg.ladder');
      assert.equal(await w.page.locator('table.sessions td.user').first().textContent(), XSS.user);
      const ladderTexts = await w.page.locator('svg.ladder text.msg').allTextContents();
      for (const want of [`USER ${XSS.user}`, `CWD ${XSS.dir}`, `RETR ${XSS.file}`, `STOR ${XSS.stor}`, `553 Could not create file ${XSS.stor}`]) {
        assert.ok(ladderTexts.includes(want), `ladder shows ${want}`);
      }
      assert.ok((await w.page.locator('table.transfers .filename').allTextContents()).includes(`RETR ${XSS.file}`));
      await shot(w.page, '06-xss-ftp');
    }
    if (tab === 'tls') {
      const doc = (await getJson<{ tls: { handshakes: unknown[] } }>(server, `/api/captures/${id}`)).json;
      if (doc.tls.handshakes.length > 0) {
        assert.ok((await w.page.locator('td.sni').allTextContents()).includes(XSS.sni), 'SNI shown as text');
        const text = (await w.page.locator('#tls-detail').textContent()) ?? '';
        // The TLS section prints distinguished names in RFC 4514 form, which escapes " + , ; < > \\
        // with a backslash: either form proves the markup arrived as text.
        const dn = (v: string): string => v.replace(/["+,;<>\\]/g, (c) => '\\' + c);
        const shown = (v: string): boolean => text.includes(v) || text.includes(dn(v));
        assert.ok(shown(XSS.certCn) && shown(XSS.certO), `certificate subject shown as text: ${text.slice(0, 300)}`);
      }
    }
    if (tab === 'findings') await shot(w.page, '06-xss-findings');
    if (tab === 'timeline') await shot(w.page, '06-xss-timeline');
  }

  // The TLS and NLB sections as the contract describes them, every string field hostile:
  // whatever the modules emit, the views must treat it as text.
  const doc = (await getJson<Record<string, unknown>>(server, `/api/captures/${id}`)).json;
  const hostile = (s: string): string => `${s}<img src=x onerror="window.__xss='stub'">`;
  doc.tls = { handshakes: [{
    frame: 51, client: '192.0.2.50', clientPort: 40200, server: '192.0.2.80', serverPort: 443, sni: XSS.sni, version: hostile('TLS 1.2'),
    cipher: hostile('TLS_ECDHE'), ja3: hostile('ja3'), ja4: hostile('ja4'), resumed: false, alpn: [hostile('h2')],
    certs: [{ subject: `CN=${XSS.certCn}, O=${XSS.certO}`, issuer: hostile('CN=issuer'), san: [hostile('DNS:x')], notBefore: hostile('2024'), notAfter: '2034-05-14T00:00:00Z', selfSigned: true, fingerprint: hostile('ab:cd') }],
  }] };
  doc.nlb = { clusters: [{ clusterIp: hostile('192.0.2.1'), mode: hostile('unicast'), hosts: [{ ip: hostile('192.0.2.2'), priority: 1, name: hostile('host'), timeline: [{ firstTs: '2024-05-14T10:30:00.000000Z', lastTs: '2024-05-14T10:30:05.000000Z', heartbeats: 5 }] }],
    flooded: { perSecond: [{ t: '2024-05-14T10:30:00.000000Z', second: 1715682600, share: 0.5, frames: 1, totalFrames: 2 }] } }] };
  await w.page.route(`**/api/captures/${id}`, (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(doc) }));
  for (const tab of ['tls', 'nlb', 'timeline']) {
    // A fresh document load each time: the page caches capture documents.
    await w.page.goto(`${server.url}/?stub=${tab}#/capture/${id}/${tab}`);
    await settled(w.page);
    await w.page.waitForTimeout(100);
    await assertNothingExecuted(w, `stubbed ${tab}`);
  }
  await w.page.goto(`${server.url}/?stub=again#/capture/${id}/tls`);
  await settled(w.page);
  assert.equal(await w.page.locator('td.sni').first().textContent(), XSS.sni);
  assert.ok(((await w.page.locator('#tls-detail .cert').first().textContent()) ?? '').includes(`CN=${XSS.certCn}, O=${XSS.certO}`));
  await shot(w.page, '06-xss-tls-stub');
  await w.page.close();
});

test('the compare view shows the pair as `faultline compare` sees it: the rewritten 227 side by side, the NAT rule, FTP_ADDRESS_REWRITTEN', async () => {
  const w = await newPage();
  const [inside, outside] = await uploadThroughPicker(w.page, [files.inside, files.outside]);
  // Ground truth from tshark's FTP dissector: the 227's address and port on each side.
  const announced = (p: string): string => tshark(['-r', p, '-Y', 'ftp.response.code == 227', '-T', 'fields', '-e', 'ftp.passive.ip', '-e', 'ftp.passive.port']).trim().split('\n')[0].split('\t').join(':');
  const [a, b] = [announced(files.inside), announced(files.outside)];
  assert.notEqual(a, b, 'the NAT helper rewrote the 227');
  await w.page.goto(`${server.url}/#/compare/${inside}/${outside}`);
  await settled(w.page);
  const row = w.page.locator('#compare-result table.compare tbody tr').first();
  await row.waitFor();
  const cells = await row.locator('td').allTextContents();
  assert.ok(cells[1].includes(a), `inside cell ${cells[1]} has ${a}`);
  assert.ok(cells[2].includes(b), `outside cell ${cells[2]} has ${b}`);
  assert.equal(await row.getAttribute('class'), 'differs');
  const facts = (await w.page.locator('#compare-facts li').allTextContents()).join('\n');
  assert.match(facts, /NAT: DNAT \S+ → \S+/, facts);
  assert.match(facts, /1 FTP session matched/, facts);
  assert.equal(await w.page.locator('#compare-result article.finding[data-code="FTP_ADDRESS_REWRITTEN"]').count(), 1);
  await shot(w.page, '07-compare');
  assert.deepEqual(w.errors, []);
  await w.page.close();
});

test('clear messages in the page for a wrong file, an oversize file and a damaged capture', async () => {
  const w = await newPage();
  await uploadThroughPicker(w.page, [files.damaged]);
  const damaged = w.page.locator('.job', { hasText: 'damaged.pcap' }).first();
  assert.match((await damaged.locator('.status').textContent()) ?? '', /^analysed up to the damage \(\d+ frames, \d+ findings?; 1 warning\)$/);
  await w.page.setInputFiles('#file-input', [files.text]);
  const wrong = w.page.locator('.job', { hasText: 'notes.txt' }).first();
  await w.page.waitForFunction(() => [...document.querySelectorAll('.job')].some((j) => (j as HTMLElement).dataset.state === 'failed'));
  assert.match((await wrong.locator('.status').textContent()) ?? '', /^wrong file type: not a pcap or pcapng capture: it starts with 74 68 65 73 65 20 61 72 \(text\)/);
  await shot(w.page, '08-upload-messages');
  await damaged.locator('a.open').click();
  await settled(w.page);
  assert.match((await w.page.locator('#warnings h2').textContent()) ?? '', /Damaged capture: analysed up to the damage/);
  assert.match((await w.page.locator('#warnings li').first().textContent()) ?? '', /^byte [\d,]+: capture truncated/);
  await w.page.close();

  // A server with a small limit: the page says so before sending anything.
  const small = await startServer({ maxUpload: 1024 });
  const w2 = await newPage();
  try {
    await w2.page.goto(`${small.url}/`);
    await w2.page.waitForSelector('#dropzone');
    const big = join(dir, 'big.pcap');
    copyFileSync(files.nlb, big);
    await w2.page.setInputFiles('#file-input', [big]);
    const item = w2.page.locator('.job', { hasText: 'big.pcap' }).first();
    await w2.page.waitForFunction(() => document.querySelector('.job')?.getAttribute('data-state') === 'failed');
    assert.match((await item.locator('.status').textContent()) ?? '', /^too large: [\d.]+ KiB is over this server's limit of 1\.0 KiB \(faultline serve --max-upload\)$/);
    assert.deepEqual((await getJson<{ jobs: unknown[] }>(small, '/api/jobs')).json.jobs, []);
    await shot(w2.page, '08-too-large');
  } finally {
    await w2.page.close();
    await small.close();
  }
});
