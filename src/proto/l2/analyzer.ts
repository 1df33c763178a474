/**
 * The layer-2 analyzer: every decoded frame goes through the flood meter; NLB heartbeats, ARP
 * and IGMP go to their trackers. At the end the cluster inference ties them together and the
 * result lands in ctx.facts.l2.
 */
import type { Analyzer, AnalyzerFactory } from '../../analysis/analyzer.js';
import type { Packet } from '../../decode/packet.js';
import type { Flow } from '../../flow/flow.js';
import { ETHERTYPE } from '../../decode/link.js';
import { ArpTable } from './arp-table.js';
import { inferClusters } from './clusters.js';
import { floodFact, unknownDestination } from './flood-facts.js';
import { DST_NLB_UNICAST, DST_PLAIN, FloodMeter, type DestinationTally, type FrameView } from './flood-meter.js';
import { HeartbeatTracker } from './heartbeats.js';
import { IgmpGroups } from './igmp-groups.js';
import { NLB_ETHERTYPE, NLB_LEGACY_ETHERTYPE } from './nlb.js';

const UNKNOWN_LISTED = 20;

export const l2Analyzer: AnalyzerFactory = (ctx) => {
  const meter = new FloodMeter();
  const heartbeats = new HeartbeatTracker((offset, message, frame) => ctx.warn(offset, message, frame));
  const arp = new ArpTable();
  const igmp = new IgmpGroups();
  // One view object, refilled per frame: the meter reads it synchronously and keeps nothing.
  const view: FrameView = { no: 0, ts: 0, len: 0, src: -1, dst: -1, control: false, ip: null };

  const analyzer: Analyzer = {
    name: 'l2',
    frame(pkt: Packet): void {
      const link = pkt.link;
      if (link === null) return;
      const et = link.etherType;
      const heartbeat = et === NLB_ETHERTYPE || et === NLB_LEGACY_ETHERTYPE;
      const net = pkt.net;
      if (link.dst >= 0) {
        const f = pkt.frame;
        view.no = f.no;
        view.ts = f.ts;
        view.len = f.origLen;
        view.src = link.src;
        view.dst = link.dst;
        const t = pkt.transport;
        view.control = heartbeat || et === ETHERTYPE.ARP || et === ETHERTYPE.RARP || (t !== null && t.kind === 'igmp');
        view.ip = net !== null && net.kind !== 'arp' ? net : null;
        meter.observe(view);
      }
      if (heartbeat) { heartbeats.observe(pkt); return; }
      if (net !== null && net.kind === 'arp') { arp.observe(pkt, net); return; }
      const t = pkt.transport;
      if (t !== null && t.kind === 'igmp') igmp.observe(pkt, t);
    },
    flowEnd(flow: Flow): void {
      if (flow.packets[0] > 0 && flow.packets[1] > 0) meter.flowBothWays(flow.srcIp, flow.dstIp);
    },
    finish(): void {
      const facts = ctx.facts.l2;
      const hb = heartbeats.finish(ctx.facts.capture.lastTs);
      const bindings = arp.bindings();
      const igmpGroups = igmp.groupFacts();
      const { clusters, clusterLikeMacs, claimed } = inferClusters({ heartbeats: hb, bindings, igmpGroups, meter });
      let answeredDestinations = 0;

      const unknown: DestinationTally[] = [];
      for (const t of meter.tallies.values()) {
        if (claimed.has(t)) continue;
        if (meter.isKnownSource(t.mac)) { meter.markReceives(t.mac); continue; }
        if (t.shape !== DST_PLAIN && t.shape !== DST_NLB_UNICAST) continue;
        // Mostly answered conversations: a station we reach through another MAC, not a flood.
        if (2 * t.answeredFrames(meter) >= t.frames) { answeredDestinations++; continue; }
        unknown.push(t);
      }
      if (meter.overflow.frames > 0) unknown.push(meter.overflow);

      facts.ethernetFrames = meter.frames;
      facts.ethernetBytes = meter.bytes;
      facts.unicastFrames = meter.unicastFrames;
      facts.unicastBytes = meter.unicastBytes;
      facts.sourceMacs = meter.sourceCount;
      facts.twoWayStations = meter.twoWayStations();
      facts.answeredUnknownDestinations = answeredDestinations;
      facts.heartbeats = {
        frames: heartbeats.frames, membership: heartbeats.membership, extended: heartbeats.extended, other: heartbeats.other,
        malformed: heartbeats.malformed, malformedSample: heartbeats.malformedSample,
        foreign: heartbeats.foreign, foreignSample: heartbeats.foreignSample,
      };
      facts.clusters = clusters;
      facts.clusterLikeMacs = clusterLikeMacs;
      facts.arp = {
        frames: arp.frames, requests: arp.requests, replies: arp.replies, otherOpcodes: arp.otherOpcodes, otherHardware: arp.otherHardware,
        probes: arp.probes, gratuitous: arp.gratuitous, bindings, conflicts: arp.conflicts(bindings),
      };
      facts.igmp = { frames: igmp.frames, queries: igmp.queries, queriers: [...igmp.queriers], groups: igmpGroups };
      facts.unknownUnicast = floodFact(unknown, meter, true);
      facts.unknownDestinations = unknown.sort((a, b) => b.frames - a.frames).slice(0, UNKNOWN_LISTED).map(unknownDestination);
      facts.limits = [...meter.limits, ...heartbeats.limits, ...arp.limits, ...igmp.limits];
    },
  };
  return analyzer;
};
