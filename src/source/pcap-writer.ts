import { writeSync, openSync, closeSync } from 'node:fs';

/**
 * Writes classic little-endian microsecond pcap. Used by exports (evidence slices), the lab
 * generators and the benchmark generator; readable by tshark and by our own reader.
 */
export class PcapWriter {
  private fd: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(path: string, linkType: number, snaplen = 262144) {
    this.fd = openSync(path, 'w');
    const hdr = Buffer.alloc(24);
    hdr.writeUInt32LE(0xa1b2c3d4, 0);
    hdr.writeUInt16LE(2, 4);
    hdr.writeUInt16LE(4, 6);
    hdr.writeUInt32LE(snaplen, 16);
    hdr.writeUInt32LE(linkType, 20);
    this.push(hdr);
  }

  /** ts in microseconds since the epoch; origLen defaults to data.length. */
  write(ts: number, data: Buffer, origLen = data.length): void {
    const rec = Buffer.allocUnsafe(16);
    const sec = Math.floor(ts / 1e6);
    rec.writeUInt32LE(sec >>> 0, 0);
    rec.writeUInt32LE(Math.floor(ts - sec * 1e6) >>> 0, 4);
    rec.writeUInt32LE(data.length, 8);
    rec.writeUInt32LE(origLen, 12);
    this.push(rec);
    this.push(Buffer.from(data));
  }

  private push(b: Buffer): void {
    this.pending.push(b);
    this.pendingBytes += b.length;
    if (this.pendingBytes >= 1 << 22) this.flush();
  }

  flush(): void {
    if (this.pendingBytes === 0) return;
    writeSync(this.fd, Buffer.concat(this.pending, this.pendingBytes));
    this.pending = [];
    this.pendingBytes = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
