import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';
import { tshark } from '../tshark.js';
import { analyzeCapture } from '../../src/analysis/pipeline.js';
import { DEFAULT_OPTIONS } from '../../src/analysis/context.js';
import { writeEthernetPcap } from '../../src/proto/l2/nlb-encode.js';
import { decodeNlbHeartbeat } from '../../src/proto/l2/nlb.js';
import { pcapFrames } from '../lab/pcap.js';
import { GENERATED, L2_CODES, type ExpectedCapture, type HeartbeatRecord } from '../lab/nlb-scenarios.js';
import { NLB_DIR, readExpected } from '../lab/nlb-generate.js';

/**
 * The NLB / layer-2 captures of captures/nlb against captures/nlb/expected.json, whose values
 * come from how each capture was built (counted by the generator, or from the lab's injection),
 * never from faultline: mode, cluster IP, hosts, flooded share within the stated tolerance,
 * heartbeat losses, ARP conflicts, and the finding codes that must and must not appear.
 */
const expected = readExpected().captures;
const manifest = new Map(readFileSync(join(NLB_DIR, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => {
  const c = l.split('\t');
  return [c[0], { source: c[1], sha256: c[2], size: Number(c[3]), frames: Number(c[4]) }] as const;
}));

test('captures/nlb: every generated scenario and both lab modes are committed, listed in MANIFEST.tsv and expected.json', () => {
  const files = [...GENERATED.map((g) => g.file), 'nlb-unicast-bridge.pcap', 'nlb-igmp-bridge.pcap'];
  assert.deepEqual(Object.keys(expected).sort(), [...files].sort());
  for (const f of files) {
    const path = join(NLB_DIR, f);
    assert.ok(existsSync(path), `${f} is committed`);
    const row = manifest.get(f);
    assert.ok(row, `${f} is in MANIFEST.tsv`);
    const bytes = readFileSync(path);
    assert.equal(row.sha256, createHash('sha256').update(bytes).digest('hex'), `${f} sha256`);
    assert.equal(row.size, bytes.length, `${f} size`);
    assert.equal(row.frames, pcapFrames(path), `${f} frames`);
    assert.equal(row.frames, expected[f].frames, `${f} frames in expected.json`);
    assert.equal(row.source, expected[f].source, `${f} source`);
  }
  assert.ok(existsSync(join(NLB_DIR, 'README.md')));
});

for (const sc of GENERATED) {
  test(`${sc.file}: the generator rebuilds the committed bytes and expectations`, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-nlb-gen-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const built = sc.build();
    writeEthernetPcap(join(dir, sc.file), built.frames);
    assert.ok(readFileSync(join(dir, sc.file)).equals(readFileSync(join(NLB_DIR, sc.file))), 'same bytes');
    assert.deepEqual(built.expected, expected[sc.file]);
  });
}

const within = (actual: number, want: number, tol: number, what: string): void => {
  assert.ok(Math.abs(actual - want) <= tol, `${what}: ${actual} not within ${tol} of ${want}`);
};

