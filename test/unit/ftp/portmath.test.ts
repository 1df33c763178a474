import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  announcementFromCommand, announcementFromReply, canonicalIpv6, isPrivateAddress, parseEprt, parseEpsvReply,
  parseLprt, parseLpsvReply, parsePasvReply, parsePort, type AnnouncementResult,
} from '../../../src/proto/ftp/portmath.js';

function target(r: AnnouncementResult | null): [string, string | null, number] | string {
  if (!r) return 'null';
  if (r.kind === 'malformed') return `malformed(${r.announcement}@${r.offset}): ${r.reason}`;
  return [r.kind, r.ip, r.port];
}

test('227 forms seen in the wild (curl comments quoted by Wireshark; RFC 1123 first-digit scan)', () => {
  // 4*256+51 = 1075
  for (const text of [
    'Entering Passive Mode (127,0,0,1,4,51)',
    'Data transfer will passively listen to 127,0,0,1,4,51',
    'Entering passive mode. 127,0,0,1,4,51',
    '=127,0,0,1,4,51',
    'Entering Passive Mode (127,0,0,1,4,51).',
    'Entering Passive Mode (127, 0, 0, 1, 4, 51)',
    'Entering Passive Mode 127,0,0,1,4,51 - and some more text',
  ]) {
    assert.deepEqual(target(parsePasvReply(text)), ['PASV', '127.0.0.1', 1075], text);
  }
  const r = parsePasvReply('Entering Passive Mode (127,0,0,1,4,51)');
  assert.ok(r.kind === 'PASV');
  assert.equal(r.family, 4);
  assert.equal(r.arithmetic, 'p1*256+p2 = 4*256+51 = 1075');
  assert.deepEqual(r.numbers, [127, 0, 0, 1, 4, 51]);
});

test('227: a digit run that does not start six numbers is skipped, as Wireshark retries', () => {
  assert.deepEqual(target(parsePasvReply('Entering Passive Mode v2 (192,168,1,10,195,80)')), ['PASV', '192.168.1.10', 50000]);
  assert.deepEqual(target(parsePasvReply('1.5 beta (10,1,2,3,0,21)')), ['PASV', '10.1.2.3', 21]);
});

test('227: values above 255 or negative are rejected with the field named', () => {
  const r = parsePasvReply('Entering Passive Mode (10,0,0,300,4,51)');
  assert.ok(r.kind === 'malformed');
  assert.equal(r.offset, 'Entering Passive Mode (10,0,0,'.length);
  assert.match(r.reason, /h4 = 300 is above 255/);
  const p = parsePasvReply('(10,0,0,1,256,1)');
  assert.ok(p.kind === 'malformed' && /p1 = 256/.test(p.reason));
  // D. J. Bernstein's rule allows negative numbers (bytes printed as signed chars).
  assert.match(target(parsePasvReply('(10,0,0,1,-1,3)')) as string, /@10\): p1 = -1 is negative/);
  assert.match(target(parsePasvReply('Entering Passive Mode (-64,-88,1,10,4,1)')) as string, /@23\): h1 = -64 is negative/);
  assert.match(target(parsePort('192,168,1,10,-4,1')) as string, /p1 = -4 is negative/);
});

test('227 without six numbers, or with port 0, is malformed; never throws', () => {
  for (const text of ['Fake response PASV', 'Response to PASV command', 'A'.repeat(76), '', '(1,2,3,4,5)', '(1,2,3,4,0,0)']) {
    assert.equal(parsePasvReply(text).kind, 'malformed', text);
  }
});

test('PORT h1,h2,h3,h4,p1,p2 (RFC 959), spaces after commas tolerated', () => {
  assert.deepEqual(target(parsePort('141,142,220,235,131,46')), ['PORT', '141.142.220.235', 131 * 256 + 46]);
  assert.deepEqual(target(parsePort('10, 0, 0, 5, 4, 1')), ['PORT', '10.0.0.5', 1025]);
  assert.deepEqual(target(parsePort('010,000,000,005,004,001')), ['PORT', '10.0.0.5', 1025]);
  assert.deepEqual(target(parsePort('10,0,0,5,4,1 ')), ['PORT', '10.0.0.5', 1025]);
});

test('PORT with the wrong count, junk or bytes above 255 is malformed', () => {
  assert.match(target(parsePort('114,115')) as string, /found 2/);
  assert.match(target(parsePort('1234')) as string, /found 1/);
  assert.match(target(parsePort('1234123412341234123412341234123412341234')) as string, /found 1/);
  assert.match(target(parsePort('1,2,3,4,5,6,7')) as string, /found 7/);
  assert.match(target(parsePort('1,2,3,4,5,6x')) as string, /unexpected text/);
  assert.match(target(parsePort('')) as string, /does not start with a number/);
  assert.match(target(parsePort('1,2,3,4,5,999')) as string, /p2 = 999 is above 255/);
});

