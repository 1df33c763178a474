/**
 * What reached the capturing port at layer 2, second by second. A switch forwards a unicast
 * frame only to the port where it learned the destination as a source; a frame for a MAC it
 * never learned is flooded to every port of the VLAN. Seen from one port: the stations here
 * are the MACs that send; a unicast destination that never sends anything in the whole
 * capture was flooded to us (FACTS §1.2, §1.6). NLB cluster MACs (02-BF-…, 03-BF-…,
 * 01-00-5E-7F-…) are tallied whatever they do, so the cluster inference can claim them.
 *
 * Runs on every frame: numbers and number-keyed Maps only, the last source/destination cached,
 * nothing formatted. Memory is bounded by the caps below; hitting one is recorded in `limits`.
 * VLANs are not told apart: a MAC that sends on any VLAN of a trunk counts as present.
 */

/** Distinct source MACs remembered (a port with more is a trunk or a mirror). */
const MAX_SOURCES = 65_536;
/** Distinct destinations tallied while unexplained; later ones share one overflow tally. */
const MAX_TALLIES = 4_096;
/** Distinct seconds counted (a day); later seconds share one overflow bucket. */
const MAX_SECONDS = 86_400;
/** Per-second cells across all tallies. */
const MAX_TALLY_CELLS = 500_000;
/** Addresses listed per tally. */
const MAX_ADDRESSES = 64;
/** IP conversations remembered per tally, to find the ones answered on this port. */
const MAX_PAIRS = 16;
const SAMPLE_FRAMES = 20;

export const DST_PLAIN = 0;
export const DST_NLB_UNICAST = 1;
export const DST_NLB_MULTICAST = 2;
export const DST_NLB_IGMP = 3;

/** The cluster-MAC shape of a destination: 02-BF-…, 03-BF-…, 01-00-5E-7F-… or none. */
export function clusterShape(mac: number): number {
  const top32 = Math.floor(mac / 65536);
  const top16 = top32 >>> 16;
  if (top16 === 0x02bf) return DST_NLB_UNICAST;
  if (top16 === 0x03bf) return DST_NLB_MULTICAST;
  if (top32 === 0x01005e7f) return DST_NLB_IGMP;
  return DST_PLAIN;
}

/** Everything that reached the port in one second. */
export class SecondBucket {
  frames = 0;
  bytes = 0;
  unicastFrames = 0;
  unicastBytes = 0;
  constructor(readonly second: number) {}
}

/** A MAC that sent on this port (a snapshot, built on request at the end). */
export interface SourceStation {
  mac: number;
  firstFrame: number;
  /** Every frame it sent. */
  frames: number;
  /** Unicast frames it sent that were neither ARP nor NLB heartbeats. */
  unicastFrames: number;
  firstUnicastFrames: number[];
  /** Unicast frames were addressed to it here: a two-way station of this port's conversations. */
  receivesUnicast: boolean;
}

/** Frames to one destination not (yet) known as a source, or shaped like a cluster MAC. */
export class DestinationTally {
  frames = 0;
  bytes = 0;
  firstFrame = 0;
  lastFrame = 0;
  firstTs = 0;
  lastTs = 0;
  sampleFrames: number[] = [];
  /** second → [frames, bytes] */
  readonly perSecond = new Map<number, number[]>();
  readonly srcMacs = new Map<number, number>();
  readonly srcIps = new Map<string, number>();
  readonly dstIps = new Map<string, number>();
  /** IPv4 frames whose destination is a unicast / group address. */
  unicastIpFrames = 0;
  multicastIpFrames = 0;
  /** Source IP → destination IP → frames; conversations answered on this port are not floods. */
  readonly pairs = new Map<string, Map<string, number>>();
  private pairCount = 0;
  private cellSecond = -1;
  private cell: number[] | null = null;

  constructor(readonly mac: number, readonly shape: number) {}

