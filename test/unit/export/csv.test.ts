import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvField, csvRow, defuseFormula } from '../../../src/export/text.js';
import { renderL2tCsv } from '../../../src/export/l2tcsv.js';

test('CSV cells that a spreadsheet would evaluate start with an apostrophe; other cells are untouched', () => {
  // OWASP's formula triggers, as FTP commands or file names could carry them.
  assert.equal(csvField('=HYPERLINK("http://x","y")'), `"'=HYPERLINK(""http://x"",""y"")"`);
  assert.equal(csvField('+cmd|/C calc'), "'+cmd|/C calc");
  assert.equal(csvField('-2+3'), "'-2+3");
  assert.equal(csvField('@SUM(A1:A2)'), "'@SUM(A1:A2)");
  // Numbers stay numbers, the l2tcsv placeholder stays, ordinary text is unchanged.
  assert.equal(csvField(-5), '-5');
  assert.equal(csvField('-'), '-');
  assert.equal(csvField('RETR report=final.csv'), 'RETR report=final.csv');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(defuseFormula(''), '');
  assert.equal(csvRow(['=1', 2, null]), "'=1,2,\r\n");
});

test('l2tcsv cells are defused the same way', () => {
  const data = {
    capture: { id: 1, name: '=evil.pcap', sha256: 'ab' },
    events: [{
      type: 'ftp', kind: 'command', ts: 1_700_000_000e6, frame: 3, frames: [3], flow: 0, communityId: null,
      src: '10.0.0.1', srcPort: 1025, dst: '10.0.0.2', dstPort: 21, proto: 'tcp', severity: null, outcome: null, session: 0,
      desc: 'FTP command', user: '@user', host: null, message: '=cmd|/C calc', data: {},
    }],
  } as unknown as Parameters<typeof renderL2tCsv>[0];
  const row = renderL2tCsv(data).split('\n')[1].split(',');
  assert.ok(row.includes("'=cmd|/C calc"), row.join(','));
  assert.ok(row.includes("'@user"), row.join(','));
  assert.ok(row.includes("'=evil.pcap"), row.join(','));
  assert.ok(row.every((c) => !/^[=+@]/.test(c)), row.join(','));
});
