/**
 * JSON lines in the manner of Suricata's EVE: one event per line, shared keys first
 * (timestamp, event_type, community_id, frame, capture), then the flow's 5-tuple under EVE's
 * names, then one object named after the event type (finding, ftp, tls, nlb, flow).
 */
import type { ExportData } from './timeline.js';
import type { TimelineEvent } from './event.js';
import { iso } from './time.js';

export function eveRecord(e: TimelineEvent, data: ExportData): Record<string, unknown> {
  const rec: Record<string, unknown> = {
    timestamp: iso(e.ts),
    event_type: e.type,
    community_id: e.communityId,
    frame: e.frame,
    capture: data.capture.id,
    pcap_filename: data.capture.name,
    flow_id: e.flow,
  };
  if (e.src !== null) Object.assign(rec, { src_ip: e.src, src_port: e.srcPort, dest_ip: e.dst, dest_port: e.dstPort, proto: e.proto });
  const body: Record<string, unknown> = { ...e.data };
  if (e.type === 'flow') {
    body.start = iso(e.data.start as number);
    body.end = iso(e.data.end as number);
  }
  if (e.type !== 'finding') {
    body.frames = e.frames;
    if (e.outcome !== null) body.outcome = e.outcome;
  }
  rec[e.type] = body;
  return rec;
}

export function renderJsonl(data: ExportData): string {
  return data.events.map((e) => JSON.stringify(eveRecord(e, data)) + '\n').join('');
}
