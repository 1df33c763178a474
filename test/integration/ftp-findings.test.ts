/**
 * Findings on the third-party FTP captures, each expectation derived from the capture itself as
 * tshark decodes it (never from our own output): which TCP streams send PASS in clear, log in
 * as anonymous, use PORT/EPRT, get 4xx/5xx for a transfer, announce a private PASV address, or
 * go back to clear text after AUTH TLS. Sessions are tied to tshark's tcp.stream by first frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeCapture } from '../../src/analysis/pipeline.js';
import { DEFAULT_OPTIONS } from '../../src/analysis/context.js';
import { isPrivateAddress } from '../../src/proto/ftp/portmath.js';
import { manifest, thirdParty, tsharkTruth, type ManifestEntry } from '../helpers.js';
import { tshark } from '../tshark.js';

interface Row { frame: number; stream: number; src: string; command: string | null; arg: string | null; code: number | null }
interface TcpStream { stream: number; a_ip: string; a_port: number; b_ip: string; b_port: number; first_frame: number }
interface Endpoint { frame: number; ip: string | null; port: number | null; nat?: string | null }
interface Truth { tcp_streams?: TcpStream[]; ftp?: { pasv_227: Endpoint[]; port: Endpoint[]; eprt: Endpoint[] } }

const DATA_COMMANDS = new Set(['RETR', 'STOR', 'STOU', 'APPE', 'LIST', 'NLST', 'MLSD']);

/** tshark's FTP lines with their tcp.stream (one per frame: its first line, as tshark decodes it). */
function ftpRows(path: string): Row[] {
  const out = tshark(['-r', path, '-Y', 'ftp', '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f',
    '-e', 'frame.number', '-e', 'tcp.stream', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'ftp.request.command', '-e', 'ftp.request.arg', '-e', 'ftp.response.code']);
  return out.split('\n').filter(Boolean).map((l) => {
    const c = l.split('\t');
    return { frame: Number(c[0]), stream: Number(c[1]), src: c[3] || c[2], command: c[4] ? c[4].toUpperCase() : null, arg: c[5] || null, code: c[6] ? Number(c[6]) : null };
  });
}

interface Expected { code: string; stream: number; extra?: string }

function expectations(e: ManifestEntry, rows: Row[]): Expected[] {
  const truth = tsharkTruth(e) as Truth;
  const out: Expected[] = [];
  const streams = [...new Set(rows.map((r) => r.stream))];
  for (const st of streams) {
    const rs = rows.filter((r) => r.stream === st);
    const requests = rs.filter((r) => r.command !== null);
    // PASS in clear, or a USER that 230 accepted without one.
    const userAt = requests.find((r) => r.command === 'USER');
    const pass = requests.some((r) => r.command === 'PASS');
    const acceptedUser = userAt && rs.find((r) => r.frame > userAt.frame && r.code !== null && r.code !== 331 && r.code < 400 && r.code >= 200)?.code === 230;
    const auth = requests.find((r) => r.command === 'AUTH');
    const tlsAt = auth ? rs.find((r) => r.frame > auth.frame && r.code === 234)?.frame : undefined;
    const beforeTls = (r: Row): boolean => tlsAt === undefined || r.frame < tlsAt;
    if ((pass && requests.some((r) => r.command === 'PASS' && beforeTls(r))) || (acceptedUser && !pass)) out.push({ code: 'FTP_CLEARTEXT_LOGIN', stream: st });
    // Anonymous: the last USER is anonymous/ftp and a 230 follows it.
    const lastUser = [...requests].reverse().find((r) => r.command === 'USER');
    if (lastUser && /^(anonymous|ftp)$/i.test((lastUser.arg ?? '').trim()) && rs.some((r) => r.frame > lastUser.frame && r.code === 230)) {
      out.push({ code: 'FTP_ANONYMOUS_LOGIN', stream: st });
    }
    // Active mode: a PORT/EPRT from which tshark decodes an address and port (ftp.active.*, ftp.eprt.*).
    const active = new Set([...(truth.ftp?.port ?? []), ...(truth.ftp?.eprt ?? [])].filter((p) => p.port !== null).map((p) => p.frame));
    if (requests.some((r) => active.has(r.frame))) out.push({ code: 'FTP_ACTIVE_MODE', stream: st });
    // A transfer's answer: the first response after it that is not 1xx; one finding per code.
    const failed = new Set<number>();
    for (const r of requests) {
      if (!DATA_COMMANDS.has(r.command!)) continue;
      const next = rs.find((x) => x.frame > r.frame && x.code !== null && x.code >= 200);
      const nextRequest = requests.find((x) => x.frame > r.frame);
      if (next && next.code! >= 400 && (!nextRequest || next.frame < nextRequest.frame || requests.filter((x) => x.frame > r.frame && x.frame < next.frame).length === 0)) failed.add(next.code!);
    }
    for (const code of failed) out.push({ code: 'FTP_TRANSFER_FAILED', stream: st, extra: String(code) });
    // Clear FTP requests after the 234 that started TLS: the control channel went back to clear (CCC).
    if (tlsAt !== undefined && requests.some((r) => r.frame > tlsAt)) out.push({ code: 'FTPS_CLEAR_COMMAND_CHANNEL', stream: st });
  }
  // Private PASV address that differs from the replying server's address.
  const streamOf = new Map(rows.map((r) => [r.frame, r]));
  for (const p of truth.ftp?.pasv_227 ?? []) {
    const r = streamOf.get(p.frame);
    if (r && p.ip && isPrivateAddress(p.ip) && p.ip !== r.src && !out.some((x) => x.code === 'FTP_PASV_PRIVATE_ADDRESS' && x.stream === r.stream)) {
      out.push({ code: 'FTP_PASV_PRIVATE_ADDRESS', stream: r.stream });
    }
  }
  // Active mode where the server connected to the control client's address, not the announced one.
  for (const p of [...(truth.ftp?.port ?? []), ...(truth.ftp?.eprt ?? [])]) {
    const r = streamOf.get(p.frame);
    if (!r || !p.ip || p.ip === r.src) continue;
    const hit = (truth.tcp_streams ?? []).some((s) => s.first_frame > p.frame && s.b_port === p.port && s.b_ip === r.src);
    if (hit && !out.some((x) => x.code === 'FTP_DATA_TO_UNANNOUNCED_ADDRESS' && x.stream === r.stream)) out.push({ code: 'FTP_DATA_TO_UNANNOUNCED_ADDRESS', stream: r.stream });
  }
  return out;
}

