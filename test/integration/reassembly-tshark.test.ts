import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectTcpStreams } from '../streams.js';
import { followTcp } from '../tshark.js';
import { manifest, thirdParty, tsharkTruth } from '../helpers.js';

interface Truth { tcp_streams?: Array<{ stream: number }> }

/** Captures whose TCP streams we reassemble and compare byte for byte with `tshark -z follow,tcp,raw`. */
function pick(): string[] {
  const chosen = manifest().filter((e) => e.sizeBytes < 3 << 20 && e.exercises.some((x) => ['ftp', 'ftp-data', 'tls12', 'tls13', 'cert-chain', 'ftps-explicit'].includes(x)));
  return chosen.filter((e) => ((tsharkTruth(e) as Truth).tcp_streams ?? []).length > 0).map((e) => e.localPath);
}

/** Byte equality with a readable message: lengths and the first differing offset, not megabytes of hex. */
function sameBytes(ours: Buffer, theirs: Buffer, what: string): void {
  if (ours.equals(theirs)) return;
  let i = 0;
  while (i < ours.length && i < theirs.length && ours[i] === theirs[i]) i++;
  assert.fail(`${what}: ours ${ours.length} bytes, tshark ${theirs.length}; first difference at byte ${i}`);
}

function endpoint(ip: string, port: number): string {
  return `${ip}:${port}`;
}

test('reassembled TCP streams equal tshark follow,tcp,raw byte for byte', async (t) => {
  const files = pick();
  assert.ok(files.length >= 30, `enough captures chosen (${files.length})`);
  let streams = 0, bytes = 0, withGaps = 0;
  for (const local of files) {
    const path = thirdParty(local);
    const { streams: ours } = await collectTcpStreams(path);
    const followed = followTcp(path, ours.slice(0, 40).map((_, i) => i));
    for (const f of followed) {
      const s = ours[f.stream];
      assert.ok(s, `${local}: stream ${f.stream} exists`);
      const a = endpoint(s.flow.srcIp, s.flow.srcPort);
      const ourNode0 = f.node0.replace(/^\[|\](?=:)/g, '') === a ? 0 : 1;
      const mine0 = Buffer.concat(s.bytes[ourNode0 as 0 | 1]);
      const mine1 = Buffer.concat(s.bytes[(1 - ourNode0) as 0 | 1]);
      if (s.gaps[0] + s.gaps[1] > 0) withGaps++;
      const g0 = s.firstGap[ourNode0 as 0 | 1], g1 = s.firstGap[(1 - ourNode0) as 0 | 1];
      // Where segments were never captured we record a gap; tshark's follow output then strings
      // together whatever it saw, which is no ground truth. Compare up to the first gap there.
      sameBytes(g0 < 0 ? mine0 : mine0.subarray(0, g0), g0 < 0 ? f.data0 : f.data0.subarray(0, g0), `${local}: stream ${f.stream} node 0 (${f.node0})`);
      sameBytes(g1 < 0 ? mine1 : mine1.subarray(0, g1), g1 < 0 ? f.data1 : f.data1.subarray(0, g1), `${local}: stream ${f.stream} node 1 (${f.node1})`);
      streams++;
      bytes += mine0.length + mine1.length;
    }
  }
  t.diagnostic(`${streams} streams, ${bytes} bytes equal to tshark's; ${withGaps} streams had recorded gaps`);
});
