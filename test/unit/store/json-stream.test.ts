/**
 * The streamed `--json` writer: whatever it is given, the text is JSON.stringify(value, null, 2)
 * of the same data with its lazy lists read into arrays, and lazy lists are read as they are
 * written, a batch at a time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inBatches, isLazyList, materialize, writeJson } from '../../../src/store/json-stream.js';

function written(value: unknown, chunk?: number): { text: string; chunks: number } {
  const parts: string[] = [];
  writeJson((t) => parts.push(t), value, chunk);
  return { text: parts.join(''), chunks: parts.length };
}

function* lazy<T>(items: T[]): Generator<T> {
  yield* items;
}

test('plain data comes out as JSON.stringify(value, null, 2) makes it', () => {
  const values: unknown[] = [
    null, 0, -1.5, 1e21, 'a "quoted"\nline\twith ünïcødé and \u2028', true, [], {}, [[]], [{}], { a: [] }, { a: {} },
    { a: 1, b: [1, 2, { c: [3, { d: null }] }], e: { f: { g: 'h' } }, i: [] },
    [1, 'two', null, [3, [4, [5]]], { six: 6 }],
    { skipped: undefined, fn: () => 1, kept: 1, arr: [undefined, () => 2, 3] },
    { onlyUndefined: undefined },
    { date: new Date(0), buffer: Buffer.from('hi'), map: new Map([[1, 2]]), set: new Set([1]), nested: { when: new Date(1e12) } },
    [Buffer.from('x'), new Map(), new Uint8Array([1, 2])],
    Object.assign(Object.create(null) as Record<string, unknown>, { nullProto: [1, { x: 'y' }] }),
  ];
  for (const v of values) assert.equal(written(v).text, JSON.stringify(v, null, 2) ?? 'null', JSON.stringify(v));
});

test('lazy lists anywhere under plain objects print as the arrays they yield, read once and in order', () => {
  let reads = 0;
  const counted = function* () { for (let i = 0; i < 5; i++) { reads++; yield { i, tags: ['x', String(i)], deep: { list: [i, { j: i * 2 }] } }; } };
  const doc = {
    captures: [{ id: 1, warnings: [] }],
    findings: lazy([{ code: 'A', frames: [1, 2] }, { code: 'B', frames: [] }]),
    ftp: { sessions: counted() },
    tls: { handshakes: lazy([]) },
    nlb: { clusters: [], nested: { again: lazy([1, [2, 3], 'four']) } },
  };
  const expected = JSON.stringify({
    captures: [{ id: 1, warnings: [] }],
    findings: [{ code: 'A', frames: [1, 2] }, { code: 'B', frames: [] }],
    ftp: { sessions: [0, 1, 2, 3, 4].map((i) => ({ i, tags: ['x', String(i)], deep: { list: [i, { j: i * 2 }] } })) },
    tls: { handshakes: [] },
    nlb: { clusters: [], nested: { again: [1, [2, 3], 'four'] } },
  }, null, 2);
  assert.equal(written(doc).text, expected);
  assert.equal(reads, 5);
});

test('materialize reads every lazy list into an array and leaves plain values alone', () => {
  const d = new Date(5);
  const m = materialize({ a: lazy([1, 2]), b: [lazy(['x'])], c: { d: lazy([{ e: lazy([3]) }]) }, when: d, s: 'str' });
  assert.deepEqual(m, { a: [1, 2], b: [['x']], c: { d: [{ e: [3] }] }, when: d, s: 'str' });
  assert.equal((m as { when: Date }).when, d);
  assert.equal(isLazyList([1]), false);
  assert.equal(isLazyList('abc'), false);
  assert.equal(isLazyList(new Map()), false);
  assert.equal(isLazyList(Buffer.from('x')), false);
  assert.equal(isLazyList(new Map([[1, 2]]).values()), true);
  assert.equal(isLazyList(lazy([])), true);
});

test('output goes out in chunks of about the size asked for, never as one string of everything', () => {
  const big = { rows: lazy(Array.from({ length: 2000 }, (_, i) => ({ i, text: 'x'.repeat(100) }))) };
  const { text, chunks } = written(big, 16 * 1024);
  assert.equal(text, JSON.stringify(materialize({ rows: Array.from({ length: 2000 }, (_, i) => ({ i, text: 'x'.repeat(100) })) }), null, 2));
  // ~250 kB of text in chunks of at least 16 KiB each (the last may be shorter).
  assert.ok(chunks >= text.length / (17 * 1024) && chunks <= Math.ceil(text.length / (16 * 1024)), `${chunks} chunks for ${text.length} chars`);
});

test('inBatches fetches the keys a batch at a time, only as far as the reader gets', () => {
  const fetched: number[][] = [];
  const list = inBatches([1, 2, 3, 4, 5, 6, 7], 3, (keys) => { fetched.push(keys); return keys.map((k) => k * 10); });
  const it = list[Symbol.iterator]();
  assert.deepEqual([it.next().value, it.next().value], [10, 20]);
  assert.deepEqual(fetched, [[1, 2, 3]]);
  assert.deepEqual([...{ [Symbol.iterator]: () => it }], [30, 40, 50, 60, 70]);
  assert.deepEqual(fetched, [[1, 2, 3], [4, 5, 6], [7]]);
  assert.deepEqual([...inBatches([], 3, () => [1])], []);
});
