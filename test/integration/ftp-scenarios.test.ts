/**
 * FTP/FTPS failure scenarios the third-party corpus does not hold, written as small captures
 * (test/unit/ftp/synth.ts) and run through the real pipeline. Each capture is what the scenario
 * puts on the wire, so the expected facts and findings follow from its construction: the frames
 * of the announcement, the SYNs, the RST, the ICMP error and the 4xx reply are known by number.
 * tshark reads every capture too, confirming they are well formed and that its decode of the
 * announcements agrees with ours.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeCapture, type AnalysisResult } from '../../src/analysis/pipeline.js';
import { DEFAULT_OPTIONS, type AnalyzeOptions } from '../../src/analysis/context.js';
import type { Analyzer, AnalyzerFactory } from '../../src/analysis/analyzer.js';
import type { Finding } from '../../src/findings/types.js';
import { ftpAnalyzer } from '../../src/proto/ftp/analyzer.js';
import { onFtpTlsStart, type FtpTlsStart } from '../../src/proto/ftp/tls-handoff.js';
import { Capture, clientHello, removeTempCaptures, tempCapturePath, tlsRecord } from '../unit/ftp/synth.js';
import { tshark } from '../tshark.js';

after(removeTempCaptures);

const CLIENT = '198.51.100.10';
const SERVER = '203.0.113.5';

async function run(cap: Capture, name: string, opts: Partial<AnalyzeOptions> = {}, analyzers?: AnalyzerFactory[]): Promise<AnalysisResult & { path: string }> {
  const path = cap.write(tempCapturePath(name));
  const r = await analyzeCapture(path, { ...DEFAULT_OPTIONS, ...opts }, analyzers ? { analyzers } : {});
  return { ...r, path };
}

/** The FTP/FTPS verdicts (TLS rules judge the FTPS handshakes separately, in the TLS tests). */
function codes(r: AnalysisResult): string[] {
  return [...new Set(r.findings.map((f) => f.code).filter((c) => /^FTPS?_/.test(c)))].sort();
}

function finding(r: AnalysisResult, code: string): Finding {
  const f = r.findings.find((x) => x.code === code);
  assert.ok(f, `${code} expected; got ${codes(r).join(', ')}`);
  return f;
}

/** Control connection up to a logged-in session; returns it for more exchanges. */
function login(cap: Capture, client = CLIENT, server = SERVER, port = 21, user = 'bob', pass = 's3cr3t-pw') {
  const ctl = cap.tcp(client, 40000, server, port).handshake();
  ctl.send('s', '220 FTP server ready\r\n');
  ctl.exchange(`USER ${user}`, '331 Please specify the password.');
  ctl.exchange(`PASS ${pass}`, '230 Login successful.');
  return ctl;
}

