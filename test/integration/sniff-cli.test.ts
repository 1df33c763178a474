/**
 * `faultline sniff` and `faultline interfaces` from the outside: usage errors (exit 2), the
 * one-line capture errors (exit 1: unknown interface, a filter that does not compile, no
 * permission, cap or libpcap missing), and real captures on the loopback interface through
 * both cap and tcpdump — limits, Ctrl-C, the written pcapng, and the offline analysis of that
 * file matching what the sniffer stored. Capturing needs root (or CAP_NET_RAW): without it the
 * capture tests are skipped with the reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CLI } from '../helpers.js';
import { tshark } from '../tshark.js';
import { loadCap, parseTcpdumpStats, LiveCaptureError, CAP_FIX, capLinkType } from '../../src/source/live.js';
import { prefixLength } from '../../src/cli/interfaces.js';
import { openDb } from '../../src/store/db.js';
import { DEFAULT_OPTIONS } from '../../src/analysis/context.js';
import { dump, offline } from '../lab/sniff-support.js';

const tmp = mkdtempSync(join(tmpdir(), 'faultline-sniff-cli-'));
chmodSync(tmp, 0o777);
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const root = typeof process.getuid === 'function' && process.getuid() === 0;
const NOT_ROOT = root ? false : 'capturing needs root (or CAP_NET_RAW): run the tests as root';

function cli(args: string[], opts: { prefix?: string[]; env?: NodeJS.ProcessEnv } = {}): { status: number | null; stdout: string; stderr: string } {
  const argv = [...(opts.prefix ?? []), process.execPath, CLI, ...args];
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: opts.env ?? process.env, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLine(stderr: string, re: RegExp): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${stderr}`);
  assert.match(lines[0], re);
  assert.doesNotMatch(stderr, /\n\s+at .+:\d+:\d+/);
}

test('tcpdump statistics: the SIGUSR1 line and the three lines at exit', () => {
  assert.deepEqual(parseTcpdumpStats('tcpdump: 12 packets captured, 14 packets received by filter, 2 packets dropped by kernel\n'),
    { captured: 12, received: 14, dropped: 2, ifDropped: null });
  assert.deepEqual(parseTcpdumpStats('1 packet captured\n3 packets received by filter\n0 packets dropped by kernel\n7 packets dropped by interface\n'),
    { captured: 1, received: 3, dropped: 0, ifDropped: 7 });
  // cap's link type names (binding.cc) → LINKTYPE numbers (tcpdump.org): DLT_RAW is 101 in files.
  assert.equal(capLinkType('ETHERNET'), 1);
  assert.equal(capLinkType('RAW'), 101);
  assert.equal(capLinkType('LINKTYPE_LINUX_SLL'), 113);
  assert.equal(capLinkType('Unknown linktype 276'), 276);
  assert.equal(prefixLength('255.255.255.0'), 24);
  assert.equal(prefixLength('ffff:ffff:ffff:ffff::'), 64);
});

test('cap missing or unbuilt: the error says how to fix it', () => {
  for (const why of ["Cannot find module 'cap'", 'libpcap.so.0.8: cannot open shared object file: No such file or directory']) {
    assert.throws(() => loadCap(() => { throw new Error(why); }), (e: unknown) => {
      assert.ok(e instanceof LiveCaptureError);
      assert.equal(e.kind, 'missing');
      assert.ok(e.message.includes(CAP_FIX), e.message);
      assert.ok(e.message.includes(why.split('\n')[0]));
      return true;
    });
  }
  // The same through the CLI, with 'cap' made unresolvable for the child process.
  const hide = join(tmp, 'hide-cap.cjs');
  writeFileSync(hide, `const M = require('node:module'); const orig = M._resolveFilename;
M._resolveFilename = function (req, ...rest) { if (req === 'cap') { const e = new Error("Cannot find module 'cap'"); e.code = 'MODULE_NOT_FOUND'; throw e; } return orig.call(this, req, ...rest); };`);
  const env = { ...process.env, NODE_OPTIONS: `--require ${hide}` };
  const r = cli(['sniff', '-i', 'lo', '--db', join(tmp, 'm.db')], { env });
  assert.equal(r.status, 1);
  oneLine(r.stderr, /cap module and libpcap.*apt-get install libpcap-dev && npm rebuild cap/);
  const i = cli(['interfaces'], { env });
  assert.equal(i.status, 1);
  oneLine(i.stderr, /npm rebuild cap/);
});

test('usage errors exit 2', () => {
  for (const [args, re] of [
    [['sniff', '--db', join(tmp, 'u.db')], /required option/],
    [['sniff', '-i', 'lo', '--via', 'pcap'], /--via wants cap or tcpdump/],
    [['sniff', '-i', 'lo', '--ring', '10M'], /--ring needs --write/],
    [['sniff', '-i', 'lo', '--write', join(tmp, 'x.pcapng'), '--ring', '1k'], /--ring wants SIZE/],
    [['sniff', '-i', 'lo', '--count', '0'], /--count wants a positive whole number/],
  ] as const) {
    const r = cli([...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

test('interfaces lists the loopback device with its addresses', () => {
  const r = cli(['interfaces']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^lo\s+loopback\s+127\.0\.0\.1\/8/m);
  const j = JSON.parse(cli(['interfaces', '--json']).stdout) as Array<{ name: string; addresses: Array<{ addr: string }> }>;
  assert.ok(j.find((d) => d.name === 'lo')?.addresses.some((a) => a.addr === '127.0.0.1'));
});

test('capture errors: one line, exit 1', { skip: NOT_ROOT }, () => {
  for (const via of ['cap', 'tcpdump']) {
    let r = cli(['sniff', '-i', 'nosuch0', '--via', via, '--db', join(tmp, 'e.db')]);
    assert.equal(r.status, 1, r.stderr);
    oneLine(r.stderr, /no capture interface named 'nosuch0'.*faultline interfaces lists them/);
    r = cli(['sniff', '-i', 'lo', '-f', 'tcp port', '--via', via, '--db', join(tmp, 'e.db')]);
    assert.equal(r.status, 1, r.stderr);
    oneLine(r.stderr, /BPF filter 'tcp port' does not compile: .*syntax error/);
    // Not root: the same command as nobody (uid 65534).
    r = cli(['sniff', '-i', 'lo', '--via', via, '--db', join(tmp, `nobody-${via}.db`)], { prefix: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'] });
    assert.equal(r.status, 1, r.stderr);
    oneLine(r.stderr, /no permission to capture on lo.*run as root, or give the program CAP_NET_RAW/);
  }
  // A failed start leaves no capture behind.
  const db = new Database(join(tmp, 'e.db'), { readonly: true });
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM captures').get() as { n: number }).n, 0);
  db.close();
});

/** A TCP server on loopback and a client that exchanges `rounds` messages with it. */
async function loopbackTraffic(server: Server, rounds: number): Promise<void> {
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let n = 0;
    s.on('connect', () => s.write('ping 0\n'));
    s.on('data', () => { if (++n >= rounds) s.end(); else s.write(`ping ${n}\n`); });
    s.on('close', () => resolve());
    s.on('error', reject);
  });
}

