/**
 * The generated NLB / layer-2 captures: what each one contains, frame by frame, and what an
 * analyzer must conclude from it. Expectations are counted while building (frames addressed to
 * the cluster MAC over all frames, and so on), never taken from faultline's output.
 *
 * One segment, 10.20.0.0/24, seen from an observer port (10.20.0.50) that talks to its router
 * (10.20.0.1) once a second. NLB cluster 10.20.0.100 with hosts 10.20.0.11/12/13, priorities
 * 1/2/3; clients on the internet reach the VIP through the router, so their frames carry the
 * router's MAC as source. Heartbeats: one membership heartbeat per host per second, an extended
 * one (host name, dedicated IP) every 10 s; in unicast mode to broadcast from the masked source
 * 02-<priority>-<VIP>, in multicast/IGMP mode to the cluster MAC from the NIC's own MAC
 * (FACTS §1.4; the IGMP-mode destination and the convergence-state values are unsourced).
 * NLB hosts announce the VIP with a gratuitous ARP when they start [our construction].
 */
import {
  clusterMacFor, maskedSourceMac, BROADCAST_MAC, type NlbMode,
} from '../../src/proto/l2/cluster-mac.js';
import {
  encodeExtendedHeartbeat, encodeMembershipHeartbeat, type ExtendedHeartbeatSpec, type MembershipHeartbeatSpec,
} from '../../src/proto/l2/nlb-encode.js';
import {
  arp, ETH_ARP, ETH_IPV4, ethernet, groupMac, icmpEcho, igmpQuery, igmpV2Report, igmpV3Report, mac, prng, tcp,
  TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, udp,
} from './nlb-frames.js';

export const T0 = 1_767_607_200_000_000; // 2026-01-05T10:00:00Z
const S = 1_000_000;

export const VIP = '10.20.0.100';
export const OBSERVER = { ip: '10.20.0.50', mac: mac('00:15:5d:0a:00:50') };
export const ROUTER = { ip: '10.20.0.1', mac: mac('00:1c:73:0a:00:01') };
export const HOSTS = [
  { ip: '10.20.0.11', priority: 1, nic: mac('00:15:5d:0a:00:11'), name: 'WEB-NLB-01.corp.example' },
  { ip: '10.20.0.12', priority: 2, nic: mac('00:15:5d:0a:00:12'), name: 'WEB-NLB-02.corp.example' },
  { ip: '10.20.0.13', priority: 3, nic: mac('00:15:5d:0a:00:13'), name: 'WEB-NLB-03.corp.example' },
];
const CLIENTS = ['198.51.100.23', '203.0.113.40', '198.51.100.77'];
export const L2_CODES = [
  'NLB_CLUSTER_DETECTED', 'NLB_UNICAST_FLOODING', 'NLB_MULTICAST_FLOODING', 'NLB_ARP_MULTICAST_MAC', 'NLB_HEARTBEAT_LOSS',
  'L2_UNKNOWN_UNICAST_FLOODING', 'ARP_DUPLICATE_IP',
];

export interface ExpectedCluster {
  clusterIp: string;
  mode: NlbMode;
  hostCount: number;
  hosts: Array<{ ip: string | null; priority: number }>;
  /** Frames/bytes addressed to the cluster MAC (heartbeats and control frames excluded) over all frames/bytes. */
  floodedShare: { frames: number; bytes: number };
}

export interface ExpectedCapture {
  file: string;
  source: 'generated' | 'lab';
  description: string;
  frames: number;
  clusters: ExpectedCluster[];
  /** Absolute tolerance on every share. */
  shareTolerance: number;
  /** Unknown-unicast frames over unicast frames (NLB cluster MACs excluded). */
  unknownUnicastShare: number;
  /** Hosts whose heartbeats stop ('stopped') or pause beyond 5 periods ('gap'). */
  heartbeatLoss: Array<{ hostIp: string; kind: 'stopped' | 'gap' }>;
  arpConflicts: string[];
  /** Multicast MACs shaped like a cluster MAC that must NOT be taken for one (SSDP). */
  notClusters: string[];
  must: string[];
  mustNot: string[];
}

