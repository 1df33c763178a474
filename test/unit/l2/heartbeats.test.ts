import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeartbeatTracker } from '../../../src/proto/l2/heartbeats.js';
import { encodeExtendedHeartbeat, encodeMembershipHeartbeat } from '../../../src/proto/l2/nlb-encode.js';
import { packet, T0 } from './analyze-frames.js';

const S = 1_000_000;
const VIP = '10.20.0.100';

function beat(priority: number, hostIp: string, over: { convergenceState?: number; packetsHandled?: number } = {}): Buffer {
  return encodeMembershipHeartbeat({ clusterIp: VIP, hostIp, priority, numberOfPortRules: 2, ...over });
}

function run(frames: Array<[number, Buffer]>, endTs: number): { tracker: HeartbeatTracker; warnings: string[]; result: ReturnType<HeartbeatTracker['finish']> } {
  const warnings: string[] = [];
  const tracker = new HeartbeatTracker((_o, m) => warnings.push(m));
  frames.forEach(([ts, data], i) => tracker.observe(packet(data, i + 1, ts)));
  return { tracker, warnings, result: tracker.finish(endTs) };
}

test('gaps are judged against the 1 s period and the 5-period tolerance; a silent end is a stop', () => {
  const frames: Array<[number, Buffer]> = [];
  for (const s of [0, 1, 2, 4, 5, 11, 12, 13]) frames.push([T0 + s * S, beat(1, '10.20.0.11')]); // 2 s (1 missed), 6 s (5 missed)
  for (const s of [0, 1, 2, 3]) frames.push([T0 + s * S + 300_000, beat(2, '10.20.0.12')]);
  frames.sort((a, b) => a[0] - b[0]);
  const { result } = run(frames, T0 + 13 * S);
  const c = result.get(VIP)!;
  assert.equal(c.periodSeconds, 1);
  const [h1, h2] = c.hosts;
  assert.deepEqual(h1.gaps.map((g) => [g.seconds, g.missed, g.beyondTolerance]), [[2, 1, false], [6, 5, true]]);
  assert.deepEqual(h1.timeline.map((r) => r.heartbeats), [3, 2, 3]);
  assert.equal(h1.stopped, null);
  assert.deepEqual(h2.stopped, { lastTs: T0 + 3.3 * S, silentSeconds: 9.7, captureEndTs: T0 + 13 * S });
  assert.equal(h2.heartbeats, 4);
  assert.equal(h2.maskedMac, '02:02:0a:14:00:64');
});

test('exactly 5 periods is still within tolerance; just over is not', () => {
  const { result } = run([[T0, beat(1, '10.20.0.11')], [T0 + 5 * S, beat(1, '10.20.0.11')], [T0 + 10 * S + 1, beat(1, '10.20.0.11')]], T0 + 10 * S + 1);
  assert.deepEqual(result.get(VIP)!.hosts[0].gaps.map((g) => g.beyondTolerance), [false, true]);
});

test('a longer AliveMsgPeriod is taken from the hosts\' median interval', () => {
  const frames: Array<[number, Buffer]> = [];
  for (let s = 0; s <= 30; s += 3) frames.push([T0 + s * S, beat(1, '10.20.0.11')]);
  const { result } = run(frames, T0 + 30 * S);
  const c = result.get(VIP)!;
  assert.deepEqual([c.periodSeconds, c.periodSource], [3, 'observed']);
  assert.deepEqual(c.hosts[0].gaps, [], '3 s apart is on time at a 3 s period');
});

test('convergence changes, packets handled, extended heartbeat names, snaplen-cut heartbeats by masked MAC', () => {
  const cut = beat(2, '10.20.0.12').subarray(0, 14 + 6); // signature + half the version: msnlb2.pcapng's shape
  const { result, tracker, warnings } = run([
    [T0, beat(2, '10.20.0.12', { convergenceState: 1, packetsHandled: 10 })],
    [T0 + 0.5 * S, encodeExtendedHeartbeat({ clusterIp: VIP, hostIp: '10.20.0.12', priority: 2, hostName: 'web-02', addresses: ['10.20.0.12'] })],
    [T0 + 1 * S, beat(2, '10.20.0.12', { convergenceState: 3, packetsHandled: 25 })],
    [T0 + 2 * S, cut],
    [T0 + 3 * S, beat(2, '10.20.0.12', { convergenceState: 3, packetsHandled: 40 })],
  ], T0 + 3 * S);
  const h = result.get(VIP)!.hosts;
  assert.equal(h.length, 1, 'the cut heartbeat joins the host with that priority');
  assert.deepEqual(h[0].convergence.map((c) => c.state), [1, 3]);
  assert.deepEqual([h[0].packetsHandledFirst, h[0].packetsHandledLast], [10, 40]);
  assert.equal(h[0].hostName, 'web-02');
  assert.deepEqual(h[0].addresses, ['10.20.0.12']);
  assert.deepEqual([h[0].heartbeats, h[0].extendedHeartbeats, h[0].truncatedHeartbeats], [3, 1, 1]);
  assert.deepEqual([tracker.membership, tracker.extended, tracker.malformed], [3, 1, 1]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /frame 4: NLB heartbeat cut short at payload byte 4/);
});

test('0x886F without an NLB signature is foreign, not a heartbeat; never a throw on short frames', () => {
  const foreign = beat(1, '10.20.0.11');
  foreign.writeUInt32LE(0x12345678, 14);
  const { tracker, result } = run([[T0, foreign], [T0 + 1, beat(1, '10.20.0.11').subarray(0, 15)]], T0 + 1);
  assert.deepEqual([tracker.foreign, tracker.malformed, result.size], [2, 0, 0]);
});

test('two hosts claiming one priority stay two hosts', () => {
  const { result } = run([[T0, beat(1, '10.20.0.11')], [T0 + 1, beat(1, '10.20.0.21')]], T0 + 1);
  assert.deepEqual(result.get(VIP)!.hosts.map((h) => [h.priority, h.hostIp]), [[1, '10.20.0.11'], [1, '10.20.0.21']]);
});
