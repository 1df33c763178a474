import type { CaptureParser, CaptureSink } from './parser.js';
import { ChunkCarry } from './parser.js';
import { u32be, u32le } from '../decode/bytes.js';

/** Largest record libpcap accepts for ordinary link types (MAXIMUM_SNAPLEN). */
export const MAX_RECORD = 262144;
/**
 * A file header may announce a bigger snaplen (some link types need it), but never trust one
 * beyond this: a corrupt record would otherwise make the reader wait for, and buffer, gigabytes.
 */
const MAX_TRUSTED_SNAPLEN = 64 * 1024 * 1024;

export type PcapMagic = { littleEndian: boolean; nanos: boolean };

/** Classic pcap magic in any of its four forms, or null. */
export function pcapMagic(head: Buffer): PcapMagic | null {
  if (head.length < 4) return null;
  const le = head.readUInt32LE(0);
  if (le === 0xa1b2c3d4) return { littleEndian: true, nanos: false };
  if (le === 0xa1b23c4d) return { littleEndian: true, nanos: true };
  const be = head.readUInt32BE(0);
  if (be === 0xa1b2c3d4) return { littleEndian: false, nanos: false };
  if (be === 0xa1b23c4d) return { littleEndian: false, nanos: true };
  return null;
}

/**
 * Classic pcap (draft-ietf-opsawg-pcap): 24-byte file header, then 16-byte record headers
 * followed by unpadded data. Lengths are never trusted: a record longer than the format allows
 * ends the parse with a warning naming its offset (pcap has no way to resynchronise).
 */
export class PcapParser implements CaptureParser {
  readonly format = 'pcap' as const;
  readonly linkTypes = new Set<number>();
  stopped = false;
  headerError: string | null = null;
  private carry = new ChunkCarry();
  private haveHeader = false;
  private le = true;
  private nanos = false;
  private linkType = 1;
  private snaplen = 0;
  /** Largest caplen accepted: MAX_RECORD, or the header's snaplen when bigger (bounded). */
  private maxCaplen = MAX_RECORD;
  private frameNo = 0;
  private warnedSnap = false;
  private warnedOrig = false;
  private warnedFrac = false;

  constructor(private sink: CaptureSink, firstFrameNo = 1) {
    this.frameNo = firstFrameNo - 1;
  }

  push(chunk: Buffer): void {
    if (this.stopped) return;
    if (this.haveHeader && this.carry.buf.length > 0) {
      chunk = this.stitch(chunk);
      if (this.stopped) return;
    }
    this.carry.append(chunk);
    if (!this.haveHeader && !this.readHeader()) return;
    this.readRecords();
  }

  private readHeader(): boolean {
    const b = this.carry.buf;
    if (b.length < 24) return false;
    const magic = pcapMagic(b);
    if (!magic) {
      this.fail(0, 'not a pcap file (bad magic)');
      return false;
    }
    this.le = magic.littleEndian;
    this.nanos = magic.nanos;
    const major = this.le ? b.readUInt16LE(4) : b.readUInt16BE(4);
    const minor = this.le ? b.readUInt16LE(6) : b.readUInt16BE(6);
    // libpcap refuses anything but 2.x up to 2.4; files claiming otherwise are not what they say.
    if (major !== 2 || minor > 4) {
      this.headerError = `unsupported pcap version ${major}.${minor}`;
      this.fail(4, this.headerError);
      return false;
    }
    this.snaplen = this.le ? b.readUInt32LE(16) : b.readUInt32BE(16);
    this.maxCaplen = Math.max(MAX_RECORD, Math.min(this.snaplen, MAX_TRUSTED_SNAPLEN));
    const lt = this.le ? b.readUInt32LE(20) : b.readUInt32BE(20);
    // Low 16 bits are the link type; bits 16-25 are reserved and must be zero, the top bits
    // carry FCS-length flags (draft §4). libpcap refuses non-zero reserved bits; so do we.
    if ((lt & 0x03ff0000) !== 0) {
      this.headerError = `link type field has non-zero reserved bits (0x${(lt & 0x03ff0000).toString(16).padStart(8, '0')})`;
      this.fail(20, this.headerError);
      return false;
    }
    this.linkType = lt & 0xffff;
    this.linkTypes.add(this.linkType);
    this.haveHeader = true;
    this.carry.consume(24);
    return true;
  }