test('229 (RFC 2428 §3): port only, any non-digit delimiter 33-126, three identical leading delimiters', () => {
  assert.deepEqual(target(parseEpsvReply('Entering Extended Passive Mode (|||6446|)')), ['EPSV', null, 6446]);
  assert.deepEqual(target(parseEpsvReply('Entering extended passive mode (|||21008|).')), ['EPSV', null, 21008]);
  assert.deepEqual(target(parseEpsvReply('Extended Passive mode OK (!!!1024!)')), ['EPSV', null, 1024]);
  assert.deepEqual(target(parseEpsvReply('ok |||5000|')), ['EPSV', null, 5000]);
  assert.deepEqual(target(parseEpsvReply('(EPSV) Entering Extended Passive Mode (|||6446|)')), ['EPSV', null, 6446]);
  const r = parseEpsvReply('Entering Extended Passive Mode (|||6446|)');
  assert.ok(r.kind === 'EPSV');
  assert.equal(r.family, null);
  assert.equal(r.numbers, undefined);
});

test('229 with non-empty fields, digit delimiter, bad port or no field is malformed', () => {
  assert.match(target(parseEpsvReply('(|1|10.0.0.1|6446|)')) as string, /identical/);
  assert.match(target(parseEpsvReply('(11164461)')) as string, /delimiter/);
  assert.match(target(parseEpsvReply('(|||70000|)')) as string, /outside 1-65535/);
  assert.match(target(parseEpsvReply('(|||0|)')) as string, /outside 1-65535/);
  assert.match(target(parseEpsvReply('(|||6446)')) as string, /not closed/);
  assert.match(target(parseEpsvReply('(||||)')) as string, /not a decimal/);
  assert.match(target(parseEpsvReply('Entering Extended Passive Mode')) as string, /no "\(\|\|\|port\|\)"/);
  assert.match(target(parseEpsvReply('( ||1|)')) as string, /delimiter/);
  // A stray space after "(" is tolerated through the three-identical-delimiters scan.
  assert.deepEqual(target(parseEpsvReply('( |||1|)')), ['EPSV', null, 1]);
});

test('EPRT examples from RFC 2428 §2; IPv6 shown in RFC 5952 canonical form', () => {
  assert.deepEqual(target(parseEprt('|1|132.235.1.2|6275|')), ['EPRT', '132.235.1.2', 6275]);
  assert.deepEqual(target(parseEprt('|2|1080::8:800:200C:417A|5282|')), ['EPRT', '1080::8:800:200c:417a', 5282]);
  assert.deepEqual(target(parseEprt('!2!2001:0DB8:0:0:0:0:0:0001!21!')), ['EPRT', '2001:db8::1', 21]);
  const r = parseEprt('|2|1080::8:800:200C:417A|5282|');
  assert.ok(r.kind === 'EPRT');
  assert.equal(r.family, 6);
});

test('EPRT: family mismatch, bad address, bad delimiter count, bad port are malformed with offsets', () => {
  const mismatch = parseEprt('|1|::1|6275|');
  assert.ok(mismatch.kind === 'malformed');
  assert.equal(mismatch.offset, 3);
  assert.match(mismatch.reason, /IPv4\) but the address is IPv6/);
  assert.match(target(parseEprt('|2|132.235.1.2|6275|')) as string, /IPv6\) but the address is IPv4/);
  assert.match(target(parseEprt('|3|132.235.1.2|6275|')) as string, /"3" is not 1/);
  assert.match(target(parseEprt('|1|132.235.1.256|6275|')) as string, /not an IP address/);
  assert.match(target(parseEprt('|1|132.235.1.2|6275')) as string, /four "\|" delimiters/);
  assert.match(target(parseEprt('|1|132.235.1.2|0|')) as string, /outside 1-65535/);
  assert.match(target(parseEprt('|1|132.235.1.2|x|')) as string, /not a decimal/);
  assert.match(target(parseEprt('1|132.235.1.2|6275|')) as string, /delimiter/);
  assert.match(target(parseEprt('|2|fe80::1%eth0|6275|')) as string, /zone/);
  const port = parseEprt('|1|132.235.1.2|99999|');
  assert.ok(port.kind === 'malformed');
  assert.equal(port.offset, '|1|132.235.1.2|'.length);
});

