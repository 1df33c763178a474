import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMac } from '../../../src/proto/l2/cluster-mac.js';
import { encodeMembershipHeartbeat } from '../../../src/proto/l2/nlb-encode.js';
import { arp, ETH_ARP, ETH_IPV4, ethernet, groupMac, icmpEcho, igmpV3Report, tcp, TCP_SYN, udp } from '../../lab/nlb-frames.js';
import { analyzeFrames, T0 } from './analyze-frames.js';

const m = (s: string): number => parseMac(s)!;
const S = 1_000_000;
const BCAST = m('ff:ff:ff:ff:ff:ff');
const OBS = m('00:15:5d:0a:00:50'), RTR = m('00:1c:73:0a:00:01');

/** The observer and its router talking both ways, once a second. */
function background(seconds: number): Array<{ ts: number; data: Buffer }> {
  const out: Array<{ ts: number; data: Buffer }> = [];
  for (let s = 0; s < seconds; s++) {
    out.push({ ts: T0 + s * S, data: ethernet(RTR, OBS, ETH_IPV4, icmpEcho('10.0.0.50', '10.0.0.1', false, 1, s)) });
    out.push({ ts: T0 + s * S + 100, data: ethernet(OBS, RTR, ETH_IPV4, icmpEcho('10.0.0.1', '10.0.0.50', true, 1, s)) });
  }
  return out;
}

const syn = (dstMac: number, dstIp: string, srcMac = RTR, port = 50000): Buffer =>
  ethernet(dstMac, srcMac, ETH_IPV4, tcp({ src: '198.51.100.9', dst: dstIp, srcPort: port, dstPort: 80, seq: 1, ack: 0, flags: TCP_SYN }));

const sorted = (f: Array<{ ts: number; data: Buffer }>): Array<{ ts: number; data: Buffer }> => [...f].sort((a, b) => a.ts - b.ts);

test('SSDP (01:00:5e:7f:ff:fa) with its IGMP join is not an NLB cluster', async () => {
  const frames = background(3);
  frames.push({ ts: T0 + 10, data: ethernet(groupMac('224.0.0.22'), OBS, ETH_IPV4, igmpV3Report('10.0.0.50', [{ type: 4, group: '239.255.255.250' }])) });
  for (let i = 0; i < 3; i++) frames.push({ ts: T0 + i * S + 500, data: ethernet(m('01:00:5e:7f:ff:fa'), OBS, ETH_IPV4, udp('10.0.0.50', '239.255.255.250', 5000, 1900, Buffer.from('M-SEARCH'))) });
  const { facts, findings } = await analyzeFrames(sorted(frames));
  assert.deepEqual(facts.l2.clusters, []);
  assert.deepEqual(facts.l2.clusterLikeMacs.map((c) => [c.mac, c.frames]), [['01:00:5e:7f:ff:fa', 3]]);
  assert.match(facts.l2.clusterLikeMacs[0].reason, /group-addressed/);
  assert.deepEqual(facts.l2.igmp.groups.map((g) => [g.group, g.joins]), [['239.255.255.250', 1]]);
  assert.equal(findings.length, 0);
});

test('01-00-5E-7F-c-d carrying a unicast IP ending in c.d is an IGMP-mode cluster, confirmed by the destination alone', async () => {
  const frames = background(3);
  for (let i = 0; i < 5; i++) frames.push({ ts: T0 + i * 0.5 * S + 700, data: syn(m('01:00:5e:7f:02:03'), '10.1.2.3', RTR, 50000 + i) });
  const { facts, findings } = await analyzeFrames(sorted(frames));
  assert.deepEqual(facts.l2.clusters.map((c) => [c.clusterIp, c.mode, c.clusterMac, c.confirmedBy, c.igmpGroup, c.traffic.frames]),
    [['10.1.2.3', 'igmp', '01:00:5e:7f:02:03', ['ip-destination'], '239.255.2.3', 5]]);
  assert.deepEqual(findings.map((f) => f.code).sort(), ['NLB_CLUSTER_DETECTED', 'NLB_MULTICAST_FLOODING']);
  const d = findings.find((f) => f.code === 'NLB_MULTICAST_FLOODING')!;
  assert.match(d.explanation, /No IGMP membership report for 239\.255\.2\.3/);
  assert.deepEqual(d.details.floodedShare, { frames: 5 / 11, bytes: facts.l2.clusters[0].traffic.shareBytes });
});

