/**
 * The FTP facts through SQLite and back: `faultline analyze --json` builds the `ftp` section from
 * the database, in FINDINGS.md's shape, with values equal to what tshark decodes from ipv4.pcap;
 * re-analysing replaces the rows; passwords never reach stdout or the database unless
 * --show-passwords.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { manifest, thirdParty, tsharkTruth, runCli as cli } from '../helpers.js';
import { Capture, removeTempCaptures, tempCapturePath } from '../unit/ftp/synth.js';

const tmp = mkdtempSync(join(tmpdir(), 'faultline-ftp-store-'));
after(() => { rmSync(tmp, { recursive: true, force: true }); removeTempCaptures(); });

interface Endpoint { frame: number; ip: string; port: number }
interface Truth {
  tcp_streams: Array<{ stream: number; a_ip: string; a_port: number; b_ip: string; b_port: number; first_frame: number }>;
  ftp: { requests: Array<{ frame: number; command: string; arg: string | null }>; pasv_227: Endpoint[]; port: Endpoint[] };
}

test('ipv4.pcap: the --json ftp section comes from SQLite in the contract\'s shape, with tshark\'s values', () => {
  const entry = manifest().find((e) => e.localPath.endsWith('ftp/ipv4.pcap'))!;
  const truth = tsharkTruth(entry) as unknown as Truth;
  const db = join(tmp, 'ipv4.db');
  const r = cli(['analyze', thirdParty(entry.localPath), '--db', db, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { ftp: { sessions: Array<Record<string, unknown>> }; captures: Array<{ protocols: Array<{ protocol: string; flows: number }> }> };
  assert.equal(doc.ftp.sessions.length, 1);
  const s = doc.ftp.sessions[0];
  const control = truth.tcp_streams[0];
  assert.equal(s.client, control.a_ip);
  assert.equal(s.server, control.b_ip);
  assert.equal(s.serverPort, 21);
  assert.equal(s.user, truth.ftp.requests.find((x) => x.command === 'USER')!.arg);
  assert.equal(s.tls, false);
  assert.equal(s.commands, truth.ftp.requests.length);
  assert.equal(s.anonymous, true);
  assert.equal(s.login, 'success');
  assert.ok(!('password' in s));
  // Channels: tshark's announcements, in frame order, each with the data connection that followed.
  const announced = [...truth.ftp.pasv_227.map((p) => ({ ...p, kind: 'PASV' })), ...truth.ftp.port.map((p) => ({ ...p, kind: 'PORT' }))].sort((a, b) => a.frame - b.frame);
  const channels = s.channels as Array<{ kind: string; frame: number; announcedIp: string; announcedPort: number; observed: { src: string; dst: string; frame: number; state: string } | null }>;
  assert.deepEqual(channels.map((c) => ({ kind: c.kind, frame: c.frame, ip: c.announcedIp, port: c.announcedPort })),
    announced.map((a) => ({ kind: a.kind, frame: a.frame, ip: a.ip, port: a.port })));
  for (const c of channels) {
    // The TCP stream to the announced port: client→server for PASV, server→client for PORT.
    const st = truth.tcp_streams.find((x) => x.b_port === c.announcedPort && x.b_ip === c.announcedIp)!;
    assert.ok(st, `${c.kind}@${c.frame}`);
    assert.deepEqual(c.observed && { src: c.observed.src, dst: c.observed.dst, frame: c.observed.frame, state: c.observed.state },
      { src: st.a_ip, dst: st.b_ip, frame: st.first_frame, state: 'completed' });
  }
  const protocols = new Map(doc.captures[0].protocols.map((p) => [p.protocol, p.flows]));
  assert.equal(protocols.get('tcp/ftp'), 1);
  assert.equal(protocols.get('tcp/ftp-data'), 4);
  // The rows behind it, and nothing doubled when the same file is analysed again.
  assert.equal(cli(['analyze', thirdParty(entry.localPath), '--db', db]).status, 0);
  const d = new Database(db, { readonly: true });
  const count = (table: string): number => (d.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  assert.deepEqual([count('ftp_sessions'), count('ftp_commands'), count('ftp_channels')], [1, truth.ftp.requests.length, announced.length]);
  assert.equal((d.prepare(`SELECT arg FROM ftp_commands WHERE verb = 'PASS'`).get() as { arg: string | null }).arg, null);
  const dataFlows = d.prepare(`SELECT c.data_flow AS flow, f.app AS app FROM ftp_channels c JOIN flows f ON f.capture_id = c.capture_id AND f.idx = c.data_flow`).all() as Array<{ flow: number; app: string }>;
  assert.deepEqual(dataFlows.map((x) => x.app), ['ftp-data', 'ftp-data', 'ftp-data', 'ftp-data']);
  d.close();
});

function passwordCapture(): string {
  const cap = new Capture();
  const ctl = cap.tcp('198.51.100.10', 40000, '203.0.113.5', 21).handshake();
  ctl.send('s', '220 ready\r\n');
  ctl.exchange('USER carol', '331 Password required');
  ctl.exchange('PASS s3cr3t-pw', '230 Logged in');
  ctl.exchange('QUIT', '221 Bye');
  return cap.write(tempCapturePath('password.pcap'));
}

test('the password is never printed or stored unless --show-passwords', () => {
  const file = passwordCapture();
  const db = join(tmp, 'pw.db');
  for (const args of [['--json'], []]) {
    const r = cli(['analyze', file, '--db', db, ...args]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.stdout.includes('s3cr3t-pw') && !r.stderr.includes('s3cr3t-pw'), `password printed with ${args.join(' ')}`);
    if (args.length) {
      const doc = JSON.parse(r.stdout) as { findings: Array<{ code: string; details: Record<string, unknown> }> };
      const f = doc.findings.find((x) => x.code === 'FTP_CLEARTEXT_LOGIN')!;
      assert.ok(f && !('password' in f.details));
    }
  }
  for (const f of [db, `${db}-wal`]) if (existsSync(f)) assert.ok(!readFileSync(f).includes('s3cr3t-pw'), `password stored in ${f}`);
  const shown = cli(['analyze', file, '--db', join(tmp, 'pw-shown.db'), '--json', '--show-passwords']);
  assert.equal(shown.status, 0, shown.stderr);
  const doc = JSON.parse(shown.stdout) as { ftp: { sessions: Array<{ password?: string }> }; findings: Array<{ code: string; details: Record<string, unknown> }> };
  assert.equal(doc.ftp.sessions[0].password, 's3cr3t-pw');
  assert.equal(doc.findings.find((x) => x.code === 'FTP_CLEARTEXT_LOGIN')!.details.password, 's3cr3t-pw');
});

test('analyze prints the FTP findings of an FTP capture', () => {
  const r = cli(['analyze', thirdParty('files/zeek/testing/btest/Traces/ftp/ipv4.pcap'), '--db', join(tmp, 'summary.db')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\[high\] FTP_CLEARTEXT_LOGIN/);
  assert.match(r.stdout, /\[medium\] FTP_ACTIVE_MODE/);
  assert.match(r.stdout, /\[info\] FTP_ANONYMOUS_LOGIN/);
  assert.match(r.stdout, /tcp\/ftp-data\s+4 flows/);
});
