/**
 * plaso's l2tcsv: 17 fixed columns, dates MM/DD/YYYY and times HH:MM:SS in UTC, one line per
 * event. As plaso does, commas inside a value become spaces and line breaks are dropped, so
 * naive comma splitting still works; a value holding a double quote is quoted per RFC 4180.
 * MACB stays "....": capture events are not file-system times. `extra` lists the remaining
 * attributes as sorted "name: value" pairs joined by "; ", as plaso writes them.
 */
import type { ExportData } from './timeline.js';
import type { TimelineEvent } from './event.js';
import { l2tDateTime } from './time.js';
import { defuseFormula, printable } from './text.js';

export const L2T_FIELDS = ['date', 'time', 'timezone', 'MACB', 'source', 'sourcetype', 'type', 'user', 'host', 'short', 'desc', 'version', 'filename', 'inode', 'notes', 'format', 'extra'] as const;

const SOURCE_TYPE: Record<TimelineEvent['type'], string> = {
  finding: 'faultline finding', ftp: 'faultline FTP', tls: 'faultline TLS', nlb: 'faultline NLB/layer 2', flow: 'faultline flow',
};

function field(v: string | number | null | undefined): string {
  const s = v === null || v === undefined || v === '' ? '-'
    : typeof v === 'string' ? defuseFormula(printable(v).replace(/,/g, ' ')) : printable(String(v)).replace(/,/g, ' ');
  return s.includes('"') ? `"${s.replace(/"/g, '""')}"` : s;
}

export function l2tRecord(e: TimelineEvent, data: ExportData): Record<(typeof L2T_FIELDS)[number], string> {
  const { date, time } = l2tDateTime(e.ts);
  const finding = e.type === 'finding';
  const extra: Array<[string, string | number | null]> = [
    ['event', e.kind], ['frame', e.frame], ['frames', e.frames.join(' ')], ['flow_id', e.flow], ['community_id', e.communityId],
    ['src', e.src], ['src_port', e.srcPort], ['dst', e.dst], ['dst_port', e.dstPort], ['proto', e.proto],
    ['severity', e.severity], ['outcome', e.outcome], ['ftp_session', e.session], ['capture', data.capture.id], ['sha256', data.capture.sha256],
  ];
  return {
    date, time, timezone: 'UTC', MACB: '....', source: 'LOG', sourcetype: SOURCE_TYPE[e.type], type: e.desc,
    user: e.user ?? '-', host: e.host ?? '-',
    short: e.message,
    desc: finding ? `${e.message}: ${String(e.data.explanation ?? '')}` : e.message,
    version: '2', filename: data.capture.name, inode: '-',
    notes: finding ? `mitigation: ${String(e.data.mitigation ?? '')}` : '-',
    format: 'faultline',
    extra: extra.filter(([, v]) => v !== null && v !== '').map(([k, v]) => `${k}: ${v}`).sort().join('; '),
  };
}

export function renderL2tCsv(data: ExportData): string {
  const out = [L2T_FIELDS.join(',') + '\n'];
  for (const e of data.events) {
    const rec = l2tRecord(e, data);
    out.push(L2T_FIELDS.map((k) => field(rec[k])).join(',') + '\n');
  }
  return out.join('');
}
