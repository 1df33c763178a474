/**
 * Name tables and judgements: the cipher suite table is compared entry by entry with
 * Wireshark's own table (`tshark -G values`, tls.handshake.ciphersuite), an independent
 * transcription of the IANA registry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  IANA_CIPHER_SUITES, LEGACY_CIPHER_SUITES, alertDescriptionName, cipherSuiteLabel, cipherSuiteName, extensionName,
  groupName, isGrease, isWeakCipher, isWeakVersion, versionName, weakCipherReasons,
} from '../../../src/proto/tls/names.js';

let valuesDump: string | undefined;
function tsharkValues(field: string): Map<number, string> {
  valuesDump ??= execFileSync('tshark', ['-G', 'values'], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] });
  const out = valuesDump;
  const map = new Map<number, string>();
  for (const line of out.split('\n')) {
    const [kind, name, value, label] = line.split('\t');
    if (kind === 'V' && name === field) map.set(Number(value), label);
  }
  return map;
}

test('cipher suite names equal Wireshark\'s table wherever both have the code', () => {
  const wireshark = tsharkValues('tls.handshake.ciphersuite');
  assert.ok(wireshark.size > 400);
  let compared = 0;
  const differences: string[] = [];
  for (const [code, name] of IANA_CIPHER_SUITES) {
    const theirs = wireshark.get(code);
    if (theirs === undefined) continue; // registered after tshark 4.0 (AEGIS, 0x1306/0x1307)
    compared++;
    if (theirs !== name) differences.push(`${code.toString(16)} ${name} vs ${theirs}`);
  }
  for (const [code, name] of LEGACY_CIPHER_SUITES) {
    const theirs = wireshark.get(code);
    // Chrome's pre-RFC 7905 ChaCha20 points carry an _OLD suffix here to tell them from 0xcca8…
    if (theirs !== undefined && theirs !== name.replace(/_OLD$/, '')) differences.push(`${code.toString(16)} ${name} vs ${theirs}`);
  }
  assert.deepEqual(differences, []);
  assert.ok(compared >= 340, `compared ${compared}`);
  assert.ok(IANA_CIPHER_SUITES.size >= 340);
});

test('cipher suite lookups', () => {
  assert.equal(cipherSuiteName(0xc02f), 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
  assert.equal(cipherSuiteName(0x1301), 'TLS_AES_128_GCM_SHA256');
  assert.equal(cipherSuiteName(0x00ff), 'TLS_EMPTY_RENEGOTIATION_INFO_SCSV');
  assert.equal(cipherSuiteName(0x5600), 'TLS_FALLBACK_SCSV');
  assert.equal(cipherSuiteName(0x0064), 'TLS_RSA_EXPORT1024_WITH_RC4_56_SHA');
  assert.equal(cipherSuiteName(0x3a3a), 'GREASE');
  assert.equal(cipherSuiteName(0x1234), undefined);
  assert.equal(cipherSuiteLabel(0x1234), '0x1234');
});

test('GREASE: the sixteen RFC 8701 values and nothing else', () => {
  const grease = [];
  for (let v = 0; v <= 0xffff; v++) if (isGrease(v)) grease.push(v);
  assert.deepEqual(grease, [0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a, 0x8a8a, 0x9a9a,
    0xaaaa, 0xbaba, 0xcaca, 0xdada, 0xeaea, 0xfafa]);
});

test('weak ciphers: NULL, EXPORT, RC4, DES, 3DES, anonymous', () => {
  assert.deepEqual(weakCipherReasons(0x0000), ['null']);
  assert.deepEqual(weakCipherReasons(0x0002), ['null']); // RSA_WITH_NULL_SHA
  assert.deepEqual(weakCipherReasons(0x0003), ['export', 'rc4']);
  assert.deepEqual(weakCipherReasons(0x0005), ['rc4']);
  assert.deepEqual(weakCipherReasons(0x0009), ['des']);
  assert.deepEqual(weakCipherReasons(0x0014), ['export', 'des']); // DHE_RSA_EXPORT_WITH_DES40_CBC_SHA
  assert.deepEqual(weakCipherReasons(0x000a), ['3des']);
  assert.deepEqual(weakCipherReasons(0x0034), ['anon']); // DH_anon_WITH_AES_128_CBC_SHA
  assert.deepEqual(weakCipherReasons(0xc018), ['anon']); // ECDH_anon
  assert.deepEqual(weakCipherReasons(0x0018), ['rc4', 'anon']);
  assert.deepEqual(weakCipherReasons(0xc006), ['null']); // ECDHE_ECDSA_WITH_NULL_SHA
  for (const strong of [0xc02f, 0x1301, 0x1303, 0xcca8, 0x009c, 0x002f, 0x00ff, 0x5600, 0x0a0a, 0x9999]) {
    assert.equal(isWeakCipher(strong), false, strong.toString(16));
  }
});

test('versions: names, drafts, weakness', () => {
  assert.equal(versionName(0x0300), 'SSL 3.0');
  assert.equal(versionName(0x0303), 'TLS 1.2');
  assert.equal(versionName(0x0304), 'TLS 1.3');
  assert.equal(versionName(0x7f12), 'TLS 1.3 (draft 18)');
  assert.equal(versionName(0xfb17), 'TLS 1.3 (Facebook draft 23)');
  const wireshark = tsharkValues('tls.handshake.version');
  for (const v of [0x0002, 0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0x7f0e, 0x7f1c, 0xfb1a, 0xfeff, 0xfefd]) {
    assert.equal(versionName(v), wireshark.get(v), v.toString(16));
  }
  assert.deepEqual([0x0002, 0x0300, 0x0301, 0x0302, 0x0303, 0x0304].map(isWeakVersion), [true, true, true, true, false, false]);
});

test('alert, extension and group names match Wireshark where it names them the same way', () => {
  const alerts = tsharkValues('tls.alert_message.desc');
  const checked = [0, 10, 20, 40, 42, 45, 46, 48, 70, 80, 86, 90, 100, 109, 112, 115, 116, 120];
  for (const d of checked) {
    const theirs = alerts.get(d)?.toLowerCase().replace(/ /g, '_');
    assert.equal(alertDescriptionName(d), theirs, `alert ${d}`);
  }
  assert.equal(extensionName(0), 'server_name');
  assert.equal(extensionName(43), 'supported_versions');
  assert.equal(extensionName(0xff01), 'renegotiation_info');
  assert.equal(extensionName(0xfe0d), 'encrypted_client_hello');
  assert.equal(groupName(29), 'x25519');
  assert.equal(groupName(23), 'secp256r1');
  assert.equal(groupName(0x11ec), 'X25519MLKEM768');
  assert.equal(groupName(0x2a2a), 'GREASE');
});
