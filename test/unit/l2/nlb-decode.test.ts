import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeNlbHeartbeat, isNlbSignature } from '../../../src/proto/l2/nlb.js';

/**
 * Payloads built by hand from the layout in FACTS §1.4 (Wireshark's msnlb dissector), so the
 * expectations do not depend on our own encoder.
 */
function header(signature: number, over: Partial<{ version: number; id: number; cluster: number[]; host: number[] }> = {}): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt32LE(signature, 0);
  h.writeUInt32LE(over.version ?? 0x0206, 4);
  h.writeUInt32LE(over.id ?? 3, 8);
  Buffer.from(over.cluster ?? [10, 1, 2, 3]).copy(h, 12);
  Buffer.from(over.host ?? [10, 1, 2, 13]).copy(h, 16);
  return h;
}

function membershipPayload(): Buffer {
  const p = Buffer.alloc(1496);
  header(0xc0de01bf).copy(p, 0);
  p.writeUInt16LE(2, 20); // my host id
  p.writeUInt16LE(0, 22); // default host id
  p.writeUInt16LE(5, 24); // convergence state
  p.writeUInt16LE(4, 26); // port rules
  p.writeUInt32LE(0xdeadbeef, 28); // unique host code
  p.writeUInt32LE(123456789, 32); // packets handled
  // XOR 0xbeef, 6 participants (6 << 3 = 0x30), reverse hashing, not master, active: 0x00beef35
  p.writeUInt32LE(0x00beef35, 36);
  return p;
}

test('signature is read little-endian: wire bytes BF 01 DE C0 are 0xC0DE01BF', () => {
  const p = Buffer.concat([Buffer.from([0xbf, 0x01, 0xde, 0xc0]), header(0).subarray(4)]);
  const r = decodeNlbHeartbeat(p);
  assert.ok(r.kind === 'membership', JSON.stringify(r));
  assert.equal(r.signature, 0xc0de01bf);
});

test('full membership heartbeat: every field at its documented offset', () => {
  const r = decodeNlbHeartbeat(membershipPayload());
  assert.deepEqual(r, {
    kind: 'membership', signature: 0xc0de01bf, versionRaw: 0x0206, version: '2.6', uniqueHostId: 3,
    clusterIp: '10.1.2.3', hostIp: '10.1.2.13', truncated: false,
    myHostId: 2, defaultHostId: 0, convergenceState: 5, numberOfPortRules: 4,
    uniqueHostCode: 0xdeadbeef, packetsHandled: 123456789,
    teaming: { raw: 0x00beef35, active: true, master: false, reverseHashing: true, participants: 6, xorClusterIp: 0xbeef },
  });
});

test('version word: major = bits 15..8, minor = bits 7..0', () => {
  const p = membershipPayload();
  p.writeUInt32LE(0x0000_0a03, 4);
  const r = decodeNlbHeartbeat(p);
  assert.ok(r.kind !== 'malformed');
  assert.equal(r.version, '10.3');
  assert.equal(r.versionRaw, 0x0a03);
});

test('truncated membership: every cut length yields exactly the fields that fit, never a throw', () => {
  const full = membershipPayload();
  const fields: [string, number][] = [
    ['myHostId', 22], ['defaultHostId', 24], ['convergenceState', 26], ['numberOfPortRules', 28],
    ['uniqueHostCode', 32], ['packetsHandled', 36], ['teaming', 40],
  ];
  for (let len = 0; len <= 1496; len++) {
    const r = decodeNlbHeartbeat(full.subarray(0, len));
    if (len < 20) {
      assert.equal(r.kind, 'malformed', `len ${len}`);
      continue;
    }
    assert.equal(r.kind, 'membership', `len ${len}`);
    if (r.kind !== 'membership') continue;
    assert.equal(r.truncated, len < 1496, `len ${len}`);
    for (const [name, end] of fields) {
      assert.equal(name in r, len >= end, `len ${len}: ${name}`);
    }
  }
});

test('short common header: malformed at the first field that is cut', () => {
  const p = header(0xc0de01bf);
  assert.deepEqual(decodeNlbHeartbeat(p.subarray(0, 0)), { kind: 'malformed', offset: 0, reason: 'NLB signature needs 4 bytes, have 0' });
  assert.equal((decodeNlbHeartbeat(p.subarray(0, 3)) as { offset: number }).offset, 0);
  const cases: [number, number][] = [[4, 4], [6, 4], [8, 8], [12, 12], [15, 12], [16, 16], [19, 16]];
  for (const [len, offset] of cases) {
    const r = decodeNlbHeartbeat(p.subarray(0, len));
    assert.equal(r.kind, 'malformed', `len ${len}`);
    if (r.kind !== 'malformed') continue;
    assert.equal(r.offset, offset, `len ${len}`);
    assert.equal(r.signature, 0xc0de01bf, `len ${len}`);
  }
});

