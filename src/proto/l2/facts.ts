/**
 * Layer-2 facts: NLB heartbeats and clusters, ARP bindings, IGMP memberships and what was
 * flooded to the capturing port, as the analyzer leaves them at the end of a capture, the store
 * writes them and the rules read them. MACs are lower-case colon text; times are µs.
 */
import type { NlbMode } from './cluster-mac.js';
import type { NlbTeaming } from './nlb.js';

/** A stretch of heartbeats from one host without a missed period. */
export interface HeartbeatRun {
  firstFrame: number;
  lastFrame: number;
  firstTs: number;
  lastTs: number;
  heartbeats: number;
}

/** Silence between two heartbeats of one host longer than 1.5 periods (at least one missed). */
export interface HeartbeatGap {
  afterFrame: number;
  beforeFrame: number;
  fromTs: number;
  toTs: number;
  seconds: number;
  /** Heartbeats that should have come in between, at the cluster's period. */
  missed: number;
  /** Longer than the tolerance (5 periods): the other hosts declare this one dead and reconverge. */
  beyondTolerance: boolean;
}

export interface ConvergenceChange {
  frame: number;
  ts: number;
  state: number;
}

/** One NLB host as its heartbeats (and, failing those, its masked source MAC) show it. */
export interface NlbHostFact {
  clusterIp: string;
  /** Unique host id = host priority, 1..32 (the number in the masked source MAC). */
  priority: number;
  /** Dedicated IP from the heartbeats; null when only a masked source MAC revealed the host. */
  hostIp: string | null;
  hostName: string | null;
  /** Addresses listed in extended heartbeats. */
  addresses: string[];
  source: 'heartbeat' | 'masked-source';
  /** Zero-based "My Host id" of the last membership heartbeat. */
  myHostId: number | null;
  defaultHostId: number | null;
  version: string | null;
  versionRaw: number | null;
  heartbeats: number;
  extendedHeartbeats: number;
  /** Heartbeats cut by the snaplen (still proof the host was alive). */
  truncatedHeartbeats: number;
  firstFrame: number;
  lastFrame: number;
  firstTs: number;
  lastTs: number;
  convergence: ConvergenceChange[];
  portRules: number | null;
  uniqueHostCode: number | null;
  packetsHandledFirst: number | null;
  packetsHandledLast: number | null;
  teaming: NlbTeaming | null;
  srcMacs: string[];
  dstMacs: string[];
  /** 02-<priority>-<cluster IP>, with the frames that carried it as source. */
  maskedMac: string;
  maskedFrames: number;
  vlans: number[];
  timeline: HeartbeatRun[];
  gaps: HeartbeatGap[];
  /** The host's heartbeats ended more than the tolerance before the capture did. */
  stopped: { lastTs: number; silentSeconds: number; captureEndTs: number } | null;
}

/** One second in which frames were flooded to this port. */
export interface FloodSecond {
  /** Epoch seconds. */
  second: number;
  /** Flooded frames/bytes of that kind in that second. */
  frames: number;
  bytes: number;
  /** Everything the port saw in that second (frames with an Ethernet destination). */
  totalFrames: number;
  totalBytes: number;
}

export interface FloodPeak {
  second: number;
  frames: number;
  bytes: number;
  shareFrames: number;
  shareBytes: number;
}

/** Frames that reached the port although no station here owns their destination. */
export interface FloodFact {
  frames: number;
  bytes: number;
  /** Of all frames / bytes with an Ethernet destination on this port. */
  shareFrames: number;
  shareBytes: number;
  /** Of the unicast frames on this port; null for group-addressed (multicast-mode) traffic. */
  shareUnicastFrames: number | null;
  firstFrame: number | null;
  lastFrame: number | null;
  firstTs: number | null;
  sampleFrames: number[];
  peak: FloodPeak | null;
  perSecond: FloodSecond[];
}

export interface CountedAddress {
  address: string;
  frames: number;
}

export interface NlbClusterFact {
  clusterIp: string;
  mode: NlbMode;
  clusterMac: string;
  /** What showed the cluster: 'heartbeat', 'arp', 'ip-destination', 'masked-source', 'igmp-join'. */
  confirmedBy: string[];
  /** Every observation that implied a mode, e.g. "arp 10.0.0.100 → 02:bf:0a:00:00:64 (unicast)". */
  modeEvidence: string[];
  /** IGMP mode: the group the hosts join (239.255.c.d). */
  igmpGroup: string | null;
  hosts: NlbHostFact[];
  /** Priorities claimed by more than one dedicated IP (a host with a duplicate priority never converges). */
  duplicatePriorities: number[];
  heartbeatFrames: number;
  firstFrame: number;
  lastFrame: number;
  firstTs: number;
  lastTs: number;
  /** Heartbeat period used to judge gaps (1 s unless the hosts clearly use a longer AliveMsgPeriod). */
  periodSeconds: number;
  periodSource: 'default' | 'observed';
  tolerancePeriods: number;
  /** IPv4 destinations of frames sent to the cluster MAC (the VIP and any other cluster IPs). */
  virtualIps: CountedAddress[];
  /** Who sent to the cluster MAC (source MACs and IPs). */
  clientMacs: CountedAddress[];
  clientIps: CountedAddress[];
  /** Frames to the cluster MAC, heartbeats excluded: on a non-member port all of them are flooded. */
  traffic: FloodFact;
  /**
   * Unicast frames (not heartbeats or ARP) sent from a cluster host's MAC: such a port holds a
   * cluster host, or is the client's or router's port, so cluster traffic is expected there.
   */
  memberEvidenceFrames: number;
  memberEvidenceSample: number[];
  arpFrames: number;
  arpMacs: string[];
  /** ARP frames whose Ethernet source differs from the ARP sender address (the unicast NLB signature). */
  arpEthSrcMismatchFrames: number;
  igmpJoins: number;
  igmpReporters: string[];
  /** The cluster MAC used as a frame source: a switch learns it and stops flooding (VMware RARP, MaskSourceMAC=0). */
  clusterMacAsSourceFrames: number;
  vlans: number[];
}

