/**
 * The `--json` document written as it is read. Its long lists (findings, FTP sessions, TLS
 * handshakes) come as lazy lists: iterables that read their rows from SQLite a batch at a time.
 * writeJson serializes a document holding them element by element, and the text is exactly what
 * JSON.stringify(materialize(value), null, 2) makes of it, so a capture with a hundred thousand
 * sessions is printed without its document (or one string of all of it) in memory.
 *
 * Lazy lists are iterators (generators) and may stand wherever a plain object has a member, from
 * the document's root down; what they yield, and what plain arrays hold, is plain JSON data.
 */

/**
 * A list produced on demand: an iterator (a generator). Other iterables keep their JSON meaning
 * (a Buffer its toJSON, a Map or Set `{}`), as JSON.stringify gives them.
 */
export function isLazyList(v: unknown): v is IterableIterator<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as Iterator<unknown>).next === 'function'
    && typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

/** The same value with every lazy list read into an array (for callers that need the whole document). */
export function materialize(v: unknown): unknown {
  if (isLazyList(v)) return Array.from(v, materialize);
  if (Array.isArray(v)) return v.map(materialize);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = materialize(x);
    return out;
  }
  return v;
}

/** Collects text and hands it on in chunks of about `chunk` characters. */
class ChunkedOut {
  private parts: string[] = [];
  private size = 0;

  constructor(private sink: (text: string) => void, private chunk: number) {}

  push(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= this.chunk) this.flush();
  }

  flush(): void {
    if (this.size === 0) return;
    this.sink(this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
}

/** JSON.stringify of plain data, indented by 2, placed at `depth`; null where JSON.stringify gives nothing. */
function plain(v: unknown, depth: number): string {
  const s = JSON.stringify(v, null, 2) as string | undefined;
  if (s === undefined) return 'null';
  return depth === 0 || !s.includes('\n') ? s : s.replaceAll('\n', '\n' + '  '.repeat(depth));
}

/** Members JSON.stringify leaves out of an object. */
function omitted(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

function write(out: ChunkedOut, v: unknown, depth: number): void {
  if (isLazyList(v) || Array.isArray(v)) {
    const pad = '  '.repeat(depth + 1);
    let n = 0;
    for (const x of v as Iterable<unknown>) {
      out.push(n++ === 0 ? '[\n' + pad : ',\n' + pad);
      // A lazy list's elements and a plain array's are plain data.
      out.push(plain(x, depth + 1));
    }
    out.push(n === 0 ? '[]' : '\n' + '  '.repeat(depth) + ']');
    return;
  }
  if (isPlainObject(v)) {
    const pad = '  '.repeat(depth + 1);
    let n = 0;
    for (const [k, x] of Object.entries(v)) {
      if (omitted(x)) continue;
      out.push((n++ === 0 ? '{\n' : ',\n') + pad + JSON.stringify(k) + ': ');
      write(out, x, depth + 1);
    }
    out.push(n === 0 ? '{}' : '\n' + '  '.repeat(depth) + '}');
    return;
  }
  out.push(plain(v, depth));
}

/** Writes `value` as JSON.stringify(materialize(value), null, 2) would, in chunks of about `chunk` characters. */
export function writeJson(sink: (text: string) => void, value: unknown, chunk = 1 << 20): void {
  const out = new ChunkedOut(sink, chunk);
  write(out, value, 0);
  out.flush();
}

/**
 * Rows in the order of `keys`, fetched `size` keys at a time: a long list read without holding
 * it whole and without an open cursor (the reader may query the database between two rows).
 */
export function* inBatches<K, T>(keys: readonly K[], size: number, fetch: (batch: K[]) => Iterable<T>): Generator<T> {
  for (let i = 0; i < keys.length; i += size) yield* fetch(keys.slice(i, i + size));
}

/** `rows` (fetched by the keys in `keys`, in any order) in the order of `keys`. */
export function inOrder<K, R>(keys: readonly K[], rows: R[], keyOf: (r: R) => K): R[] {
  const byKey = new Map(rows.map((r) => [keyOf(r), r] as const));
  return keys.map((k) => byKey.get(k)).filter((r): r is R => r !== undefined);
}

export function* mapLazy<T, U>(list: Iterable<T>, f: (x: T) => U): Generator<U> {
  for (const x of list) yield f(x);
}

/** One lazy list after the other (a document's lists over several captures). */
export function* concatLazy<T>(lists: Iterable<T>[]): Generator<T> {
  for (const l of lists) yield* l;
}
