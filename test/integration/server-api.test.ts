/**
 * The JSON API: a capture's document is the CLI's `--json` document, sub-resources are slices
 * of it, the FTP dialogue the ladder draws comes back with passwords masked even from a
 * database written with --show-passwords, /api/compare is `faultline compare --json` for two stored
 * captures, and unknown things answer 400/404/405.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startServer, upload, waitForJob, getJson, type TestServer } from '../e2e/harness.js';
import { writeFailingPasv } from '../e2e/captures.js';
import { repoRoot } from '../helpers.js';

let dir: string;
let pcap: string;
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'faultline-api-test-'));
  pcap = join(dir, 'pasv.pcap');
  writeFailingPasv(pcap);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Drops what differs between two databases holding the same analysis: row ids, names, times. */
function normalise(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => normalise(x, key));
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (k === 'capture' || k === 'analyzedAt') continue;
    if ((key === 'captures' || key === 'findings') && (k === 'id' || k === 'file' || k === 'name')) continue;
    out[k] = normalise(x, k);
  }
  return out;
}

async function analysed(s: TestServer): Promise<number> {
  const r = await upload(s, 'pasv.pcap', readFileSync(pcap));
  assert.equal(r.status, 202);
  const job = await waitForJob(s, (r.json.job as { id: string }).id);
  assert.equal(job.state, 'done', job.message ?? '');
  return job.captureId!;
}

