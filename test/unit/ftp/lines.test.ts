import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_LINE_BYTES, endLines, newLineSplitter, splitLines } from '../../../src/proto/ftp/control.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

test('pipelined commands in one chunk: two lines with their stream offsets', () => {
  const s = newLineSplitter();
  const lines = splitLines(s, bytes('USER anonymous\r\nPASS x@y\r\n'));
  assert.deepEqual(lines.map((l) => [l.text, l.offset, l.end, l.eol]), [
    ['USER anonymous', 0, 16, 'CRLF'],
    ['PASS x@y', 16, 26, 'CRLF'],
  ]);
});

test('a line split across chunks keeps the offset where it started', () => {
  const s = newLineSplitter();
  assert.deepEqual(splitLines(s, bytes('NOOP\r\nRE')), [
    { text: 'NOOP', offset: 0, end: 6, eol: 'CRLF', truncated: false, telnet: false },
  ]);
  assert.deepEqual(splitLines(s, bytes('TR file')), []);
  assert.deepEqual(splitLines(s, bytes('.txt\r')), []);
  const [line] = splitLines(s, bytes('\nQUIT'));
  assert.equal(line.text, 'RETR file.txt');
  assert.equal(line.offset, 6);
  assert.equal(line.end, 21);
  assert.equal(line.eol, 'CRLF');
  const last = endLines(s);
  assert.deepEqual(last && [last.text, last.offset, last.end, last.eol], ['QUIT', 21, 25, 'none']);
  assert.equal(endLines(s), null);
});

test('bare LF ends a line too, and is reported as such', () => {
  const lines = splitLines(newLineSplitter(), bytes('PORT 10,0,0,1,4,1\n226 ok\r\n'));
  assert.deepEqual(lines.map((l) => [l.text, l.eol]), [['PORT 10,0,0,1,4,1', 'LF'], ['226 ok', 'CRLF']]);
});

test('RFC 959 abort sequence IAC IP, IAC DM before ABOR is stripped', () => {
  const [line] = splitLines(newLineSplitter(), Buffer.from([0xff, 0xf4, 0xff, 0xf2, ...bytes('ABOR\r\n')]));
  assert.equal(line.text, 'ABOR');
  assert.equal(line.offset, 0);
  assert.equal(line.end, 10);
  assert.equal(line.telnet, true);
});

test('IAC WILL/WONT/DO/DONT option and IAC SB ... IAC SE vanish, even split across chunks', () => {
  const s = newLineSplitter();
  splitLines(s, Buffer.from([...bytes('NO'), 0xff]));
  splitLines(s, Buffer.from([0xfd]));
  splitLines(s, Buffer.from([0x01, ...bytes('OP'), 0xff, 0xfa, 0x18, 0x01, 0xff]));
  const [line] = splitLines(s, Buffer.from([0xf0, 0xff, 0xfc, 0x03, 0x0d, 0x0a]));
  assert.equal(line.text, 'NOOP');
  assert.equal(line.end, 3 + 1 + 8 + 6);
});

test('IAC IAC is one 0xFF data byte (RFC 854), also across a chunk boundary', () => {
  const s = newLineSplitter();
  splitLines(s, Buffer.from([...bytes('RETR a'), 0xff]));
  const [line] = splitLines(s, Buffer.from([0xff, ...bytes('b\r\n')]));
  // 0xFF is not valid UTF-8, so it decodes to the replacement character.
  assert.equal(line.text, 'RETR a\ufffdb');
  assert.equal(line.telnet, false);
});

test('IAC followed by a non-command byte is kept as data (unescaped latin-1 file name)', () => {
  const [line] = splitLines(newLineSplitter(), Buffer.from([...bytes('CWD '), 0xff, 0x41, 0x0d, 0x0a]));
  assert.equal(line.text, 'CWD \ufffdA');
});

test('an LF inside a stray subnegotiation still ends the line', () => {
  const lines = splitLines(newLineSplitter(), Buffer.from([...bytes('CWD x'), 0xff, 0xfa, ...bytes('y\r\nPWD\r\n')]));
  assert.deepEqual(lines.map((l) => l.text), ['CWD x', 'PWD']);
});

test('UTF-8 (RFC 2640) decodes, invalid bytes never throw', () => {
  const lines = splitLines(newLineSplitter(), Buffer.concat([Buffer.from('CWD Überweisung\r\n', 'utf8'),
    Buffer.from([0x43, 0x57, 0x44, 0x20, 0xc3, 0x28, 0x0d, 0x0a])]));
  assert.deepEqual(lines.map((l) => l.text), ['CWD Überweisung', 'CWD \ufffd(']);
});

test('a line longer than 8192 bytes is cut, flagged, and the rest up to LF is dropped', () => {
  const s = newLineSplitter();
  const long = 'RETR ' + 'A'.repeat(9000);
  const lines = splitLines(s, bytes(long + '\r\nQUIT\r\n'));
  assert.equal(lines.length, 2);
  assert.equal(lines[0].truncated, true);
  assert.equal(lines[0].text.length, MAX_LINE_BYTES);
  assert.equal(lines[0].text, long.slice(0, 8192));
  assert.equal(lines[0].offset, 0);
  assert.equal(lines[0].eol, 'none');
  assert.deepEqual([lines[1].text, lines[1].offset, lines[1].truncated], ['QUIT', long.length + 2, false]);
});

test('the cut happens without an LF ever arriving, so memory stays bounded', () => {
  const s = newLineSplitter();
  let emitted = 0;
  for (let i = 0; i < 10; i++) emitted += splitLines(s, Buffer.alloc(4096, 0x41)).length;
  assert.equal(emitted, 1);
  assert.ok(s.buf.length <= MAX_LINE_BYTES + 1, `line buffer stays within the cap (${s.buf.length})`);
  assert.equal(endLines(s), null);
});

test('exactly 8192 bytes plus CRLF is not truncated', () => {
  const text = 'B'.repeat(MAX_LINE_BYTES);
  const [line] = splitLines(newLineSplitter(), bytes(text + '\r\n'));
  assert.equal(line.truncated, false);
  assert.equal(line.text, text);
  assert.equal(line.eol, 'CRLF');
});