function startSniff(args: string[]): { done: Promise<{ status: number | null; stdout: string; stderr: string }>; ready: Promise<void>; kill(sig: NodeJS.Signals): void } {
  const child = spawn(process.execPath, [CLI, 'sniff', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  let ready!: () => void;
  const readyP = new Promise<void>((r) => { ready = r; });
  child.stdout.on('data', (d: Buffer) => { stdout += d; });
  child.stderr.on('data', (d: Buffer) => { stderr += d; if (/capturing on/.test(stderr)) ready(); });
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (status) => { ready(); resolve({ status, stdout, stderr }); }));
  return { done, ready: readyP, kill: (sig) => child.kill(sig) };
}

for (const via of ['cap', 'tcpdump'] as const) {
  test(`sniff via ${via} on loopback: --count stops it, the pcapng is complete, offline analysis of it matches`, { skip: NOT_ROOT }, async () => {
    const server = createServer((s) => s.on('data', (d) => s.write(d))).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;
    const file = join(tmp, `count-${via}.pcapng`);
    const dbPath = join(tmp, `count-${via}.db`);
    const s = startSniff(['-i', 'lo', '-f', `tcp port ${port}`, '--via', via, '--count', '30', '--write', file, '--db', dbPath, '--stats', '0']);
    await s.ready;
    await loopbackTraffic(server, 40);
    const r = await s.done;
    server.close();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /stopped \(packet count reached\); everything is committed/);
    assert.match(r.stderr, via === 'cap' ? /taken by faultline when each packet reached it/ : /the kernel's, through tcpdump/);
    assert.match(r.stderr, via === 'cap' ? /dropped: unknown \(cap has no drop counter\)/ : /\d+ dropped by kernel/);
    assert.match(r.stdout, /30 frames/);
    // tshark reads all 30 packets, all of them to or from the port.
    const ports = tshark(['-r', file, '-T', 'fields', '-e', 'tcp.port']).trim().split('\n');
    assert.equal(ports.length, 30);
    for (const p of ports) assert.ok(p.split(',').includes(String(port)), p);
    // Offline analysis of the written file stores what the sniffer stored.
    const db = openDb(dbPath);
    const off = await offline(file, DEFAULT_OPTIONS, db);
    assert.deepEqual(dump(db, 1), dump(db, off));
    const stats = JSON.parse((db.prepare('SELECT stats FROM captures WHERE id = 1').get() as { stats: string }).stats) as { live: Record<string, unknown> };
    assert.equal(stats.live.via, via);
    assert.equal(stats.live.running, false);
    assert.equal(stats.live.dropped, via === 'tcpdump' ? 0 : null);
    db.close();
  });

  test(`sniff via ${via}: Ctrl-C commits everything and closes the file`, { skip: NOT_ROOT }, async () => {
    const server = createServer((s) => s.on('data', (d) => s.write(d))).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as AddressInfo).port;
    const file = join(tmp, `int-${via}.pcapng`);
    const dbPath = join(tmp, `int-${via}.db`);
    const s = startSniff(['-i', 'lo', '-f', `tcp port ${port}`, '--via', via, '--write', file, '--db', dbPath]);
    await s.ready;
    await loopbackTraffic(server, 10);
    // A commit (once a second) makes the capture visible while it runs.
    await new Promise((r) => setTimeout(r, 1500));
    const mid = new Database(dbPath, { readonly: true });
    const during = mid.prepare('SELECT frames FROM captures').get() as { frames: number };
    mid.close();
    assert.ok(during.frames >= 20, `frames committed while running: ${during.frames}`);
    s.kill('SIGINT');
    const r = await s.done;
    server.close();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /stopped \(interrupted\); everything is committed; written: /);
    assert.ok(existsSync(file));
    const n = tshark(['-r', file, '-T', 'fields', '-e', 'frame.number']).trim().split('\n').length;
    const db = new Database(dbPath, { readonly: true });
    const c = db.prepare('SELECT frames FROM captures').get() as { frames: number };
    db.close();
    assert.equal(c.frames, n);
    // 10 exchanges: handshake, 10 requests and 10 replies with their ACKs, the close.
    assert.ok(n >= 23, `frames: ${n}`);
  });
}
