/**
 * Password masking for pcap slices. A slice of an FTP session carries the control connection,
 * and in clear text that includes "PASS secret". Exports never show passwords, so the
 * argument bytes of PASS and ACCT lines (RFC 959 §4.1.1) are overwritten with '*' of the same
 * length: sequence numbers and lengths stay valid, the TCP checksum is adjusted incrementally
 * (RFC 1624 eqn. 3), and the slice analyses the same. Every other byte is the original.
 */
import type { Packet } from '../decode/packet.js';

const SECRET = /^(PASS|ACCT) /i;
const STAR = 0x2a;

/** One's-complement update of a 16-bit checksum for words that changed from old to new. */
function adjust(checksum: number, changes: Array<[number, number]>): number {
  let sum = ~checksum & 0xffff;
  for (const [oldWord, newWord] of changes) sum += (~oldWord & 0xffff) + newWord;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * Masks secret arguments in the TCP payload of `pkt`; returns the bytes to write (a copy when
 * something was masked, the original view otherwise) and how many arguments were masked.
 */
export function maskFtpSecrets(pkt: Packet): { data: Buffer; masked: number } {
  const t = pkt.transport;
  const original = pkt.frame.data;
  if (t === null || t.kind !== 'tcp' || t.payloadLength < 6) return { data: original, masked: 0 };
  const start = t.payloadOffset, end = t.payloadOffset + t.payloadLength;
  const ranges: Array<[number, number]> = [];
  for (let line = start; line < end;) {
    const head = original.subarray(line, Math.min(end, line + 5)).toString('latin1');
    let eol = original.indexOf(0x0a, line);
    if (eol < 0 || eol >= end) eol = end;
    if (SECRET.test(head)) {
      let argEnd = eol;
      if (argEnd > line && original[argEnd - 1] === 0x0d) argEnd--;
      if (argEnd > line + 5) ranges.push([line + 5, argEnd]);
    }
    line = eol + 1;
  }
  if (ranges.length === 0) return { data: original, masked: 0 };
  const data = Buffer.from(original);
  const tcpStart = start - t.headerLength;
  const words = new Map<number, number>();
  for (const [a, b] of ranges) for (let i = a; i < b; i++) words.set(i - ((i - tcpStart) & 1), 0);
  const changes: Array<[number, number]> = [];
  const word = (buf: Buffer, at: number): number => (buf[at] << 8) | (at + 1 < end ? buf[at + 1] : 0);
  for (const at of words.keys()) changes.push([word(original, at), 0]);
  for (const [a, b] of ranges) data.fill(STAR, a, b);
  [...words.keys()].forEach((at, i) => { changes[i][1] = word(data, at); });
  if (tcpStart + 18 <= data.length) data.writeUInt16BE(adjust(data.readUInt16BE(tcpStart + 16), changes), tcpStart + 16);
  return { data, masked: ranges.length };
}
