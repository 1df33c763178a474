import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clusterShape, DST_NLB_IGMP, DST_NLB_MULTICAST, DST_NLB_UNICAST, DST_PLAIN, FloodMeter, isUnicastIpv4, type FrameView,
} from '../../../src/proto/l2/flood-meter.js';
import { parseMac } from '../../../src/proto/l2/cluster-mac.js';

const m = (s: string): number => parseMac(s)!;
const T0 = 1_767_607_200_000_000;

function view(over: Partial<FrameView>): FrameView {
  return { no: 1, ts: T0, len: 100, src: m('00:00:00:00:00:01'), dst: m('00:00:00:00:00:02'), control: false, ip: null, ...over };
}

test('cluster shapes: 02-BF unicast, 03-BF multicast, 01-00-5E-7F igmp (FACTS §1.1), nothing else', () => {
  assert.equal(clusterShape(m('02:bf:0a:14:00:64')), DST_NLB_UNICAST);
  assert.equal(clusterShape(m('03:bf:0a:14:00:64')), DST_NLB_MULTICAST);
  assert.equal(clusterShape(m('01:00:5e:7f:00:64')), DST_NLB_IGMP);
  assert.equal(clusterShape(m('01:00:5e:7f:ff:fa')), DST_NLB_IGMP, 'SSDP has the shape; the inference decides');
  for (const s of ['02:be:0a:14:00:64', '02:01:0a:14:00:64', '01:00:5e:00:00:fb', '01:00:5e:ff:00:01', 'ff:ff:ff:ff:ff:ff', '00:15:5d:0a:00:50']) {
    assert.equal(clusterShape(m(s)), DST_PLAIN, s);
  }
});

test('isUnicastIpv4: class D/E, 0.0.0.0 and broadcast are not one host', () => {
  assert.equal(isUnicastIpv4('10.20.0.100'), true);
  assert.equal(isUnicastIpv4('223.255.255.255'), true);
  for (const ip of ['224.0.0.1', '239.255.255.250', '255.255.255.255', '0.0.0.0', '240.0.0.1']) assert.equal(isUnicastIpv4(ip), false, ip);
});

test('a unicast destination is flooded only if it never sends, even when it first sends later', () => {
  const meter = new FloodMeter();
  const a = m('00:00:00:00:00:0a'), b = m('00:00:00:00:00:0b'), silent = m('00:00:00:00:00:5e');
  meter.observe(view({ no: 1, src: a, dst: b }));      // b unknown yet
  meter.observe(view({ no: 2, src: a, dst: silent }));
  meter.observe(view({ no: 3, src: b, dst: a }));      // b sends: it lives here after all
  meter.observe(view({ no: 4, src: a, dst: b }));
  meter.observe(view({ no: 5, src: a, dst: silent, ts: T0 + 1_500_000 }));
  assert.equal(meter.isKnownSource(b), true);
  assert.equal(meter.isKnownSource(silent), false);
  assert.deepEqual([...meter.tallies.keys()].sort(), [b, silent].sort(), 'tallied while unexplained');
  const t = meter.tallies.get(silent)!;
  assert.deepEqual([t.frames, t.bytes, t.firstFrame, t.lastFrame], [2, 200, 2, 5]);
  assert.deepEqual([...t.perSecond].map(([s, c]) => [s - T0 / 1e6, c]), [[0, [1, 100]], [1, [1, 100]]]);
  assert.equal(meter.tallies.get(b)!.frames, 1, 'frame 4 went the fast way');
  assert.deepEqual([meter.frames, meter.unicastFrames, meter.seconds.size], [5, 5, 2]);
});

test('group destinations: broadcast and plain multicast are never tallied; cluster shapes are unless control', () => {
  const meter = new FloodMeter();
  meter.observe(view({ dst: m('ff:ff:ff:ff:ff:ff') }));
  meter.observe(view({ dst: m('01:00:5e:00:00:fb') }));
  meter.observe(view({ dst: m('03:bf:0a:14:00:64'), control: true }));
  meter.observe(view({ dst: m('01:00:5e:7f:00:64'), control: true }));
  meter.observe(view({ dst: m('02:bf:0a:14:00:64'), control: true }));
  assert.equal(meter.tallies.size, 0);
  meter.observe(view({ dst: m('03:bf:0a:14:00:64'), ip: { kind: 'ipv4', src: '198.51.100.1', dst: '10.20.0.100' } }));
  meter.observe(view({ dst: m('01:00:5e:7f:ff:fa'), ip: { kind: 'ipv4', src: '10.20.0.50', dst: '239.255.255.250' } }));
  assert.equal(meter.tallies.get(m('03:bf:0a:14:00:64'))!.unicastIpFrames, 1);
  assert.equal(meter.tallies.get(m('01:00:5e:7f:ff:fa'))!.multicastIpFrames, 1);
  assert.equal(meter.unicastFrames, 1, 'only the control frame to 02:bf:… was unicast');
});

test('the source cache never confuses MACs that share a slot (same low 13 bits)', () => {
  const meter = new FloodMeter();
  const x = m('00:00:00:00:20:01'), y = m('00:00:00:00:40:01'), z = m('00:00:00:00:60:01');
  assert.equal(x % 8192, y % 8192);
  meter.observe(view({ no: 1, src: x, dst: y }));
  meter.observe(view({ no: 2, src: y, dst: z }));
  meter.observe(view({ no: 3, src: x, dst: z }));
  meter.observe(view({ no: 4, src: y, dst: x }));
  assert.equal(meter.sourceCount, 2);
  assert.equal(meter.station(x)!.frames, 2);
  assert.equal(meter.station(y)!.frames, 2);
  assert.equal(meter.isKnownSource(z), false);
  assert.equal(meter.tallies.get(z)!.frames, 2);
  assert.equal(meter.twoWayStations(), 1, 'x received unicast after it sent');
});

test('group source MACs are refused; unicast senders count their non-control unicast frames', () => {
  const meter = new FloodMeter();
  meter.observe(view({ src: m('03:bf:0a:14:00:64') }));
  assert.equal(meter.sourceCount, 0);
  const s = m('02:01:0a:14:00:64');
  meter.observe(view({ no: 7, src: s, dst: m('00:1c:73:0a:00:01') }));
  meter.observe(view({ no: 8, src: s, dst: m('ff:ff:ff:ff:ff:ff') }));
  meter.observe(view({ no: 9, src: s, dst: m('00:1c:73:0a:00:01'), control: true }));
  const st = meter.station(s)!;
  assert.deepEqual([st.frames, st.unicastFrames, st.firstUnicastFrames], [3, 1, [7]]);
});

test('answered conversations: a flow seen both ways marks its pairs', () => {
  const meter = new FloodMeter();
  const vmac = m('00:00:5e:00:01:01');
  meter.observe(view({ dst: vmac, ip: { kind: 'ipv4', src: '10.20.0.50', dst: '192.0.2.10' } }));
  meter.observe(view({ dst: vmac, ip: { kind: 'ipv4', src: '10.20.0.50', dst: '192.0.2.10' } }));
  meter.flowBothWays('192.0.2.10', '10.20.0.50');
  assert.equal(meter.tallies.get(vmac)!.answeredFrames(meter), 2);
  meter.flowBothWays('10.9.9.9', '10.8.8.8');
  assert.deepEqual([...meter.answered].map(([src, dsts]) => [src, [...dsts]]), [['10.20.0.50', ['192.0.2.10']]]);
});