  add(meter: FloodMeter, no: number, ts: number, sec: number, len: number, src: number, ip: IpPair | null): void {
    if (this.frames === 0) { this.firstFrame = no; this.firstTs = ts; }
    this.frames++;
    this.bytes += len;
    this.lastFrame = no;
    this.lastTs = ts;
    if (this.sampleFrames.length < SAMPLE_FRAMES) this.sampleFrames.push(no);
    if (sec !== this.cellSecond) {
      this.cellSecond = sec;
      this.cell = this.perSecond.get(sec) ?? null;
      if (this.cell === null && meter.takeCell()) {
        this.cell = [0, 0];
        this.perSecond.set(sec, this.cell);
      }
    }
    if (this.cell !== null) { this.cell[0]++; this.cell[1] += len; }
    bump(this.srcMacs, src);
    if (ip === null) return;
    // Address text only here, for the few frames tallied (the decoder makes it on first use).
    const srcIp = ip.src, dstIp = ip.dst;
    bump(this.srcIps, srcIp);
    bump(this.dstIps, dstIp);
    if (ip.kind === 'ipv4') {
      if (isUnicastIpv4(dstIp)) this.unicastIpFrames++; else this.multicastIpFrames++;
    }
    let toDst = this.pairs.get(srcIp);
    if (toDst === undefined) {
      if (this.pairCount >= MAX_PAIRS) return;
      toDst = new Map();
      this.pairs.set(srcIp, toDst);
    }
    const n = toDst.get(dstIp);
    if (n !== undefined) toDst.set(dstIp, n + 1);
    else if (this.pairCount < MAX_PAIRS) {
      this.pairCount++;
      toDst.set(dstIp, 1);
      meter.wantPair(srcIp, dstIp);
    }
  }

  /** Frames of conversations that were answered on this port (reply direction seen). */
  answeredFrames(meter: FloodMeter): number {
    let n = 0;
    for (const [src, toDst] of this.pairs) {
      const answered = meter.answered.get(src);
      if (answered === undefined) continue;
      for (const [dst, frames] of toDst) if (answered.has(dst)) n += frames;
    }
    return n;
  }
}

function bump<K>(m: Map<K, number>, k: K): void {
  const n = m.get(k);
  if (n !== undefined) m.set(k, n + 1);
  else if (m.size < MAX_ADDRESSES) m.set(k, 1);
}

/** Dotted quad below 224.0.0.0 and not 0.0.0.0 (class D/E and broadcast are not one host). */
export function isUnicastIpv4(ip: string): boolean {
  const dot = ip.indexOf('.');
  const first = Number(ip.slice(0, dot));
  return first > 0 && first < 224;
}

export interface FrameView {
  no: number;
  ts: number;
  len: number;
  src: number;
  dst: number;
  /**
   * ARP, NLB heartbeat or IGMP: control traffic, kept out of the cluster-traffic tallies (IGMP-mode
   * joins are addressed to the cluster MAC itself) and out of the member evidence.
   */
  control: boolean;
  /**
   * The IP header when the frame carries IP. Its address text is read only for frames tallied:
   * formatting two addresses for every frame was a fifth of what a run allocated.
   */
  ip: IpPair | null;
}

/** What the meter reads of an IP header (the decoders' Ipv4Header and Ipv6Header are ones). */
export interface IpPair {
  readonly kind: 'ipv4' | 'ipv6';
  readonly src: string;
  readonly dst: string;
}

/**
 * Sources are numbered in order of appearance and their counters live in typed arrays: MACs are
 * 48-bit numbers, which V8 keeps as heap numbers, and a Map lookup on those plus a scattered
 * station object cost more than the rest of a frame's accounting. A direct-mapped cache (slot =
 * the MAC's low 13 bits) sits in front of the Map; it holds only numbered stations or refusals
 * (-1), so the two never disagree.
 */
const CACHE_SLOTS = 8192;
const REFUSED = -1;
const NOT_CACHED = -2;

