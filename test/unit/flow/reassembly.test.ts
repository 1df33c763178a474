/**
 * One direction of TCP reassembly (RFC 9293 sequence space, modulo 2^32): the consumer must
 * see every byte once, in order, with holes reported as gaps at the right stream offset.
 * Expected values follow from sequence arithmetic on the segments each test builds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DirectionStream, seqDiff, type StreamSink } from '../../../src/flow/reassembly.js';

type Event = { kind: 'data'; bytes: Buffer; offset: number; frameNo: number; ts: number } | { kind: 'gap'; offset: number; length: number; frameNo: number };

class Recorder implements StreamSink {
  events: Event[] = [];
  data(bytes: Buffer, offset: number, frameNo: number, ts: number): void {
    this.events.push({ kind: 'data', bytes: Buffer.from(bytes), offset, frameNo, ts });
  }
  gap(offset: number, length: number, frameNo: number): void {
    this.events.push({ kind: 'gap', offset, length, frameNo });
  }
  /** Delivered bytes, gaps as '_' per missing byte (test strings are letters only). */
  text(): string {
    return this.events.map((e) => (e.kind === 'data' ? e.bytes.toString('latin1') : '_'.repeat(e.length))).join('');
  }
  /** Offsets must run on without overlap or hole. */
  assertContiguous(): void {
    let at = 0;
    for (const e of this.events) {
      assert.equal(e.offset, at, `event at offset ${e.offset}, expected ${at}`);
      at += e.kind === 'data' ? e.bytes.length : e.length;
    }
  }
}

function stream(maxPending = 1 << 20): { s: DirectionStream; r: Recorder } {
  const r = new Recorder();
  return { s: new DirectionStream(r, maxPending), r };
}
const B = (t: string): Buffer => Buffer.from(t, 'latin1');

test('seqDiff is the signed distance modulo 2^32', () => {
  assert.equal(seqDiff(5, 3), 2);
  assert.equal(seqDiff(3, 5), -2);
  assert.equal(seqDiff(1, 0xffffffff), 2);
  assert.equal(seqDiff(0xffffffff, 1), -2);
  assert.equal(seqDiff(0x80000000 - 1, 0), 0x7fffffff);
});

test('in-order segments are delivered at once with running offsets', () => {
  const { s, r } = stream();
  s.syn(1000);
  s.segment(1001, B('abc'), 2, 20);
  s.segment(1004, B('defg'), 3, 30);
  assert.deepEqual(r.events, [
    { kind: 'data', bytes: B('abc'), offset: 0, frameNo: 2, ts: 20 },
    { kind: 'data', bytes: B('defg'), offset: 3, frameNo: 3, ts: 30 },
  ]);
  assert.equal(s.nextSeq, 1008);
  assert.equal(s.offset, 7);
  assert.equal(s.retransmittedBytes, 0);
});

test('an exact retransmission is dropped and counted', () => {
  const { s, r } = stream();
  s.syn(0);
  s.segment(1, B('hello'), 1, 1);
  s.segment(1, B('hello'), 2, 2);
  s.segment(6, B('world'), 3, 3);
  s.segment(1, B('hello'), 4, 4);
  assert.equal(r.text(), 'helloworld');
  assert.equal(r.events.length, 2);
  assert.equal(s.retransmittedBytes, 10);
});

test('a partial overlap delivers only the new tail (the first copy of a byte wins)', () => {
  const { s, r } = stream();
  s.syn(100);
  s.segment(101, B('abcdefghij'), 1, 1);
  s.segment(106, B('FGHIJklmno'), 2, 2); // 5 old bytes (different content), 5 new
  assert.equal(r.text(), 'abcdefghijklmno');
  assert.deepEqual(r.events[1], { kind: 'data', bytes: B('klmno'), offset: 10, frameNo: 2, ts: 2 });
  assert.equal(s.retransmittedBytes, 5);
  // A segment that starts before and ends inside what was delivered adds nothing.
  s.segment(103, B('cdefg'), 3, 3);
  assert.equal(r.events.length, 2);
  assert.equal(s.retransmittedBytes, 10);
});

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

test('reordered segments: every permutation of four is delivered in order, with no gap and no flush', () => {
  const segs: Array<[number, string]> = [[1, 'ab'], [3, 'cde'], [6, 'f'], [7, 'ghij']];
  for (const order of permutations([0, 1, 2, 3])) {
    const { s, r } = stream();
    s.syn(0);
    order.forEach((i, n) => s.segment(segs[i][0], B(segs[i][1]), n + 1, n + 1));
    assert.equal(r.text(), 'abcdefghij', `order ${order.join('')}`);
    r.assertContiguous();
    assert.ok(r.events.every((e) => e.kind === 'data'), `order ${order.join('')}`);
    // Each delivery carries the frame of the segment it came from.
    for (const e of r.events) {
      if (e.kind !== 'data') continue;
      const idx = segs.findIndex(([seq]) => seq - 1 === e.offset);
      assert.ok(idx >= 0);
      assert.equal(e.frameNo, order.indexOf(idx) + 1);
    }
  }
});

