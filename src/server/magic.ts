/**
 * Is this upload a capture? The first bytes decide (pcap, pcapng, or gzip around one of them)
 * before anything is queued for analysis. Inside gzip we inflate only the start of the stream:
 * Z_SYNC_FLUSH lets zlib hand back what a truncated input holds instead of failing.
 */
import { constants, gunzipSync } from 'node:zlib';
import { isGzip, sniffFormat, type CaptureFormat } from '../source/open.js';

export type HeadVerdict =
  | { kind: 'capture'; format: CaptureFormat; compressed: boolean }
  /** gzip whose start did not inflate far enough to tell; the analysis decides. */
  | { kind: 'undecided'; compressed: true }
  | { kind: 'not-capture'; message: string };

const OTHER: Array<[string, string]> = [
  ['28b52ffd', 'zstd'], ['04224d18', 'lz4'], ['425a68', 'bzip2'], ['fd377a585a00', 'xz'], ['504b0304', 'zip'],
];

function describe(head: Buffer, inner: boolean): string {
  const magic = head.subarray(0, 8).toString('hex');
  for (const [prefix, name] of OTHER) {
    if (magic.startsWith(prefix)) return `this is a ${name} archive${inner ? ' inside gzip' : ''}, not a capture: decompress it and upload the pcap or pcapng inside (gzip is accepted)`;
  }
  const text = head.subarray(0, 64);
  const printable = text.length > 0 && [...text].every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  const hex = head.subarray(0, 8).toString('hex').replace(/(..)/g, '$1 ').trim();
  return `not a pcap or pcapng capture${inner ? ' (after gunzip)' : ''}: it starts with ${hex}${printable ? ' (text)' : ''}; faultline reads pcap, pcapng and gzip-compressed captures`;
}

/** `head` is the first bytes of the upload (up to 64 KiB, or all of it when shorter). */
export function classifyHead(head: Buffer): HeadVerdict {
  if (head.length === 0) return { kind: 'not-capture', message: 'the file is empty (0 bytes), not a capture' };
  if (isGzip(head)) {
    let inner: Buffer;
    try {
      inner = gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch (e) {
      return { kind: 'not-capture', message: `damaged gzip data at its start: ${(e as Error).message}` };
    }
    if (inner.length < 4) return { kind: 'undecided', compressed: true };
    const format = sniffFormat(inner);
    return format ? { kind: 'capture', format, compressed: true } : { kind: 'not-capture', message: describe(inner, true) };
  }
  if (head.length < 4) return { kind: 'not-capture', message: `only ${head.length} bytes: too short to be a capture` };
  const format = sniffFormat(head);
  return format ? { kind: 'capture', format, compressed: false } : { kind: 'not-capture', message: describe(head, false) };
}
