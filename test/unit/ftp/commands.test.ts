import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FTP_COMMANDS, commandInfo, isKnownCommand, replyClass, replyDescription, responseUsesDataConnection, REPLY_CODES,
} from '../../../src/proto/ftp/commands.js';

test('every command named in RFC 959, 2228, 2389, 2428, 1639, 3659 and 2640 is known', () => {
  const rfc = [
    // RFC 959 §4.1
    'USER', 'PASS', 'ACCT', 'CWD', 'CDUP', 'SMNT', 'REIN', 'QUIT', 'PORT', 'PASV', 'TYPE', 'STRU', 'MODE',
    'RETR', 'STOR', 'STOU', 'APPE', 'ALLO', 'REST', 'RNFR', 'RNTO', 'ABOR', 'DELE', 'RMD', 'MKD', 'PWD',
    'LIST', 'NLST', 'SITE', 'SYST', 'STAT', 'HELP', 'NOOP',
    'XPWD', 'XMKD', 'XRMD', 'XCWD', 'XCUP',
    'AUTH', 'ADAT', 'PROT', 'PBSZ', 'CCC', 'MIC', 'CONF', 'ENC',
    'FEAT', 'OPTS', 'EPRT', 'EPSV', 'LPRT', 'LPSV', 'SIZE', 'MDTM', 'MLST', 'MLSD', 'LANG', 'HOST',
  ];
  for (const verb of rfc) assert.ok(isKnownCommand(verb), verb);
  assert.equal(isKnownCommand('TYPEEEEEEEE'), false);
  assert.equal(isKnownCommand('GET'), false);
});

test('lookups are case-insensitive (RFC 959 §5.3)', () => {
  assert.equal(commandInfo('epsv')?.spec, 'RFC 2428');
  assert.equal(commandInfo('Auth')?.spec, 'RFC 2228');
  assert.ok(responseUsesDataConnection('retr'));
});

test('exactly RETR, STOR, STOU, APPE, LIST, NLST, MLSD answer over the data connection', () => {
  const data = [...FTP_COMMANDS.values()].filter((c) => c.dataResponse).map((c) => c.verb).sort();
  assert.deepEqual(data, ['APPE', 'LIST', 'MLSD', 'NLST', 'RETR', 'STOR', 'STOU']);
  // MLST and STAT answer on the control connection (RFC 3659 §7, RFC 959 §4.1.3).
  assert.equal(responseUsesDataConnection('MLST'), false);
  assert.equal(responseUsesDataConnection('STAT'), false);
});

test('reply codes needed for data-channel diagnosis are described', () => {
  const needed = [125, 150, 200, 220, 221, 225, 226, 227, 228, 229, 230, 234, 250, 331, 332, 350, 421, 425,
    426, 450, 451, 452, 500, 501, 502, 503, 504, 522, 530, 532, 533, 534, 535, 536, 550, 551, 552, 553, 631, 632, 633];
  for (const code of needed) assert.ok(REPLY_CODES.has(code), String(code));
  assert.match(replyDescription(425), /open data connection/);
  assert.match(replyDescription(522), /network protocol not supported/);
  assert.match(replyDescription(234), /security data exchange/);
});

test('reply class follows the first digit; unnamed codes fall back to it', () => {
  assert.equal(replyClass(150), 'positive-preliminary');
  assert.equal(replyClass(226), 'positive-completion');
  assert.equal(replyClass(331), 'positive-intermediate');
  assert.equal(replyClass(425), 'transient-negative');
  assert.equal(replyClass(550), 'permanent-negative');
  assert.equal(replyClass(632), 'protected');
  assert.equal(replyClass(99), 'invalid');
  assert.equal(replyClass(700), 'invalid');
  assert.equal(replyDescription(299), 'positive completion reply');
});