export type HeartbeatRecord =
  | { frame: number; kind: 'membership'; spec: MembershipHeartbeatSpec }
  | { frame: number; kind: 'extended'; spec: ExtendedHeartbeatSpec };

type Category = 'cluster' | 'unknown' | 'other';

interface Entry { ts: number; data: Buffer; category: Category; heartbeat?: Omit<HeartbeatRecord, 'frame'> }

/** Frames of one capture in the making, with the counts its expectations come from. */
class CaptureBuilder {
  private readonly entries: Entry[] = [];
  private readonly rnd = prng(7);

  add(ts: number, data: Buffer, category: Category = 'other', heartbeat?: Omit<HeartbeatRecord, 'frame'>): void {
    this.entries.push({ ts: Math.round(ts), data, category, heartbeat });
  }

  jitter(us: number): number {
    return Math.round((this.rnd() - 0.5) * 2 * us);
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }

  /** Frames in time order (stable), heartbeats numbered as Wireshark numbers frames. */
  finish(): { frames: Array<{ ts: number; data: Buffer }>; heartbeats: HeartbeatRecord[]; share: (c: Category) => { frames: number; bytes: number }; unicastShare: (c: Category) => number } {
    const sorted = this.entries.map((e, i) => ({ e, i })).sort((a, b) => a.e.ts - b.e.ts || a.i - b.i).map((x) => x.e);
    const heartbeats: HeartbeatRecord[] = [];
    sorted.forEach((e, i) => { if (e.heartbeat) heartbeats.push({ ...e.heartbeat, frame: i + 1 } as HeartbeatRecord); });
    const total = { frames: sorted.length, bytes: sorted.reduce((n, e) => n + e.data.length, 0) };
    const unicast = sorted.filter((e) => (e.data[0] & 1) === 0).length;
    return {
      frames: sorted.map((e) => ({ ts: e.ts, data: e.data })),
      heartbeats,
      share: (c) => {
        const sel = sorted.filter((e) => e.category === c);
        return { frames: sel.length / total.frames, bytes: sel.reduce((n, e) => n + e.data.length, 0) / total.bytes };
      },
      unicastShare: (c) => sorted.filter((e) => e.category === c).length / unicast,
    };
  }
}

/** The observer's own traffic: ARP for its router, then one ping exchange per second. */
function observerTraffic(b: CaptureBuilder, seconds: number): void {
  b.add(T0 + 0.05 * S, ethernet(BROADCAST_MAC, OBSERVER.mac, ETH_ARP, arp({ op: 1, senderMac: OBSERVER.mac, senderIp: OBSERVER.ip, targetMac: 0, targetIp: ROUTER.ip })));
  b.add(T0 + 0.0505 * S, ethernet(OBSERVER.mac, ROUTER.mac, ETH_ARP, arp({ op: 2, senderMac: ROUTER.mac, senderIp: ROUTER.ip, targetMac: OBSERVER.mac, targetIp: OBSERVER.ip })));
  for (let s = 0; s < seconds; s++) {
    const t = T0 + s * S + 0.1 * S;
    b.add(t, ethernet(ROUTER.mac, OBSERVER.mac, ETH_IPV4, icmpEcho(OBSERVER.ip, ROUTER.ip, false, 0x4242, s + 1)));
    b.add(t + 420, ethernet(OBSERVER.mac, ROUTER.mac, ETH_IPV4, icmpEcho(ROUTER.ip, OBSERVER.ip, true, 0x4242, s + 1)));
  }
}

interface HeartbeatPlan {
  mode: NlbMode;
  seconds: number;
  /** Per host: when it beats (µs offsets from T0), default every second. */
  beats?: (hostIndex: number) => number[];
  convergenceAt?: (ts: number) => number;
}

