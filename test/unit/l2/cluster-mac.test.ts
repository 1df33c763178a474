import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classifyClusterMac, clusterMacFor, igmpGroupFor, isBroadcastMac, isMulticastMac, macToString,
  maskedSourceMac, parseMac, parseMaskedSourceMac, readMac, writeMac,
} from '../../../src/proto/l2/cluster-mac.js';

test('FACTS §1.1: 192.168.2.11 in unicast mode is 02-bf-c0-a8-02-0b', () => {
  assert.equal(clusterMacFor('192.168.2.11', 'unicast'), 0x02bfc0a8020b);
  assert.equal(macToString(clusterMacFor('192.168.2.11', 'unicast')), '02:bf:c0:a8:02:0b');
});

test('multicast mode is 03-BF-<IP>, IGMP mode 01-00-5E-7F-<c>-<d>', () => {
  assert.equal(macToString(clusterMacFor('192.168.2.11', 'multicast')), '03:bf:c0:a8:02:0b');
  assert.equal(macToString(clusterMacFor('192.168.2.11', 'igmp')), '01:00:5e:7f:02:0b');
  assert.equal(macToString(clusterMacFor('10.0.0.1', 'unicast')), '02:bf:0a:00:00:01');
  assert.equal(macToString(clusterMacFor('255.255.255.254', 'multicast')), '03:bf:ff:ff:ff:fe');
});

test('igmpGroupFor is 239.255.c.d, and that group maps onto the IGMP cluster MAC (RFC 1112 §6.4)', () => {
  for (const ip of ['192.168.2.11', '10.20.30.40', '172.16.255.250', '1.2.0.0']) {
    const group = igmpGroupFor(ip);
    const [, , c, d] = ip.split('.').map(Number);
    assert.equal(group, `239.255.${c}.${d}`);
    // RFC 1112: 01-00-5E followed by the low 23 bits of the group address.
    const g = group.split('.').map(Number);
    const low23 = ((g[1] & 0x7f) << 16) | (g[2] << 8) | g[3];
    assert.equal(clusterMacFor(ip, 'igmp'), 0x01005e000000 + low23);
  }
});

test('classifyClusterMac: the first byte tells the mode, the rest the VIP', () => {
  assert.deepEqual(classifyClusterMac(0x02bfc0a8020b), { mode: 'unicast', clusterIpGuess: '192.168.2.11' });
  assert.deepEqual(classifyClusterMac(0x03bfc0a8020b), { mode: 'multicast', clusterIpGuess: '192.168.2.11' });
  assert.deepEqual(classifyClusterMac(0x01005e7f020b), { mode: 'igmp', clusterIpGuess: '*.*.2.11', igmpGroup: '239.255.2.11' });
  // SSDP's group 239.255.255.250 has an IGMP-mode-shaped MAC: the pattern alone cannot tell.
  assert.deepEqual(classifyClusterMac(parseMac('01:00:5e:7f:ff:fa')!), { mode: 'igmp', clusterIpGuess: '*.*.255.250', igmpGroup: '239.255.255.250' });
  for (const m of ['02:02:c0:a8:64:50', '01:00:5e:00:00:fb', 'ff:ff:ff:ff:ff:ff', '00:bf:c0:a8:02:0b', '02:be:c0:a8:02:0b', '00:0c:29:12:34:56']) {
    assert.equal(classifyClusterMac(parseMac(m)!), null, m);
  }
  for (const mode of ['unicast', 'multicast', 'igmp'] as const) {
    assert.equal(classifyClusterMac(clusterMacFor('172.31.4.200', mode))?.mode, mode);
  }
});

test('masked source MAC 02-<priority>-<IP> and its inverse', () => {
  assert.equal(macToString(maskedSourceMac('192.168.2.11', 1)), '02:01:c0:a8:02:0b');
  assert.equal(macToString(maskedSourceMac('192.168.2.11', 32)), '02:20:c0:a8:02:0b');
  // tcpdump's msnlb.pcap: priority 2 of cluster 192.168.100.80 sends from 02:02:c0:a8:64:50.
  assert.equal(macToString(maskedSourceMac('192.168.100.80', 2)), '02:02:c0:a8:64:50');
  assert.deepEqual(parseMaskedSourceMac(0x0202c0a86450), { priority: 2, ip: '192.168.100.80' });
  assert.deepEqual(parseMaskedSourceMac(0x0220c0a8020b), { priority: 32, ip: '192.168.2.11' });
  assert.equal(parseMaskedSourceMac(0x0221c0a8020b), null); // 33 is past NLB's 32 hosts
  assert.equal(parseMaskedSourceMac(0x0200c0a8020b), null);
  assert.equal(parseMaskedSourceMac(0x02bfc0a8020b), null); // the cluster MAC itself
  assert.equal(parseMaskedSourceMac(0x0001c0a8020b), null);
  assert.throws(() => maskedSourceMac('192.168.2.11', 0), RangeError);
  assert.throws(() => maskedSourceMac('192.168.2.11', 33), RangeError);
  assert.throws(() => clusterMacFor('192.168.2', 'unicast'), RangeError);
  assert.throws(() => igmpGroupFor('300.1.1.1'), RangeError);
});

test('parseMac accepts colon, Microsoft dash, Cisco dot and bare spellings; rejects the rest', () => {
  for (const s of ['02:bf:c0:a8:02:0b', '02-BF-C0-A8-02-0B', '02bf.c0a8.020b', '02BFC0A8020B', ' 02:bf:c0:a8:02:0b ']) {
    assert.equal(parseMac(s), 0x02bfc0a8020b, s);
  }
  for (const s of ['02:bf:c0:a8:02', '02:bf-c0:a8:02:0b', '02:bf:c0:a8:02:0g', '', '2:bf:c0:a8:2:b', '02:bf:c0:a8:02:0b:00']) {
    assert.equal(parseMac(s), null, s);
  }
  assert.equal(parseMac('ff:ff:ff:ff:ff:ff'), 2 ** 48 - 1);
  assert.equal(macToString(2 ** 48 - 1), 'ff:ff:ff:ff:ff:ff');
  assert.equal(macToString(0), '00:00:00:00:00:00');
  assert.equal(macToString(0x80_00_00_00_00_01), '80:00:00:00:00:01');
});

test('readMac / writeMac round-trip on a frame', () => {
  const f = Buffer.from('ffffffffffff0202c0a86450886f', 'hex');
  assert.equal(readMac(f, 0), 2 ** 48 - 1);
  assert.equal(readMac(f, 6), 0x0202c0a86450);
  const g = Buffer.alloc(12);
  writeMac(g, 0x03bfc0a8020b, 0);
  writeMac(g, 0x0202c0a86450, 6);
  assert.equal(g.toString('hex'), '03bfc0a8020b0202c0a86450');
});

test('multicast / broadcast bits', () => {
  assert.equal(isMulticastMac(0x03bfc0a8020b), true);
  assert.equal(isMulticastMac(0x01005e7f020b), true);
  assert.equal(isMulticastMac(0xffffffffffff), true); // broadcast is the all-stations group
  assert.equal(isMulticastMac(0x02bfc0a8020b), false);
  assert.equal(isMulticastMac(0x000c29123456), false);
  assert.equal(isBroadcastMac(0xffffffffffff), true);
  assert.equal(isBroadcastMac(0x03bfc0a8020b), false);
});
