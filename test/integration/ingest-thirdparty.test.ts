import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeCapture } from '../../src/analysis/pipeline.js';
import { DEFAULT_OPTIONS } from '../../src/analysis/context.js';
import { NotACaptureError } from '../../src/source/open.js';
import type { Flow } from '../../src/flow/flow.js';
import { manifest, thirdParty, tsharkTruth, type ManifestEntry } from '../helpers.js';

interface TsharkStream { stream: number; frames: number; payload_bytes: number; first_frame: number; last_frame: number }
interface Truth { frames: number; time_first_epoch?: string; time_last_epoch?: string; tcp_streams?: TsharkStream[]; capinfos?: Record<string, unknown>; tshark_stderr?: string }

/**
 * Where we knowingly differ from tshark 4.0, and what we do instead. Every other file must match
 * tshark's frame count, TCP streams (frames and payload bytes each) and time span exactly.
 */
const DIFFERENT: Record<string, { reason: string; expectError?: RegExp; frames?: number; warning?: RegExp; timeDiffers?: boolean }> = {
  'files/nDPI/tests/cfgs/default/pcap/fuzz-2021-06-07-c6c72a0a56.pcap': {
    reason: 'seconds above 2^31: tshark 4.0 reads them as signed (negative times); the format says unsigned, so do we',
    timeDiffers: true,
  },
  'files/tcpdump/tests/timestamp_invalid_nano.pcap': {
    reason: 'nanosecond fraction >= 10^9: tshark prints a negative time; we keep the time as written and warn',
    frames: 3,
    warning: /invalid fraction of a second/,
  },
  'files/tcpdump/tests/timestamp_invalid_micro.pcap': {
    reason: 'microsecond fraction >= 10^6: kept as written, with a warning',
    frames: 3,
    warning: /invalid fraction of a second/,
  },
  'files/libpcap/tests/pcap-invalid-version-2.pcap': {
    reason: 'libpcap refuses pcap version 2.5 (its own test expects "unsupported pcap savefile version 2.5"); tshark reads it anyway',
    expectError: /unsupported pcap version 2\.5/,
  },
  'files/nDPI/tests/cfgs/default/pcap/fuzz-2021-10-13.pcap': {
    reason: 'record 1 claims 524501 captured bytes, above libpcap\'s 262144 limit: we stop there with the offset; tshark shows one cut frame',
    frames: 0,
    warning: /record 1 claims 524501 captured bytes/,
  },
  'files/PcapPlusPlus/Tests/Pcap++Test/PcapExamples/file_heuristics/pcapng-example.pcapng.zst': {
    reason: 'zstd needs Node 22; we say how to decompress it',
    expectError: /zstd-compressed; decompress it first/,
  },
};

async function run(e: ManifestEntry): Promise<{ flows: Flow[]; result: Awaited<ReturnType<typeof analyzeCapture>> }> {
  const flows: Flow[] = [];
  const result = await analyzeCapture(thirdParty(e.localPath), DEFAULT_OPTIONS, { flowSink: { flow: (f) => flows.push(f) } });
  return { flows: flows.sort((a, b) => a.index - b.index), result };
}

const entries = manifest();

