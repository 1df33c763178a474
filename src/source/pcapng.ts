import type { CaptureParser, CaptureSink } from './parser.js';
import { ChunkCarry } from './parser.js';
import { LINKTYPE } from './frame.js';

const SHB = 0x0a0d0d0a;
const IDB = 1;
const PB_OBSOLETE = 2;
const SPB = 3;
const EPB = 6;
const DSB = 0x0a;
const CUSTOM_COPY = 0x00000bad;
const CUSTOM_NOCOPY = 0x40000bad;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** Larger blocks are treated as corruption; real ones (even DSBs) are far smaller. */
const MAX_BLOCK = 64 * 1024 * 1024;

interface Interface {
  linkType: number;
  snaplen: number;
  /** Microseconds per timestamp unit (from if_tsresol; default 10^-6 s, so 1). */
  microsPerUnit: number;
  /** if_tsoffset in seconds. */
  tsOffset: number;
}

/**
 * pcapng (draft-ietf-opsawg-pcapng): a sequence of sections, each opened by an SHB that fixes
 * the byte order, holding interface descriptions and packet blocks. Unknown, NRB, ISB and
 * custom blocks are skipped by their length; DSBs are handed to the sink for TLS decryption.
 */
export class PcapngParser implements CaptureParser {
  readonly format = 'pcapng' as const;
  readonly linkTypes = new Set<number>();
  stopped = false;
  headerError: string | null = null;
  private blocks = 0;
  private carry = new ChunkCarry();
  private le = true;
  private inSection = false;
  private interfaces: Interface[] = [];
  private frameNo: number;
  private warnedUnknownIface = false;
  private lastTs = 0;

  constructor(private sink: CaptureSink, firstFrameNo = 1) {
    this.frameNo = firstFrameNo - 1;
  }

  push(chunk: Buffer): void {
    if (this.stopped) return;
    this.carry.append(chunk);
    const b = this.carry.buf;
    let pos = 0;
    while (b.length - pos >= 12 && !this.stopped) {
      const type = this.le ? b.readUInt32LE(pos) : b.readUInt32BE(pos);
      if (type === SHB || !this.inSection) {
        if (b.readUInt32LE(pos) !== SHB) {
          this.fail(this.carry.base + pos, 'not a pcapng section header block');
          return;
        }
        // The SHB's own length is in the byte order its magic announces.
        const magic = b.readUInt32LE(pos + 8);
        if (magic === BYTE_ORDER_MAGIC) this.le = true;
        else if (b.readUInt32BE(pos + 8) === BYTE_ORDER_MAGIC) this.le = false;
        else {
          this.fail(this.carry.base + pos + 8, 'pcapng section header has an invalid byte-order magic');
          return;
        }
      }
      const total = this.le ? b.readUInt32LE(pos + 4) : b.readUInt32BE(pos + 4);
      if (total < 12 || total % 4 !== 0 || total > MAX_BLOCK) {
        this.fail(this.carry.base + pos, `pcapng block of type 0x${type.toString(16)} has an invalid length ${total}: file is corrupt from here`);
        return;
      }
      if (b.length - pos < total) break;
      const trailer = this.le ? b.readUInt32LE(pos + total - 4) : b.readUInt32BE(pos + total - 4);
      if (trailer !== total) {
        this.fail(this.carry.base + pos, `pcapng block of type 0x${type.toString(16)} has mismatched lengths (${total} vs ${trailer}): file is corrupt from here`);
        return;
      }
      this.block(type, b.subarray(pos + 8, pos + total - 4), this.carry.base + pos);
      this.blocks++;
      pos += total;
    }
    this.carry.consume(pos);
  }

  private u16(b: Buffer, o: number): number { return this.le ? b.readUInt16LE(o) : b.readUInt16BE(o); }
  private u32(b: Buffer, o: number): number { return this.le ? b.readUInt32LE(o) : b.readUInt32BE(o); }