function heartbeats(b: CaptureBuilder, plan: HeartbeatPlan): void {
  HOSTS.forEach((h, i) => {
    const times = plan.beats?.(i) ?? Array.from({ length: plan.seconds }, (_, s) => s * S + 0.3 * S + i * 0.31 * S);
    const src = plan.mode === 'unicast' ? maskedSourceMac(VIP, h.priority) : h.nic;
    let handled = 1_000_000 * (i + 1);
    times.forEach((offset, n) => {
      const ts = T0 + offset + b.jitter(15_000);
      handled += b.int(40, 400);
      const spec: MembershipHeartbeatSpec = {
        clusterIp: VIP, hostIp: h.ip, priority: h.priority, mode: plan.mode, src,
        convergenceState: plan.convergenceAt?.(offset) ?? 1, numberOfPortRules: 2, uniqueHostCode: 0x5eed0000 + h.priority,
        packetsHandled: handled, defaultHostId: 0,
      };
      b.add(ts, encodeMembershipHeartbeat(spec), 'other', { kind: 'membership', spec });
      if (n % 10 === 0) {
        const ext: ExtendedHeartbeatSpec = { clusterIp: VIP, hostIp: h.ip, priority: h.priority, mode: plan.mode, src, hostName: h.name, addresses: [h.ip] };
        b.add(ts + 200, encodeExtendedHeartbeat(ext), 'other', { kind: 'extended', spec: ext });
      }
    });
  });
}

/** Each host announces the VIP once: ARP sender = the cluster MAC, Ethernet source = what it sends from. */
function gratuitousVipArp(b: CaptureBuilder, mode: NlbMode, at: number): void {
  const cmac = clusterMacFor(VIP, mode);
  HOSTS.forEach((h, i) => {
    const src = mode === 'unicast' ? maskedSourceMac(VIP, h.priority) : h.nic;
    b.add(T0 + at + i * 0.1 * S, ethernet(BROADCAST_MAC, src, ETH_ARP, arp({ op: 1, senderMac: cmac, senderIp: VIP, targetMac: 0, targetIp: VIP })));
  });
}

/**
 * Client connections to the VIP as the router forwards them onto the segment: SYN, ACK, request,
 * two ACKs, FIN. Only this direction exists here: the replies leave the cluster towards the
 * router's MAC, which the switch knows, so they never reach this port (FACTS §1.6).
 */
function clientTraffic(b: CaptureBuilder, dstMac: number, seconds: number, perSecond: number, category: Category = 'cluster'): void {
  let port = 50_000;
  for (let s = 0; s < seconds; s++) {
    for (let k = 0; k < perSecond; k++) {
      const client = CLIENTS[(s * perSecond + k) % CLIENTS.length];
      const start = T0 + s * S + (k + 0.5) * (S / perSecond);
      const sport = port++;
      const isn = 0x10000000 + sport * 7919;
      const req = b.int(180, 900);
      const seg = (dt: number, flags: number, seq: number, ack: number, payload = 0): void => {
        b.add(start + dt, ethernet(dstMac, ROUTER.mac, ETH_IPV4, tcp({ src: client, dst: VIP, srcPort: sport, dstPort: 443, seq, ack, flags, ttl: 117 }, Buffer.alloc(payload, 0x17))), category);
      };
      seg(0, TCP_SYN, isn, 0);
      seg(21_000, TCP_ACK, isn + 1, 0x2000_0001);
      seg(21_300, TCP_ACK | TCP_PSH, isn + 1, 0x2000_0001, req);
      seg(45_000, TCP_ACK, isn + 1 + req, 0x2000_0001 + 1460);
      seg(46_000, TCP_ACK, isn + 1 + req, 0x2000_0001 + 4380);
      seg(70_000, TCP_ACK | TCP_FIN, isn + 1 + req, 0x2000_0001 + 5000);
    }
  }
}

