import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand, type FtpCommand } from '../../../src/proto/ftp/control.js';
import { dialogueVerdict, looksLikeGreeting } from '../../../src/proto/ftp/dialogue.js';

const cmd = (line: string): FtpCommand => {
  const c = parseCommand(line);
  assert.ok(c.kind === 'command', line);
  return c;
};

test('a 220 greeting opens FTP and SMTP alike (RFC 959 §4.2, RFC 5321 §4.2)', () => {
  assert.ok(looksLikeGreeting(Buffer.from('220 ProFTPD Server ready.\r\n')));
  assert.ok(looksLikeGreeting(Buffer.from('220-Welcome\r\n')));
  assert.ok(looksLikeGreeting(Buffer.from('220 mail.example.org ESMTP\r\n')));
  assert.ok(!looksLikeGreeting(Buffer.from('2200 x')));
  assert.ok(!looksLikeGreeting(Buffer.from('+OK POP3 ready')));
  assert.ok(!looksLikeGreeting(Buffer.from('22')));
});

test('the client\'s first command tells FTP from mail', () => {
  for (const l of ['USER anonymous', 'user anonymous', 'AUTH TLS', 'auth ssl', 'AUTH TLS-C', 'FEAT', 'SYST', 'OPTS UTF8 ON', 'PASV']) assert.equal(dialogueVerdict(cmd(l)), 'ftp', l);
  for (const l of ['EHLO client.example', 'HELO x', 'MAIL FROM:<a@b>', 'STARTTLS', 'LHLO x', 'XYZZY']) assert.equal(dialogueVerdict(cmd(l)), 'not-ftp', l);
  // Shared by FTP and SMTP: no decision yet (SMTP AUTH names SASL mechanisms, FTP AUTH names TLS/SSL).
  for (const l of ['NOOP', 'HELP', 'QUIT', 'AUTH PLAIN', 'AUTH LOGIN']) assert.equal(dialogueVerdict(cmd(l)), 'undecided', l);
});
