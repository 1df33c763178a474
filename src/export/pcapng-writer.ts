/**
 * A minimal pcapng writer for slices of captures that mix link types (which classic pcap, one
 * link type per file, cannot hold): a Section Header Block, one Interface Description Block per
 * link type (written before its first packet) and Enhanced Packet Blocks with microsecond
 * timestamps (the IDB default resolution, 10^-6). Little-endian, as the byte-order magic says.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

function pad4(n: number): number {
  return (n + 3) & ~3;
}

export class PcapngWriter {
  private fd: number;
  private interfaces = new Map<number, number>();
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(path: string, private snaplen = 262144) {
    this.fd = openSync(path, 'w');
    const shb = Buffer.alloc(28);
    shb.writeUInt32LE(0x0a0d0d0a, 0);
    shb.writeUInt32LE(28, 4);
    shb.writeUInt32LE(0x1a2b3c4d, 8);
    shb.writeUInt16LE(1, 12);
    shb.writeUInt16LE(0, 14);
    // Section length unknown (-1): readers walk the blocks.
    shb.writeInt32LE(-1, 16);
    shb.writeInt32LE(-1, 20);
    shb.writeUInt32LE(28, 24);
    this.push(shb);
  }

  private push(b: Buffer): void {
    this.pending.push(b);
    this.pendingBytes += b.length;
    if (this.pendingBytes >= 1 << 22) this.flush();
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    writeSync(this.fd, Buffer.concat(this.pending, this.pendingBytes));
    this.pending = [];
    this.pendingBytes = 0;
  }

  private interfaceFor(linkType: number): number {
    const known = this.interfaces.get(linkType);
    if (known !== undefined) return known;
    const idb = Buffer.alloc(20);
    idb.writeUInt32LE(1, 0);
    idb.writeUInt32LE(20, 4);
    idb.writeUInt16LE(linkType, 8);
    idb.writeUInt16LE(0, 10);
    idb.writeUInt32LE(this.snaplen, 12);
    idb.writeUInt32LE(20, 16);
    this.push(idb);
    const id = this.interfaces.size;
    this.interfaces.set(linkType, id);
    return id;
  }

  /** ts in µs since the epoch. */
  write(ts: number, linkType: number, data: Buffer, origLen = data.length): void {
    const iface = this.interfaceFor(linkType);
    const total = 32 + pad4(data.length);
    const epb = Buffer.alloc(total);
    const us = BigInt(Math.floor(ts));
    epb.writeUInt32LE(6, 0);
    epb.writeUInt32LE(total, 4);
    epb.writeUInt32LE(iface, 8);
    epb.writeUInt32LE(Number(us >> 32n), 12);
    epb.writeUInt32LE(Number(us & 0xffffffffn), 16);
    epb.writeUInt32LE(data.length, 20);
    epb.writeUInt32LE(origLen, 24);
    data.copy(epb, 28);
    epb.writeUInt32LE(total, total - 4);
    this.push(epb);
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
