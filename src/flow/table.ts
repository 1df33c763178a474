import type { Packet } from '../decode/packet.js';
import { IPPROTO } from '../decode/packet.js';
import { TCP_FLAG, type TcpHeader } from '../decode/tcp.js';
import type { IcmpMessage } from '../decode/icmp.js';
import { communityId } from './community-id.js';
import { parseIp } from '../decode/addr.js';
import type { Ipv4Header } from '../decode/ipv4.js';
import type { Ipv6Header } from '../decode/ipv6.js';
import { DirectionStream, seqDiff, type StreamSink } from './reassembly.js';
import { tcpClosed, type Dir, type Flow, type StreamConsumer } from './flow.js';

export interface FlowHooks {
  /** A new flow: analyzers may attach stream consumers (e.g. FTP on port 21). */
  flowStart(flow: Flow, pkt: Packet): void;
  /** The first payload of one direction: protocol detectors may attach consumers. */
  firstPayload(flow: Flow, dir: Dir, payload: Buffer, pkt: Packet): void;
  flowEnd(flow: Flow): void;
  /** A reassembly buffer hit its cap: a gap was forced. */
  capHit(flow: Flow, dir: Dir, frameNo: number): void;
}

export interface FlowTableOptions {
  /** Out-of-order bytes kept per direction before a gap is forced. */
  maxPendingPerDirection: number;
  /** Capture-time seconds after which an idle flow is ended and handed to the sinks. */
  idleTimeout: number;
  /**
   * Same, for TCP flows already closed (FIN both ways, or RST). Short, as in Zeek (5 s), because
   * a closed connection's state (an FTP session, a TLS connection) waits for its flow to end;
   * a stray packet later than that starts a new flow (one tshark would count in the old one).
   */
  closedTimeout: number;
}

const SCTP = 132;
const DEFAULTS: FlowTableOptions = { maxPendingPerDirection: 1 << 20, idleTimeout: 600, closedTimeout: 10 };
/** The consumer list of a flow nobody reads: shared, and frozen because attach() replaces it rather than pushing. */
const NO_CONSUMERS: StreamConsumer[] = Object.freeze([]) as unknown as StreamConsumer[];
const SWEEP_EVERY = 1 << 15;

/**
 * Bidirectional 5-tuple flows. Flows leave the table when they go idle (capture time) or at the
 * end, so memory follows the number of concurrent flows, not the size of the file.
 */
export class FlowTable {
  private byNum = new Map<number, Flow>();
  private byKey = new Map<string, Flow>();
  private nextIndex = 0;
  private sinceSweep = 0;
  private opts: FlowTableOptions;
  /** Most flows held at once. */
  peakFlows = 0;

  constructor(private hooks: FlowHooks, opts: Partial<FlowTableOptions> = {}) {
    this.opts = { ...DEFAULTS, ...opts };
  }

  get size(): number { return this.byNum.size + this.byKey.size; }

  private *allFlows(): IterableIterator<Flow> {
    // Copies, so ending flows while iterating is safe.
    yield* [...this.byNum.values()];
    yield* [...this.byKey.values()];
  }