for (const [file, exp] of Object.entries(expected) as Array<[string, ExpectedCapture]>) {
  test(`${file} (${exp.source}): mode, cluster IP, hosts, flooded share and findings`, async () => {
    const { facts, findings } = await analyzeCapture(join(NLB_DIR, file), DEFAULT_OPTIONS);
    const l2 = facts.l2;
    assert.equal(facts.capture.frames, exp.frames);
    assert.equal(l2.clusters.length, exp.clusters.length, `clusters: ${l2.clusters.map((c) => c.clusterIp).join(', ')}`);
    for (const want of exp.clusters) {
      const c = l2.clusters.find((x) => x.clusterIp === want.clusterIp);
      assert.ok(c, `cluster ${want.clusterIp}`);
      assert.equal(c.mode, want.mode, 'mode');
      assert.equal(c.hosts.length, want.hostCount, 'host count');
      assert.deepEqual(c.hosts.map((h) => ({ ip: h.hostIp, priority: h.priority })), want.hosts, 'hosts');
      within(c.traffic.shareFrames, want.floodedShare.frames, exp.shareTolerance, 'flooded share of frames');
      within(c.traffic.shareBytes, want.floodedShare.bytes, exp.shareTolerance, 'flooded share of bytes');
    }
    within(l2.unknownUnicast.shareUnicastFrames ?? 0, exp.unknownUnicastShare, exp.shareTolerance, 'unknown-unicast share of unicast frames');
    for (const mac of exp.notClusters) {
      assert.ok(l2.clusterLikeMacs.some((m) => m.mac === mac), `${mac} listed as cluster-like but unconfirmed`);
    }
    const codes = new Set(findings.map((f) => f.code));
    for (const c of exp.must) assert.ok(codes.has(c), `must have ${c}; got ${[...codes].join(', ') || 'none'}`);
    for (const c of exp.mustNot) assert.ok(!codes.has(c), `must not have ${c}: ${findings.find((f) => f.code === c)?.explanation}`);
    const losses = findings.filter((f) => f.code === 'NLB_HEARTBEAT_LOSS');
    assert.deepEqual(losses.map((f) => f.subject.host).sort(), exp.heartbeatLoss.map((l) => l.hostIp).sort(), 'hosts with heartbeat loss');
    for (const l of exp.heartbeatLoss) {
      const d = losses.find((f) => f.subject.host === l.hostIp)!.details as { stopped: unknown; gaps: unknown[] };
      if (l.kind === 'stopped') assert.notEqual(d.stopped, null, `${l.hostIp} stopped`);
      else assert.ok(d.gaps.length > 0, `${l.hostIp} gap beyond tolerance`);
    }
    assert.deepEqual(findings.filter((f) => f.code === 'ARP_DUPLICATE_IP').map((f) => f.subject.host), exp.arpConflicts, 'ARP conflicts');
    // Every NLB finding carries mode, cluster IP, hosts and the flooded share.
    for (const f of findings.filter((x) => x.code.startsWith('NLB_') && x.code !== 'NLB_ARP_MULTICAST_MAC')) {
      for (const k of ['mode', 'clusterIp', 'hosts', 'floodedShare']) assert.ok(k in f.details, `${f.code} details.${k}`);
    }
    if (exp.mustNot.length === L2_CODES.length) assert.equal(findings.filter((f) => L2_CODES.includes(f.code)).length, 0, 'clean port: no layer-2 findings');
  });
}

test('nlb-heartbeat-loss.pcap: host 2 stops after frame of second 14, host 3 gaps 9 s, host 1\'s 2 s gap is within tolerance', async () => {
  const { facts } = await analyzeCapture(join(NLB_DIR, 'nlb-heartbeat-loss.pcap'), DEFAULT_OPTIONS);
  const c = facts.l2.clusters[0];
  assert.equal(c.periodSeconds, 1, 'halved periods during convergence do not change the 1 s period');
  const [h1, h2, h3] = c.hosts;
  assert.deepEqual(h1.gaps.map((g) => [g.missed, g.beyondTolerance]), [[1, false]]);
  assert.equal(h1.stopped, null);
  assert.equal(h2.gaps.length, 0);
  assert.ok(h2.stopped && h2.stopped.silentSeconds > 24 && h2.stopped.silentSeconds < 26, JSON.stringify(h2.stopped));
  assert.equal(h3.gaps.length, 1);
  within(h3.gaps[0].seconds, 9, 0.05, 'host 3 gap');
  assert.equal(h3.gaps[0].missed, 8);
  assert.equal(h3.timeline.length, 2);
  // The generator halved the period between 20 s and 23 s and said so in convergence state 2.
  assert.deepEqual(h1.convergence.map((x) => x.state), [1, 2, 1]);
  assert.equal(h1.hostName, 'WEB-NLB-01.corp.example');
});

/** tshark's msnlb dissector must read every generated heartbeat exactly as the generator wrote it. */
const FIELDS = ['frame.number', 'msnlb.signature', 'msnlb.version', 'msnlb.unique_host_id', 'msnlb.cluster_ip', 'msnlb.host_ip',
  'msnlb.my_host_ip', 'msnlb.default_host_ip', 'msnlb.convergence_state', 'msnlb.number_of_port_rules', 'msnlb.unique_host_code',
  'msnlb.packets_handled', 'msnlb.host_name', 'msnlb.host_ipv4', '_ws.malformed', '_ws.expert'];

