/**
 * Test-only helper (no tests of its own): a small in-process pcap / pcapng reader and
 * Ethernet/SLL/NULL/raw → IPv4/IPv6 → TCP decoder, so the TLS tests can walk ~170 third-party
 * captures without starting tshark for each. It only has to be right enough for the tests'
 * cross-checks against tshark's stored ground truth, which would expose its mistakes.
 * Returns undefined for anything it does not read (the caller then asks tshark).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface TcpPacket {
  frame: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  syn: boolean;
  payload: Buffer;
}

interface RawFrame { no: number; linkType: number; data: Buffer }

export function readTcpPackets(path: string): TcpPacket[] | undefined {
  let file = readFileSync(path);
  if (file[0] === 0x1f && file[1] === 0x8b) file = gunzipSync(file);
  const frames = file.readUInt32BE(0) === 0x0a0d0d0a ? readPcapng(file) : readPcap(file);
  if (!frames) return undefined;
  const out: TcpPacket[] = [];
  for (const f of frames) {
    const ip = linkPayload(f.linkType, f.data);
    if (ip === undefined) return undefined;
    if (ip) decodeIp(ip, f.no, out, 0);
  }
  return out;
}

function readPcap(b: Buffer): RawFrame[] | undefined {
  if (b.length < 24) return undefined;
  const magic = b.readUInt32LE(0);
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else return undefined;
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const linkType = u32(20) & 0xffff;
  const frames: RawFrame[] = [];
  for (let pos = 24, no = 1; pos + 16 <= b.length; no++) {
    const caplen = u32(pos + 8);
    if (caplen > 0x40000 || pos + 16 + caplen > b.length) break; // damaged file: stop like tshark
    frames.push({ no, linkType, data: b.subarray(pos + 16, pos + 16 + caplen) });
    pos += 16 + caplen;
  }
  return frames;
}

function readPcapng(b: Buffer): RawFrame[] | undefined {
  const frames: RawFrame[] = [];
  let le = true;
  let linkTypes: number[] = [];
  let no = 1;
  for (let pos = 0; pos + 12 <= b.length;) {
    const blockTypeLe = b.readUInt32LE(pos);
    if (blockTypeLe === 0x0a0d0d0a) {
      le = b.readUInt32LE(pos + 8) === 0x1a2b3c4d;
      linkTypes = [];
    }
    const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const type = u32(pos);
    const length = u32(pos + 4);
    if (length < 12 || pos + length > b.length) break;
    if (type === 1) linkTypes.push(u16(pos + 8));
    else if (type === 6) {
      const caplen = u32(pos + 20);
      frames.push({ no: no++, linkType: linkTypes[u32(pos + 8)] ?? -1, data: b.subarray(pos + 28, pos + 28 + Math.min(caplen, length - 28)) });
    } else if (type === 3) {
      frames.push({ no: no++, linkType: linkTypes[0] ?? -1, data: b.subarray(pos + 16, pos + length - 4) });
    } else if (type === 2) {
      const caplen = u32(pos + 20);
      frames.push({ no: no++, linkType: linkTypes[u16(pos + 8)] ?? -1, data: b.subarray(pos + 28, pos + 28 + caplen) });
    }
    pos += length;
  }
  return frames;
}

/** The IP packet inside a frame; null for non-IP frames, undefined for link types not handled. */
function linkPayload(linkType: number, d: Buffer): Buffer | null | undefined {
  switch (linkType) {
    case 1: return ethernet(d, 12);
    case 0: case 108: {
      if (d.length < 4) return null;
      const af = linkType === 108 ? d.readUInt32BE(0) : Math.min(d.readUInt32LE(0), d.readUInt32BE(0));
      return [2, 10, 23, 24, 26, 28, 30].includes(af) ? d.subarray(4) : null;
    }
    case 101: case 12: case 14: case 228: case 229: return d;
    case 113: return d.length >= 16 ? etherType(d.readUInt16BE(14), d.subarray(16)) : null;
    case 276: return d.length >= 20 ? etherType(d.readUInt16BE(0), d.subarray(20)) : null;
    default: return undefined;
  }
}

function ethernet(d: Buffer, typeAt: number): Buffer | null {
  let at = typeAt;
  while (at + 2 <= d.length && [0x8100, 0x88a8, 0x9100, 0x9200].includes(d.readUInt16BE(at))) at += 4;
  if (at + 2 > d.length) return null;
  return etherType(d.readUInt16BE(at), d.subarray(at + 2));
}

function etherType(type: number, rest: Buffer): Buffer | null {
  if (type === 0x0800 || type === 0x86dd) return rest;
  if (type === 0x8864 && rest.length >= 8) { // PPPoE session: 6-byte header, PPP protocol
    const ppp = rest.readUInt16BE(6);
    return ppp === 0x0021 || ppp === 0x0057 ? rest.subarray(8) : null;
  }
  if (type === 0x8847) { // MPLS: pop labels to the bottom of stack
    let at = 0;
    while (at + 4 <= rest.length && (rest[at + 2] & 1) === 0) at += 4;
    return rest.subarray(at + 4);
  }
  return null;
}

function ipString6(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(':');
}

function decodeIp(p: Buffer, frame: number, out: TcpPacket[], depth: number): void {
  if (p.length < 1 || depth > 3) return;
  const version = p[0] >> 4;
  let proto: number;
  let body: Buffer;
  let src: string;
  let dst: string;
  if (version === 4) {
    if (p.length < 20) return;
    const ihl = (p[0] & 0x0f) * 4;
    const total = Math.min(p.readUInt16BE(2) || p.length, p.length);
    if ((p.readUInt16BE(6) & 0x3fff) !== 0) return; // fragment
    proto = p[9];
    src = [...p.subarray(12, 16)].join('.');
    dst = [...p.subarray(16, 20)].join('.');
    body = p.subarray(ihl, total);
  } else if (version === 6) {
    if (p.length < 40) return;
    proto = p[6];
    src = ipString6(p.subarray(8, 24));
    dst = ipString6(p.subarray(24, 40));
    body = p.subarray(40, Math.min(40 + p.readUInt16BE(4), p.length));
    while ([0, 43, 60, 51].includes(proto) && body.length >= 8) {
      const len = proto === 51 ? (body[1] + 2) * 4 : (body[1] + 1) * 8;
      proto = body[0];
      body = body.subarray(len);
    }
    if (proto === 44) return; // fragment
  } else {
    return;
  }
  if (proto === 4 || proto === 41) return decodeIp(body, frame, out, depth + 1);
  if (proto === 17 && body.length >= 8) {
    // GTP-U (UDP 2152, 3GPP TS 29.281): 8-byte header, 4 more when E, S or PN is set.
    if (body.readUInt16BE(0) === 2152 || body.readUInt16BE(2) === 2152) {
      const gtp = body.subarray(8);
      if (gtp.length >= 8 && gtp[1] === 0xff) decodeIp(gtp.subarray((gtp[0] & 0x07) ? 12 : 8), frame, out, depth + 1);
    }
    return;
  }
  if (proto !== 6 || body.length < 20) return;
  const dataOffset = (body[12] >> 4) * 4;
  out.push({
    frame, src, dst, sport: body.readUInt16BE(0), dport: body.readUInt16BE(2), seq: body.readUInt32BE(4),
    syn: (body[13] & 0x02) !== 0, payload: body.subarray(Math.min(dataOffset, body.length)),
  });
}
