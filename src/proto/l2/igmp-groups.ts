/**
 * IGMP memberships seen on the port: who reported which group, and who queries. IGMP-mode NLB
 * hosts join 239.255.c.d (MS KB 283028); a switch with IGMP snooping then forwards the cluster
 * MAC's frames only to ports with members. Joins: v1/v2 reports (RFC 1112, RFC 2236) and v3
 * records that leave the socket listening — EXCLUDE-mode records, or INCLUDE/ALLOW with
 * sources (RFC 3376 §4.2.12); leaves: v2 Leave and v3 TO_INCLUDE with no source.
 */
import type { Packet } from '../../decode/packet.js';
import type { IgmpMessage } from '../../decode/igmp.js';
import type { IgmpGroupFact } from './facts.js';

const MAX_GROUPS = 1_024;
const MAX_REPORTERS = 64;
const MAX_QUERIERS = 16;

const IS_INCLUDE = 1, IS_EXCLUDE = 2, TO_INCLUDE = 3, TO_EXCLUDE = 4, ALLOW = 5;

class Group {
  reports = 0;
  joins = 0;
  leaves = 0;
  firstFrame = 0;
  lastFrame = 0;
  firstTs = 0;
  lastTs = 0;
  readonly reporters = new Set<string>();
  constructor(readonly group: string) {}
}

export class IgmpGroups {
  frames = 0;
  queries = 0;
  readonly queriers = new Set<string>();
  readonly limits = new Set<string>();
  private readonly groups = new Map<string, Group>();

  observe(pkt: Packet, msg: IgmpMessage): void {
    this.frames++;
    const src = pkt.net !== null && pkt.net.kind === 'ipv4' ? pkt.net.src : null;
    if (msg.type === 0x11) {
      this.queries++;
      if (src !== null && this.queriers.size < MAX_QUERIERS) this.queriers.add(src);
      return;
    }
    if (msg.type === 0x12 || msg.type === 0x16) { this.record(pkt, msg.group, src, 1, 0); return; }
    if (msg.type === 0x17) { this.record(pkt, msg.group, src, 0, 1); return; }
    for (const r of msg.records) {
      const join = r.recordType === IS_EXCLUDE || r.recordType === TO_EXCLUDE
        || ((r.recordType === IS_INCLUDE || r.recordType === ALLOW) && r.sources.length > 0);
      const leave = r.recordType === TO_INCLUDE && r.sources.length === 0;
      this.record(pkt, r.group, src, join ? 1 : 0, leave ? 1 : 0);
    }
  }

  groupFacts(): IgmpGroupFact[] {
    return [...this.groups.values()].map((g) => ({
      group: g.group, reports: g.reports, joins: g.joins, leaves: g.leaves, reporters: [...g.reporters],
      firstFrame: g.firstFrame, lastFrame: g.lastFrame, firstTs: g.firstTs, lastTs: g.lastTs,
    })).sort((a, b) => a.firstFrame - b.firstFrame);
  }

  private record(pkt: Packet, group: string, src: string | null, joins: number, leaves: number): void {
    let g = this.groups.get(group);
    if (g === undefined) {
      if (this.groups.size >= MAX_GROUPS) { this.limits.add(`more than ${MAX_GROUPS} IGMP groups: later ones are not tracked`); return; }
      g = new Group(group);
      this.groups.set(group, g);
    }
    const f = pkt.frame;
    if (g.reports === 0) { g.firstFrame = f.no; g.firstTs = f.ts; }
    g.reports++;
    g.joins += joins;
    g.leaves += leaves;
    g.lastFrame = f.no;
    g.lastTs = f.ts;
    if (src !== null && g.reporters.size < MAX_REPORTERS) g.reporters.add(src);
  }
}