  private block(type: number, body: Buffer, offset: number): void {
    switch (type) {
      case SHB: {
        if (body.length < 16) return this.fail(offset, 'pcapng section header block too short');
        const major = this.u16(body, 4), minor = this.u16(body, 6);
        // 1.0 is the format; 1.2 was written by some tools for 1.0 files (draft §4.1). Else refuse, like libpcap.
        if (major !== 1 || (minor !== 0 && minor !== 2)) return this.fail(offset + 12, `unsupported pcapng version ${major}.${minor}`);
        this.inSection = true;
        this.interfaces = [];
        return;
      }
      case IDB: {
        if (body.length < 8) return this.warnShort(offset, 'interface description');
        const iface: Interface = { linkType: this.u16(body, 0), snaplen: this.u32(body, 4), microsPerUnit: 1, tsOffset: 0 };
        this.readIdbOptions(body.subarray(8), iface);
        this.interfaces.push(iface);
        this.linkTypes.add(iface.linkType);
        return;
      }
      case EPB: {
        if (body.length < 20) return this.warnShort(offset, 'enhanced packet');
        const id = this.u32(body, 0);
        const caplen = this.u32(body, 12);
        if (20 + caplen > body.length) {
          return this.fail(offset, `enhanced packet block claims ${caplen} captured bytes, more than the block holds: file is corrupt from here`);
        }
        this.emit(id, this.u32(body, 4), this.u32(body, 8), caplen, this.u32(body, 16), body.subarray(20, 20 + caplen), offset);
        return;
      }
      case PB_OBSOLETE: {
        if (body.length < 20) return this.warnShort(offset, 'packet');
        const caplen = this.u32(body, 12);
        if (20 + caplen > body.length) return this.fail(offset, `packet block claims ${caplen} captured bytes, more than the block holds`);
        this.emit(this.u16(body, 0), this.u32(body, 4), this.u32(body, 8), caplen, this.u32(body, 16), body.subarray(20, 20 + caplen), offset);
        return;
      }
      case SPB: {
        if (body.length < 4) return this.warnShort(offset, 'simple packet');
        const origLen = this.u32(body, 0);
        const iface = this.interfaces[0];
        // Captured length is implied: min(original length, snaplen, what the block holds).
        let caplen = Math.min(origLen, body.length - 4);
        if (iface && iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
        // SPBs carry no timestamp (Wireshark shows none); the frame is flagged noTimestamp.
        this.emitRaw(0, 0, caplen, origLen, body.subarray(4, 4 + caplen), offset, true);
        return;
      }
      case DSB: {
        if (body.length < 8) return this.warnShort(offset, 'decryption secrets');
        const secretsType = this.u32(body, 0);
        const len = this.u32(body, 4);
        if (8 + len > body.length) return this.warnShort(offset, 'decryption secrets');
        this.sink.secrets?.(secretsType, Buffer.from(body.subarray(8, 8 + len)), offset);
        return;
      }
      case CUSTOM_COPY:
      case CUSTOM_NOCOPY: {
        if (body.length < 4) return this.warnShort(offset, 'custom');
        // Wireshark lists custom blocks as frames; numbering them too keeps our frame numbers equal to Wireshark's.
        // Its frame is what follows the PEN (frame.len = block length - 16).
        const data = body.subarray(4);
        this.frameNo++;
        this.sink.frame({ no: this.frameNo, ts: this.lastTs, linkType: LINKTYPE.PCAPNG_CUSTOM_BLOCK, caplen: data.length, origLen: data.length, data, iface: -1, offset, noTimestamp: true });
        return;
      }
      default:
        // NRB (4), ISB (5) and anything unknown: skipped by length.
        return;
    }
  }

  private readIdbOptions(opts: Buffer, iface: Interface): void {
    let p = 0;
    while (p + 4 <= opts.length) {
      const code = this.u16(opts, p);
      const len = this.u16(opts, p + 2);
      if (code === 0) break;
      if (p + 4 + len > opts.length) break;
      const v = opts.subarray(p + 4, p + 4 + len);
      if (code === 9 && len >= 1) {
        const r = v[0];
        const unitsPerSecond = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
        iface.microsPerUnit = 1e6 / unitsPerSecond;
      } else if (code === 14 && len >= 8) {
        iface.tsOffset = Number(this.le ? v.readBigInt64LE(0) : v.readBigInt64BE(0));
      }
      p += 4 + ((len + 3) & ~3);
    }
  }

  private emit(ifaceId: number, tsHigh: number, tsLow: number, caplen: number, origLen: number, data: Buffer, offset: number): void {
    const iface = this.interfaces[ifaceId];
    if (!iface) {
      if (!this.warnedUnknownIface) {
        this.warnedUnknownIface = true;
        this.sink.warning({ offset, message: `packet refers to interface ${ifaceId}, which no interface description block defined (packet skipped)` });
      }
      return;
    }
    this.emitRaw(ifaceId, tsHigh * 4294967296 + tsLow, caplen, origLen, data, offset, false);
  }

  private emitRaw(ifaceId: number, units: number, caplen: number, origLen: number, data: Buffer, offset: number, noTs: boolean): void {
    const iface = this.interfaces[ifaceId];
    if (!iface) {
      this.sink.warning({ offset, message: 'simple packet block before any interface description block (packet skipped)' });
      return;
    }
    const ts = noTs ? this.lastTs : units * iface.microsPerUnit + iface.tsOffset * 1e6;
    this.lastTs = ts;
    this.frameNo++;
    this.sink.frame({ no: this.frameNo, ts, linkType: iface.linkType, caplen, origLen, data, iface: ifaceId, offset, noTimestamp: noTs || undefined });
  }

  private warnShort(offset: number, what: string): void {
    this.sink.warning({ offset, message: `${what} block too short (skipped)` });
  }

  end(): void {
    if (this.stopped) return;
    if (!this.inSection && this.carry.base === 0) {
      this.fail(0, this.carry.buf.length === 0 ? 'empty file' : 'file ends inside the first pcapng block');
      return;
    }
    if (this.carry.buf.length > 0) {
      this.sink.warning({ offset: this.carry.base, message: `capture truncated: last block cut short (${this.carry.buf.length} bytes left at the end)` });
    }
  }

  private fail(offset: number, message: string): void {
    if (this.blocks === 0 && offset < 4096) this.headerError = message;
    this.stopped = true;
    this.sink.warning({ offset, message });
  }
}