export class FloodMeter {
  private readonly index = new Map<number, number>();
  private readonly macs: number[] = [];
  private readonly firstFrames: number[] = [];
  private readonly frameCounts = new Float64Array(MAX_SOURCES);
  private readonly unicastCounts = new Float64Array(MAX_SOURCES);
  private readonly receives = new Uint8Array(MAX_SOURCES);
  private readonly unicastSamples: number[][] = [];
  private readonly cacheKeys = new Float64Array(CACHE_SLOTS).fill(-1);
  private readonly cacheIds = new Int32Array(CACHE_SLOTS);
  readonly tallies = new Map<number, DestinationTally>();
  readonly seconds = new Map<number, SecondBucket>();
  frames = 0;
  bytes = 0;
  unicastFrames = 0;
  unicastBytes = 0;
  /** Frames to destinations beyond MAX_TALLIES (unicast, unresolvable). */
  readonly overflow = new DestinationTally(-1, DST_PLAIN);
  readonly limits = new Set<string>();
  /** Source IP → destination IPs of conversations tallied frames belong to, and those seen going both ways. */
  readonly wantedPairs = new Map<string, Set<string>>();
  readonly answered = new Map<string, Set<string>>();
  private cells = 0;
  private curSecond = -1;
  private cur: SecondBucket | null = null;
  private overflowSecond: SecondBucket | null = null;
  private lastSrc = -1;
  private lastId = REFUSED;
  private lastKnownDst = -1;
  private lastTallyMac = -1;
  private lastTally: DestinationTally | null = null;

  observe(v: FrameView): void {
    const len = v.len;
    this.frames++;
    this.bytes += len;
    const sec = Math.floor(v.ts / 1e6);
    let b = this.cur;
    if (sec !== this.curSecond || b === null) b = this.bucket(sec);
    b.frames++;
    b.bytes += len;

    const dst = v.dst;
    const top32 = Math.floor(dst / 65536);
    const top16 = top32 >>> 16;
    const group = (top16 >>> 8) & 1;

    const src = v.src;
    let id = this.lastId;
    if (src !== this.lastSrc) {
      id = this.cached(src);
      if (id === NOT_CACHED) {
        id = this.index.get(src) ?? this.addSource(src, v.no);
        this.cache(src, id);
      }
      this.lastSrc = src;
      this.lastId = id;
    }
    if (id >= 0) this.frameCounts[id]++;
    if (group === 1) {
      // Broadcast and ordinary multicast are flooded by design; only cluster shapes matter.
      if (!v.control && (top16 === 0x03bf || top32 === 0x01005e7f)) this.tally(dst, v, sec);
      return;
    }
    this.unicastFrames++;
    this.unicastBytes += len;
    b.unicastFrames++;
    b.unicastBytes += len;
    if (id >= 0 && !v.control) {
      if (this.unicastCounts[id]++ < SAMPLE_FRAMES) this.unicastSamples[id].push(v.no);
    }
    if (top16 !== 0x02bf) {
      if (dst === this.lastKnownDst) return;
      let known = this.cached(dst);
      if (known === NOT_CACHED) {
        known = this.index.get(dst) ?? REFUSED;
        if (known >= 0) this.cache(dst, known);
      }
      if (known >= 0) { this.receives[known] = 1; this.lastKnownDst = dst; return; }
    } else if (v.control) {
      return;
    }
    this.tally(dst, v, sec);
  }

  /** Whether the MAC sent anything on this port (decides, at the end, which tallies were flooded). */
  isKnownSource(mac: number): boolean {
    return this.index.has(mac);
  }

  /** A destination that turned out to send too: it received unicast here (before it first sent). */
  markReceives(mac: number): void {
    const id = this.index.get(mac);
    if (id !== undefined) this.receives[id] = 1;
  }

  get sourceCount(): number {
    return this.macs.length;
  }

  twoWayStations(): number {
    let n = 0;
    for (let i = 0; i < this.macs.length; i++) n += this.receives[i];
    return n;
  }

  station(mac: number): SourceStation | undefined {
    const id = this.index.get(mac);
    return id === undefined ? undefined : this.snapshot(id);
  }

