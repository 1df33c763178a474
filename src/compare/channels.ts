/**
 * The same data-channel announcement (227/229 reply, PORT/EPRT command) at both vantage points,
 * found through the command that produced it, and whether the line changed on the way: a NAT
 * helper (Linux nf_nat_ftp, a firewall's FTP ALG) rewrites the address and port in it.
 */
import type { ChannelRecord } from './model.js';
import type { SessionPair } from './pairing.js';

export interface ChannelPair {
  inside: ChannelRecord;
  outside: ChannelRecord;
  /** The announcement line differs between the two captures. */
  rewritten: boolean;
  /** Outside line length − inside line length, bytes (what nf_nat_ftp shifts TCP sequence numbers by). */
  lengthDelta: number;
}

/** The byte length of the text as it travelled (FTP lines are bytes; latin1 keeps one byte per char). */
function lineBytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

export function pairChannels(pair: SessionPair): ChannelPair[] {
  const outsideSeq = new Map<number, number>();
  for (const [a, b] of pair.commands) outsideSeq.set(a.seq, b.seq);
  const free = new Set(pair.outside.channels);
  const out: ChannelPair[] = [];
  const unmatched: ChannelRecord[] = [];
  for (const ch of pair.inside.channels) {
    const seq = ch.command === null ? undefined : outsideSeq.get(ch.command);
    const other = seq === undefined ? undefined : [...free].find((o) => o.command === seq && o.kind === ch.kind);
    if (other) { free.delete(other); out.push(make(ch, other)); } else unmatched.push(ch);
  }
  // Announcements without a command both sides share (e.g. the command line was lost): same kind, in order.
  for (const ch of unmatched) {
    const other = [...free].find((o) => o.kind === ch.kind);
    if (other) { free.delete(other); out.push(make(ch, other)); }
  }
  return out.sort((a, b) => a.inside.id - b.inside.id);
}

function make(inside: ChannelRecord, outside: ChannelRecord): ChannelPair {
  const rewritten = inside.text.trim() !== outside.text.trim();
  return { inside, outside, rewritten, lengthDelta: lineBytes(outside.text) - lineBytes(inside.text) };
}
