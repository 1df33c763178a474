import { readFileSync, writeFileSync } from 'node:fs';

/**
 * tcpdump -w writes classic pcap (24-byte global header, 16-byte record headers) in the
 * machine's byte order. Only what the lab needs: count records and join whole files.
 */
interface PcapFile {
  header: Buffer;
  records: Buffer[];
}

function readPcap(path: string): PcapFile {
  const buf = readFileSync(path);
  if (buf.length < 24) throw new Error(`${path}: not a pcap file (${buf.length} bytes)`);
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) {
    throw new Error(`${path}: not a classic pcap file`);
  }
  const records: Buffer[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const caplen = le ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8);
    if (off + 16 + caplen > buf.length) break; // a record cut short by a stopped capture
    records.push(buf.subarray(off, off + 16 + caplen));
    off += 16 + caplen;
  }
  return { header: buf.subarray(0, 24), records };
}

export function pcapFrames(path: string): number {
  return readPcap(path).records.length;
}

/** Concatenates captures taken one after the other on the same interface. */
export function concatPcaps(paths: string[], out: string): void {
  const files = paths.map(readPcap);
  for (const [i, f] of files.entries()) {
    if (!f.header.equals(files[0].header)) throw new Error(`${paths[i]}: pcap header differs from ${paths[0]}`);
  }
  writeFileSync(out, Buffer.concat([files[0].header, ...files.flatMap((f) => f.records)]));
}