test('findings on the third-party FTP captures are the ones their contents call for', async (t) => {
  const tally: Record<string, number> = {};
  let captures = 0;
  for (const e of manifest()) {
    if (!e.tsharkJson || !(tsharkTruth(e) as Truth).ftp) continue;
    const path = thirdParty(e.localPath);
    const rows = ftpRows(path);
    const firstFrame = new Map(((tsharkTruth(e) as Truth).tcp_streams ?? []).map((s) => [s.first_frame, s.stream]));
    const want = expectations(e, rows).map((x) => `${x.code}@${x.stream}${x.extra ? '/' + x.extra : ''}`).sort();
    const r = await analyzeCapture(path, DEFAULT_OPTIONS);
    const streamOfSession = new Map(r.facts.ftp.sessions.map((s) => [s.flow, firstFrame.get(s.firstFrame)]));
    const got = r.findings.filter((f) => f.code.startsWith('FTP')).map((f) => {
      const st = streamOfSession.get(f.subject.session!);
      const extra = f.code === 'FTP_TRANSFER_FAILED' ? `/${String(f.details.code)}` : '';
      return `${f.code}@${st}${extra}`;
    }).sort();
    assert.deepEqual(got, want, e.localPath);
    for (const w of want) { const code = w.split('@')[0]; tally[code] = (tally[code] ?? 0) + 1; }
    captures++;
  }
  t.diagnostic(`${captures} captures; findings as expected: ${JSON.stringify(tally)}`);
  for (const code of ['FTP_CLEARTEXT_LOGIN', 'FTP_ANONYMOUS_LOGIN', 'FTP_ACTIVE_MODE', 'FTP_TRANSFER_FAILED', 'FTPS_CLEAR_COMMAND_CHANNEL', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS']) {
    assert.ok((tally[code] ?? 0) > 0, code);
  }
});

test('ipv4.pcap: clear-text and anonymous login, active mode for its two PORTs, nothing about private addresses', async () => {
  const e = manifest().find((x) => x.localPath.endsWith('ftp/ipv4.pcap'))!;
  const rows = ftpRows(thirdParty(e.localPath));
  const ports = rows.filter((r) => r.command === 'PORT').map((r) => r.frame);
  const user = rows.find((r) => r.command === 'USER')!;
  const pass = rows.find((r) => r.command === 'PASS')!;
  assert.equal(user.arg, 'anonymous');
  const r = await analyzeCapture(thirdParty(e.localPath), DEFAULT_OPTIONS);
  const byCode = new Map(r.findings.map((f) => [f.code, f]));
  assert.deepEqual([...byCode.keys()].sort(), ['FTP_ACTIVE_MODE', 'FTP_ANONYMOUS_LOGIN', 'FTP_CLEARTEXT_LOGIN']);
  assert.deepEqual(byCode.get('FTP_ACTIVE_MODE')!.frames, ports);
  assert.ok(byCode.get('FTP_CLEARTEXT_LOGIN')!.frames.includes(pass.frame));
  assert.ok(byCode.get('FTP_CLEARTEXT_LOGIN')!.frames.includes(user.frame));
  assert.equal(byCode.get('FTP_CLEARTEXT_LOGIN')!.severity, 'high');
  assert.equal(byCode.get('FTP_ANONYMOUS_LOGIN')!.severity, 'info');
  // The password "test" (tshark: PASS test) never appears by default.
  assert.equal(pass.arg, 'test');
  for (const f of r.findings) assert.ok(!JSON.stringify(f).includes('"test"') && !f.explanation.includes(' test'), f.code);
});