test('02-BF frames to another IP, with no heartbeat or ARP, stay unconfirmed and count as unknown unicast', async () => {
  const frames = background(3);
  for (let i = 0; i < 30; i++) frames.push({ ts: T0 + i * 0.1 * S + 300, data: syn(m('02:bf:0a:01:02:03'), '10.9.9.9', RTR, 50000 + i) });
  const { facts, findings } = await analyzeFrames(sorted(frames));
  assert.deepEqual(facts.l2.clusters, []);
  assert.deepEqual(facts.l2.clusterLikeMacs.map((c) => [c.mac, c.mode]), [['02:bf:0a:01:02:03', 'unicast']]);
  assert.equal(facts.l2.unknownUnicast.frames, 30);
  assert.deepEqual(findings.map((f) => f.code), ['L2_UNKNOWN_UNICAST_FLOODING']);
});

test('mode: what ARP resolves the VIP to outranks where heartbeats go; both are kept as evidence', async () => {
  const frames = background(2);
  frames.push({ ts: T0 + 200, data: encodeMembershipHeartbeat({ clusterIp: '10.0.0.100', hostIp: '10.0.0.11', priority: 1, mode: 'unicast' }) });
  frames.push({ ts: T0 + 300, data: ethernet(BCAST, m('00:15:5d:00:00:11'), ETH_ARP, arp({ op: 1, senderMac: m('03:bf:0a:00:00:64'), senderIp: '10.0.0.100', targetMac: 0, targetIp: '10.0.0.100' })) });
  const { facts, findings } = await analyzeFrames(sorted(frames));
  const c = facts.l2.clusters[0];
  assert.equal(c.mode, 'multicast');
  assert.deepEqual(c.modeEvidence, ['ARP binds 10.0.0.100 to 03:bf:0a:00:00:64 (multicast mode)', 'heartbeats to ff:ff:ff:ff:ff:ff (unicast mode)']);
  assert.deepEqual(findings.map((f) => f.code).sort(), ['NLB_ARP_MULTICAST_MAC', 'NLB_CLUSTER_DETECTED']);
});

test('a port where a cluster host sends unicast is a member port: its cluster traffic is no flood', async () => {
  const frames = background(2);
  const masked = m('02:01:0a:00:00:64');
  frames.push({ ts: T0 + 200, data: encodeMembershipHeartbeat({ clusterIp: '10.0.0.100', hostIp: '10.0.0.11', priority: 1 }) });
  for (let i = 0; i < 4; i++) {
    frames.push({ ts: T0 + i * 0.3 * S + 400, data: syn(m('02:bf:0a:00:00:64'), '10.0.0.100', RTR, 51000 + i) });
    frames.push({ ts: T0 + i * 0.3 * S + 900, data: ethernet(RTR, masked, ETH_IPV4, tcp({ src: '10.0.0.100', dst: '198.51.100.9', srcPort: 80, dstPort: 51000 + i, seq: 9, ack: 2, flags: TCP_SYN | 0x10 })) });
  }
  const { facts, findings } = await analyzeFrames(sorted(frames));
  const c = facts.l2.clusters[0];
  assert.equal(c.memberEvidenceFrames, 4);
  assert.equal(c.traffic.frames, 4);
  assert.deepEqual(findings.map((f) => f.code), ['NLB_CLUSTER_DETECTED']);
});

test('the cluster MAC as a frame source is counted (a switch would learn it)', async () => {
  const frames = background(2);
  frames.push({ ts: T0 + 200, data: encodeMembershipHeartbeat({ clusterIp: '10.0.0.100', hostIp: '10.0.0.11', priority: 1, src: m('02:bf:0a:00:00:64') }) });
  frames.push({ ts: T0 + 300, data: ethernet(BCAST, m('02:bf:0a:00:00:64'), ETH_ARP, arp({ op: 1, senderMac: m('02:bf:0a:00:00:64'), senderIp: '10.0.0.100', targetMac: 0, targetIp: '10.0.0.100' })) });
  const { facts, findings } = await analyzeFrames(sorted(frames));
  assert.equal(facts.l2.clusters[0].clusterMacAsSourceFrames, 2);
  assert.match(findings[0].explanation, /2 frames carried the cluster MAC 02:bf:0a:00:00:64 as their source/);
});

test('a one-way capture (no station both sends and receives) cannot show unknown-unicast flooding', async () => {
  const frames: Array<{ ts: number; data: Buffer }> = [];
  for (let i = 0; i < 40; i++) frames.push({ ts: T0 + i * 1000, data: ethernet(m('00:00:00:00:00:02'), m('00:00:00:00:00:01'), ETH_IPV4, udp('10.0.0.1', '10.0.0.2', 1, 2, Buffer.alloc(10))) });
  const { facts, findings } = await analyzeFrames(frames);
  assert.equal(facts.l2.unknownUnicast.frames, 40);
  assert.equal(facts.l2.twoWayStations, 0);
  assert.deepEqual(findings, []);
});
