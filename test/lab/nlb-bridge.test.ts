import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tshark } from '../tshark.js';
import { analyzeCapture } from '../../src/analysis/pipeline.js';
import { DEFAULT_OPTIONS } from '../../src/analysis/context.js';
import { LAB_FILE, LAB_MODES, preflightNlb, recordBridge, recordingProblems } from './nlb-bridge.js';
import { NLB_DIR, readExpected } from './nlb-generate.js';

/**
 * The NLB flooding lab. Without root: the committed recordings show, to tshark, what their
 * expected.json entries say the bridge did. As root (CI): both modes are recorded again in fresh
 * namespaces; the recording must show the designed evidence (unicast: every client frame to the
 * never-learned cluster MAC flooded to the observer, none of the hosts' replies to the learned
 * router MAC; IGMP: snooping effective on the group address) and faultline must conclude what
 * the recording's own injection counts say.
 */
const expected = readExpected().captures;

test('committed lab recordings: tshark sees the flood (unicast) and its absence (IGMP with snooping)', () => {
  const count = (file: string, filter: string): number => tshark(['-r', join(NLB_DIR, file), '-Y', filter]).split('\n').filter(Boolean).length;
  // 6 s × 3 connections × 3 frames, all flooded to the observer in unicast mode.
  assert.equal(count(LAB_FILE.unicast, 'eth.dst == 02:bf:0a:14:00:64 && tcp'), 54);
  assert.equal(count(LAB_FILE.unicast, 'eth.dst == 00:1c:73:0a:00:01 && (eth.src == 02:01:0a:14:00:64 || eth.src == 02:02:0a:14:00:64)'), 0, 'learned unicast is not flooded');
  assert.equal(count(LAB_FILE.unicast, 'msnlb'), 16);
  assert.equal(count(LAB_FILE.igmp, 'eth.dst == 01:00:5e:7f:00:64 && tcp'), 0);
  assert.equal(count(LAB_FILE.igmp, 'ip.dst == 239.255.0.100 && udp'), 0, 'snooping kept group traffic from the non-member');
  assert.equal(count(LAB_FILE.igmp, 'msnlb'), 16, 'non-IP multicast (heartbeats) still floods');
  for (const mode of LAB_MODES) {
    const e = expected[LAB_FILE[mode]];
    assert.equal(e.source, 'lab');
    assert.equal(e.shareTolerance > 0, true);
  }
});

const refused = preflightNlb();
if (refused) {
  console.log(`# ${refused}; CI runs the NLB lab as root — here it is skipped`);
  test.skip(`NLB lab: re-recorded bridge captures (${refused})`, () => {});
} else {
  for (const mode of LAB_MODES) {
    test(`NLB lab (${mode}): a fresh recording shows the designed evidence and faultline's conclusions`, { timeout: 120_000 }, async (t) => {
      const out = mkdtempSync(join(tmpdir(), 'faultline-nlb-lab-test-'));
      t.after(() => rmSync(out, { recursive: true, force: true }));
      const r = await recordBridge(mode, out, (m) => t.diagnostic(m));
      assert.deepEqual(recordingProblems(r), [], 'the recording shows what the lab is built to show');
      if (mode === 'unicast') assert.equal(r.observed.toClusterMac, r.injected.clusterFrames, 'every client frame flooded to the observer');
      else {
        assert.equal(r.observed.groupFrames, 0, 'snooping works for the group address');
        assert.equal(r.observed.toClusterMac, 0, 'IGMP-mode client frames do not reach the non-member port');
      }
      const { facts, findings } = await analyzeCapture(r.path, DEFAULT_OPTIONS);
      const want = r.expected.clusters[0];
      assert.equal(facts.l2.clusters.length, 1);
      const c = facts.l2.clusters[0];
      assert.equal(c.clusterIp, want.clusterIp);
      assert.equal(c.mode, want.mode);
      assert.deepEqual(c.hosts.map((h) => ({ ip: h.hostIp, priority: h.priority })), want.hosts);
      assert.ok(Math.abs(c.traffic.shareFrames - want.floodedShare.frames) <= r.expected.shareTolerance, `share ${c.traffic.shareFrames} vs ${want.floodedShare.frames}`);
      const codes = new Set(findings.map((f) => f.code));
      for (const code of r.expected.must) assert.ok(codes.has(code), `must have ${code}`);
      for (const code of r.expected.mustNot) assert.ok(!codes.has(code), `must not have ${code}`);
      // The committed recording was made the same way: same findings.
      assert.deepEqual(r.expected.must, expected[LAB_FILE[mode]].must);
    });
  }
}
