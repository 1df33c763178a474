import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArpTable } from '../../../src/proto/l2/arp-table.js';
import { parseMac } from '../../../src/proto/l2/cluster-mac.js';
import { arp, ETH_ARP, ethernet } from '../../lab/nlb-frames.js';
import { packet } from './analyze-frames.js';
import type { ArpPacket } from '../../../src/decode/arp.js';

const m = (s: string): number => parseMac(s)!;
const BCAST = m('ff:ff:ff:ff:ff:ff');

function feed(table: ArpTable, frames: Buffer[]): void {
  frames.forEach((data, i) => {
    const p = packet(data, i + 1);
    assert.equal(p.net?.kind, 'arp');
    table.observe(p, p.net as ArpPacket);
  });
}

const req = (src: string, ip: string, target: string, ethSrc = src): Buffer =>
  ethernet(BCAST, m(ethSrc), ETH_ARP, arp({ op: 1, senderMac: m(src), senderIp: ip, targetMac: 0, targetIp: target }));
const rep = (src: string, ip: string, toMac: string, toIp: string): Buffer =>
  ethernet(m(toMac), m(src), ETH_ARP, arp({ op: 2, senderMac: m(src), senderIp: ip, targetMac: m(toMac), targetIp: toIp }));

test('bindings: sender pairs of requests and replies, first/last frame, gratuitous = SPA equals TPA, probes skipped', () => {
  const t = new ArpTable();
  feed(t, [
    req('00:00:00:00:00:01', '10.0.0.1', '10.0.0.2'),
    rep('00:00:00:00:00:02', '10.0.0.2', '00:00:00:00:00:01', '10.0.0.1'),
    req('00:00:00:00:00:01', '10.0.0.1', '10.0.0.1'), // gratuitous announcement
    req('00:00:00:00:00:03', '0.0.0.0', '10.0.0.3'),  // RFC 5227 probe
  ]);
  const b = t.bindings();
  assert.deepEqual(b.map((x) => [x.ip, x.mac, x.firstFrame, x.lastFrame, x.frames, x.requests, x.replies, x.gratuitous]), [
    ['10.0.0.1', '00:00:00:00:00:01', 1, 3, 2, 2, 0, 1],
    ['10.0.0.2', '00:00:00:00:00:02', 2, 2, 1, 0, 1, 0],
  ]);
  assert.deepEqual([t.frames, t.requests, t.replies, t.gratuitous, t.probes], [4, 3, 1, 1, 1]);
  assert.deepEqual(t.conflicts(b), []);
});

test('Ethernet source different from the ARP sender address is counted per binding (the unicast NLB signature)', () => {
  const t = new ArpTable();
  feed(t, [req('02:bf:0a:14:00:64', '10.20.0.100', '10.20.0.100', '02:01:0a:14:00:64'), req('02:bf:0a:14:00:64', '10.20.0.100', '10.20.0.100', '02:02:0a:14:00:64')]);
  const [b] = t.bindings();
  assert.equal(b.ethSrcMismatch, 2);
  assert.deepEqual(b.ethSrcs, ['02:01:0a:14:00:64', '02:02:0a:14:00:64']);
  assert.equal(b.multicastMac, false);
});

test('multicast sender addresses are flagged; broadcast is not a multicast binding', () => {
  const t = new ArpTable();
  feed(t, [req('03:bf:0a:14:00:64', '10.20.0.100', '10.20.0.100', '00:15:5d:0a:00:11'), req('ff:ff:ff:ff:ff:ff', '10.0.0.9', '10.0.0.9', '00:00:00:00:00:09')]);
  assert.deepEqual(t.bindings().map((b) => [b.mac, b.multicastMac]), [['03:bf:0a:14:00:64', true], ['ff:ff:ff:ff:ff:ff', false]]);
});

test('conflicts: two live MACs interleave; a replacement does not; NLB-marked and null MACs are set aside', () => {
  const t = new ArpTable();
  feed(t, [
    rep('00:00:00:00:aa:77', '10.0.0.77', '00:00:00:00:00:01', '10.0.0.1'),
    rep('00:00:00:00:bb:77', '10.0.0.77', '00:00:00:00:00:01', '10.0.0.1'),
    rep('00:00:00:00:aa:77', '10.0.0.77', '00:00:00:00:00:01', '10.0.0.1'),
    rep('00:00:00:00:aa:88', '10.0.0.88', '00:00:00:00:00:01', '10.0.0.1'),
    rep('00:00:00:00:bb:88', '10.0.0.88', '00:00:00:00:00:01', '10.0.0.1'),
    req('02:bf:0a:14:00:64', '10.20.0.100', '10.20.0.100', '02:01:0a:14:00:64'),
    req('00:15:5d:0a:00:99', '10.20.0.100', '10.20.0.100'),
    req('00:00:00:00:00:00', '10.0.0.66', '10.0.0.66', '00:00:00:00:00:66'),
    req('00:00:00:00:00:66', '10.0.0.66', '10.0.0.66'),
  ]);
  const bindings = t.bindings();
  for (const b of bindings) if (b.mac === '02:bf:0a:14:00:64') b.nlb = 'cluster-mac';
  const c = t.conflicts(bindings);
  assert.deepEqual(c.map((x) => [x.ip, x.macs.map((b) => b.mac), x.interleaved]), [
    ['10.0.0.77', ['00:00:00:00:aa:77', '00:00:00:00:bb:77'], true],
    ['10.0.0.88', ['00:00:00:00:aa:88', '00:00:00:00:bb:88'], false],
  ]);
});

test('VLANs are separate broadcast domains; non-Ethernet hardware types give no binding', () => {
  const t = new ArpTable();
  const tagged = (vlan: number, data: Buffer): Buffer => {
    const out = Buffer.alloc(data.length + 4);
    data.copy(out, 0, 0, 12);
    out.writeUInt16BE(0x8100, 12);
    out.writeUInt16BE(vlan, 14);
    data.copy(out, 16, 12);
    return out;
  };
  const hw69 = req('00:00:00:00:00:05', '10.0.0.5', '10.0.0.6');
  hw69.writeUInt16BE(69, 14);
  feed(t, [tagged(10, req('00:00:00:00:00:01', '10.0.0.1', '10.0.0.2')), tagged(20, req('00:00:00:00:00:02', '10.0.0.1', '10.0.0.2')), hw69]);
  const b = t.bindings();
  assert.deepEqual(b.map((x) => [x.vlan, x.ip, x.mac]), [[10, '10.0.0.1', '00:00:00:00:00:01'], [20, '10.0.0.1', '00:00:00:00:00:02']]);
  assert.deepEqual(t.conflicts(b), []);
  assert.equal(t.otherHardware, 1);
});