/** SSDP M-SEARCH from the observer to 239.255.255.250 (01:00:5e:7f:ff:fa) and its IGMPv3 join: not NLB. */
function ssdp(b: CaptureBuilder, seconds: number): void {
  b.add(T0 + 0.02 * S, ethernet(groupMac('224.0.0.22'), OBSERVER.mac, ETH_IPV4, igmpV3Report(OBSERVER.ip, [{ type: 4, group: '239.255.255.250' }])));
  const search = Buffer.from('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n');
  for (let s = 0; s < seconds; s += 5) {
    b.add(T0 + s * S + 0.7 * S, ethernet(groupMac('239.255.255.250'), OBSERVER.mac, ETH_IPV4, udp(OBSERVER.ip, '239.255.255.250', 51_900, 1900, search, 4)));
  }
}

function cluster(mode: NlbMode, hostCount: number, share: { frames: number; bytes: number }): ExpectedCluster {
  return {
    clusterIp: VIP, mode, hostCount, floodedShare: share,
    hosts: HOSTS.slice(0, hostCount).map((h) => ({ ip: h.ip, priority: h.priority })),
  };
}

const mustNotExcept = (...must: string[]): string[] => L2_CODES.filter((c) => !must.includes(c));

export interface BuiltCapture {
  frames: Array<{ ts: number; data: Buffer }>;
  heartbeats: HeartbeatRecord[];
  expected: ExpectedCapture;
}

export interface GeneratedScenario {
  file: string;
  description: string;
  build(): BuiltCapture;
}

function unicastFlooding(): BuiltCapture {
  const b = new CaptureBuilder();
  const seconds = 30;
  observerTraffic(b, seconds);
  heartbeats(b, { mode: 'unicast', seconds });
  gratuitousVipArp(b, 'unicast', 0.5 * S);
  b.add(T0 + 1.2 * S, ethernet(BROADCAST_MAC, ROUTER.mac, ETH_ARP, arp({ op: 1, senderMac: ROUTER.mac, senderIp: ROUTER.ip, targetMac: 0, targetIp: VIP })));
  clientTraffic(b, clusterMacFor(VIP, 'unicast'), seconds, 2);
  const r = b.finish();
  const must = ['NLB_CLUSTER_DETECTED', 'NLB_UNICAST_FLOODING'];
  return {
    frames: r.frames, heartbeats: r.heartbeats,
    expected: {
      file: 'nlb-unicast-flooding.pcap', source: 'generated', description: SCENARIO_TEXT.unicast, frames: r.frames.length,
      clusters: [cluster('unicast', 3, r.share('cluster'))], shareTolerance: 0.001, unknownUnicastShare: 0,
      heartbeatLoss: [], arpConflicts: [], notClusters: [], must, mustNot: mustNotExcept(...must),
    },
  };
}

function multicastMode(): BuiltCapture {
  const b = new CaptureBuilder();
  const seconds = 30;
  observerTraffic(b, seconds);
  heartbeats(b, { mode: 'multicast', seconds });
  gratuitousVipArp(b, 'multicast', 0.5 * S);
  clientTraffic(b, clusterMacFor(VIP, 'multicast'), seconds, 2);
  const r = b.finish();
  const must = ['NLB_CLUSTER_DETECTED', 'NLB_MULTICAST_FLOODING', 'NLB_ARP_MULTICAST_MAC'];
  return {
    frames: r.frames, heartbeats: r.heartbeats,
    expected: {
      file: 'nlb-multicast.pcap', source: 'generated', description: SCENARIO_TEXT.multicast, frames: r.frames.length,
      clusters: [cluster('multicast', 3, r.share('cluster'))], shareTolerance: 0.001, unknownUnicastShare: 0,
      heartbeatLoss: [], arpConflicts: [], notClusters: [], must, mustNot: mustNotExcept(...must),
    },
  };
}

