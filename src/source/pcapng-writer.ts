import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

/**
 * Writes pcapng (draft-ietf-opsawg-pcapng): one Section Header Block, one Interface Description
 * Block, an Enhanced Packet Block per packet and, at close, an Interface Statistics Block with
 * what the capture source knows about loss. Little-endian, microsecond timestamps (the IDB says
 * so with if_tsresol = 6). Blocks are buffered and written in one syscall per flush; every
 * flush leaves a file that ends on a block boundary, so tshark reads it even mid-capture.
 */

const SHB = 0x0a0d0d0a;
const IDB = 1;
const ISB = 5;
const EPB = 6;
const OPT_END = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const ISB_STARTTIME = 2;
const ISB_ENDTIME = 3;
const ISB_FILTERACCEPT = 6;
const ISB_IFDROP = 5;
const ISB_OSDROP = 7;
const ISB_USRDELIV = 8;
const FLUSH_AT = 1 << 20;

export interface PcapngHeader {
  linkType: number;
  snaplen: number;
  /** if_name, e.g. "eth0". */
  ifName: string;
  /** shb_userappl. */
  application: string;
  /** opt_comment of the section: how the timestamps were taken, for instance. */
  comment?: string;
}

/** What the capture source could tell about loss, for the closing ISB (null: unknown, left out). */
export interface CaptureCounters {
  /** Packets the capture mechanism accepted through its filter (libpcap ps_recv, isb_filteraccept). */
  received: number | null;
  /** Packets dropped by the kernel's capture buffer (libpcap ps_drop, isb_osdrop). */
  dropped: number | null;
  /** Packets dropped by the interface or its driver (libpcap ps_ifdrop, isb_ifdrop). */
  ifDropped: number | null;
  /** Packets handed to faultline (isb_usrdeliv). */
  delivered: number;
  /** µs since the epoch. */
  startTs: number;
  endTs: number;
}

/** Where captured packets are written: one file, or a ring of them. */
export interface CaptureFileSink {
  write(ts: number, data: Buffer, origLen: number): void;
  flush(): void;
  close(counters: CaptureCounters): void;
  /** Files written so far that still exist, oldest first. */
  readonly files: string[];
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** One option (code, length, value padded to 32 bits). */
function option(code: number, value: Buffer): Buffer {
  const b = Buffer.alloc(4 + pad4(value.length));
  b.writeUInt16LE(code, 0);
  b.writeUInt16LE(value.length, 2);
  value.copy(b, 4);
  return b;
}

function u64(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(Math.max(0, Math.floor(v))));
  return b;
}

/** A pcapng timestamp at b[at]: upper then lower 32 bits of the count of units (here µs). */
function writeTs(b: Buffer, at: number, ts: number): void {
  const units = Math.max(0, Math.floor(ts));
  b.writeUInt32LE(Math.floor(units / 4294967296), at);
  b.writeUInt32LE(units % 4294967296, at + 4);
}

function tsPair(ts: number): Buffer {
  const b = Buffer.alloc(8);
  writeTs(b, 0, ts);
  return b;
}

function block(type: number, body: Buffer[]): Buffer {
  const len = 12 + body.reduce((n, b) => n + b.length, 0);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(type, 0);
  head.writeUInt32LE(len, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(len, 0);
  return Buffer.concat([head, ...body, tail], len);
}

function withEnd(opts: Buffer[]): Buffer[] {
  return opts.length === 0 ? [] : [...opts, option(OPT_END, Buffer.alloc(0))];
}

export function sectionHeader(h: PcapngHeader): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeUInt32LE(0x1a2b3c4d, 0);
  fixed.writeUInt16LE(1, 4);
  fixed.writeUInt16LE(0, 6);
  // Section length unknown (-1): the file grows while it is written.
  fixed.writeBigInt64LE(-1n, 8);
  const opts = [option(SHB_USERAPPL, Buffer.from(h.application, 'utf8'))];
  if (h.comment) opts.push(option(OPT_COMMENT, Buffer.from(h.comment, 'utf8')));
  return block(SHB, [fixed, ...withEnd(opts)]);
}

export function interfaceDescription(h: PcapngHeader): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16LE(h.linkType, 0);
  fixed.writeUInt32LE(h.snaplen, 4);
  const opts = [option(IF_NAME, Buffer.from(h.ifName, 'utf8')), option(IF_TSRESOL, Buffer.from([6]))];
  return block(IDB, [fixed, ...withEnd(opts)]);
}

/** Bytes of an Enhanced Packet Block carrying `caplen` captured bytes (no options). */
function epbLength(caplen: number): number {
  return 32 + pad4(caplen);
}

/** An Enhanced Packet Block (interface 0, µs timestamp) written at b[p]; returns its length. */
function writeEnhancedPacket(b: Buffer, p: number, ts: number, data: Buffer, origLen: number): number {
  const caplen = data.length;
  const len = epbLength(caplen);
  b.writeUInt32LE(EPB, p);
  b.writeUInt32LE(len, p + 4);
  b.writeUInt32LE(0, p + 8);
  writeTs(b, p + 12, ts);
  b.writeUInt32LE(caplen, p + 20);
  b.writeUInt32LE(Math.max(origLen, caplen), p + 24);
  data.copy(b, p + 28);
  b.fill(0, p + 28 + caplen, p + len - 4);
  b.writeUInt32LE(len, p + len - 4);
  return len;
}