  /** Sources whose MAC satisfies `want` (checked on the number, before any snapshot is built). */
  stations(want: (mac: number) => boolean): SourceStation[] {
    const out: SourceStation[] = [];
    for (let i = 0; i < this.macs.length; i++) if (want(this.macs[i])) out.push(this.snapshot(i));
    return out;
  }

  private snapshot(id: number): SourceStation {
    return {
      mac: this.macs[id], firstFrame: this.firstFrames[id], frames: this.frameCounts[id], unicastFrames: this.unicastCounts[id],
      firstUnicastFrames: this.unicastSamples[id], receivesUnicast: this.receives[id] === 1,
    };
  }

  private cached(mac: number): number {
    const i = (mac | 0) & (CACHE_SLOTS - 1);
    return this.cacheKeys[i] === mac ? this.cacheIds[i] : NOT_CACHED;
  }

  private cache(mac: number, id: number): void {
    const i = (mac | 0) & (CACHE_SLOTS - 1);
    this.cacheKeys[i] = mac;
    this.cacheIds[i] = id;
  }

  wantPair(src: string, dst: string): void {
    let set = this.wantedPairs.get(src);
    if (set === undefined) { set = new Set(); this.wantedPairs.set(src, set); }
    set.add(dst);
  }

  /**
   * A flow with packets both ways: if frames of it went to an unexplained destination, that
   * destination is a station we talk to through another MAC (a router's virtual MAC, say),
   * not a flood: flooded conversations are never answered on the port they flood to.
   */
  flowBothWays(a: string, b: string): void {
    if (this.wantedPairs.size === 0) return;
    if (this.wantedPairs.get(a)?.has(b)) this.markAnswered(a, b);
    if (this.wantedPairs.get(b)?.has(a)) this.markAnswered(b, a);
  }

  private markAnswered(src: string, dst: string): void {
    let set = this.answered.get(src);
    if (set === undefined) { set = new Set(); this.answered.set(src, set); }
    set.add(dst);
  }

  takeCell(): boolean {
    if (this.cells >= MAX_TALLY_CELLS) { this.limits.add(`per-second flood detail stops after ${MAX_TALLY_CELLS} cells`); return false; }
    this.cells++;
    return true;
  }

  private tally(dst: number, v: FrameView, sec: number): void {
    let t = this.lastTally;
    if (dst !== this.lastTallyMac || t === null) {
      t = this.tallies.get(dst) ?? null;
      if (t === null) {
        if (this.tallies.size >= MAX_TALLIES) {
          this.limits.add(`more than ${MAX_TALLIES} unexplained destinations: the rest are counted together as unknown unicast`);
          t = this.overflow;
        } else {
          t = new DestinationTally(dst, clusterShape(dst));
          this.tallies.set(dst, t);
        }
      }
      this.lastTallyMac = dst;
      this.lastTally = t;
    }
    t.add(this, v.no, v.ts, sec, v.len, v.src, v.ip);
  }

  private addSource(mac: number, no: number): number {
    // A group address as source is invalid Ethernet; SLL-style captures give -1.
    if (mac < 0 || ((Math.floor(mac / 0x100_0000_0000) & 1) === 1)) return REFUSED;
    if (this.macs.length >= MAX_SOURCES) {
      this.limits.add(`more than ${MAX_SOURCES} source MACs: later ones are not remembered, so frames to them may count as flooded`);
      return REFUSED;
    }
    const id = this.macs.length;
    this.macs.push(mac);
    this.firstFrames.push(no);
    this.unicastSamples.push([]);
    this.index.set(mac, id);
    return id;
  }

  private bucket(sec: number): SecondBucket {
    let b = this.seconds.get(sec);
    if (b === undefined) {
      if (this.seconds.size >= MAX_SECONDS) {
        this.limits.add(`more than ${MAX_SECONDS} distinct seconds: later ones are counted in one bucket`);
        b = this.overflowSecond ??= new SecondBucket(sec);
      } else {
        b = new SecondBucket(sec);
        this.seconds.set(sec, b);
      }
    }
    this.curSecond = sec;
    this.cur = b;
    return b;
  }
}