/** IGMP mode: the hosts join 239.255.0.100 (v2 reports from two, a v3 report from the third). */
function igmpJoins(b: CaptureBuilder, seconds: number): void {
  const group = '239.255.0.100';
  for (let s = 0; s < seconds; s += 10) {
    b.add(T0 + s * S + 0.01 * S, ethernet(groupMac('224.0.0.1'), ROUTER.mac, ETH_IPV4, igmpQuery(ROUTER.ip)));
    HOSTS.forEach((h, i) => {
      const t = T0 + s * S + 0.2 * S + i * 0.05 * S;
      if (i < 2) b.add(t, ethernet(groupMac(group), h.nic, ETH_IPV4, igmpV2Report(h.ip, group)));
      else b.add(t, ethernet(groupMac('224.0.0.22'), h.nic, ETH_IPV4, igmpV3Report(h.ip, [{ type: 4, group }])));
    });
  }
}

function igmpFlooded(): BuiltCapture {
  const b = new CaptureBuilder();
  const seconds = 30;
  observerTraffic(b, seconds);
  ssdp(b, seconds);
  igmpJoins(b, seconds);
  heartbeats(b, { mode: 'igmp', seconds });
  gratuitousVipArp(b, 'igmp', 0.5 * S);
  clientTraffic(b, clusterMacFor(VIP, 'igmp'), seconds, 2);
  const r = b.finish();
  const must = ['NLB_CLUSTER_DETECTED', 'NLB_MULTICAST_FLOODING', 'NLB_ARP_MULTICAST_MAC'];
  return {
    frames: r.frames, heartbeats: r.heartbeats,
    expected: {
      file: 'nlb-igmp-flooded.pcap', source: 'generated', description: SCENARIO_TEXT.igmpFlooded, frames: r.frames.length,
      clusters: [cluster('igmp', 3, r.share('cluster'))], shareTolerance: 0.001, unknownUnicastShare: 0,
      heartbeatLoss: [], arpConflicts: [], notClusters: ['01:00:5e:7f:ff:fa'], must, mustNot: mustNotExcept(...must),
    },
  };
}

function igmpSnooped(): BuiltCapture {
  const b = new CaptureBuilder();
  const seconds = 20;
  observerTraffic(b, seconds);
  ssdp(b, seconds);
  for (let s = 0; s < seconds; s += 10) b.add(T0 + s * S + 0.01 * S, ethernet(groupMac('224.0.0.1'), ROUTER.mac, ETH_IPV4, igmpQuery(ROUTER.ip)));
  gratuitousVipArp(b, 'igmp', 0.5 * S);
  const r = b.finish();
  const must = ['NLB_CLUSTER_DETECTED', 'NLB_ARP_MULTICAST_MAC'];
  return {
    frames: r.frames, heartbeats: r.heartbeats,
    expected: {
      file: 'nlb-igmp-snooped.pcap', source: 'generated', description: SCENARIO_TEXT.igmpSnooped, frames: r.frames.length,
      clusters: [{ ...cluster('igmp', 0, { frames: 0, bytes: 0 }) }], shareTolerance: 0.001, unknownUnicastShare: 0,
      heartbeatLoss: [], arpConflicts: [], notClusters: ['01:00:5e:7f:ff:fa'], must, mustNot: mustNotExcept(...must),
    },
  };
}

