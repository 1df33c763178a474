import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  encodeExtendedHeartbeat, encodeMembershipHeartbeat, writeEthernetPcap,
  type ExtendedHeartbeatSpec, type MembershipHeartbeatSpec,
} from '../../../src/proto/l2/nlb-encode.js';
import { decodeNlbHeartbeat } from '../../../src/proto/l2/nlb.js';
import { macToString } from '../../../src/proto/l2/cluster-mac.js';

const TSHARK = '/usr/bin/tshark';

const membership: MembershipHeartbeatSpec[] = [
  {
    clusterIp: '192.168.2.11', hostIp: '192.168.2.21', priority: 1, convergenceState: 1, numberOfPortRules: 3,
    uniqueHostCode: 0xfedcba98, packetsHandled: 0xffffffff,
    teaming: { active: true, master: true, participants: 2, xorClusterIp: 0x020b ^ 0x0a0b },
  },
  {
    clusterIp: '192.168.2.11', hostIp: '192.168.2.22', priority: 2, defaultHostId: 0, convergenceState: 3,
    numberOfPortRules: 0, uniqueHostCode: 1, packetsHandled: 0,
    teaming: { active: true, reverseHashing: true, participants: 31, xorClusterIp: 0xffff },
  },
  {
    clusterIp: '10.0.0.100', hostIp: '10.0.0.132', priority: 32, myHostId: 31, defaultHostId: 5, mode: 'multicast',
    vlanId: 42, version: 0x0105, convergenceState: 65535, numberOfPortRules: 32, uniqueHostCode: 0x80000000,
    packetsHandled: 1234567,
  },
];

const extended: ExtendedHeartbeatSpec[] = [
  { clusterIp: '192.168.2.11', hostIp: '192.168.2.21', priority: 1, hostName: 'NLB-WEB-01.corp.example', addresses: ['192.168.2.21', '192.168.2.11'] },
  { clusterIp: '192.168.2.11', hostIp: '192.168.2.22', priority: 2, hostName: 'wëb-02', addresses: ['2001:db8::22', '192.168.2.22'] },
  { clusterIp: '10.0.0.100', hostIp: '10.0.0.132', priority: 32, mode: 'multicast', vlanId: 42, hostName: 'h32' },
  { clusterIp: '10.0.0.100', hostIp: '10.0.0.133', priority: 7, mode: 'igmp', addresses: ['10.0.0.133'] },
  // A name long enough that the frame is past Ethernet's minimum, then one address: Wireshark
  // always reads a padding field after the address and reports the frame malformed without one.
  { clusterIp: '10.20.0.100', hostIp: '10.20.0.11', priority: 1, hostName: 'WEB-NLB-01.corp.example', addresses: ['10.20.0.11'] },
  { clusterIp: '10.20.0.100', hostIp: '10.20.0.12', priority: 2, hostName: 'WEB-NLB-02.corp.example', addresses: ['2001:db8::12'] },
];

const FIELDS = [
  'frame.number', 'frame.len', 'eth.dst', 'eth.src', 'vlan.id',
  'msnlb.signature', 'msnlb.version', 'msnlb.unique_host_id', 'msnlb.cluster_ip', 'msnlb.host_ip',
  'msnlb.my_host_ip', 'msnlb.default_host_ip', 'msnlb.convergence_state', 'msnlb.number_of_port_rules',
  'msnlb.unique_host_code', 'msnlb.packets_handled', 'msnlb.host_name', 'msnlb.host_ipv4', 'msnlb.host_ipv6',
  'msnlb.teamingcfg.xorclusterip', 'msnlb.teamingcfg.number_of_participants', 'msnlb.teamingcfg.hashing',
  'msnlb.teamingcfg.master', 'msnlb.teamingcfg.active',
  '_ws.malformed', '_ws.expert.severity', '_ws.expert.message',
] as const;
type Row = Record<(typeof FIELDS)[number], string>;

