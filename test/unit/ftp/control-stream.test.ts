import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlStream, type Role } from '../../../src/proto/ftp/control-stream.js';

interface Log { lines: string[]; tls: Array<[Role, number, number]>; events: string[] }

/** Like the session: an AUTH line asks for the hold at its end. */
function stream(): { s: ControlStream; log: Log } {
  const log: Log = { lines: [], tls: [], events: [] };
  const s: ControlStream = new ControlStream({
    line: (role, line) => {
      log.lines.push(`${role}:${line.text}@${line.offset}`);
      if (role === 'client' && line.text.startsWith('AUTH')) s.holdClientFrom(line.end);
    },
    tlsBytes: (role, bytes, offset) => log.tls.push([role, offset, bytes.length]),
    implicitTls: (role) => log.events.push(`implicit:${role}`),
    clearResumed: (role, offset, records) => log.events.push(`clear:${role}@${offset}/${records}`),
    lost: (role) => log.events.push(`lost:${role}`),
  }, 1 << 16);
  return { s, log };
}

const hello = Buffer.from([22, 3, 1, 0, 4, 1, 0, 0, 0]);

test('client bytes after AUTH wait for its reply: TLS from the AUTH line end when 234 comes (RFC 4217 §4)', () => {
  const { s, log } = stream();
  // The ClientHello pipelined right behind AUTH TLS, in the same segment.
  s.data('client', Buffer.concat([Buffer.from('AUTH TLS\r\n'), hello]), 0, 5, 0);
  s.data('client', Buffer.from([23, 3, 3, 0, 1, 0]), 19, 7, 0);
  assert.deepEqual(log.lines, ['client:AUTH TLS@0']);
  assert.ok(s.holding);
  assert.equal(s.holdStart, 10);
  s.startTls(10, 31);
  // Held bytes are replayed to the TLS path with their stream offsets.
  assert.deepEqual(log.tls.map(([r, o, n]) => `${r}@${o}+${n}`), ['client@10+9', 'client@19+6']);
  assert.ok(!s.holding);
});

test('a refused AUTH releases the held bytes as clear text', () => {
  const { s, log } = stream();
  s.data('client', Buffer.from('AUTH TLS\r\n'), 0, 5, 0);
  s.data('client', Buffer.from('USER bob\r\n'), 10, 6, 0);
  assert.deepEqual(log.lines, ['client:AUTH TLS@0']);
  s.releaseHold();
  assert.deepEqual(log.lines, ['client:AUTH TLS@0', 'client:USER bob@10']);
});

test('after TLS, clear text where a record header should be is CCC; a ClientHello at offset 0 is implicit TLS', () => {
  const { s, log } = stream();
  s.startTls(0, 0);
  s.data('server', Buffer.concat([Buffer.from([23, 3, 3, 0, 2, 9, 9, 21, 3, 3, 0, 2, 1, 0]), Buffer.from('227 Entering Passive Mode (1,2,3,4,5,6)\r\n')]), 0, 9, 0);
  assert.deepEqual(log.events, ['clear:server@14/2']);
  assert.deepEqual(log.lines, ['server:227 Entering Passive Mode (1,2,3,4,5,6)@14']);
  const b = stream();
  b.s.data('client', hello, 0, 4, 0);
  assert.deepEqual(b.log.events, ['implicit:client']);
});

test('a gap inside TLS makes the rest of that stream unreadable; a gap in clear text restarts line splitting', () => {
  const { s, log } = stream();
  s.data('server', Buffer.from('220 hi\r\n230 par'), 0, 1, 0);
  s.gap('server', 16, 10, 2);
  s.data('server', Buffer.from('226 done\r\n'), 26, 2, 0);
  assert.deepEqual(log.lines, ['server:220 hi@0', 'server:226 done@26']);
  s.startTls(10, 36);
  s.gap('client', 10, 5, 3);
  s.data('client', Buffer.from('PASV\r\n'), 15, 3, 0);
  assert.ok(!log.lines.some((l) => l.startsWith('client:')));
  assert.deepEqual(log.events, ['lost:client']);
});