test('a hole that fills late: later data waits, then everything is delivered in order', () => {
  const { s, r } = stream();
  s.syn(9);
  s.segment(10, B('aaaa'), 1, 1);
  s.segment(18, B('cccc'), 2, 2);
  assert.equal(r.text(), 'aaaa', 'the segment after the hole waits');
  s.segment(14, B('bbbb'), 3, 3);
  assert.equal(r.text(), 'aaaabbbbcccc');
  r.assertContiguous();
  assert.equal(s.gapBytes, 0);
  s.flush(4);
  assert.equal(r.events.length, 3, 'nothing left at flush');
});

test('a hole that never fills becomes a gap at flush, with the right offset and length', () => {
  const { s, r } = stream();
  s.syn(1000);
  s.segment(1001, B('abcde'), 1, 1);
  s.segment(1013, B('xyz'), 2, 2); // bytes 1006..1012 (7) never come
  s.segment(1020, B('q'), 3, 3); // 1016..1019 (4) never come either
  assert.equal(r.text(), 'abcde');
  s.flush(9);
  assert.deepEqual(r.events.slice(1), [
    { kind: 'gap', offset: 5, length: 7, frameNo: 9 },
    { kind: 'data', bytes: B('xyz'), offset: 12, frameNo: 2, ts: 2 },
    { kind: 'gap', offset: 15, length: 4, frameNo: 9 },
    { kind: 'data', bytes: B('q'), offset: 19, frameNo: 3, ts: 3 },
  ]);
  assert.equal(s.gapBytes, 11);
  assert.equal(s.offset, 20);
});

test('the pending cap forces the gap early and sets capHit', () => {
  const { s, r } = stream(10);
  s.syn(0);
  s.segment(1, B('ab'), 1, 1);
  s.segment(10, B('cccccc'), 2, 2); // 6 bytes wait: under the cap
  assert.equal(s.capHit, false);
  assert.equal(r.text(), 'ab');
  s.segment(16, B('dddddd'), 3, 3); // 12 bytes wait: over the cap of 10
  assert.equal(s.capHit, true);
  assert.deepEqual(r.events.slice(1), [
    { kind: 'gap', offset: 2, length: 7, frameNo: 3 },
    { kind: 'data', bytes: B('cccccc'), offset: 9, frameNo: 2, ts: 2 },
    { kind: 'data', bytes: B('dddddd'), offset: 15, frameNo: 3, ts: 3 },
  ]);
  // The missing bytes arriving later are old news now.
  s.segment(3, B('1234567'), 4, 4);
  assert.equal(r.events.length, 4);
  assert.equal(s.gapBytes, 7);
});

test('sequence numbers wrap around 2^32', () => {
  const isn = 0xfffffffc;
  // In order across the wrap.
  {
    const { s, r } = stream();
    s.syn(isn);
    s.segment(0xfffffffd, B('abc'), 1, 1); // 0xfffffffd..0xffffffff
    s.segment(0, B('defg'), 2, 2);
    s.segment(4, B('h'), 3, 3);
    assert.equal(r.text(), 'abcdefgh');
    assert.equal(s.nextSeq, 5);
  }
  // Reordered and retransmitted across the wrap.
  {
    const { s, r } = stream();
    s.syn(isn);
    s.segment(2, B('fgh'), 1, 1);
    s.segment(0xffffffff, B('cde'), 2, 2); // spans the wrap: 0xffffffff, 0, 1
    assert.equal(r.text(), '');
    s.segment(0xfffffffd, B('ab'), 3, 3);
    assert.equal(r.text(), 'abcdefgh');
    s.segment(0xfffffffe, B('bcd'), 4, 4);
    assert.equal(r.text(), 'abcdefgh');
    assert.equal(s.retransmittedBytes, 3);
  }
  // A hole across the wrap becomes a gap of the right length.
  {
    const { s, r } = stream();
    s.syn(0xfffffff0);
    s.segment(0xfffffff1, B('a'), 1, 1);
    s.segment(0x10, B('z'), 2, 2);
    s.flush(3);
    // Missing: 0xfffffff2 .. 0x0f = 14 + 16 = 30 bytes.
    assert.deepEqual(r.events.map((e) => (e.kind === 'gap' ? [e.offset, e.length] : e.bytes.toString())), ['a', [1, 30], 'z']);
  }
});