export interface ArpBindingFact {
  ip: string;
  mac: string;
  vlan: number | null;
  firstFrame: number;
  lastFrame: number;
  firstTs: number;
  lastTs: number;
  frames: number;
  requests: number;
  replies: number;
  gratuitous: number;
  /** Frames where the Ethernet source was another MAC than this ARP sender address. */
  ethSrcMismatch: number;
  ethSrcs: string[];
  /** The sender address is a group (multicast) MAC. */
  multicastMac: boolean;
  /** 'cluster-mac' when the MAC is this IP's NLB cluster MAC, 'cluster-nic' when it is another cluster's MAC. */
  nlb: 'cluster-mac' | 'cluster-nic' | null;
  sampleFrames: number[];
}

export interface ArpConflictFact {
  ip: string;
  vlan: number | null;
  /** The claiming bindings, oldest first (NLB cluster MACs excluded). */
  macs: ArpBindingFact[];
  /** The claims alternate (A, B, A…) rather than one MAC replacing the other once. */
  interleaved: boolean;
  /** NLB cluster MACs that also claimed the IP (reported as NLB, not as a conflict). */
  nlbMacs: string[];
}

export interface IgmpGroupFact {
  group: string;
  reports: number;
  joins: number;
  leaves: number;
  reporters: string[];
  firstFrame: number;
  lastFrame: number;
  firstTs: number;
  lastTs: number;
}

export interface HeartbeatProblemFact {
  frame: number;
  offset: number;
  reason: string;
}

/** Multicast destinations shaped like a cluster MAC that nothing confirmed (e.g. SSDP's 01:00:5e:7f:ff:fa). */
export interface ClusterLikeMacFact {
  mac: string;
  mode: NlbMode;
  frames: number;
  firstFrame: number;
  /** Why it is not taken for a cluster. */
  reason: string;
  ipDestinations: CountedAddress[];
}

export interface UnknownDestinationFact {
  mac: string;
  frames: number;
  bytes: number;
  firstFrame: number;
  lastFrame: number;
  ipDestinations: CountedAddress[];
  sources: CountedAddress[];
}

export interface L2Facts {
  /** Frames with an Ethernet destination (the flooding statistics cover only those). */
  ethernetFrames: number;
  ethernetBytes: number;
  unicastFrames: number;
  unicastBytes: number;
  /** Distinct unicast MACs seen as a source on this port. */
  sourceMacs: number;
  /**
   * Source MACs that also received unicast here. None means every unicast frame went one way
   * (a capture filter, or a single talker): flooding cannot be told from such a capture.
   */
  twoWayStations: number;
  /** Destinations never seen as a source whose conversations were answered here (e.g. a router's virtual MAC). */
  answeredUnknownDestinations: number;
  heartbeats: {
    frames: number;
    membership: number;
    extended: number;
    /** NLB-family messages that are not heartbeats (e.g. 0xC0DE01DE). */
    other: number;
    /** Heartbeats too short to read a header from (snaplen), or cut in the body. */
    malformed: number;
    malformedSample: HeartbeatProblemFact[];
    /** EtherType 0x886F/0xBF01 frames without an NLB signature (other software reuses it). */
    foreign: number;
    foreignSample: number[];
  };
  clusters: NlbClusterFact[];
  clusterLikeMacs: ClusterLikeMacFact[];
  arp: {
    frames: number;
    requests: number;
    replies: number;
    /** RARP and other opcodes (no binding taken from them). */
    otherOpcodes: number;
    /** Hardware types other than Ethernet / IEEE 802 (no MAC to bind). */
    otherHardware: number;
    probes: number;
    gratuitous: number;
    bindings: ArpBindingFact[];
    conflicts: ArpConflictFact[];
  };
  igmp: {
    frames: number;
    queries: number;
    queriers: string[];
    groups: IgmpGroupFact[];
  };
  /** Unicast frames to MACs never seen as a source here, not NLB cluster MACs. */
  unknownUnicast: FloodFact;
  unknownDestinations: UnknownDestinationFact[];
  /** Limits hit (memory bounds): the statistics named here are partial. */
  limits: string[];
}

export function emptyFloodFact(): FloodFact {
  return {
    frames: 0, bytes: 0, shareFrames: 0, shareBytes: 0, shareUnicastFrames: 0, firstFrame: null, lastFrame: null,
    firstTs: null, sampleFrames: [], peak: null, perSecond: [],
  };
}

export function emptyL2Facts(): L2Facts {
  return {
    ethernetFrames: 0, ethernetBytes: 0, unicastFrames: 0, unicastBytes: 0, sourceMacs: 0, twoWayStations: 0, answeredUnknownDestinations: 0,
    heartbeats: { frames: 0, membership: 0, extended: 0, other: 0, malformed: 0, malformedSample: [], foreign: 0, foreignSample: [] },
    clusters: [],
    clusterLikeMacs: [],
    arp: { frames: 0, requests: 0, replies: 0, otherOpcodes: 0, otherHardware: 0, probes: 0, gratuitous: 0, bindings: [], conflicts: [] },
    igmp: { frames: 0, queries: 0, queriers: [], groups: [] },
    unknownUnicast: emptyFloodFact(),
    unknownDestinations: [],
    limits: [],
  };
}