test('GET /api/captures/:id is the document `faultline analyze --json` prints for the same file', async () => {
  const cliDb = join(dir, 'cli.db');
  const out = spawnSync(process.execPath, [cli, 'analyze', pcap, '--db', cliDb, '--json'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const fromCli = JSON.parse(out.stdout) as Record<string, unknown>;
  const s = await startServer();
  try {
    const id = await analysed(s);
    const { status, json } = await getJson(s, `/api/captures/${id}`);
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(json).sort(), Object.keys(fromCli).sort());
    assert.deepEqual(normalise(json), normalise(fromCli));
  } finally {
    await s.close();
  }
});

test('sub-resources: captures list, findings, flows, hosts, warnings, timeline, FTP commands', async () => {
  const s = await startServer({ maxUpload: 5 * 1024 ** 2 });
  try {
    const id = await analysed(s);
    const config = (await getJson<{ maxUpload: number; sections: string[]; compare: boolean }>(s, '/api/config')).json;
    assert.equal(config.maxUpload, 5 * 1024 ** 2);
    assert.ok(config.sections.includes('ftp') && config.sections.includes('nlb'), config.sections.join());
    assert.equal(config.compare, true);

    const list = (await getJson<{ captures: Array<{ id: number; name: string; frames: number; findings: Record<string, number> }> }>(s, '/api/captures')).json.captures;
    assert.equal(list.length, 1);
    assert.equal(list[0].name, 'pasv.pcap');
    assert.equal(list[0].frames, 31, 'frames written by writeFailingPasv');
    // FINDINGS.md: FTP_CLEARTEXT_LOGIN, FTP_PASV_PRIVATE_ADDRESS and FTP_DATA_CONNECT_FAILED are all high.
    assert.equal(list[0].findings.high, 3);

    const findings = (await getJson<{ findings: Array<{ code: string; frames: number[]; firstTs: string }> }>(s, `/api/captures/${id}/findings`)).json.findings;
    assert.deepEqual(findings.map((f) => f.code).sort(), ['FTP_CLEARTEXT_LOGIN', 'FTP_DATA_CONNECT_FAILED', 'FTP_PASV_PRIVATE_ADDRESS']);
    for (const f of findings) assert.match(f.firstTs, /^2024-05-14T09:30:00\.\d{6}Z$/);

    const flows = (await getJson<{ flows: Array<{ dst: string; dstPort: number; state: string; app: string | null }> }>(s, `/api/captures/${id}/flows`)).json.flows;
    assert.equal(flows.length, 2);
    const data = flows.find((f) => f.dstPort === 40000);
    assert.deepEqual(data && { dst: data.dst, state: data.state }, { dst: '10.0.0.21', state: 'syn-unanswered' });
    assert.equal((await getJson<{ flows: unknown[] }>(s, `/api/captures/${id}/flows?limit=1`)).json.flows.length, 1);

    const hosts = (await getJson<{ hosts: Array<{ ip: string }> }>(s, `/api/captures/${id}/hosts`)).json.hosts;
    assert.deepEqual(hosts.map((h) => h.ip).sort(), ['10.0.0.21', '198.51.100.10', '203.0.113.21']);
    assert.deepEqual((await getJson<{ warnings: unknown[] }>(s, `/api/captures/${id}/warnings`)).json.warnings, []);

    const timeline = (await getJson<{ events: Array<{ us: number; kind: string; label: string; code?: string }>; truncated: boolean }>(s, `/api/captures/${id}/timeline`)).json;
    const us = timeline.events.map((e) => e.us);
    assert.deepEqual(us, [...us].sort((a, b) => a - b), 'oldest first');
    assert.ok(timeline.events.some((e) => e.kind === 'finding' && e.code === 'FTP_DATA_CONNECT_FAILED'));
    assert.ok(timeline.events.some((e) => e.kind === 'ftp-reply' && e.label === '227 Entering Passive Mode (10,0,0,21,156,64).'));
    assert.ok(timeline.events.some((e) => e.kind === 'flow-failure' && /10\.0\.0\.21:40000 syn-unanswered/.test(e.label)));

    const commands = (await getJson<{ commands: Array<{ verb: string; arg: string | null; masked: boolean; frame: number; reply: { code: number; text: string; frame: number } | null }> }>(s, `/api/captures/${id}/ftp/sessions/0/commands`)).json.commands;
    assert.deepEqual(commands.map((c) => c.verb), ['USER', 'PASS', 'TYPE', 'PASV', 'QUIT']);
    assert.deepEqual(commands.map((c) => c.reply?.code), [331, 230, 200, 227, 221]);
    const pasv = commands[3];
    assert.equal(pasv.reply?.text, 'Entering Passive Mode (10,0,0,21,156,64).');
    assert.ok(pasv.reply!.frame > pasv.frame);
    assert.equal(commands[0].arg, 'labuser');
    assert.deepEqual({ arg: commands[1].arg, masked: commands[1].masked }, { arg: null, masked: true });
    assert.deepEqual((await getJson<{ commands: unknown[] }>(s, `/api/captures/${id}/ftp/sessions/99/commands`)).json.commands, []);
  } finally {
    await s.close();
  }
});

test('passwords never leave the server, even from a database written with --show-passwords', async () => {
  const db = join(dir, 'with-passwords.db');
  const out = spawnSync(process.execPath, [cli, 'analyze', pcap, '--db', db, '--show-passwords', '--json'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  assert.ok(out.stdout.includes('labpass'), 'the CLI was asked to show it, so the database holds it');
  const s = await startServer({ dbPath: db });
  try {
    const id = (await getJson<{ captures: Array<{ id: number }> }>(s, '/api/captures')).json.captures[0].id;
    for (const path of [`/api/captures/${id}`, `/api/captures/${id}/findings`, `/api/captures/${id}/timeline`, `/api/captures/${id}/ftp/sessions/0/commands`]) {
      const text = await (await fetch(`${s.url}${path}`)).text();
      assert.ok(!text.includes('labpass'), path);
    }
  } finally {
    await s.close();
  }
});

test('unknown captures, routes and methods; compare needs two stored captures', async () => {
  const s = await startServer();
  try {
    for (const path of ['/api/captures/42', '/api/captures/abc', '/api/captures/42/findings', '/api/nothing', '/api/jobs/nope']) {
      const r = await getJson<{ error: { code: string } }>(s, path);
      assert.equal(r.status, 404, path);
      assert.equal(r.json.error.code, 'not-found', path);
    }
    const post = await fetch(`${s.url}/api/captures`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    const get = await fetch(`${s.url}/api/uploads`);
    assert.equal(get.status, 405);
    const compare = await getJson<{ error: { code: string; message: string } }>(s, '/api/compare?inside=1&outside=2');
    assert.equal(compare.status, 404);
    assert.match(compare.json.error.message, /no complete capture with id 1/);
    for (const q of ['', '?inside=1', '?inside=1&outside=x', '?inside=-1&outside=2']) {
      const bad = await getJson<{ error: { code: string } }>(s, `/api/compare${q}`);
      assert.equal(bad.status, 400, q);
      assert.equal(bad.json.error.code, 'bad-request', q);
    }
  } finally {
    await s.close();
  }
});

interface Announced { frame: number; text: string; announcedIp: string; announcedPort: number }
interface CompareSection {
  packetDetail: boolean;
  roles: { verdict: string; determined: boolean; basis: unknown };
  inside: { capture: number };
  clock: unknown; pairs: unknown[]; nat: unknown[]; missing: unknown[];
  rewrites: Array<{ inside: Announced; outside: Announced; sequenceShift?: unknown } & Record<string, unknown>>;
  counts: Record<string, number>;
}

test('GET /api/compare is what `faultline compare --json` says about the same pair, from SQLite alone', async () => {
  const lab = (f: string): string => join(repoRoot, 'captures', 'lab', f);
  const [insideFile, outsideFile] = [lab('pasv-nat-helper.inside.pcap'), lab('pasv-nat-helper.outside.pcap')];
  const out = spawnSync(process.execPath, [cli, 'compare', insideFile, outsideFile, '--db', join(dir, 'compare.db'), '--json'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const fromCli = JSON.parse(out.stdout) as { compare: CompareSection; findings: Array<{ code: string }> };
  const s = await startServer();
  try {
    const ids: number[] = [];
    for (const [name, file] of [['inside.pcap', insideFile], ['outside.pcap', outsideFile]]) {
      const r = await upload(s, name, readFileSync(file));
      assert.equal(r.status, 202);
      const job = await waitForJob(s, (r.json.job as { id: string }).id);
      assert.equal(job.state, 'done', job.message ?? '');
      ids.push(job.captureId!);
    }
    // Given the other way round: the traffic says which side is which, as on the command line.
    const { status, json } = await getJson<typeof fromCli>(s, `/api/compare?inside=${ids[1]}&outside=${ids[0]}`);
    assert.equal(status, 200);
    const api = json.compare;
    const cmd = fromCli.compare;
    assert.equal(api.packetDetail, false, 'no capture files on the server');
    assert.equal(cmd.packetDetail, true);
    assert.equal(api.roles.verdict, 'swapped');
    assert.match(String(api.roles.basis), /second capture shows the private address .*inside one/);
    assert.equal(api.inside.capture, ids[0]);
    // Every conclusion equal; only what needs the packets themselves (sequence shifts) differs.
    const same = (c: CompareSection): unknown => ({
      clock: c.clock, pairs: c.pairs, nat: c.nat, missing: c.missing,
      rewrites: c.rewrites.map(({ sequenceShift: _s, ...r }) => r),
      counts: c.counts, determined: c.roles.determined,
    });
    assert.deepEqual(same(api), same(cmd));
    assert.equal(api.counts.rewrites, 1);
    // The 227 as each side saw it: the inside address and the helper's outside one (tshark's reading).
    const announced = (p: string): string => spawnSync('tshark', ['-r', p, '-Y', 'ftp.response.code == 227', '-T', 'fields', '-e', 'ftp.passive.ip', '-e', 'ftp.passive.port'], { encoding: 'utf8' }).stdout.trim().split('\t').join(':');
    const r = api.rewrites[0];
    assert.equal(`${r.inside.announcedIp}:${r.inside.announcedPort}`, announced(insideFile));
    assert.equal(`${r.outside.announcedIp}:${r.outside.announcedPort}`, announced(outsideFile));
    const codes = (doc: { findings: Array<{ code: string }> }): string[] => doc.findings.map((f) => f.code).sort();
    assert.ok(codes(json).includes('FTP_ADDRESS_REWRITTEN'));
    assert.deepEqual(codes(json), codes(fromCli));
  } finally {
    await s.close();
  }
});