test('RFC 5952 canonical IPv6 text', () => {
  assert.equal(canonicalIpv6('2001:0db8:0000:0000:0001:0000:0000:0001'), '2001:db8::1:0:0:1'); // first of equal runs
  assert.equal(canonicalIpv6('2001:db8:0:0:1:0:0:0'), '2001:db8:0:0:1::'); // longest run
  assert.equal(canonicalIpv6('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1'); // one zero word stays
  assert.equal(canonicalIpv6('0:0:0:0:0:0:0:0'), '::');
  assert.equal(canonicalIpv6('0:0:0:0:0:0:0:1'), '::1');
  assert.equal(canonicalIpv6('::FFFF:C000:0201'), '::ffff:192.0.2.1');
  assert.equal(canonicalIpv6('::ffff:192.0.2.1'), '::ffff:192.0.2.1');
  assert.equal(canonicalIpv6('fd00:10:16:1:0:0:0:3'), 'fd00:10:16:1::3');
  assert.equal(canonicalIpv6('1.2.3.4'), null);
  assert.equal(canonicalIpv6('nonsense'), null);
});

test('LPRT (RFC 1639): af,hal,h...,pal,p1,p2 for IPv4 and IPv6', () => {
  const r = parseLprt('4,4,132,235,1,2,2,24,131');
  assert.deepEqual(target(r), ['LPRT', '132.235.1.2', 6275]);
  assert.ok(r.kind === 'LPRT');
  assert.equal(r.arithmetic, 'p1*256+p2 = 24*256+131 = 6275');
  assert.equal(r.family, 4);
  // 1080::8:800:200C:417A as 16 bytes, port 5282 = 20*256+162
  const v6 = '6,16,16,128,0,0,0,0,0,0,0,8,8,0,32,12,65,122,2,20,162';
  assert.deepEqual(target(parseLprt(v6)), ['LPRT', '1080::8:800:200c:417a', 5282]);
});

test('LPRT with a wrong af/hal pairing, pal, count or byte is malformed', () => {
  assert.match(target(parseLprt('4,16,1,2,3,4,2,0,21')) as string, /expected 4,4/);
  assert.match(target(parseLprt('4,4,1,2,3,4,3,0,0,21')) as string, /port length 3/);
  assert.match(target(parseLprt('4,4,1,2,3,4,2,0,21,7')) as string, /expected 9 numbers, found 10/);
  assert.match(target(parseLprt('4,4,1,2,3,4')) as string, /port length is missing/);
  assert.match(target(parseLprt('4,4,1,2,300,4,2,0,21')) as string, /h3 = 300/);
  assert.match(target(parseLprt('4,4,1,2,3,4,2,0,21 junk')) as string, /unexpected text/);
});

test('228 LPSV reply carries the LPRT numbers after the first digit', () => {
  assert.deepEqual(target(parseLpsvReply('Entering Long Passive Mode (4,4,132,235,1,2,2,24,131)')), ['LPSV', '132.235.1.2', 6275]);
  assert.equal(parseLpsvReply('Entering Long Passive Mode').kind, 'malformed');
});

test('dispatch by command verb and reply code', () => {
  assert.deepEqual(target(announcementFromCommand('port', '10,0,0,1,0,20')), ['PORT', '10.0.0.1', 20]);
  assert.deepEqual(target(announcementFromCommand('EPRT', '|1|10.0.0.1|20|')), ['EPRT', '10.0.0.1', 20]);
  assert.deepEqual(target(announcementFromCommand('LPRT', '4,4,10,0,0,1,2,0,20')), ['LPRT', '10.0.0.1', 20]);
  assert.equal(announcementFromCommand('PORT', null)?.kind, 'malformed');
  assert.equal(announcementFromCommand('PASV', null), null);
  assert.deepEqual(target(announcementFromReply(227, 'Entering Passive Mode (127,0,0,1,4,51)')), ['PASV', '127.0.0.1', 1075]);
  assert.deepEqual(target(announcementFromReply(228, '(4,4,127,0,0,1,2,4,51)')), ['LPSV', '127.0.0.1', 1075]);
  assert.deepEqual(target(announcementFromReply(229, '(|||1075|)')), ['EPSV', null, 1075]);
  assert.equal(announcementFromReply(226, 'Transfer complete (1,2,3,4,5,6)'), null);
});

test('isPrivateAddress: FINDINGS.md ranges at their edges, plus loopback', () => {
  const yes = ['10.0.0.0', '10.255.255.255', '172.16.0.0', '172.31.255.255', '192.168.0.1', '100.64.0.0',
    '100.127.255.255', '169.254.1.1', '127.0.0.1', '127.255.255.254',
    'fc00::1', 'fd00:10:16:1::2', 'fe80::1', 'febf:ffff::1', '::1', '::ffff:10.1.2.3', 'fe80::1%eth0'];
  const no = ['9.255.255.255', '11.0.0.0', '172.15.255.255', '172.32.0.0', '192.167.255.255', '192.169.0.0',
    '100.63.255.255', '100.128.0.0', '169.253.255.255', '169.255.0.0', '192.0.2.1', '198.51.100.7', '203.0.113.9',
    '8.8.8.8', '0.0.0.0', '::', 'fbff::1', 'fec0::1', '2001:db8::1', '2001:470:4867:99::21', '::ffff:8.8.8.8',
    '::2', 'not an address', ''];
  for (const ip of yes) assert.equal(isPrivateAddress(ip), true, ip);
  for (const ip of no) assert.equal(isPrivateAddress(ip), false, ip);
});