  packet(pkt: Packet): void {
    const net = pkt.net;
    if (net === null || net.kind === 'arp') return;
    const t = pkt.transport;
    let sport = 0, dport = 0, proto = net.protocol;
    if (t !== null) {
      if (t.kind === 'tcp' || t.kind === 'udp') { sport = t.srcPort; dport = t.dstPort; }
      else if (t.kind === 'icmp' && t.isError && t.quoted) this.icmpError(pkt, t);
    } else if (proto === IPPROTO.TCP || proto === IPPROTO.UDP) {
      // A non-first fragment or a header cut short carries no ports: counted, not a flow.
      return;
    } else if (proto === SCTP) {
      // SCTP is not decoded further, but its ports (RFC 9260 §3.1: the first 4 bytes) tell its
      // associations apart and are part of the Community ID, as Wireshark computes it.
      const first = net.kind === 'ipv4' ? net.fragmentOffset === 0 : net.fragment === null || net.fragment.offset === 0;
      if (!first || net.payloadEnd - net.payloadOffset < 4) return;
      sport = pkt.frame.data.readUInt16BE(net.payloadOffset);
      dport = pkt.frame.data.readUInt16BE(net.payloadOffset + 2);
    }
    // IPv4 flows are found by a numeric hash of the 5-tuple (no string per packet); the hash is
    // verified against the flow, and IPv6 or colliding flows are filed by their text key.
    let flow: Flow | undefined;
    let numKey = -1;
    if (net.kind === 'ipv4') {
      const a = net.srcNum, b = net.dstNum;
      numKey = tupleHash(proto, a, sport, b, dport);
      const f = this.byNum.get(numKey);
      if (f !== undefined && f.protocol === proto && ((f.srcNum === a && f.srcPort === sport && f.dstNum === b && f.dstPort === dport) || (f.srcNum === b && f.srcPort === dport && f.dstNum === a && f.dstPort === sport))) {
        flow = f;
      } else {
        if (f !== undefined) numKey = -1; // taken by another flow: file this one by text
        if (this.byKey.size > 0) flow = this.byKey.get(flowKey(proto, net.src, sport, net.dst, dport));
      }
    } else {
      flow = this.byKey.get(flowKey(proto, net.src, sport, net.dst, dport));
    }
    const ts = pkt.frame.ts;
    if (t !== null && t.kind === 'tcp' && flow !== undefined && flow.tcp !== null && isNewConnection(flow, t, sameSide(flow, net, sport) ? 0 : 1)) {
      this.end(flow);
      flow = undefined;
      if (net.kind === 'ipv4') {
        const h = tupleHash(proto, net.srcNum, sport, net.dstNum, dport);
        numKey = this.byNum.has(h) ? -1 : h;
      }
    }
    if (flow === undefined) {
      flow = this.create(numKey, proto, net.src, sport, net.dst, dport, pkt);
    }
    const dir: Dir = sameSide(flow, net, sport) ? 0 : 1;
    flow.lastTs = ts;
    flow.lastFrame = pkt.frame.no;
    flow.packets[dir]++;
    flow.bytes[dir] += pkt.frame.origLen;
    if (t !== null && t.kind === 'tcp') this.tcp(flow, dir, t, pkt);
    else if (t !== null && t.kind === 'udp') flow.payloadBytes[dir] += t.payloadLength;
    if (++this.sinceSweep >= SWEEP_EVERY) this.sweep(ts);
  }