for (const sc of GENERATED) {
  test(`${sc.file}: every heartbeat decodes identically in tshark's msnlb dissector and ours`, () => {
    const path = join(NLB_DIR, sc.file);
    const { heartbeats, frames } = sc.build();
    const rows = new Map(tshark(['-r', path, '-Y', 'msnlb', '-T', 'fields', '-E', 'occurrence=f', ...FIELDS.flatMap((f) => ['-e', f])])
      .split('\n').filter(Boolean).map((l) => l.split('\t')).map((c) => [Number(c[0]), Object.fromEntries(FIELDS.map((f, i) => [f, c[i] ?? '']))]));
    assert.equal(rows.size, heartbeats.length, 'tshark finds exactly the heartbeats generated');
    for (const hb of heartbeats as HeartbeatRecord[]) {
      const r = rows.get(hb.frame);
      assert.ok(r, `frame ${hb.frame}`);
      const where = `${sc.file} frame ${hb.frame}`;
      assert.equal(r['_ws.malformed'], '', `${where} malformed`);
      assert.equal(r['_ws.expert'], '', `${where} expert info`);
      const s = hb.spec;
      assert.equal(Number(r['msnlb.unique_host_id']), s.priority, where);
      assert.equal(r['msnlb.cluster_ip'], s.clusterIp, where);
      assert.equal(r['msnlb.host_ip'], s.hostIp, where);
      const ours = decodeNlbHeartbeat(frames[hb.frame - 1].data.subarray(14));
      assert.equal(ours.kind, hb.kind, where);
      if (hb.kind === 'membership' && ours.kind === 'membership') {
        assert.equal(r['msnlb.signature'], '0xc0de01bf', where);
        assert.equal(Number(r['msnlb.my_host_ip']), hb.spec.priority - 1, where);
        assert.equal(Number(r['msnlb.convergence_state']), hb.spec.convergenceState, where);
        assert.equal(Number(r['msnlb.number_of_port_rules']), hb.spec.numberOfPortRules, where);
        assert.equal(Number(r['msnlb.unique_host_code']), hb.spec.uniqueHostCode, where);
        assert.equal(Number(r['msnlb.packets_handled']), hb.spec.packetsHandled, where);
        assert.equal(ours.packetsHandled, hb.spec.packetsHandled, where);
        assert.equal(ours.convergenceState, hb.spec.convergenceState, where);
      } else if (hb.kind === 'extended' && ours.kind === 'extended') {
        assert.equal(r['msnlb.signature'], '0xc0de01c0', where);
        assert.equal(r['msnlb.host_name'], hb.spec.hostName, where);
        assert.equal(r['msnlb.host_ipv4'], hb.spec.addresses?.[0], where);
        assert.equal(ours.hostName, hb.spec.hostName, where);
        assert.deepEqual(ours.addresses, hb.spec.addresses, where);
      }
    }
  });
}

test('faultline analyze --json: the nlb section read back from SQLite follows the contract', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-nlb-json-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'analyze', join(NLB_DIR, 'nlb-unicast-flooding.pcap'),
    join(NLB_DIR, 'l2-arp-duplicate.pcap'), '--db', join(dir, 'x.db'), '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { nlb: { clusters: Array<Record<string, unknown>>; arp: { bindings: Array<Record<string, unknown>>; conflicts: Array<Record<string, unknown>> }; ports: Array<Record<string, unknown>> } };
  const [first, second] = doc.nlb.clusters;
  assert.equal(doc.nlb.clusters.length, 2, 'one cluster per capture');
  for (const c of [first, second]) {
    assert.equal(c.clusterIp, '10.20.0.100');
    assert.equal(c.mode, 'unicast');
    assert.deepEqual((c.hosts as Array<{ ip: string; priority: number }>).map((h) => ({ ip: h.ip, priority: h.priority })),
      [{ ip: '10.20.0.11', priority: 1 }, { ip: '10.20.0.12', priority: 2 }, { ip: '10.20.0.13', priority: 3 }]);
  }
  const flooded = first.flooded as { frames: number; perSecond: Array<{ frames: number; share: number; t: string }> };
  assert.equal(flooded.frames, 360, '30 s × 2 connections × 6 frames');
  assert.equal(flooded.perSecond.length, 30);
  assert.equal(flooded.perSecond.reduce((n, s) => n + s.frames, 0), 360);
  assert.match(flooded.perSecond[0].t, /^2026-01-05T10:00:00/);
  const hosts = first.hosts as Array<{ timeline: unknown[]; name: string }>;
  assert.equal(hosts[0].name, 'WEB-NLB-01.corp.example');
  assert.equal(hosts[0].timeline.length, 1);
  assert.deepEqual(doc.nlb.arp.conflicts.map((c) => c.ip), ['10.20.0.77']);
  assert.ok(doc.nlb.arp.bindings.some((b) => b.ip === '10.20.0.100' && b.mac === '02:bf:0a:14:00:64' && b.nlb === 'cluster-mac'));
  assert.equal(doc.nlb.ports.length, 2);
});