  /**
   * A record left cut at the end of the previous chunk: joins it with just the bytes of `chunk`
   * it needs and reads it, so the rest of the chunk is read in place. Joining the whole chunk
   * instead copied every chunk once more (the whole file, for records nearly always straddle).
   * Returns what is left of `chunk`; falls back to joining when the record is longer still.
   */
  private stitch(chunk: Buffer): Buffer {
    const tail = this.carry.buf;
    const caplenAt = 8;
    let header = tail;
    if (tail.length < 16) {
      if (tail.length + chunk.length < 16) return chunk;
      header = Buffer.concat([tail, chunk.subarray(0, 16 - tail.length)]);
    }
    const caplen = this.le ? header.readUInt32LE(caplenAt) : header.readUInt32BE(caplenAt);
    if (caplen > this.maxCaplen) return chunk; // readRecords reports it with its offset
    const need = 16 + caplen - tail.length;
    if (need <= 0 || need > chunk.length) return chunk;
    this.carry.buf = Buffer.concat([tail, chunk.subarray(0, need)]);
    this.readRecords();
    return chunk.subarray(need);
  }

  private readRecords(): void {
    const le = this.le;
    let b = this.carry.buf;
    let pos = 0;
    const len = b.length;
    const fracDiv = this.nanos ? 1000 : 1;
    while (len - pos >= 16) {
      const sec = le ? u32le(b, pos) : u32be(b, pos);
      const frac = le ? u32le(b, pos + 4) : u32be(b, pos + 4);
      const caplen = le ? u32le(b, pos + 8) : u32be(b, pos + 8);
      const origLen = le ? u32le(b, pos + 12) : u32be(b, pos + 12);
      if (caplen > this.maxCaplen) {
        this.fail(this.carry.base + pos, `record ${this.frameNo + 1} claims ${caplen} captured bytes (limit ${this.maxCaplen}): file is corrupt from here`);
        return;
      }
      if (len - pos - 16 < caplen) break;
      if (!this.warnedSnap && this.snaplen > 0 && caplen > this.snaplen) {
        this.warnedSnap = true;
        this.sink.warning({ offset: this.carry.base + pos, message: `record ${this.frameNo + 1} has ${caplen} bytes, more than the file's snaplen ${this.snaplen} (kept)` });
      }
      if (!this.warnedOrig && caplen > origLen) {
        this.warnedOrig = true;
        this.sink.warning({ offset: this.carry.base + pos, message: `record ${this.frameNo + 1} captured length ${caplen} exceeds its original length ${origLen} (kept)` });
      }
      if (!this.warnedFrac && frac >= (this.nanos ? 1e9 : 1e6)) {
        this.warnedFrac = true;
        this.sink.warning({ offset: this.carry.base + pos + 4, message: `record ${this.frameNo + 1} has an invalid fraction of a second (${frac} ${this.nanos ? 'ns' : 'µs'}); its time is kept as written, beyond the second` });
      }
      this.frameNo++;
      this.sink.frame({
        no: this.frameNo,
        ts: sec * 1e6 + frac / fracDiv,
        linkType: this.linkType,
        caplen,
        origLen,
        data: b.subarray(pos + 16, pos + 16 + caplen),
        iface: 0,
        offset: this.carry.base + pos,
      });
      pos += 16 + caplen;
      if (this.stopped) return;
    }
    this.carry.consume(pos);
    b = this.carry.buf;
  }

  end(): void {
    if (this.stopped) return;
    if (!this.haveHeader) {
      this.fail(0, this.carry.buf.length === 0 ? 'empty file' : `file ends inside the pcap header (${this.carry.buf.length} of 24 bytes)`);
      return;
    }
    if (this.carry.buf.length > 0) {
      this.sink.warning({ offset: this.carry.base, message: `capture truncated: last record cut short (${this.carry.buf.length} bytes left at the end)` });
    }
  }

  private fail(offset: number, message: string): void {
    this.stopped = true;
    this.sink.warning({ offset, message });
  }
}
