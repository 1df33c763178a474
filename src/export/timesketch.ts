/**
 * Timesketch import files (JSON lines or CSV): the required message, datetime (ISO 8601),
 * timestamp_desc and timestamp (µs) first, then flat extra fields, the same in both forms so a
 * sketch's columns do not depend on the file type.
 */
import type { ExportData } from './timeline.js';
import type { TimelineEvent } from './event.js';
import { isoOffset } from './time.js';
import { csvRow } from './text.js';

export const TIMESKETCH_FIELDS = [
  'message', 'datetime', 'timestamp_desc', 'timestamp',
  'event_type', 'event', 'severity', 'outcome', 'finding_code', 'capture', 'pcap_filename', 'frame', 'frames',
  'flow_id', 'community_id', 'proto', 'src_ip', 'src_port', 'dest_ip', 'dest_port', 'ftp_session', 'user', 'host', 'mitigation',
] as const;

type Value = string | number | null;

export function timesketchRecord(e: TimelineEvent, data: ExportData): Record<(typeof TIMESKETCH_FIELDS)[number], Value> {
  const finding = e.type === 'finding';
  return {
    message: finding ? `${e.message} — ${String(e.data.explanation ?? '')}` : e.message,
    datetime: isoOffset(e.ts),
    timestamp_desc: e.desc,
    timestamp: Math.round(e.ts),
    event_type: e.type,
    event: e.kind,
    severity: e.severity,
    outcome: e.outcome,
    finding_code: finding ? e.kind : null,
    capture: data.capture.id,
    pcap_filename: data.capture.name,
    frame: e.frame,
    frames: e.frames.join(' '),
    flow_id: e.flow,
    community_id: e.communityId,
    proto: e.proto,
    src_ip: e.src,
    src_port: e.srcPort,
    dest_ip: e.dst,
    dest_port: e.dstPort,
    ftp_session: e.session,
    user: e.user,
    host: e.host,
    mitigation: finding ? String(e.data.mitigation ?? '') : null,
  };
}

export function renderTimesketchJsonl(data: ExportData): string {
  return data.events.map((e) => {
    const rec = timesketchRecord(e, data);
    // Absent values are left out rather than sent as null: Timesketch would index "null".
    const compact = Object.fromEntries(Object.entries(rec).filter(([, v]) => v !== null && v !== ''));
    return JSON.stringify(compact) + '\n';
  }).join('');
}

export function renderTimesketchCsv(data: ExportData): string {
  const out = [csvRow([...TIMESKETCH_FIELDS])];
  for (const e of data.events) {
    const rec = timesketchRecord(e, data);
    out.push(csvRow(TIMESKETCH_FIELDS.map((k) => rec[k])));
  }
  return out.join('');
}