  private create(numKey: number, proto: number, src: string, sport: number, dst: string, dport: number, pkt: Packet): Flow {
    const t = pkt.transport;
    // A SYN-ACK first means the SYN was missed: the destination is the initiator.
    const reversed = t !== null && t.kind === 'tcp' && (t.flags & (TCP_FLAG.SYN | TCP_FLAG.ACK)) === (TCP_FLAG.SYN | TCP_FLAG.ACK);
    const [aIp, aPort, bIp, bPort] = reversed ? [dst, dport, src, sport] : [src, sport, dst, dport];
    let cidA = aPort, cidB = bPort;
    if (t !== null && t.kind === 'icmp') { cidA = t.type; cidB = t.code; }
    const net = pkt.net as Ipv4Header | Ipv6Header;
    const v4 = net.kind === 'ipv4';
    const [aNum, bNum] = !v4 ? [-1, -1] : reversed ? [net.dstNum, net.srcNum] : [net.srcNum, net.dstNum];
    // The text key only for flows filed by it: an IPv4 flow's numeric hash is its key.
    const key = numKey === -1 ? flowKey(proto, src, sport, dst, dport) : '';
    const flow: Flow = {
      index: this.nextIndex++, key, srcNum: aNum, dstNum: bNum, numKey, protocol: proto,
      srcIp: aIp, srcPort: aPort, dstIp: bIp, dstPort: bPort,
      firstTs: pkt.frame.ts, lastTs: pkt.frame.ts, firstFrame: pkt.frame.no, lastFrame: pkt.frame.no,
      packets: [0, 0], bytes: [0, 0], payloadBytes: [0, 0],
      tcp: proto === IPPROTO.TCP ? {
        synSeen: false, synFrame: 0, synRetransmissions: 0, synAckSeen: false, synAckFrame: 0,
        rstFrom: -1, rstFrame: 0, handshakeComplete: false, finFrom: [false, false], isn: [-1, -1], baseSeq: [-1, -1], nextSeq: [-1, -1],
      } : null,
      icmpErrors: [],
      communityId: communityId(aIp, bIp, proto, cidA, cidB),
      app: null, consumers: NO_CONSUMERS, streams: null, sinks: null, detected: [false, false], ended: false,
    };
    if (numKey !== -1) this.byNum.set(numKey, flow); else this.byKey.set(key, flow);
    if (this.size > this.peakFlows) this.peakFlows = this.size;
    this.hooks.flowStart(flow, pkt);
    return flow;
  }

  private tcp(flow: Flow, dir: Dir, t: TcpHeader, pkt: Packet): void {
    const s = flow.tcp!;
    const f = t.flags;
    const frameNo = pkt.frame.no;
    if (s.baseSeq[dir] === -1) s.baseSeq[dir] = t.seq;
    if (f & TCP_FLAG.SYN) {
      if (!(f & TCP_FLAG.ACK)) {
        if (s.synSeen && s.isn[dir] === t.seq) s.synRetransmissions++;
        else if (!s.synSeen) { s.synSeen = true; s.synFrame = frameNo; }
      } else if (!s.synAckSeen) {
        s.synAckSeen = true;
        s.synAckFrame = frameNo;
      }
      s.isn[dir] = t.seq;
      flow.streams?.[dir].syn(t.seq);
    } else if ((f & TCP_FLAG.ACK) && dir === 0 && s.synAckSeen && !s.handshakeComplete) {
      s.handshakeComplete = true;
    }
    if (f & TCP_FLAG.RST && s.rstFrom === -1) { s.rstFrom = dir; s.rstFrame = frameNo; }
    const streams0 = flow.streams;
    if (streams0 !== null && (f & TCP_FLAG.ACK)) streams0[dir === 0 ? 1 : 0].acked(t.ack, frameNo);
    if (f & TCP_FLAG.FIN) s.finFrom[dir] = true;
    const len = t.payloadLength;
    flow.payloadBytes[dir] += t.segmentLength;
    if (len > 0 || t.segmentLength > 0) {
      // A view of the payload only for those who read it: most segments (bulk and FTP data
      // connections) have no consumer, and a view per segment was a measurable share of GC.
      let payload: Buffer | null = null;
      if (!flow.detected[dir] && len > 0) {
        flow.detected[dir] = true;
        payload = pkt.frame.data.subarray(t.payloadOffset, t.payloadOffset + len);
        this.hooks.firstPayload(flow, dir, payload, pkt);
      }
      // Data on a SYN (TFO, or hostile) starts after the SYN's own sequence number.
      const seq = f & TCP_FLAG.SYN ? (t.seq + 1) >>> 0 : t.seq;
      const streams = flow.streams;
      if (streams !== null) {
        payload ??= pkt.frame.data.subarray(t.payloadOffset, t.payloadOffset + len);
        streams[dir].segment(seq, payload, frameNo, pkt.frame.ts, t.segmentLength);
        if (streams[dir].capHit) {
          streams[dir].capHit = false;
          this.hooks.capHit(flow, dir, frameNo);
        }
      }
      // After delivery: a consumer attached by firstPayload above must still get this segment.
      const end = (seq + t.segmentLength) >>> 0;
      if (s.nextSeq[dir] === -1 || seqDiff(end, s.nextSeq[dir]) > 0) s.nextSeq[dir] = end;
    } else if (f & TCP_FLAG.SYN && s.nextSeq[dir] === -1) {
      s.nextSeq[dir] = (t.seq + 1) >>> 0;
    }
  }