function heartbeatLoss(): BuiltCapture {
  const b = new CaptureBuilder();
  const seconds = 40;
  observerTraffic(b, seconds);
  // Host 2 dies after its beat at ~14.6 s; the others notice 5 periods later and reconverge with
  // the period halved for 3 s. Host 3 skips seconds 25–32 (9 s between beats, 8 missed: beyond
  // 5 periods) and comes back; host 1 misses the beat of second 8 (2 s apart: within tolerance).
  const converging = (t: number): boolean => t >= 20 * S && t < 23 * S;
  const beats = (i: number): number[] => {
    const out: number[] = [];
    for (let s = 0; s < seconds; s++) {
      const t = s * S + 0.3 * S + i * 0.31 * S;
      if (i === 1 && s >= 15) break;
      if (i === 2 && s >= 25 && s < 33) continue;
      if (i === 0 && s === 8) continue;
      out.push(t);
      if ((i === 0 || i === 2) && converging(t)) out.push(t + 0.5 * S);
    }
    return out;
  };
  heartbeats(b, { mode: 'unicast', seconds, beats, convergenceAt: (t) => (converging(t) ? 2 : 1) });
  gratuitousVipArp(b, 'unicast', 0.5 * S);
  const r = b.finish();
  const must = ['NLB_CLUSTER_DETECTED', 'NLB_HEARTBEAT_LOSS'];
  return {
    frames: r.frames, heartbeats: r.heartbeats,
    expected: {
      file: 'nlb-heartbeat-loss.pcap', source: 'generated', description: SCENARIO_TEXT.loss, frames: r.frames.length,
      clusters: [cluster('unicast', 3, { frames: 0, bytes: 0 })], shareTolerance: 0.001, unknownUnicastShare: 0,
      heartbeatLoss: [{ hostIp: '10.20.0.12', kind: 'stopped' }, { hostIp: '10.20.0.13', kind: 'gap' }],
      arpConflicts: [], notClusters: [], must, mustNot: mustNotExcept(...must),
    },
  };
}

function cleanPort(): BuiltCapture {
  const b = new CaptureBuilder();
  const seconds = 30;
  observerTraffic(b, seconds);
  ssdp(b, seconds);
  // Announce itself, then fetch from a server behind the router: both directions pass this port.
  b.add(T0 + 0.01 * S, ethernet(BROADCAST_MAC, OBSERVER.mac, ETH_ARP, arp({ op: 1, senderMac: OBSERVER.mac, senderIp: OBSERVER.ip, targetMac: 0, targetIp: OBSERVER.ip })));
  webSession(b, ROUTER.mac, 2 * S, 40);
  const r = b.finish();
  return {
    frames: r.frames, heartbeats: r.heartbeats,
    expected: {
      file: 'l2-clean-port.pcap', source: 'generated', description: SCENARIO_TEXT.clean, frames: r.frames.length,
      clusters: [], shareTolerance: 0.001, unknownUnicastShare: 0, heartbeatLoss: [], arpConflicts: [],
      notClusters: ['01:00:5e:7f:ff:fa'], must: [], mustNot: [...L2_CODES],
    },
  };
}

/** The observer downloads from 192.0.2.10 through the gateway MAC `via`; the router answers from its own MAC. */
function webSession(b: CaptureBuilder, via: number, at: number, segments: number): void {
  const server = '192.0.2.10';
  const c = (dt: number, flags: number, seq: number, ack: number, len = 0): void => {
    b.add(T0 + at + dt, ethernet(via, OBSERVER.mac, ETH_IPV4, tcp({ src: OBSERVER.ip, dst: server, srcPort: 40_000, dstPort: 80, seq, ack, flags }, Buffer.alloc(len, 0x41))));
  };
  const s = (dt: number, flags: number, seq: number, ack: number, len = 0): void => {
    b.add(T0 + at + dt, ethernet(OBSERVER.mac, ROUTER.mac, ETH_IPV4, tcp({ src: server, dst: OBSERVER.ip, srcPort: 80, dstPort: 40_000, seq, ack, flags, ttl: 58 }, Buffer.alloc(len, 0x42))));
  };
  c(0, TCP_SYN, 1000, 0);
  s(12_000, TCP_SYN | TCP_ACK, 9000, 1001);
  c(12_200, TCP_ACK, 1001, 9001);
  c(12_400, TCP_ACK | TCP_PSH, 1001, 9001, 120);
  for (let i = 0; i < segments; i++) {
    s(25_000 + i * 300, TCP_ACK, 9001 + i * 1460, 1121, 1460);
    if (i % 2 === 1) c(25_100 + i * 300, TCP_ACK, 1121, 9001 + (i + 1) * 1460);
  }
  c(40_000 + segments * 300, TCP_ACK | TCP_FIN, 1121, 9001 + segments * 1460);
  s(52_000 + segments * 300, TCP_ACK | TCP_FIN, 9001 + segments * 1460, 1122);
  c(52_200 + segments * 300, TCP_ACK, 1122, 9002 + segments * 1460);
}