test('every third-party capture reads like tshark reads it (frames, TCP streams, time span)', async (t) => {
  let compared = 0, streams = 0;
  for (const e of entries) {
    const truth = tsharkTruth(e) as unknown as Truth;
    const diff = DIFFERENT[e.localPath];
    if (diff?.expectError) {
      await assert.rejects(run(e), (err: unknown) => err instanceof NotACaptureError && diff.expectError!.test((err as Error).message), e.localPath);
      continue;
    }
    if (truth.frames === 0 && /doesn't support|isn't a capture|unknown format|not a/.test(truth.tshark_stderr ?? '')) {
      // tshark cannot read it at all: neither can we, and we say so in one line.
      await assert.rejects(run(e), NotACaptureError, e.localPath);
      continue;
    }
    let r: Awaited<ReturnType<typeof run>>;
    try {
      r = await run(e);
    } catch (err) {
      if (err instanceof NotACaptureError && truth.frames === 0) continue;
      throw new Error(`${e.localPath}: ${(err as Error).message}`);
    }
    const { flows, result } = r;
    if (diff && !diff.timeDiffers) {
      assert.equal(result.facts.capture.frames, diff.frames, e.localPath);
      if (diff.warning) assert.ok(result.facts.warnings.some((w) => diff.warning!.test(w.message) && w.offset >= 0), `${e.localPath}: ${diff.reason}`);
      continue;
    }
    assert.equal(result.facts.capture.frames, truth.frames, `${e.localPath}: frame count`);
    const tcp = flows.filter((f) => f.protocol === 6);
    const ts = truth.tcp_streams ?? [];
    assert.equal(tcp.length, ts.length, `${e.localPath}: number of TCP streams`);
    for (let i = 0; i < ts.length; i++) {
      const ours = tcp[i];
      assert.equal(ours.packets[0] + ours.packets[1], ts[i].frames, `${e.localPath}: tcp.stream ${i} frames`);
      assert.equal(ours.payloadBytes[0] + ours.payloadBytes[1], ts[i].payload_bytes, `${e.localPath}: tcp.stream ${i} payload bytes`);
      assert.equal(ours.firstFrame, ts[i].first_frame, `${e.localPath}: tcp.stream ${i} first frame`);
      assert.equal(ours.lastFrame, ts[i].last_frame, `${e.localPath}: tcp.stream ${i} last frame`);
      streams++;
    }
    // tshark's first/last are frame 1's and the last frame's; equal to the span when time is ordered.
    if (!diff?.timeDiffers && truth.frames > 0 && truth.capinfos?.['Strict time order'] === 'True' && truth.time_first_epoch && truth.time_last_epoch) {
      assert.ok(Math.abs(result.facts.capture.firstTs! - Number(truth.time_first_epoch) * 1e6) < 1, `${e.localPath}: first timestamp`);
      assert.ok(Math.abs(result.facts.capture.lastTs! - Number(truth.time_last_epoch) * 1e6) < 1, `${e.localPath}: last timestamp`);
    }
    compared++;
  }
  t.diagnostic(`${compared} captures matched tshark, ${streams} TCP streams compared frame for frame`);
  assert.ok(compared > 400, 'most of the corpus was compared');
  assert.ok(streams > 500);
});

test('damaged captures are analysed up to the damage with a warning naming the byte offset', async () => {
  const damaged = entries.filter((e) => e.exercises.some((x) => ['corrupt', 'fuzz', 'malformed', 'tshark-read-error'].includes(x)));
  assert.ok(damaged.length > 40);
  let reported = 0;
  for (const e of damaged) {
    const truth = tsharkTruth(e) as unknown as Truth;
    const tsharkComplains = (truth.tshark_stderr ?? '').trim() !== '';
    try {
      const { result } = await run(e);
      if (tsharkComplains) {
        assert.ok(result.facts.warnings.some((x) => x.offset >= 0), `${e.localPath}: tshark reports "${truth.tshark_stderr}", we must warn with a byte offset`);
        reported++;
      }
      for (const w of result.facts.warnings) assert.ok(!/\n\s+at /.test(w.message), 'no stack traces in warnings');
    } catch (err) {
      assert.ok(err instanceof NotACaptureError, `${e.localPath}: only "not a capture" may be thrown, got ${(err as Error).stack}`);
      if (tsharkComplains) reported++;
    }
  }
  assert.ok(reported >= 8, `damage reported on ${reported} files tshark also calls damaged`);
});

test('every capture goes through the store and the --json document without an exception', async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { openDb } = await import('../../src/store/db.js');
  const { CaptureWriter } = await import('../../src/store/writer.js');
  const { writeProtocolFacts } = await import('../../src/store/facts.js');
  const { analysisDocument } = await import('../../src/store/queries.js');
  const { PROTOCOLS } = await import('../../src/protocols.js');
  const db = openDb(join(mkdtempSync(join(tmpdir(), 'faultline-doc-')), 'all.db'));
  let stored = 0;
  for (const e of entries) {
    const path = thirdParty(e.localPath);
    const writer = new CaptureWriter(db, path, e.localPath);
    try {
      const r = await analyzeCapture(path, DEFAULT_OPTIONS, { flowSink: writer });
      writer.finish(r.facts, r.findings, (d, cid) => writeProtocolFacts(d, cid, r.facts, PROTOCOLS.map((p) => p.writeFacts)));
    } catch (err) {
      writer.abort();
      assert.ok(err instanceof NotACaptureError, `${e.localPath}: ${(err as Error).stack}`);
      continue;
    }
    const doc = analysisDocument(db, [writer.captureId], {}, PROTOCOLS.map((p) => p.document));
    const text = JSON.stringify(doc);
    const cap = (doc.captures as Array<{ frames: number; firstTs: string | null }>)[0];
    assert.ok(cap.firstTs === null || /^\d{4}-\d\d-\d\dT/.test(cap.firstTs) || /^[+-]\d{6}-/.test(cap.firstTs), `${e.localPath}: firstTs ${cap.firstTs}`);
    assert.ok(text.length > 0);
    stored++;
  }
  assert.ok(stored > 440, `${stored} captures stored and rendered`);
  db.close();
});