  /** Ties an ICMP error to the flow whose packet it quotes (e.g. port unreachable for a data SYN). */
  private icmpError(pkt: Packet, icmp: IcmpMessage): void {
    const q = icmp.quoted!;
    const quotedFlow = this.lookup(q.protocol, q.src, Math.max(q.srcPort, 0), q.dst, Math.max(q.dstPort, 0));
    if (!quotedFlow) return;
    const net = pkt.net!;
    quotedFlow.icmpErrors.push({ frame: pkt.frame.no, ts: pkt.frame.ts, reporter: net.kind === 'arp' ? '' : net.src, type: icmp.type, code: icmp.code, version: icmp.version });
  }

  /** Starts reassembly for a flow and subscribes a consumer to both directions. */
  attach(flow: Flow, consumer: StreamConsumer): void {
    // A new array of the exact size: push would reserve 17 slots, per flow, for one or two consumers.
    flow.consumers = [...flow.consumers, consumer];
    if (flow.streams !== null) return;
    const sinkFor = (dir: Dir): StreamSink => ({
      data: (bytes, offset, frameNo, ts) => { for (const c of flow.consumers) c.data(dir, bytes, offset, frameNo, ts); },
      gap: (offset, length, frameNo) => { for (const c of flow.consumers) c.gap(dir, offset, length, frameNo); },
    });
    flow.sinks = [sinkFor(0), sinkFor(1)];
    flow.streams = [new DirectionStream(flow.sinks[0], this.opts.maxPendingPerDirection), new DirectionStream(flow.sinks[1], this.opts.maxPendingPerDirection)];
    const s = flow.tcp;
    if (s) {
      for (const dir of [0, 1] as const) {
        if (s.isn[dir] === -1) continue;
        flow.streams[dir].syn(s.isn[dir]);
        // Bytes that went by before the attach (the other side spoke first) are a gap now:
        // otherwise everything after them would wait in the out-of-order buffer until the end.
        if (s.nextSeq[dir] !== -1) flow.streams[dir].skipTo(s.nextSeq[dir], flow.lastFrame);
      }
    }
  }

  /** Stops feeding a consumer; reassembly stops when nobody is left. */
  detach(flow: Flow, consumer: StreamConsumer): void {
    flow.consumers = flow.consumers.filter((c) => c !== consumer);
    if (flow.consumers.length === 0) { flow.streams = null; flow.sinks = null; }
  }

  /** Flows still open, e.g. for the data-channel matcher's look-ups. */
  lookup(proto: number, src: string, sport: number, dst: string, dport: number): Flow | undefined {
    const byText = this.byKey.get(flowKey(proto, src, sport, dst, dport));
    if (byText !== undefined) return byText;
    const a = parseIp(src), b = parseIp(dst);
    if (a === null || b === null || a.length !== 4 || b.length !== 4) return undefined;
    const an = a.readUInt32BE(0), bn = b.readUInt32BE(0);
    const f = this.byNum.get(tupleHash(proto, an, sport, bn, dport));
    if (f === undefined || f.protocol !== proto) return undefined;
    const fwd = f.srcNum === an && f.srcPort === sport && f.dstNum === bn && f.dstPort === dport;
    const rev = f.srcNum === bn && f.srcPort === dport && f.dstNum === an && f.dstPort === sport;
    return fwd || rev ? f : undefined;
  }