export function enhancedPacket(ts: number, data: Buffer, origLen: number): Buffer {
  const b = Buffer.allocUnsafe(epbLength(data.length));
  writeEnhancedPacket(b, 0, ts, data, origLen);
  return b;
}

export function interfaceStatistics(c: CaptureCounters): Buffer {
  const fixed = Buffer.alloc(12);
  fixed.writeUInt32LE(0, 0);
  writeTs(fixed, 4, c.endTs);
  const opts = [option(ISB_STARTTIME, tsPair(c.startTs)), option(ISB_ENDTIME, tsPair(c.endTs))];
  if (c.received !== null) opts.push(option(ISB_FILTERACCEPT, u64(c.received)));
  if (c.ifDropped !== null) opts.push(option(ISB_IFDROP, u64(c.ifDropped)));
  if (c.dropped !== null) opts.push(option(ISB_OSDROP, u64(c.dropped)));
  opts.push(option(ISB_USRDELIV, u64(c.delivered)));
  return block(ISB, [fixed, ...withEnd(opts)]);
}

/** One pcapng file, written as packets come. */
export class PcapngWriter implements CaptureFileSink {
  private fd: number;
  /** Blocks not yet written, packed into one buffer so a packet costs no allocation. */
  private buf = Buffer.allocUnsafe(FLUSH_AT);
  private pos = 0;
  /** Bytes in the file, pending ones included. */
  bytes = 0;
  packets = 0;
  private closed = false;

  constructor(readonly path: string, header: PcapngHeader) {
    this.fd = openSync(path, 'w');
    this.push(sectionHeader(header));
    this.push(interfaceDescription(header));
  }

  get files(): string[] {
    return [this.path];
  }

  write(ts: number, data: Buffer, origLen: number): void {
    const len = epbLength(data.length);
    if (len > this.buf.length) { this.push(enhancedPacket(ts, data, origLen)); this.packets++; return; }
    if (this.pos + len > this.buf.length) this.flush();
    this.pos += writeEnhancedPacket(this.buf, this.pos, ts, data, origLen);
    this.bytes += len;
    this.packets++;
  }

  private push(block: Buffer): void {
    if (this.pos + block.length > this.buf.length) this.flush();
    if (block.length > this.buf.length) { this.writeAll(block); this.bytes += block.length; return; }
    block.copy(this.buf, this.pos);
    this.pos += block.length;
    this.bytes += block.length;
  }

  private writeAll(b: Buffer): void {
    let off = 0;
    while (off < b.length) off += writeSync(this.fd, b, off);
  }

  flush(): void {
    if (this.pos === 0 || this.closed) return;
    this.writeAll(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }

  close(counters: CaptureCounters): void {
    if (this.closed) return;
    this.push(interfaceStatistics(counters));
    this.flush();
    this.closed = true;
    closeSync(this.fd);
  }
}

/**
 * A ring of pcapng files of at most `maxBytes` each (a file holds at least one packet), keeping
 * the newest `maxFiles`: like dumpcap's ring buffer, and named like its files
 * (`base_00001_20261128235501.pcapng`), so a sorted listing is in capture order. Each file is a
 * complete section of its own; frame numbers restart at 1 in each.
 */
export class PcapngRing implements CaptureFileSink {
  private current: PcapngWriter;
  private seq = 0;
  private kept: string[] = [];
  private counters: { startTs: number; delivered: number };

  constructor(private basePath: string, private header: PcapngHeader, private maxBytes: number, private maxFiles: number, startTs: number) {
    this.counters = { startTs, delivered: 0 };
    this.current = this.open(startTs);
  }

  get files(): string[] {
    return [...this.kept];
  }

  private open(ts: number): PcapngWriter {
    this.seq++;
    const ext = extname(this.basePath) || '.pcapng';
    const stem = basename(this.basePath, extname(this.basePath));
    const stamp = new Date(ts / 1000).toISOString().replace(/[-:]/g, '').replace('T', '').slice(0, 14);
    const path = join(dirname(this.basePath), `${stem}_${String(this.seq).padStart(5, '0')}_${stamp}${ext}`);
    const w = new PcapngWriter(path, this.header);
    this.kept.push(path);
    while (this.kept.length > this.maxFiles) {
      const old = this.kept.shift()!;
      try { unlinkSync(old); } catch { /* removed by someone else: nothing to keep track of */ }
    }
    return w;
  }

  write(ts: number, data: Buffer, origLen: number): void {
    const size = epbLength(data.length);
    if (this.current.packets > 0 && this.current.bytes + size > this.maxBytes) {
      // Loss counters belong to the whole capture, so only the last file's ISB carries them.
      this.current.close({ received: null, dropped: null, ifDropped: null, delivered: this.current.packets, startTs: this.counters.startTs, endTs: ts });
      this.counters.startTs = ts;
      this.current = this.open(ts);
    }
    this.counters.delivered++;
    this.current.write(ts, data, origLen);
  }

  flush(): void {
    this.current.flush();
  }

  close(counters: CaptureCounters): void {
    this.current.close({ ...counters, delivered: this.current.packets });
  }
}

/** Files a ring keeps unless told otherwise (dumpcap has no default; ten bounds the disk use at 10 × SIZE). */
export const DEFAULT_RING_FILES = 10;