test('EtherType 0x886F with a foreign signature is not a heartbeat', () => {
  for (const sig of [0x00000000, 0x12345678, 0xc0de02bf, 0xbf01dec0 /* bytes in the wrong order */]) {
    const r = decodeNlbHeartbeat(header(sig));
    assert.equal(r.kind, 'malformed', sig.toString(16));
    if (r.kind !== 'malformed') continue;
    assert.equal(r.offset, 0);
    assert.equal(r.signature, undefined);
  }
  assert.equal(isNlbSignature(0xc0de01bf), true);
  assert.equal(isNlbSignature(0xc0de01c0), true);
  assert.equal(isNlbSignature(0xc0de01de), true);
  assert.equal(isNlbSignature(0x886f0000), false);
});

test('0xC0DE01DE (NLB Reliable Protocol) is "other": header decoded, body left alone', () => {
  const p = Buffer.concat([header(0xc0de01de, { id: 7 }), Buffer.alloc(30, 0xaa)]);
  assert.deepEqual(decodeNlbHeartbeat(p), {
    kind: 'other', signature: 0xc0de01de, versionRaw: 0x0206, version: '2.6', uniqueHostId: 7,
    clusterIp: '10.1.2.3', hostIp: '10.1.2.13', truncated: false, bodyLength: 30,
  });
});

function nameEntry(name: string): Buffer {
  return Buffer.concat([Buffer.from([1, 4, 0, 0, 0, 0, 0, 0]), Buffer.from(name, 'utf16le'), Buffer.alloc(2), Buffer.alloc(6)]);
}
function addressEntry(family: number, bytes: number[]): Buffer {
  const b = Buffer.alloc(10 + bytes.length);
  b[0] = 2;
  b[1] = 2;
  b.writeUInt16LE(family, 8);
  Buffer.from(bytes).copy(b, 10);
  return b;
}

test('extended heartbeat: UTF-16LE host name and IPv4/IPv6 entries, zero padding ends the list', () => {
  const v6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x05];
  const p = Buffer.concat([
    header(0xc0de01c0), nameEntry('web-01.corp.example'), addressEntry(0x0002, [10, 1, 2, 13]),
    addressEntry(0x0017, v6), Buffer.alloc(40),
  ]);
  assert.deepEqual(decodeNlbHeartbeat(p), {
    kind: 'extended', signature: 0xc0de01c0, versionRaw: 0x0206, version: '2.6', uniqueHostId: 3,
    clusterIp: '10.1.2.3', hostIp: '10.1.2.13', truncated: false,
    hostName: 'web-01.corp.example', addresses: ['10.1.2.13', '2001:db8::5'],
  });
});

test('extended heartbeat cut inside the name or an address: truncated, partial values withheld', () => {
  const full = Buffer.concat([header(0xc0de01c0), nameEntry('héllo'), addressEntry(2, [192, 0, 2, 7])]);
  const nameEnd = 20 + 8 + 10 + 2; // header, entry header, 5 UTF-16 units, terminator
  const cutName = decodeNlbHeartbeat(full.subarray(0, nameEnd - 1));
  assert.ok(cutName.kind === 'extended');
  assert.equal(cutName.truncated, true);
  assert.equal(cutName.hostName, undefined);
  const cutAddr = decodeNlbHeartbeat(full.subarray(0, full.length - 1));
  assert.ok(cutAddr.kind === 'extended');
  assert.equal(cutAddr.truncated, true);
  assert.equal(cutAddr.hostName, 'héllo');
  assert.deepEqual(cutAddr.addresses, []);
  const whole = decodeNlbHeartbeat(full);
  assert.ok(whole.kind === 'extended');
  assert.equal(whole.truncated, false);
  assert.deepEqual(whole.addresses, ['192.0.2.7']);
});

test('IPv6 text follows RFC 5952 (longest zero run compressed, first on ties, single zeros kept)', () => {
  const cases: [number[], string][] = [
    [[0, 1, 0, 0, 0, 0, 0, 1], '0:1::1'],
    [[0x2001, 0xdb8, 0, 1, 0, 0, 0, 1], '2001:db8:0:1::1'],
    [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], '2001:db8::1:0:0:1'],
    [[0, 0, 0, 0, 0, 0, 0, 0], '::'],
    [[0xfe80, 0, 0, 0, 0x1234, 0, 0, 0], 'fe80::1234:0:0:0'],
  ];
  for (const [groups, text] of cases) {
    const bytes: number[] = [];
    for (const g of groups) bytes.push(g >> 8, g & 0xff);
    const r = decodeNlbHeartbeat(Buffer.concat([header(0xc0de01c0), addressEntry(0x17, bytes)]));
    assert.ok(r.kind === 'extended');
    assert.deepEqual(r.addresses, [text]);
  }
});