function arpDuplicate(): BuiltCapture {
  const b = new CaptureBuilder();
  const seconds = 30;
  observerTraffic(b, seconds);
  // 10.20.0.77 is answered by two machines whenever the observer asks: a duplicate address.
  const dupA = mac('00:0c:29:aa:00:77'), dupB = mac('00:0c:29:bb:00:77');
  for (const s of [2, 12, 22]) {
    const t = T0 + s * S;
    b.add(t, ethernet(BROADCAST_MAC, OBSERVER.mac, ETH_ARP, arp({ op: 1, senderMac: OBSERVER.mac, senderIp: OBSERVER.ip, targetMac: 0, targetIp: '10.20.0.77' })));
    b.add(t + 300, ethernet(OBSERVER.mac, dupA, ETH_ARP, arp({ op: 2, senderMac: dupA, senderIp: '10.20.0.77', targetMac: OBSERVER.mac, targetIp: OBSERVER.ip })));
    b.add(t + 700, ethernet(OBSERVER.mac, dupB, ETH_ARP, arp({ op: 2, senderMac: dupB, senderIp: '10.20.0.77', targetMac: OBSERVER.mac, targetIp: OBSERVER.ip })));
  }
  // A unicast NLB cluster's ARP: every host answers for the VIP with 02-BF from its masked source,
  // and binds its dedicated IP to the cluster MAC too. NLB at work, not duplicate addresses.
  heartbeats(b, { mode: 'unicast', seconds });
  gratuitousVipArp(b, 'unicast', 0.5 * S);
  HOSTS.forEach((h, i) => {
    b.add(T0 + 0.9 * S + i * 0.1 * S, ethernet(BROADCAST_MAC, maskedSourceMac(VIP, h.priority), ETH_ARP,
      arp({ op: 1, senderMac: clusterMacFor(VIP, 'unicast'), senderIp: h.ip, targetMac: 0, targetIp: h.ip })));
  });
  // A backup stream to a receiver that never transmits (its MAC aged out of the switch table):
  // 10 frames a second flooded here.
  const sender = mac('00:0c:29:cc:00:60'), silent = mac('00:0c:29:dd:00:61');
  b.add(T0 + 0.03 * S, ethernet(BROADCAST_MAC, sender, ETH_ARP, arp({ op: 1, senderMac: sender, senderIp: '10.20.0.60', targetMac: 0, targetIp: '10.20.0.60' })));
  for (let s = 0; s < seconds; s++) {
    for (let k = 0; k < 10; k++) {
      b.add(T0 + s * S + k * 0.1 * S + 0.05 * S, ethernet(silent, sender, ETH_IPV4, udp('10.20.0.60', '10.20.0.61', 40_514, 514, Buffer.alloc(b.int(400, 1400), 0x2e))), 'unknown');
    }
  }
  // The observer's gateway answers from its physical MAC while the observer sends to the VRRP
  // virtual MAC (00:00:5e:00:01:01), which never appears as a source: answered, so not a flood.
  webSession(b, mac('00:00:5e:00:01:01'), 3 * S, 20);
  const r = b.finish();
  const must = ['NLB_CLUSTER_DETECTED', 'ARP_DUPLICATE_IP', 'L2_UNKNOWN_UNICAST_FLOODING'];
  return {
    frames: r.frames, heartbeats: r.heartbeats,
    expected: {
      file: 'l2-arp-duplicate.pcap', source: 'generated', description: SCENARIO_TEXT.arp, frames: r.frames.length,
      clusters: [cluster('unicast', 3, { frames: 0, bytes: 0 })], shareTolerance: 0.001,
      unknownUnicastShare: r.unicastShare('unknown'),
      heartbeatLoss: [], arpConflicts: ['10.20.0.77'], notClusters: [], must, mustNot: mustNotExcept(...must),
    },
  };
}

