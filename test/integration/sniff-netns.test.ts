/**
 * Live capture in the FTP NAT lab. The classic broken setup (pasv-nat-no-helper-no-pasv_address:
 * server behind DNAT, no FTP helper, no pasv_address) runs while, in the router's namespace,
 *
 *   - `faultline sniff --via cap` and `faultline sniff --via tcpdump` capture the outside
 *     interface (facing the client), each writing a pcapng and its own database,
 *   - `faultline sniff --via cap` captures the inside interface (facing the server),
 *   - `faultline serve --sniff` captures the outside interface, read through /api/live.
 *
 * Proved while the sniffers still run: the scenario's findings (FTP_PASV_PRIVATE_ADDRESS, and
 * outside FTP_DATA_CONNECT_FAILED: the SYN to 10.0.0.21 dies at the router) are in each SQLite
 * database, printed by the sniffers, and in the live event stream. After Ctrl-C: the pcapngs
 * are complete, and `faultline analyze` of each stores exactly what its sniffer stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CLI } from '../helpers.js';
import { tshark } from '../tshark.js';
import { sleep } from '../lab/netns.js';
import { SCENARIOS } from '../lab/scenarios.js';
import { LAB_TOOLS, missing, NsProcess, sseEvents, startFtpLab } from '../lab/sniff-lab.js';
import { openDb } from '../../src/store/db.js';
import { DEFAULT_OPTIONS } from '../../src/analysis/context.js';
import { dump, offline } from '../lab/sniff-support.js';

const root = typeof process.getuid === 'function' && process.getuid() === 0;
if (!root) process.stderr.write('sniff-netns: skipped: network namespaces need root (run the tests as root, as CI does)\n');

const SCENARIO = 'pasv-nat-no-helper-no-pasv_address';
const OUTSIDE_MUST = ['FTP_CLEARTEXT_LOGIN', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_DATA_CONNECT_FAILED'];
const INSIDE_MUST = ['FTP_CLEARTEXT_LOGIN', 'FTP_PASV_PRIVATE_ADDRESS'];
const SERVE_PORT = 18481;

function codesIn(dbPath: string): string[] {
  try {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT DISTINCT code FROM findings ORDER BY code').all() as Array<{ code: string }>).map((r) => r.code);
    } finally {
      db.close();
    }
  } catch {
    return [];
  }
}

async function until<T>(what: string, ms: number, probe: () => T | null): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

test('live capture in the FTP NAT lab: findings in SQLite and the event stream while sniffing, the same offline', { skip: !root, timeout: 180_000 }, async () => {
  const gone = missing(LAB_TOOLS);
  assert.deepEqual(gone, [], `the lab needs ${gone.join(', ')}: apt-get install -y vsftpd curl tcpdump iproute2 iptables openssl`);
  const sc = SCENARIOS.find((s) => s.name === SCENARIO)!;
  const lab = await startFtpLab(sc, 77);
  const procs: NsProcess[] = [];
  try {
    const r = lab.built.router;
    const outside = lab.topology.outside;
    const inside = lab.topology.inside;
    const w = (name: string): string => join(lab.work, name);
    const sniff = (label: string, iface: string, via: string, name: string): NsProcess => {
      const p = new NsProcess(label, r, [process.execPath, CLI, 'sniff', '-i', iface, '--via', via, '--write', w(`${name}.pcapng`), '--db', w(`${name}.db`), '--stats', '1']);
      procs.push(p);
      return p;
    };
    const cap = sniff('sniff cap outside', outside, 'cap', 'outside-cap');
    const dump_ = sniff('sniff tcpdump outside', outside, 'tcpdump', 'outside-tcpdump');
    const inner = sniff('sniff cap inside', inside, 'cap', 'inside-cap');
    const serve = new NsProcess('serve --sniff', r, [process.execPath, CLI, 'serve', '--port', String(SERVE_PORT), '--db', w('serve.db'), '--sniff', outside]);
    procs.push(serve);
    for (const p of [cap, dump_, inner]) await p.waitFor('stderr', /capturing on/, 15000);
    await serve.waitFor('stderr', /the browser follows it live/, 15000);
    const sse = new NsProcess('curl /api/live', r, ['curl', '-sN', `http://127.0.0.1:${SERVE_PORT}/api/live`]);
    procs.push(sse);
    await sse.waitFor('stdout', /event: status/, 10000);

    const exits = lab.client();
    assert.ok(sc.runs[0].exit.includes(exits[0]), `curl exit ${exits[0]} (designed: ${sc.runs[0].exit.join(' or ')})`);

    // While everything still runs: the findings are committed and streamed.
    const want: Array<[NsProcess, string, string[]]> = [
      [cap, w('outside-cap.db'), OUTSIDE_MUST], [dump_, w('outside-tcpdump.db'), OUTSIDE_MUST],
      [inner, w('inside-cap.db'), INSIDE_MUST], [serve, w('serve.db'), OUTSIDE_MUST],
    ];
    for (const [p, db, must] of want) {
      await until(`${must.join(', ')} in ${db}`, 20000, () => (must.every((c) => codesIn(db).includes(c)) ? true : null));
      assert.ok(p.running, `${p.label} still running when its findings were in SQLite`);
    }
    for (const p of [cap, dump_, inner]) {
      for (const code of want.find(([q]) => q === p)![2]) {
        await p.waitFor('stdout', new RegExp(`\\[high\\] ${code}: `), 10000);
      }
    }
    const streamed = await until('the findings in the event stream', 10000, () => {
      const events = sseEvents(sse.stdout);
      const codes = events.filter((e) => e.event === 'finding').map((e) => String(e.data.code));
      return OUTSIDE_MUST.every((c) => codes.includes(c)) ? events : null;
    });
    assert.ok(serve.running && sse.running, 'the stream carried them while serve was capturing');
    const session = streamed.find((e) => e.event === 'session');
    assert.ok(session, 'an FTP session event');
    assert.equal(session.data.client, lab.topology.client);
    assert.equal(session.data.server, lab.topology.target);
    const counters = streamed.filter((e) => e.event === 'counters').pop()!;
    assert.ok(Number(counters.data.packets) >= 20, `counters: ${JSON.stringify(counters.data)}`);
    const pasv = streamed.find((e) => e.event === 'finding' && e.data.code === 'FTP_PASV_PRIVATE_ADDRESS')!;
    assert.equal((pasv.data.details as Record<string, unknown>).announcedIp, '10.0.0.21');

    // Ctrl-C: every sniffer stops cleanly with everything committed.
    for (const p of [cap, dump_, inner, serve]) assert.equal(await p.stop(), 0, `${p.label}: ${p.stderr}`);
    for (const p of [cap, dump_, inner]) assert.match(p.stderr, /stopped \(interrupted\); everything is committed; written: /);
    assert.match(dump_.stderr, /0 dropped by kernel/);
    await sse.stop();

    // The written files: complete for tshark, and analysed offline they give what was stored live.
    for (const [name, must] of [['outside-cap', OUTSIDE_MUST], ['outside-tcpdump', OUTSIDE_MUST], ['inside-cap', INSIDE_MUST]] as const) {
      const file = w(`${name}.pcapng`);
      const pasvText = tshark(['-r', file, '-Y', 'ftp.response.code == 227', '-T', 'fields', '-e', 'ftp.passive.ip']).trim();
      assert.equal(pasvText, '10.0.0.21', `${name}: tshark sees the 227 announcing 10.0.0.21`);
      const db = openDb(w(`${name}.db`));
      try {
        const off = await offline(file, DEFAULT_OPTIONS, db);
        const live = dump(db, 1);
        assert.deepEqual(live, dump(db, off), `${name}: offline analysis of the written pcapng differs from the live one`);
        const codes = [...new Set((live.findings as string[]).map((j) => (JSON.parse(j) as { code: string }).code))];
        for (const c of must) assert.ok(codes.includes(c), `${name}: ${c}`);
      } finally {
        db.close();
      }
    }
  } finally {
    for (const p of procs) await p.stop(3000).catch(() => undefined);
    await lab.teardown();
  }
});
