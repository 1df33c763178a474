import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_REPLY_BYTES, assembleReply, endReplies, maskedArg, newLineSplitter, newReplyAssembler, parseCommand, splitLines,
  type FtpReply, type MalformedReply,
} from '../../../src/proto/ftp/control.js';
import { manifest, tsharkTruth } from '../../helpers.js';

/** Replies assembled from one server→client byte stream, in order. */
function replies(stream: string): Array<FtpReply | MalformedReply> {
  const s = newLineSplitter();
  const a = newReplyAssembler();
  const out: Array<FtpReply | MalformedReply> = [];
  for (const line of splitLines(s, Buffer.from(stream, 'latin1'))) {
    const r = assembleReply(a, line);
    if (r) out.push(r);
  }
  const open = endReplies(a);
  if (open) out.push(open);
  return out;
}

test('parseCommand: verb upper-cased, one SP separates, the rest is the argument', () => {
  assert.deepEqual(parseCommand('USER anonymous'), { kind: 'command', verb: 'USER', arg: 'anonymous', known: true });
  assert.deepEqual(parseCommand('retr robots.txt'), { kind: 'command', verb: 'RETR', arg: 'robots.txt', known: true });
  assert.deepEqual(parseCommand('PASV'), { kind: 'command', verb: 'PASV', arg: null, known: true });
  assert.deepEqual(parseCommand('PASV '), { kind: 'command', verb: 'PASV', arg: null, known: true });
  // RFC 2640 §3.1: further spaces belong to the path name.
  assert.deepEqual(parseCommand('CWD  spaced dir '), { kind: 'command', verb: 'CWD', arg: ' spaced dir ', known: true });
  assert.deepEqual(parseCommand('AUTH TLS'), { kind: 'command', verb: 'AUTH', arg: 'TLS', known: true });
  assert.deepEqual(parseCommand('XYZZY plugh'), { kind: 'command', verb: 'XYZZY', arg: 'plugh', known: false });
});

test('parseCommand: junk is a malformed value with the offending index', () => {
  assert.deepEqual(parseCommand(''), { kind: 'malformed', offset: 0, reason: 'empty command line' });
  assert.equal(parseCommand(' USER x').kind, 'malformed');
  // nDPI fuzz capture: first byte mangled (tshark shows it as U+FFFD).
  const fuzz = parseCommand('\ufffdSER anonymous');
  assert.equal(fuzz.kind, 'malformed');
  assert.equal(fuzz.kind === 'malformed' && fuzz.offset, 0);
  const digits = parseCommand('US3R x');
  assert.equal(digits.kind === 'malformed' && digits.offset, 2);
});

test('parseCommand agrees with tshark on the over-long verbs of zeek fake-long-commands.pcap', () => {
  const entry = manifest().find((e) => e.localPath.endsWith('Traces/ftp/fake-long-commands.pcap'));
  assert.ok(entry);
  const ftp = tsharkTruth(entry).ftp as { requests: Array<{ command: string; arg: string | null }> };
  for (const r of ftp.requests) {
    const parsed = parseCommand(r.arg === null ? r.command : `${r.command} ${r.arg}`);
    assert.equal(parsed.kind, 'command');
    if (parsed.kind !== 'command') continue;
    assert.equal(parsed.verb, r.command.toUpperCase());
    assert.equal(parsed.arg, r.arg);
    assert.equal(parsed.known, r.command.length <= 4);
  }
});

test('maskedArg hides only the PASS argument unless unmasked', () => {
  assert.equal(maskedArg('PASS', 'secret'), '****');
  assert.equal(maskedArg('pass', 'secret'), '****');
  assert.equal(maskedArg('PASS', 'secret', true), 'secret');
  assert.equal(maskedArg('PASS', null), null);
  assert.equal(maskedArg('USER', 'anonymous'), 'anonymous');
});

test('multi-line 211 FEAT reply (RFC 2389) is one reply', () => {
  const feat = '211-Features:\r\n MDTM\r\n REST STREAM\r\n SIZE\r\n MLST type*;size*;modify*;\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n211 End\r\n';
  const [r] = replies(feat);
  assert.equal(r.kind, 'reply');
  if (r.kind !== 'reply') return;
  assert.equal(r.code, 211);
  assert.equal(r.multiline, true);
  assert.equal(r.lines.length, 9);
  assert.equal(r.lines[8], '211 End');
  assert.equal(r.text, 'Features:\n MDTM\n REST STREAM\n SIZE\n MLST type*;size*;modify*;\n AUTH TLS\n PBSZ\n PROT\nEnd');
  assert.equal(r.startOffset, 0);
  assert.equal(r.endOffset, feat.length);
});

