/**
 * A NAT helper that rewrites an FTP line with one of a different length must keep TCP
 * consistent: Linux nf_nat_ftp (through nf_nat_mangle_tcp_packet and the seqadj extension)
 * adds the length change to the sequence numbers of every later segment in that direction and
 * takes it off the acknowledgements coming back. Comparing the two copies of the segments
 * around the rewritten line shows that shift on the wire.
 */
import type { ChannelPair } from './channels.js';
import type { FlowPair } from './flows.js';
import type { SessionPair } from './pairing.js';
import { matchPackets, type PacketDetail, type PacketRecord } from './packets.js';
import { TCP_FLAG } from '../decode/tcp.js';

export interface SequenceShift {
  /** Who sent the rewritten line: 'server→client' (227/229 replies) or 'client→server' (PORT/EPRT). */
  direction: 'server→client' | 'client→server';
  /** What the length change predicts. */
  expected: number;
  /** outside seq − inside seq of the next segment in that direction, minus the same for the rewritten one. */
  seq: { observed: number; inside: { line: number; next: number }; outside: { line: number; next: number } } | null;
  /** outside ack − inside ack of the first acknowledgement covering the line, minus the same before it. */
  ack: { observed: number; inside: { before: number; after: number }; outside: { before: number; after: number } } | null;
}

/** Difference of two sequence numbers in modulo-2^32 arithmetic, as a signed number. */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

function carriesSequence(p: PacketRecord): boolean {
  return p.len > 0 || (p.flags & (TCP_FLAG.FIN | TCP_FLAG.SYN)) !== 0;
}

export function sequenceShift(sp: SessionPair, cp: ChannelPair, control: FlowPair, detail: { inside: PacketDetail | null; outside: PacketDetail | null }): SequenceShift | null {
  if (control.inside.protocol !== 6) return null;
  const pin = detail.inside?.get(control.inside.index), pout = detail.outside?.get(control.outside.index);
  if (!pin || !pout) return null;
  const passive = cp.inside.mode === 'passive';
  const fromClient = control.inside.src === sp.inside.client && control.inside.srcPort === sp.inside.clientPort;
  const dirIn = (fromClient === passive ? 1 : 0) as 0 | 1;
  const dirOut = (control.reversed ? 1 - dirIn : dirIn) as 0 | 1;
  const result: SequenceShift = { direction: passive ? 'server→client' : 'client→server', expected: cp.lengthDelta, seq: null, ack: null };
  // The segments that ended the line on each side (the stored announcement frames).
  const lineIn = pin.find((p) => p.frame === cp.inside.frame && p.dir === dirIn);
  const lineOut = pout.find((p) => p.frame === cp.outside.frame && p.dir === dirOut);
  if (!lineIn || !lineOut) return result;
  const base = seqDiff(lineOut.seq, lineIn.seq);
  const fwd = matchPackets(pin.filter((p) => p.dir === dirIn && p.frame > lineIn.frame), pout.filter((p) => p.dir === dirOut && p.frame > lineOut.frame));
  const next = fwd.pairs.find(([a]) => carriesSequence(a));
  if (next) {
    result.seq = {
      observed: seqDiff(next[1].seq, next[0].seq) - base,
      inside: { line: lineIn.frame, next: next[0].frame }, outside: { line: lineOut.frame, next: next[1].frame },
    };
  }
  const back = matchPackets(pin.filter((p) => p.dir !== dirIn), pout.filter((p) => p.dir !== dirOut)).pairs
    .filter(([a]) => (a.flags & TCP_FLAG.ACK) !== 0);
  const lineEndIn = (lineIn.seq + lineIn.len) >>> 0;
  const before = back.filter(([a]) => a.ts < lineIn.ts).pop();
  const after = back.find(([a]) => a.ts > lineIn.ts && seqDiff(a.ack, lineEndIn) >= 0);
  if (before && after) {
    result.ack = {
      observed: seqDiff(after[1].ack, after[0].ack) - seqDiff(before[1].ack, before[0].ack),
      inside: { before: before[0].frame, after: after[0].frame }, outside: { before: before[1].frame, after: after[1].frame },
    };
  }
  return result;
}