test('the SYN fixes the start; without it the first byte seen starts the stream', () => {
  {
    const { s, r } = stream();
    s.syn(5000);
    s.segment(5006, B('fghij'), 1, 1);
    s.segment(5001, B('abcde'), 2, 2);
    assert.equal(r.text(), 'abcdefghij');
    s.syn(7000); // a second SYN (retransmission with another ISN) does not move the start
    s.segment(5011, B('k'), 3, 3);
    assert.equal(r.text(), 'abcdefghijk');
  }
  {
    // Joined mid-stream: bytes before the first segment seen are not this stream's.
    const { s, r } = stream();
    s.segment(5006, B('fghij'), 1, 1);
    s.segment(5001, B('abcde'), 2, 2);
    s.flush(3);
    assert.equal(r.text(), 'fghij');
    assert.equal(s.retransmittedBytes, 5);
  }
});

test('a segment captured shorter than declared: the uncaptured tail is a gap, later bytes line up', () => {
  const { s, r } = stream();
  s.syn(0);
  s.segment(1, B('abc'), 1, 1, 10); // 7 bytes cut by the snaplen
  assert.deepEqual(r.events, [
    { kind: 'data', bytes: B('abc'), offset: 0, frameNo: 1, ts: 1 },
    { kind: 'gap', offset: 3, length: 7, frameNo: 1 },
  ]);
  s.segment(11, B('klm'), 2, 2);
  assert.deepEqual(r.events[2], { kind: 'data', bytes: B('klm'), offset: 10, frameNo: 2, ts: 2 });
  assert.equal(s.gapBytes, 7);
  // Fully cut (headers only captured) and the waiting segment after it.
  const { s: s2, r: r2 } = stream();
  s2.syn(0);
  s2.segment(11, B('late'), 1, 1);
  s2.segment(1, Buffer.alloc(0), 2, 2, 10);
  assert.equal(r2.text(), '__________late');
  r2.assertContiguous();
});

test('snaplen-cut segments arriving out of order: the cut tails are gaps in place, nothing stalls', () => {
  // Headers-only capture (-s 54 style): every segment's payload is a gap.
  {
    const { s, r } = stream();
    s.syn(0);
    s.segment(1, Buffer.alloc(0), 1, 1, 100);
    s.segment(201, Buffer.alloc(0), 2, 2, 100); // ahead of the next one
    s.segment(101, Buffer.alloc(0), 3, 3, 100);
    s.segment(301, Buffer.alloc(0), 4, 4, 100);
    r.assertContiguous();
    assert.equal(s.offset, 400, 'all four segments accounted for before the flush');
    s.flush(5);
    assert.equal(s.gapBytes, 400);
    assert.equal(r.text(), '_'.repeat(400));
  }
  // Partly captured segments: each keeps its captured head, its tail is a gap.
  {
    const { s, r } = stream();
    s.syn(0);
    s.segment(1, B('ab'), 1, 1, 10);
    s.segment(21, B('ef'), 2, 2, 10);
    s.segment(11, B('cd'), 3, 3, 10);
    s.segment(31, B('gh'), 4, 4, 10);
    const before = r.text();
    s.flush(5);
    assert.equal(before, 'ab________cd________ef________gh________');
    assert.equal(r.text(), before, 'nothing waited for the flush');
    r.assertContiguous();
  }
  // A cut segment that is retransmitted in full later: the real bytes win over the gap.
  {
    const { s, r } = stream();
    s.syn(0);
    s.segment(1, B('ab'), 1, 1);
    s.segment(8, B('hi'), 2, 2);
    s.segment(3, B('cd'), 3, 3, 5); // fills the hole up to its cut tail, which is the rest of the hole
    assert.equal(r.text(), 'abcd___hi');
  }
  {
    const { s, r } = stream();
    s.syn(0);
    s.segment(1, B('ab'), 1, 1);
    s.segment(5, B('ef'), 2, 2, 5); // cut, waiting behind the hole at 3..4
    s.segment(5, B('efghi'), 3, 3); // the same segment again, captured in full
    s.segment(3, B('cd'), 4, 4);
    assert.equal(r.text(), 'abcdefghi');
    assert.equal(s.gapBytes, 0);
  }
});