function tshark(args: string[]): string {
  if (!existsSync(TSHARK)) assert.fail(`tshark not found at ${TSHARK}: install it (Debian/Ubuntu: apt-get install tshark); CI does`);
  return execFileSync(TSHARK, ['-n', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

function tsharkRows(file: string): Row[] {
  const out = tshark(['-r', file, '-T', 'fields', '-E', 'separator=/t', '-E', 'quote=n', '-E', 'occurrence=a',
    '-E', 'aggregator=|', ...FIELDS.flatMap((f) => ['-e', f])]);
  return out.split('\n').filter((l) => l.length > 0).map((line) => {
    const cols = line.split('\t');
    return Object.fromEntries(FIELDS.map((f, i) => [f, cols[i] ?? ''])) as Row;
  });
}

/** tshark prints booleans as 1/0 or True/False depending on version. */
const flag = (s: string): boolean => s === '1' || s.toLowerCase() === 'true';

test('heartbeats we encode are what tshark (and our decoder) read back', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-nlb-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'nlb-roundtrip.pcap');
  const frames = [...membership.map(encodeMembershipHeartbeat), ...extended.map(encodeExtendedHeartbeat)];
  writeEthernetPcap(file, frames.map((data, i) => ({ ts: 1_700_000_000_000_000 + i * 1_000_000, data })));

  const rows = tsharkRows(file);
  assert.equal(rows.length, frames.length);
  for (const r of rows) {
    assert.equal(r['_ws.malformed'], '', `frame ${r['frame.number']} malformed`);
    assert.equal(r['_ws.expert.severity'], '', `frame ${r['frame.number']} expert: ${r['_ws.expert.message']}`);
  }
  // The same question asked as a display filter, which does see protocol-only fields.
  assert.equal(tshark(['-r', file, '-Y', '_ws.malformed || _ws.expert']).trim(), '');

  membership.forEach((spec, i) => {
    const r = rows[i];
    const where = `membership #${i + 1}`;
    assert.equal(Number(r['frame.len']), spec.vlanId === undefined ? 1510 : 1514, `${where} frame.len`);
    assert.equal(r['vlan.id'], spec.vlanId === undefined ? '' : String(spec.vlanId), `${where} vlan`);
    assert.equal(r['eth.dst'], spec.mode === 'multicast' ? macToString(0x03bf0a000064) : 'ff:ff:ff:ff:ff:ff', `${where} dst`);
    assert.equal(r['eth.src'], `02:${spec.priority.toString(16).padStart(2, '0')}:${spec.clusterIp.split('.').map((x) => Number(x).toString(16).padStart(2, '0')).join(':')}`, `${where} src`);
    assert.equal(r['msnlb.signature'], '0xc0de01bf', where);
    assert.equal(Number(r['msnlb.version']), spec.version ?? 0x0206, `${where} version`);
    assert.equal(Number(r['msnlb.unique_host_id']), spec.priority, `${where} unique_host_id`);
    assert.equal(r['msnlb.cluster_ip'], spec.clusterIp, `${where} cluster_ip`);
    assert.equal(r['msnlb.host_ip'], spec.hostIp, `${where} host_ip`);
    assert.equal(Number(r['msnlb.my_host_ip']), spec.myHostId ?? spec.priority - 1, `${where} my_host_ip`);
    assert.equal(Number(r['msnlb.default_host_ip']), spec.defaultHostId ?? 0, `${where} default_host_ip`);
    assert.equal(Number(r['msnlb.convergence_state']), spec.convergenceState, `${where} convergence_state`);
    assert.equal(Number(r['msnlb.number_of_port_rules']), spec.numberOfPortRules, `${where} number_of_port_rules`);
    assert.equal(Number(r['msnlb.unique_host_code']), spec.uniqueHostCode, `${where} unique_host_code`);
    assert.equal(Number(r['msnlb.packets_handled']), spec.packetsHandled, `${where} packets_handled`);
    assert.equal(r['msnlb.host_name'], '', `${where} host_name`);
    const tm = spec.teaming ?? {};
    assert.equal(Number(r['msnlb.teamingcfg.xorclusterip']), tm.xorClusterIp ?? 0, `${where} xor`);
    assert.equal(Number(r['msnlb.teamingcfg.number_of_participants']), tm.participants ?? 0, `${where} participants`);
    assert.equal(flag(r['msnlb.teamingcfg.hashing']), tm.reverseHashing ?? false, `${where} hashing`);
    assert.equal(flag(r['msnlb.teamingcfg.master']), tm.master ?? false, `${where} master`);
    assert.equal(flag(r['msnlb.teamingcfg.active']), tm.active ?? false, `${where} active`);
  });

  extended.forEach((spec, j) => {
    const r = rows[membership.length + j];
    const where = `extended #${j + 1}`;
    assert.equal(r['msnlb.signature'], '0xc0de01c0', where);
    assert.equal(Number(r['msnlb.unique_host_id']), spec.priority, `${where} unique_host_id`);
    assert.equal(r['msnlb.cluster_ip'], spec.clusterIp, `${where} cluster_ip`);
    assert.equal(r['msnlb.host_ip'], spec.hostIp, `${where} host_ip`);
    assert.equal(r['msnlb.host_name'], spec.hostName ?? '', `${where} host_name`);
    assert.equal(r['msnlb.my_host_ip'], '', `${where} has no membership body`);
    // Wireshark reads only the first address entry and takes the rest as padding.
    const first = spec.addresses?.[0] ?? '';
    assert.equal(r['msnlb.host_ipv4'], first.includes('.') ? first : '', `${where} host_ipv4`);
    assert.equal(r['msnlb.host_ipv6'], first.includes(':') ? first : '', `${where} host_ipv6`);
    if (spec.mode === 'igmp') assert.equal(r['eth.dst'], '01:00:5e:7f:00:64', `${where} dst`);
  });

  // Our decoder on the same frames, read back from the file tshark just read.
  const back = readClassicPcap(readFileSync(file));
  assert.equal(back.length, frames.length);
  back.forEach((data, i) => {
    const tagged = data.readUInt16BE(12) === 0x8100;
    assert.equal(data.readUInt16BE(tagged ? 16 : 12), 0x886f);
    const hb = decodeNlbHeartbeat(data.subarray(tagged ? 18 : 14));
    const r = rows[i];
    assert.notEqual(hb.kind, 'malformed', `frame ${i + 1}`);
    if (hb.kind === 'malformed') return;
    assert.equal(hb.truncated, false);
    assert.equal(hb.signature, Number(r['msnlb.signature']));
    assert.equal(hb.versionRaw, Number(r['msnlb.version']));
    assert.equal(hb.uniqueHostId, Number(r['msnlb.unique_host_id']));
    assert.equal(hb.clusterIp, r['msnlb.cluster_ip']);
    assert.equal(hb.hostIp, r['msnlb.host_ip']);
    if (i < membership.length) {
      assert.equal(hb.kind, 'membership');
      if (hb.kind !== 'membership') return;
      assert.equal(hb.myHostId, Number(r['msnlb.my_host_ip']));
      assert.equal(hb.defaultHostId, Number(r['msnlb.default_host_ip']));
      assert.equal(hb.convergenceState, Number(r['msnlb.convergence_state']));
      assert.equal(hb.numberOfPortRules, Number(r['msnlb.number_of_port_rules']));
      assert.equal(hb.uniqueHostCode, Number(r['msnlb.unique_host_code']));
      assert.equal(hb.packetsHandled, Number(r['msnlb.packets_handled']));
      assert.equal(hb.teaming?.xorClusterIp, Number(r['msnlb.teamingcfg.xorclusterip']));
      assert.equal(hb.teaming?.participants, Number(r['msnlb.teamingcfg.number_of_participants']));
      assert.equal(hb.teaming?.reverseHashing, flag(r['msnlb.teamingcfg.hashing']));
      assert.equal(hb.teaming?.master, flag(r['msnlb.teamingcfg.master']));
      assert.equal(hb.teaming?.active, flag(r['msnlb.teamingcfg.active']));
    } else {
      assert.equal(hb.kind, 'extended');
      if (hb.kind !== 'extended') return;
      assert.equal(hb.hostName ?? '', r['msnlb.host_name']);
      const first = r['msnlb.host_ipv4'] || r['msnlb.host_ipv6'];
      assert.equal(hb.addresses[0] ?? '', first);
      // Beyond tshark (it stops at one): every address we put in comes back, in order.
      assert.deepEqual(hb.addresses, extended[i - membership.length].addresses ?? []);
    }
  });
});

test('a membership heartbeat is 1496 payload bytes in a 1510-byte frame (FACTS §1.4)', () => {
  const f = encodeMembershipHeartbeat({ clusterIp: '192.168.2.11', hostIp: '192.168.2.21', priority: 1 });
  assert.equal(f.length, 1510);
  assert.equal(f.subarray(12, 18).toString('hex'), '886fbf01dec0'); // EtherType, then BF 01 DE C0 on the wire
});

function readClassicPcap(file: Buffer): Buffer[] {
  assert.equal(file.readUInt32LE(0), 0xa1b2c3d4);
  assert.equal(file.readUInt32LE(20), 1);
  const out: Buffer[] = [];
  for (let off = 24; off + 16 <= file.length;) {
    const caplen = file.readUInt32LE(off + 8);
    out.push(file.subarray(off + 16, off + 16 + caplen));
    off += 16 + caplen;
  }
  return out;
}
