/**
 * Packet-level detail for the flows `compare` needs to look into (connections whose packet
 * counts differ between the captures, connections seen on one side only, control connections
 * with a rewritten line): one pass over the capture file, keeping a few numbers per packet of
 * those flows only, so memory stays bounded by what is reported.
 */
import { readCapture } from '../source/open.js';
import { decodePacket } from '../decode/packet.js';
import type { FlowRecord } from './model.js';

export interface PacketRecord {
  frame: number;
  ts: number;
  /** 0 initiator→responder, 1 back (the stored flow's orientation). */
  dir: 0 | 1;
  /** TCP flags (0 for UDP). */
  flags: number;
  seq: number;
  ack: number;
  /** Payload bytes (the segment length the IP header declares). */
  len: number;
  /** IPv4 identification (kept by Linux NAT: ties the two copies of one packet); null for IPv6. */
  ipId: number | null;
  /** TTL / hop limit: one less on the far side of a router. */
  ttl: number;
}

/** Per capture: flow index → its packets in capture order. */
export type PacketDetail = Map<number, PacketRecord[]>;

/** Packets kept per flow: enough for any evidence list, bounded for a huge transfer. */
export const MAX_PACKETS_PER_FLOW = 20000;

function key(proto: number, a: string, ap: number, b: string, bp: number): string {
  // Both directions of a flow share one key: order the endpoints.
  return a < b || (a === b && ap <= bp) ? `${proto}|${a}|${ap}|${b}|${bp}` : `${proto}|${b}|${bp}|${a}|${ap}`;
}

/** Reads `path` once and returns the packets of `flows`, plus the file's sha256 (to check it is the stored capture). */
export async function collectPackets(path: string, flows: FlowRecord[]): Promise<{ sha256: string; detail: PacketDetail }> {
  const byKey = new Map<string, FlowRecord[]>();
  for (const f of flows) {
    const k = key(f.protocol, f.src, f.srcPort, f.dst, f.dstPort);
    const list = byKey.get(k) ?? [];
    list.push(f);
    byKey.set(k, list);
  }
  const detail: PacketDetail = new Map();
  const read = await readCapture(path, {
    frame: (frame) => {
      if (byKey.size === 0) return;
      const pkt = decodePacket(frame);
      const net = pkt.net, t = pkt.transport;
      if (!net || net.kind === 'arp' || !t || (t.kind !== 'tcp' && t.kind !== 'udp')) return;
      const proto = t.kind === 'tcp' ? 6 : 17;
      const list = byKey.get(key(proto, net.src, t.srcPort, net.dst, t.dstPort));
      const f = list?.find((x) => frame.no >= x.firstFrame && frame.no <= x.lastFrame);
      if (!f) return;
      const packets = detail.get(f.index) ?? [];
      if (packets.length >= MAX_PACKETS_PER_FLOW) return;
      packets.push({
        frame: frame.no, ts: frame.ts,
        dir: net.src === f.src && t.srcPort === f.srcPort ? 0 : 1,
        flags: t.kind === 'tcp' ? t.flags : 0,
        seq: t.kind === 'tcp' ? t.seq : 0,
        ack: t.kind === 'tcp' ? t.ack : 0,
        len: t.kind === 'tcp' ? t.segmentLength : t.payloadLength,
        ipId: net.kind === 'ipv4' ? net.id : null,
        ttl: net.kind === 'ipv4' ? net.ttl : net.hopLimit,
      });
      detail.set(f.index, packets);
    },
    warning: () => undefined,
  });
  return { sha256: read.sha256, detail };
}

/** How far ahead a packet's copy is looked for on the other side (reordering, losses in between). */
const LOOKAHEAD = 64;

export interface PacketMatch {
  pairs: Array<[PacketRecord, PacketRecord]>;
  /** Seen in `a` only / in `b` only. */
  onlyA: PacketRecord[];
  onlyB: PacketRecord[];
}

/**
 * Pairs the copies of the same packets of one direction of one connection at two vantage points:
 * same flags and length, in order, preferring the same IPv4 identification. Sequence numbers
 * are not compared: a NAT helper that changed a line's length shifts them (that is evidence).
 */
export function matchPackets(a: PacketRecord[], b: PacketRecord[]): PacketMatch {
  const pairs: Array<[PacketRecord, PacketRecord]> = [];
  const onlyA: PacketRecord[] = [];
  const usedB = new Uint8Array(b.length);
  let j = 0;
  for (const p of a) {
    while (j < b.length && usedB[j]) j++;
    let pick = -1;
    for (let k = j; k < Math.min(b.length, j + LOOKAHEAD); k++) {
      if (usedB[k] || b[k].flags !== p.flags || b[k].len !== p.len) continue;
      if (p.ipId === null || b[k].ipId === p.ipId) { pick = k; break; }
      if (pick < 0) pick = k;
    }
    // A segment whose payload a NAT helper rewrote has another length: the next unmatched packet
    // with the same flags and IPv4 identification (or, for IPv6, carrying payload too) is its copy.
    if (pick < 0 && j < b.length && b[j].flags === p.flags && p.len > 0 && b[j].len > 0
      && (p.ipId === null ? b[j].ipId === null : b[j].ipId === p.ipId)) pick = j;
    if (pick < 0) { onlyA.push(p); continue; }
    usedB[pick] = 1;
    pairs.push([p, b[pick]]);
    // Everything skipped on b before the copy stays unmatched unless a later packet of a claims it.
  }
  const onlyB = b.filter((_, k) => !usedB[k]);
  return { pairs, onlyA, onlyB };
}