const SCENARIO_TEXT = {
  unicast: 'Unicast-mode NLB seen from a port with no cluster host: 3 hosts heartbeat to broadcast from masked sources 02-0h-0a-14-00-64, announce the VIP with ARP (sender 02:bf:0a:14:00:64, Ethernet source masked), and client connections forwarded by the router to 02:bf:0a:14:00:64 are flooded here (2 connections of 6 frames a second, 30 s). The observer pings its router once a second.',
  multicast: 'Multicast-mode NLB: heartbeats and client traffic go to 03:bf:0a:14:00:64, ARP binds the VIP to that multicast MAC, no IGMP exists; the client traffic floods to this non-member port.',
  igmpFlooded: 'IGMP-mode NLB: the hosts join 239.255.0.100 (IGMPv2 and v3 reports, router queries), ARP binds the VIP to 01:00:5e:7f:00:64, and client traffic to that MAC still reaches this non-member port, as on switches that flood IGMP-mode NLB traffic despite the joins (Cisco documents this for Catalyst 9000). The observer also sends SSDP to 239.255.255.250 (01:00:5e:7f:ff:fa), which is not NLB.',
  igmpSnooped: 'IGMP-mode NLB behind working snooping: this port sees only the hosts\' broadcast ARP for the VIP (01:00:5e:7f:00:64) and the router\'s queries; no heartbeat or cluster traffic reaches it. Plus SSDP from the observer.',
  loss: 'Unicast-mode NLB, 40 s, no client traffic: host 10.20.0.12 stops after ~15 s, host 10.20.0.13 skips seconds 25–32 (a 9 s interval) and returns, host 10.20.0.11 misses one beat at 8 s (within tolerance); the survivors beat every 0.5 s for 3 s while reconverging (convergence state 2, an arbitrary value).',
  clean: 'A healthy access port: the observer\'s ARP, pings and a web download through its router, SSDP to 239.255.255.250 with its IGMPv3 join. No NLB, no flooding, no conflicts.',
  arp: 'ARP trouble: 10.20.0.77 answered by 00:0c:29:aa:00:77 and 00:0c:29:bb:00:77 each time the observer asks (3 times); a unicast NLB cluster whose hosts all claim the VIP with 02:bf:… (not a duplicate); a one-way backup stream from 10.20.0.60 to 10.20.0.61, whose MAC never sends, flooded here (10 frames/s); and a download through a VRRP virtual MAC that is answered from the router\'s own MAC (not a flood).',
};

export const GENERATED: GeneratedScenario[] = [
  { file: 'nlb-unicast-flooding.pcap', description: SCENARIO_TEXT.unicast, build: unicastFlooding },
  { file: 'nlb-multicast.pcap', description: SCENARIO_TEXT.multicast, build: multicastMode },
  { file: 'nlb-igmp-flooded.pcap', description: SCENARIO_TEXT.igmpFlooded, build: igmpFlooded },
  { file: 'nlb-igmp-snooped.pcap', description: SCENARIO_TEXT.igmpSnooped, build: igmpSnooped },
  { file: 'nlb-heartbeat-loss.pcap', description: SCENARIO_TEXT.loss, build: heartbeatLoss },
  { file: 'l2-clean-port.pcap', description: SCENARIO_TEXT.clean, build: cleanPort },
  { file: 'l2-arp-duplicate.pcap', description: SCENARIO_TEXT.arp, build: arpDuplicate },
];