  private end(flow: Flow): void {
    if (flow.ended) return;
    flow.ended = true;
    if (flow.numKey !== -1) this.byNum.delete(flow.numKey); else this.byKey.delete(flow.key);
    if (flow.streams) {
      flow.streams[0].flush(flow.lastFrame);
      flow.streams[1].flush(flow.lastFrame);
    }
    for (const c of flow.consumers) c.end(flow);
    this.hooks.flowEnd(flow);
    // No more bytes come for an ended flow: its reassembly state goes, though sessions and
    // facts may keep the flow itself for its numbers (an FTP session until it is stored).
    flow.streams = null;
    flow.sinks = null;
    flow.consumers = NO_CONSUMERS;
  }

  /**
   * Ends the flows idle at `now` (µs, capture time): the sweep the table runs itself every 32768
   * packets, for callers whose clock moves without packets (live capture).
   */
  expire(now: number): void {
    this.sweep(now);
  }

  private sweep(now: number): void {
    this.sinceSweep = 0;
    const idle = now - this.opts.idleTimeout * 1e6;
    const closed = now - this.opts.closedTimeout * 1e6;
    // Straight over the maps: deleting the entry being visited is safe in a Map iteration, and
    // ending a flow never adds one.
    for (const map of [this.byNum, this.byKey] as Array<Map<unknown, Flow>>) {
      for (const f of map.values()) {
        if (f.lastTs < idle || (f.lastTs < closed && tcpClosed(f))) this.end(f);
      }
    }
  }

  /** End of input: every flow is ended, in order of creation. */
  finish(): void {
    const all = [...this.allFlows()].sort((a, b) => a.index - b.index);
    for (const f of all) this.end(f);
  }
}

/** Direction-independent key: the lower endpoint first. */
export function flowKey(proto: number, src: string, sport: number, dst: string, dport: number): string {
  return src < dst || (src === dst && sport <= dport)
    ? proto + ' ' + src + ' ' + sport + ' ' + dst + ' ' + dport
    : proto + ' ' + dst + ' ' + dport + ' ' + src + ' ' + sport;
}

/**
 * A SYN on a known 5-tuple starts a new connection when it carries another ISN than the one
 * that direction began with (port reuse), or when the flow has finished before that side spoke.
 * Wireshark splits tcp.stream the same way, so flow numbers line up with its streams.
 */
function isNewConnection(flow: Flow, t: TcpHeader, dir: Dir): boolean {
  if ((t.flags & (TCP_FLAG.SYN | TCP_FLAG.ACK)) !== TCP_FLAG.SYN) return false;
  const s = flow.tcp!;
  if (s.baseSeq[dir] !== -1) return s.baseSeq[dir] !== t.seq;
  return tcpClosed(flow);
}

/**
 * Is this packet's source the flow's initiator? Numbers for IPv4, text otherwise: an IPv4
 * header makes its address text only when asked, which the per-packet path never does.
 */
function sameSide(flow: Flow, net: Ipv4Header | Ipv6Header, sport: number): boolean {
  if (flow.srcPort !== sport) return false;
  return net.kind === 'ipv4' && flow.srcNum !== -1 ? flow.srcNum === net.srcNum : flow.srcIp === net.src;
}

/**
 * Direction-independent 30-bit hash of an IPv4 5-tuple. Thirty bits keep it a small integer
 * (a V8 Smi): Map look-ups by it need no boxed number per packet, which a wider key did.
 * Collisions are possible and handled by the caller, which verifies the tuple and files the
 * second flow by its text key.
 */
export function tupleHash(proto: number, a: number, pa: number, b: number, pb: number): number {
  if (a > b || (a === b && pa > pb)) { const t = a; a = b; b = t; const u = pa; pa = pb; pb = u; }
  let h = Math.imul(a ^ 0x5bd1e995, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ b, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ ((pa << 16) | pb), 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ proto, 0x27d4eb2d);
  return (h ^ (h >>> 15)) & 0x3fffffff;
}