/** Small deterministic PRNG (mulberry32) so a failing case can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('property: any segmentation, permutation and duplication of a byte string reassembles to it', () => {
  for (let seed = 1; seed <= 400; seed++) {
    const rand = rng(seed);
    const int = (n: number): number => Math.floor(rand() * n);
    const len = 1 + int(3000);
    const original = Buffer.alloc(len);
    for (let i = 0; i < len; i++) original[i] = 97 + int(26);
    // ISNs near the wrap in a third of the cases.
    const isn = seed % 3 === 0 ? (0xffffffff - int(2000)) >>> 0 : int(0x100000000);
    const segs: Array<[number, number]> = []; // [start, end) within original
    for (let p = 0; p < len;) {
      const n = 1 + int(Math.min(300, len - p));
      segs.push([p, p + n]);
      p += n;
    }
    // Retransmissions: exact copies and re-segmented ranges overlapping several segments.
    const extra: Array<[number, number]> = [];
    for (let k = int(segs.length + 1); k > 0; k--) {
      if (rand() < 0.5) extra.push(segs[int(segs.length)]);
      else {
        const a = int(len), b = Math.min(len, a + 1 + int(400));
        extra.push([a, b]);
      }
    }
    const all = [...segs, ...extra];
    for (let i = all.length - 1; i > 0; i--) {
      const j = int(i + 1);
      [all[i], all[j]] = [all[j], all[i]];
    }
    const { s, r } = stream();
    s.syn(isn);
    all.forEach(([a, b], n) => s.segment((isn + 1 + a) >>> 0, original.subarray(a, b), n + 1, n));
    const beforeFlush = r.events.length;
    s.flush(all.length + 1);
    assert.equal(r.events.length, beforeFlush, `seed ${seed}: everything was delivered before the flush`);
    assert.ok(r.events.every((e) => e.kind === 'data'), `seed ${seed}: no gaps`);
    r.assertContiguous();
    assert.equal(Buffer.concat(r.events.map((e) => (e.kind === 'data' ? e.bytes : Buffer.alloc(0)))).toString('latin1'), original.toString('latin1'), `seed ${seed}`);
    assert.equal(s.offset, len);
    assert.equal(s.nextSeq, (isn + 1 + len) >>> 0, `seed ${seed}`);
  }
});

test('property: with segments lost or cut by the snaplen, delivered bytes and gaps tile the stream exactly', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rand = rng(1000 + seed);
    const int = (n: number): number => Math.floor(rand() * n);
    const len = 10 + int(2000);
    const original = Buffer.alloc(len);
    for (let i = 0; i < len; i++) original[i] = 97 + int(26);
    const isn = int(0x100000000);
    const segs: Array<[number, number]> = [];
    for (let p = 0; p < len;) { const n = 1 + int(200); segs.push([p, Math.min(len, p + n)]); p += n; }
    // Keep the last segment so the stream's end is known; lose some others.
    const kept = segs.filter((_, i) => i === segs.length - 1 || rand() > 0.25);
    for (let i = kept.length - 1; i > 0; i--) { const j = int(i + 1); [kept[i], kept[j]] = [kept[j], kept[i]]; }
    const { s, r } = stream();
    s.syn(isn);
    const have = new Uint8Array(len);
    for (const [a, b] of kept) {
      // A third of the segments are cut by a snaplen: only a head (maybe nothing) was captured.
      const captured = rand() < 0.33 ? a + int(b - a) : b;
      s.segment((isn + 1 + a) >>> 0, original.subarray(a, captured), 1, 1, b - a);
      have.fill(1, a, captured);
    }
    s.flush(2);
    r.assertContiguous();
    assert.equal(s.offset, len, `seed ${seed}: the whole stream is accounted for`);
    const expected = Buffer.from(original);
    for (let i = 0; i < len; i++) if (!have[i]) expected[i] = 95; // '_'
    assert.equal(r.text(), expected.toString('latin1'), `seed ${seed}`);
    assert.equal(s.gapBytes, have.reduce((n, v) => n + (v ? 0 : 1), 0));
  }
});

test('an ACK past a hole with bytes waiting behind it declares the gap at once', () => {
  const got: string[] = [];
  const gaps: Array<[number, number]> = [];
  const s = new DirectionStream({ data: (b) => { got.push(b.toString()); }, gap: (o, l) => { gaps.push([o, l]); } }, 1 << 20);
  s.syn(999);
  s.segment(1000, Buffer.from('USER a\r\n'), 1, 0);
  // bytes 1008..1015 never captured; the next line waits behind the hole
  s.segment(1016, Buffer.from('PASV\r\n'), 3, 0);
  assert.deepEqual(got, ['USER a\r\n']);
  s.acked(1010, 4); // the peer saw part of the hole: it was sent
  assert.deepEqual(gaps, [[8, 8]]);
  assert.deepEqual(got, ['USER a\r\n', 'PASV\r\n']);
});

test('an ACK ahead of the data with nothing waiting loses nothing (ACK captured before its data)', () => {
  const got: string[] = [];
  const s = new DirectionStream({ data: (b) => { got.push(b.toString()); }, gap: () => assert.fail('no gap') }, 1 << 20);
  s.syn(0);
  s.acked(100, 1);
  s.segment(1, Buffer.from('late but whole'), 2, 0);
  assert.deepEqual(got, ['late but whole']);
});