test('PASV behind NAT without rewrite: private address announced, SYNs unanswered, 425', async () => {
  const cap = new Capture();
  const ctl = login(cap);
  const pasv = ctl.exchange('PASV', '227 Entering Passive Mode (10,0,0,5,195,92).');
  const data = cap.tcp(CLIENT, 40001, '10.0.0.5', 50012);
  const syn1 = data.syn();
  cap.tick(1000);
  data.syn();
  cap.tick(2000);
  const syn3 = data.syn();
  const retr = ctl.exchange('RETR report.csv', '425 Failed to establish connection.');
  ctl.exchange('QUIT', '221 Goodbye.');
  ctl.close();
  const r = await run(cap, 'pasv-private.pcap');

  assert.equal(tshark(['-r', r.path, '-Y', `frame.number == ${pasv.reply}`, '-T', 'fields', '-e', 'ftp.passive.ip', '-e', 'ftp.passive.port']).trim(), '10.0.0.5\t50012');
  const s = r.facts.ftp.sessions[0];
  const ch = s.channels[0];
  assert.equal(ch.frame, pasv.reply);
  assert.equal(ch.arithmetic, 'p1*256+p2 = 195*256+92 = 50012');
  assert.equal(ch.outcome, 'syn-unanswered');
  assert.equal(ch.observed!.synFrame, syn1);
  assert.equal(ch.observed!.synRetransmissions, 2);
  assert.equal(ch.observed!.lastFrame, syn3);
  assert.equal(s.transfers[0].result, 'failed');

  assert.deepEqual(codes(r), ['FTP_CLEARTEXT_LOGIN', 'FTP_DATA_CONNECT_FAILED', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_TRANSFER_FAILED']);
  const priv = finding(r, 'FTP_PASV_PRIVATE_ADDRESS');
  assert.equal(priv.severity, 'high');
  assert.match(priv.explanation, /10\.0\.0\.5:50012/);
  assert.match(priv.explanation, /195\*256\+92/);
  assert.match(priv.explanation, new RegExp(`frame ${pasv.reply}\\b`));
  assert.match(priv.explanation, /203\.0\.113\.5/);
  assert.match(priv.mitigation, /pasv_address/);
  const failed = finding(r, 'FTP_DATA_CONNECT_FAILED');
  for (const f of [pasv.reply, syn1, syn3, retr.reply]) assert.ok(failed.frames.includes(f), `frame ${f} in ${failed.frames}`);
  assert.match(failed.explanation, /sent 3 times/);
  assert.match(failed.explanation, /425/);
  assert.equal(finding(r, 'FTP_TRANSFER_FAILED').details.code, 425);
});

test('client substitutes the control address for a private PASV address (curl --ftp-skip-pasv-ip)', async () => {
  const cap = new Capture();
  const ctl = login(cap);
  const pasv = ctl.exchange('PASV', '227 Entering Passive Mode (10,0,0,5,195,92)');
  const data = cap.tcp(CLIENT, 40001, SERVER, 50012).handshake();
  ctl.send('c', 'LIST\r\n');
  ctl.send('s', '150 Here comes the directory listing.\r\n');
  const listing = '-rw-r--r-- 1 ftp ftp 12 Jan 01 00:00 a.txt\r\n';
  data.send('s', listing);
  data.close();
  ctl.send('s', '226 Directory send OK.\r\n');
  const r = await run(cap, 'pasv-substituted.pcap');
  const ch = r.facts.ftp.sessions[0].channels[0];
  assert.equal(ch.observed!.matchedBy, 'control-peer');
  assert.equal(ch.observed!.state, 'completed');
  assert.equal(ch.observed!.bytesFromServer, listing.length);
  assert.deepEqual(codes(r), ['FTP_CLEARTEXT_LOGIN', 'FTP_DATA_TO_UNANNOUNCED_ADDRESS', 'FTP_PASV_PRIVATE_ADDRESS']);
  const f = finding(r, 'FTP_DATA_TO_UNANNOUNCED_ADDRESS');
  assert.equal(f.severity, 'info');
  assert.ok(f.frames.includes(pasv.reply));
  assert.match(f.explanation, /203\.0\.113\.5/);
  assert.match(f.explanation, /10\.0\.0\.5/);
});

test('a data connection a few seconds after the control connection closed is still its own; later, it belongs to no session', async () => {
  const cap = new Capture();
  // Two sessions, each announcing a passive port and quitting without using it.
  const sessions = [50100, 50200].map((port, i) => {
    const ctl = cap.tcp(CLIENT, 40010 + i, SERVER, 21).handshake();
    ctl.send('s', '220 FTP server ready\r\n');
    ctl.exchange('USER anonymous', '331 Please specify the password.');
    ctl.exchange('PASS guest', '230 Login successful.');
    ctl.exchange('PASV', `227 Entering Passive Mode (203,0,113,5,${port >> 8},${port & 255}).`);
    ctl.exchange('QUIT', '221 Goodbye.');
    ctl.close();
    return { port, closed: cap.now };
  });
  // 4 s after the first control connection closed: within the 5 s grace (a SYN on its way).
  cap.now = sessions[0].closed + 4e6;
  const early = cap.tcp(CLIENT, 40100, SERVER, sessions[0].port).syn();
  // 6 s after the second one closed: the server closed that listening port with the session.
  cap.now = sessions[1].closed + 6e6;
  const late = cap.tcp(CLIENT, 40101, SERVER, sessions[1].port).syn();
  const r = await run(cap, 'data-after-control-close.pcap');

  const [first, second] = r.facts.ftp.sessions;
  assert.equal(first.channels[0].observed?.synFrame, early);
  assert.equal(first.channels[0].outcome, 'syn-unanswered');
  assert.equal(second.channels[0].observed, null);
  assert.equal(second.channels[0].connections.length, 0);
  assert.ok(!r.facts.ftp.sessions.some((s) => s.channels.some((ch) => ch.connections.some((c) => c.synFrame === late))));
});

test('firewall rejects the passive port with RST; ICMP unreachable for EPSV; connection never attempted', async () => {
  const cap = new Capture();
  const ctl = login(cap);
  const pasv = ctl.exchange('PASV', '227 Entering Passive Mode (203,0,113,5,195,93)');
  const d1 = cap.tcp(CLIENT, 40001, SERVER, 50013);
  d1.syn();
  const rst = d1.rstToSyn();
  ctl.exchange('RETR a', '425 Failed to establish connection.');
  const epsv = ctl.exchange('EPSV', '229 Entering Extended Passive Mode (|||50014|)');
  const d2 = cap.tcp(CLIENT, 40002, SERVER, 50014);
  d2.syn();
  const icmp = cap.icmpUnreachable('192.0.2.1', d2.lastSyn!, 13);
  ctl.exchange('RETR b', '425 Failed to establish connection.');
  const pasv3 = ctl.exchange('PASV', '227 Entering Passive Mode (203,0,113,5,195,95)');
  const never = ctl.exchange('RETR c', '425 Failed to establish connection.');
  const r = await run(cap, 'data-failures.pcap');
  const [c1, c2, c3] = r.facts.ftp.sessions[0].channels;
  assert.deepEqual([c1.outcome, c2.outcome, c3.outcome], ['refused', 'icmp-unreachable', 'never-seen']);
  assert.equal(c1.observed!.rstFrame, rst);
  assert.equal(c2.announcedIp, SERVER, 'EPSV: the control connection\'s server address');
  assert.deepEqual(c2.observed!.icmp.map((e) => [e.frame, e.type, e.code, e.reporter]), [[icmp, 3, 13, '192.0.2.1']]);
  assert.equal(c3.observed, null);
  const f = finding(r, 'FTP_DATA_CONNECT_FAILED');
  for (const x of [pasv.reply, rst, epsv.reply, icmp, pasv3.reply, never.reply]) assert.ok(f.frames.includes(x), `frame ${x} in ${f.frames}`);
  assert.equal(f.details.count, 3);
  assert.match(f.explanation, /reset in frame/);
  assert.ok(!codes(r).includes('FTP_PASV_PRIVATE_ADDRESS'));
  // One FTP_TRANSFER_FAILED for the three 425s.
  assert.equal(r.findings.filter((x) => x.code === 'FTP_TRANSFER_FAILED').length, 1);
  assert.equal(finding(r, 'FTP_TRANSFER_FAILED').details.count, 3);
});

test('data connection from another client address (multi-address NAT): vsftpd "Bad IP connecting"', async () => {
  const cap = new Capture();
  const ctl = login(cap);
  ctl.exchange('PASV', '227 Entering Passive Mode (203,0,113,5,195,96)');
  const d = cap.tcp('198.51.100.11', 40001, SERVER, 50016).handshake();
  const bad = ctl.exchange('RETR a', '425 Security: Bad IP connecting.');
  d.close();
  const r = await run(cap, 'source-mismatch.pcap');
  const f = finding(r, 'FTP_DATA_SOURCE_MISMATCH');
  assert.match(f.explanation, /198\.51\.100\.11/);
  assert.match(f.explanation, /198\.51\.100\.10/);
  assert.ok(f.frames.includes(bad.reply));
  assert.equal(f.subject.flow, r.facts.ftp.sessions[0].channels[0].observed!.flow);
});

test('passive port outside --passive-range; untrusted server outside --trusted', async () => {
  const cap = new Capture();
  const ctl = login(cap);
  const out = ctl.exchange('PASV', '227 Entering Passive Mode (203,0,113,5,234,96)'); // 60000
  ctl.exchange('PASV', '227 Entering Passive Mode (203,0,113,5,195,130)'); // 50050
  const r = await run(cap, 'range.pcap', { passiveRange: [50000, 50100], trusted: ['198.51.100.0/24'] });
  const f = finding(r, 'FTP_PASV_PORT_OUT_OF_RANGE');
  assert.deepEqual(f.frames, [out.reply]);
  assert.match(f.explanation, /60000/);
  assert.match(f.explanation, /50000-50100/);
  const u = finding(r, 'FTP_UNTRUSTED_PEER');
  assert.equal(u.subject.host, SERVER);
  assert.deepEqual(u.details.peers, [{ ip: SERVER, role: 'control server', frame: 1, flow: 0 }]);
  const none = await analyzeCapture(r.path, DEFAULT_OPTIONS);
  assert.ok(!none.findings.some((x) => x.code === 'FTP_PASV_PORT_OUT_OF_RANGE' || x.code === 'FTP_UNTRUSTED_PEER'));
});

test('active mode from a NATed client seen outside: PORT carries the private address, the server cannot connect', async () => {
  const cap = new Capture();
  const ctl = login(cap);
  const port = ctl.exchange('PORT 192,168,1,5,200,10', '200 PORT command successful.');
  ctl.send('c', 'RETR a\r\n');
  const d = cap.tcp(SERVER, 20, '192.168.1.5', 51210);
  const syn = d.syn();
  cap.tick(3000);
  d.syn();
  ctl.send('s', '425 Failed to establish connection.\r\n');
  const r = await run(cap, 'port-private.pcap');
  assert.equal(tshark(['-r', r.path, '-Y', `frame.number == ${port.command}`, '-T', 'fields', '-e', 'ftp.active.cip', '-e', 'ftp.active.port']).trim(), '192.168.1.5\t51210');
  assert.deepEqual(codes(r), ['FTP_ACTIVE_MODE', 'FTP_CLEARTEXT_LOGIN', 'FTP_DATA_CONNECT_FAILED', 'FTP_PORT_PRIVATE_ADDRESS', 'FTP_TRANSFER_FAILED']);
  const f = finding(r, 'FTP_PORT_PRIVATE_ADDRESS');
  assert.match(f.explanation, /192\.168\.1\.5:51210/);
  assert.match(f.explanation, /198\.51\.100\.10/);
  assert.ok(f.frames.includes(port.command) && f.frames.includes(syn));
  assert.equal(r.facts.ftp.sessions[0].channels[0].observed!.src, SERVER);
});

test('control-channel text: lower case, pipelining, multi-line replies, Telnet IAC before ABOR', async () => {
  const cap = new Capture();
  const ctl = cap.tcp(CLIENT, 40000, SERVER, 21).handshake();
  ctl.send('s', '220-Welcome\r\n220-to the test\r\n220 server\r\n');
  const both = ctl.send('c', 'user anonymous\r\npass guest@\r\n');
  const r331 = ctl.send('s', '331 Guest login ok.\r\n');
  const r230 = ctl.send('s', '230-Guest login ok,\r\n  access restrictions apply.\r\n230 Done\r\n');
  ctl.send('c', 'syst\r\n');
  ctl.send('s', '215 UNIX Type: L8\r\n');
  ctl.send('c', Buffer.concat([Buffer.from([0xff, 0xf4, 0xff, 0xf2]), Buffer.from('ABOR\r\n')]));
  ctl.send('s', '225 No transfer to ABOR.\r\n');
  const r = await run(cap, 'dialogue.pcap');
  const s = r.facts.ftp.sessions[0];
  assert.equal(s.greeting!.text, 'Welcome\nto the test\nserver');
  assert.deepEqual(s.commands.map((c) => [c.verb, c.frame, c.final?.code, c.final?.frame]),
    [['USER', both, 331, r331], ['PASS', both, 230, r230], ['SYST', r230 + 1, 215, r230 + 2], ['ABOR', r230 + 3, 225, r230 + 4]]);
  assert.equal(s.commands[1].arg, null, 'PASS argument not kept without showPasswords');
  assert.equal(s.login, 'success');
  assert.equal(s.anonymous, true);
  assert.deepEqual(codes(r), ['FTP_ANONYMOUS_LOGIN', 'FTP_CLEARTEXT_LOGIN']);
});

test('FTP found by its dialogue on another port; SMTP greeting with 220 is left alone', async () => {
  const cap = new Capture();
  const ftp = cap.tcp(CLIENT, 40000, SERVER, 2121).handshake();
  ftp.send('s', '220 ProFTPD Server ready.\r\n');
  ftp.exchange('USER alice', '331 Password required for alice');
  const smtp = cap.tcp(CLIENT, 40001, SERVER, 2525).handshake();
  smtp.send('s', '220 mail.example.org ESMTP Postfix\r\n');
  smtp.exchange('EHLO client.example', '250-mail.example.org\r\n250 PIPELINING');
  smtp.exchange('QUIT', '221 2.0.0 Bye');
  const r = await run(cap, 'dialogue-ports.pcap');
  assert.deepEqual(r.facts.ftp.sessions.map((s) => [s.serverPort, s.detectedBy, s.user]), [[2121, 'dialogue', 'alice']]);
});

test('explicit FTPS: AUTH TLS and the ClientHello in one segment, CCC back to clear text seen without keys', async () => {
  const cap = new Capture();
  const ctl = cap.tcp('192.168.1.5', 40000, SERVER, 21).handshake();
  ctl.send('s', '220 FTP server ready\r\n');
  // The client pipelines the ClientHello right behind AUTH TLS: those bytes must wait for the 234.
  ctl.send('c', Buffer.concat([Buffer.from('AUTH TLS\r\n'), clientHello(120)]));
  const r234 = ctl.send('s', '234 Proceed with negotiation.\r\n');
  ctl.send('s', Buffer.concat([tlsRecord(22, 90, 2), tlsRecord(20, 1), tlsRecord(22, 40)]));
  ctl.send('c', Buffer.concat([tlsRecord(20, 1), tlsRecord(22, 40)]));
  ctl.send('c', tlsRecord(23, 30)); // USER, encrypted
  ctl.send('s', tlsRecord(23, 40));
  ctl.send('c', tlsRecord(23, 30)); // PASS
  ctl.send('s', tlsRecord(23, 40));
  ctl.send('c', tlsRecord(23, 20)); // CCC
  ctl.send('s', Buffer.concat([tlsRecord(23, 30), tlsRecord(21, 26)]));
  ctl.send('c', tlsRecord(21, 26)); // close_notify
  const pasv = ctl.exchange('PASV', '227 Entering Passive Mode (203,0,113,5,195,97)');
  const r = await run(cap, 'ftps-ccc.pcap');
  const s = r.facts.ftp.sessions[0];
  assert.equal(s.tls.mode, 'explicit');
  assert.deepEqual(s.tls.tlsFrom, { offsetClient: 'AUTH TLS\r\n'.length, offsetServer: '220 FTP server ready\r\n234 Proceed with negotiation.\r\n'.length, frame: r234 });
  assert.equal(s.malformedLines, 0);
  assert.deepEqual(s.commands.map((c) => [c.verb, c.via]), [['AUTH', 'clear'], ['PASV', 'clear']]);
  assert.equal(s.tls.ccc!.inferred, true);
  assert.equal(s.tls.ccc!.clearFromFrame, pasv.command);
  assert.equal(s.channels[0].frame, pasv.reply);
  assert.equal(tshark(['-r', r.path, '-Y', `frame.number == ${pasv.reply}`, '-T', 'fields', '-e', 'ftp.passive.port']).trim(), '50017');
  assert.deepEqual(codes(r), ['FTPS_CLEAR_COMMAND_CHANNEL']);
  assert.match(finding(r, 'FTPS_CLEAR_COMMAND_CHANNEL').explanation, new RegExp(`frame ${pasv.command}`));
});

function ftpsSession(cap: Capture, client: string): ReturnType<Capture['tcp']> {
  const ctl = cap.tcp(client, 40000, SERVER, 21).handshake();
  ctl.send('s', '220 FTP server ready\r\n');
  ctl.exchange('AUTH TLS', '234 Proceed with negotiation.');
  ctl.send('c', clientHello(150));
  ctl.send('s', Buffer.concat([tlsRecord(22, 90, 2), tlsRecord(20, 1), tlsRecord(22, 40)]));
  ctl.send('c', Buffer.concat([tlsRecord(20, 1), tlsRecord(22, 40)]));
  for (let i = 0; i < 4; i++) { ctl.send('c', tlsRecord(23, 30)); ctl.send('s', tlsRecord(23, 50)); }
  return ctl;
}

test('FTPS with clear data: the data connection between the two hosts carries no TLS', async () => {
  const cap = new Capture();
  const ctl = ftpsSession(cap, CLIENT);
  const clear = cap.tcp(CLIENT, 40001, SERVER, 50020).handshake();
  const first = clear.send('s', 'drwxr-xr-x 2 ftp ftp 4096 Jan 01 00:00 pub\r\n');
  clear.close();
  const prot = cap.tcp(CLIENT, 40002, SERVER, 50021).handshake();
  prot.send('c', clientHello(180));
  prot.close();
  ctl.send('c', tlsRecord(23, 30));
  const r = await run(cap, 'ftps-clear-data.pcap');
  const s = r.facts.ftp.sessions[0];
  assert.equal(s.tls.partial, true);
  assert.deepEqual(s.encryptedDataConnections.map((c) => [c.dstPort, c.tls, c.matchedBy]), [[50020, false, 'encrypted-session'], [50021, true, 'encrypted-session']]);
  assert.deepEqual(codes(r), ['FTPS_DATA_UNPROTECTED']);
  const f = finding(r, 'FTPS_DATA_UNPROTECTED');
  assert.deepEqual(f.frames, [first]);
  assert.match(f.explanation, /50020/);
});

test('FTPS across NAT: data connections of an encrypted session fail, nobody could fix the announcement', async () => {
  const cap = new Capture();
  const ctl = ftpsSession(cap, '192.168.1.5');
  const d = cap.tcp('192.168.1.5', 40001, SERVER, 50030);
  const syn = d.syn();
  cap.tick(3000);
  d.syn();
  ctl.send('s', tlsRecord(23, 50)); // the 425, encrypted
  const r = await run(cap, 'ftps-nat.pcap');
  assert.deepEqual(codes(r), ['FTPS_NAT_BLIND', 'FTP_DATA_CONNECT_FAILED']);
  assert.equal(finding(r, 'FTP_DATA_CONNECT_FAILED').details.announcementsReadable, false);
  const f = finding(r, 'FTPS_NAT_BLIND');
  assert.ok(f.frames.includes(syn));
  assert.match(f.explanation, /never answered/);
  assert.match(f.mitigation, /public address/);
});

test('implicit FTPS: port 990, and a ClientHello first on port 21', async () => {
  for (const port of [990, 21]) {
    const cap = new Capture();
    const ctl = cap.tcp(CLIENT, 40000, SERVER, port).handshake();
    const hello = ctl.send('c', clientHello(150));
    ctl.send('s', tlsRecord(22, 90, 2));
    ctl.send('s', tlsRecord(23, 40));
    const r = await run(cap, `implicit-${port}.pcap`);
    const s = r.facts.ftp.sessions[0];
    assert.equal(s.tls.mode, 'implicit', String(port));
    assert.deepEqual(s.tls.tlsFrom, { offsetClient: 0, offsetServer: 0, frame: hello });
    assert.equal(s.malformedLines, 0);
    assert.deepEqual(codes(r), [], String(port));
  }
});

test('decrypted control text from the TLS side takes the same path: PROT P, a private PASV, vsftpd 522 reuse text', async () => {
  const cap = new Capture();
  const ctl = ftpsSession(cap, '192.168.1.5');
  const lines: Array<[string, 'client' | 'server', string]> = [];
  // After the handshake, each encrypted record stands for one line, in order.
  const script: Array<['client' | 'server', string]> = [
    ['client', 'USER alice'], ['server', '331 Password please'], ['client', 'PASS hunter2'], ['server', '230 Logged in'],
    ['client', 'PBSZ 0'], ['server', '200 PBSZ set to 0.'], ['client', 'PROT P'], ['server', '200 PROT now Private.'],
    ['client', 'PASV'], ['server', '227 Entering Passive Mode (10,1,2,3,195,120)'],
    ['client', 'RETR a'], ['server', '522 SSL connection failed; session reuse required: see require_ssl_reuse option in vsftpd.conf man page'],
  ];
  for (const [who, text] of script) {
    const frame = ctl.send(who === 'client' ? 'c' : 's', tlsRecord(23, text.length + 20));
    lines.push([String(frame), who, text]);
  }
  const byFrame = new Map(lines.map(([f, who, text]) => [Number(f), { who, text }]));
  const fed: string[] = [];
  // A stand-in for the TLS analyzer: "decrypts" each application-data record into its line.
  const tlsStandIn: AnalyzerFactory = (ctx) => {
    onFtpTlsStart(ctx, (start: FtpTlsStart) => ({
      data: (role, bytes, _offset, frame, ts) => {
        const line = byFrame.get(frame);
        if (line && line.who === role && bytes[0] === 23) {
          fed.push(line.text);
          start.session.feedDecrypted(role, Buffer.from(line.text + '\r\n'), frame, ts);
        }
      },
      end: () => undefined,
    }));
    return { name: 'tls-stand-in' } satisfies Analyzer;
  };
  const r = await run(cap, 'ftps-decrypted.pcap', {}, [tlsStandIn, ftpAnalyzer]);
  assert.equal(fed.length, script.length);
  const s = r.facts.ftp.sessions[0];
  assert.deepEqual(s.commands.map((c) => [c.verb, c.via, c.final?.code]), [
    ['AUTH', 'clear', 234], ['USER', 'decrypted', 331], ['PASS', 'decrypted', 230], ['PBSZ', 'decrypted', 200],
    ['PROT', 'decrypted', 200], ['PASV', 'decrypted', 227], ['RETR', 'decrypted', 522]]);
  assert.deepEqual(s.tls.prot, { level: 'P', frame: Number(lines[6][0]), code: 200, accepted: true });
  assert.equal(s.channels[0].via, 'decrypted');
  assert.equal(s.password, null);
  assert.deepEqual(codes(r), ['FTPS_NAT_BLIND', 'FTPS_SESSION_REUSE_MISSING', 'FTP_PASV_PRIVATE_ADDRESS', 'FTP_TRANSFER_FAILED']);
  const reuse = finding(r, 'FTPS_SESSION_REUSE_MISSING');
  assert.deepEqual(reuse.frames, [Number(lines[11][0])]);
  assert.match(reuse.explanation, /522/);
  assert.match(finding(r, 'FTPS_NAT_BLIND').explanation, /10\.1\.2\.3:50040/);
});

test('seen inside a destination NAT: the announced public address arrives translated; an unrewritten private one is reported', async () => {
  // vsftpd pasv_address behind a port forward, captured on the server's side of the router.
  const cap = new Capture();
  const ctl = login(cap, '203.0.113.10', '10.0.0.21');
  ctl.exchange('PASV', '227 Entering Passive Mode (203,0,113,1,156,64)');
  const d = cap.tcp('203.0.113.10', 40001, '10.0.0.21', 40000).handshake();
  ctl.send('c', 'RETR hello.txt\r\n');
  ctl.send('s', '150 Opening BINARY mode data connection.\r\n');
  d.send('s', 'hello\n');
  d.close();
  ctl.send('s', '226 Transfer complete.\r\n');
  const r = await run(cap, 'dnat-inside.pcap');
  assert.equal(r.facts.ftp.sessions[0].channels[0].observed!.matchedBy, 'nat-translated');
  assert.deepEqual(codes(r), ['FTP_CLEARTEXT_LOGIN']);

  // Same place, no pasv_address and no helper: the server's own address goes out; the client never connects.
  const cap2 = new Capture();
  const ctl2 = login(cap2, '203.0.113.10', '10.0.0.21');
  const pasv = ctl2.exchange('PASV', '227 Entering Passive Mode (10,0,0,21,156,64)');
  ctl2.exchange('QUIT', '221 Goodbye.');
  const r2 = await run(cap2, 'dnat-inside-private.pcap');
  assert.deepEqual(codes(r2), ['FTP_CLEARTEXT_LOGIN', 'FTP_PASV_PRIVATE_ADDRESS']);
  assert.deepEqual(finding(r2, 'FTP_PASV_PRIVATE_ADDRESS').frames, [pasv.reply]);
  assert.match(finding(r2, 'FTP_PASV_PRIVATE_ADDRESS').explanation, /203\.0\.113\.10 is outside that private network/);
});

test('seen inside a source NAT: the server refuses a PORT with the private client address', async () => {
  const cap = new Capture();
  const ctl = login(cap, '192.168.10.10', '198.51.100.21');
  const port = ctl.exchange('PORT 192,168,10,10,195,80', '500 Illegal PORT command.');
  const r = await run(cap, 'snat-inside-port.pcap');
  assert.equal(r.facts.ftp.sessions[0].channels[0].outcome, 'rejected');
  assert.deepEqual(codes(r), ['FTP_ACTIVE_MODE', 'FTP_CLEARTEXT_LOGIN', 'FTP_PORT_PRIVATE_ADDRESS']);
  const f = finding(r, 'FTP_PORT_PRIVATE_ADDRESS');
  assert.deepEqual(f.frames, [port.command, port.reply]);
  assert.match(f.explanation, /refused it with 500/);
});

test('CCC read through decryption, then clear text found at the record boundary after close_notify', async () => {
  const cap = new Capture();
  const ctl = ftpsSession(cap, CLIENT);
  const ccc = ctl.send('c', tlsRecord(23, 25));
  const ok = ctl.send('s', tlsRecord(23, 40));
  ctl.send('s', tlsRecord(21, 26));
  ctl.send('c', tlsRecord(21, 26));
  const pasv = ctl.exchange('PASV', '227 Entering Passive Mode (203,0,113,5,195,98)');
  const lines = new Map([[ccc, 'CCC'], [ok, '200 CCC command successful.']]);
  const standIn: AnalyzerFactory = (ctx) => {
    onFtpTlsStart(ctx, (start) => ({
      data: (role, bytes, _offset, frame, ts) => {
        const text = lines.get(frame);
        if (text && bytes[0] === 23) start.session.feedDecryptedLine(role, text, frame, ts);
      },
      end: () => undefined,
    }));
    return { name: 'tls-stand-in' };
  };
  const r = await run(cap, 'ftps-ccc-decrypted.pcap', {}, [standIn, ftpAnalyzer]);
  const s = r.facts.ftp.sessions[0];
  assert.deepEqual(s.tls.ccc, { frame: ccc, code: 200, inferred: false, clearFromFrame: pasv.command });
  assert.deepEqual(s.commands.map((c) => [c.verb, c.via]), [['AUTH', 'clear'], ['CCC', 'decrypted'], ['PASV', 'clear']]);
  const f = finding(r, 'FTPS_CLEAR_COMMAND_CHANNEL');
  assert.deepEqual(f.frames, [ccc, pasv.command]);
  assert.match(f.explanation, new RegExp(`sent CCC in frame ${ccc}, the server accepted it \\(200\\)`));
});