test('multi-line: other codes and same-code dash lines are continuation; only "xyz " ends it', () => {
  const stream = '220-Welcome\r\n220-Second line\r\n230 not the end\r\n  123 padded\r\n220 ready\r\n331 next\r\n';
  const out = replies(stream);
  assert.equal(out.length, 2);
  const [a, b] = out;
  assert.ok(a.kind === 'reply' && b.kind === 'reply');
  assert.equal(a.code, 220);
  assert.equal(a.text, 'Welcome\nSecond line\n230 not the end\n  123 padded\nready');
  assert.equal(b.code, 331);
  assert.equal(a.endOffset, stream.indexOf('331'));
  assert.equal(b.startOffset, stream.indexOf('331'));
});

test('a bare "xyz" line ends a multi-line reply and is a reply by itself', () => {
  const out = replies('250-a\r\n250\r\n230\r\n');
  assert.deepEqual(out.map((r) => r.kind === 'reply' && [r.code, r.text, r.multiline]), [[250, 'a\n', true], [230, '', false]]);
});

// zeek's ftp-missing-space / invalid-reply-code / missing-reply-code captures. The streams are the
// server side as `tshark -z follow,tcp` prints it; the expectations are what tshark decoded.
const zeekServerStreams: Record<string, string> = {
  'ftp-missing-space-after-reply-code.pcap': '220 py.fake ready\r\n230 USER OK\r\n230 PASS OK\r\n230_no_space\r\n221 Bye\r\n',
  'ftp-invalid-reply-code.pcap': '220 py.fake ready\r\n230 USER OK\r\n230 PASS OK\r\n99 PASV invalid\r\n221 Bye\r\n',
  'ftp-missing-reply-code.pcap': '220 py.fake ready\r\n230 USER OK\r\n230 PASS OK\r\nSYST not supported\r\n221 Bye\r\n',
};

for (const [name, stream] of Object.entries(zeekServerStreams)) {
  test(`replies of ${name} match tshark; lines without a code are malformed`, () => {
    const entry = manifest().find((e) => e.localPath.endsWith(`Traces/ftp/${name}`));
    assert.ok(entry);
    const ftp = tsharkTruth(entry).ftp as { responses: Array<{ code: number; arg: string | null }> };
    const out = replies(stream);
    const good = out.filter((r): r is FtpReply => r.kind === 'reply');
    assert.deepEqual(good.map((r) => [r.code, r.text]), ftp.responses.map((r) => [r.code, r.arg ?? '']));
    const bad = out.filter((r): r is MalformedReply => r.kind === 'malformed');
    assert.equal(bad.length, stream.split('\r\n').length - 1 - ftp.responses.length);
    for (const m of bad) assert.equal(m.offset, stream.indexOf(m.line));
  });
}

test('230_no_space is flagged as missing its space', () => {
  const [r] = replies('230_no_space\r\n');
  assert.ok(r.kind === 'reply');
  assert.equal(r.missingSpace, true);
  const [ok] = replies('230 ok\r\n');
  assert.ok(ok.kind === 'reply');
  assert.equal(ok.missingSpace, false);
});

test('codes outside the RFC classes and four-digit codes are malformed', () => {
  assert.deepEqual(replies('099 x\r\n').map((r) => r.kind), ['malformed']);
  assert.deepEqual(replies('2300 x\r\n').map((r) => r.kind), ['malformed']);
  assert.deepEqual(replies('\r\n').map((r) => r.kind === 'malformed' && r.reason), ['empty reply line']);
  assert.deepEqual(replies('631 base64==\r\n').map((r) => r.kind === 'reply' && r.code), [631]);
});

test('an unterminated multi-line reply is reported at end of stream', () => {
  const out = replies('NOISE\r\n227-Entering Passive Mode\r\n (10,0,0,1,4,1)\r\n');
  assert.equal(out.length, 2);
  assert.equal(out[1].kind, 'malformed');
  assert.equal(out[1].offset, 7);
  assert.match(out[1].kind === 'malformed' ? out[1].reason : '', /227/);
});

test('a multi-line reply that never ends stops storing text after MAX_REPLY_BYTES', () => {
  const body = ' x'.repeat(50) + '\r\n';
  const count = Math.ceil(MAX_REPLY_BYTES / 52) + 100;
  const [r] = replies('150-start\r\n' + body.repeat(count) + '150 done\r\n');
  assert.ok(r.kind === 'reply');
  assert.equal(r.truncated, true);
  assert.ok(r.lines.length < count);
  assert.equal(r.lines[r.lines.length - 1], '150 done');
});
