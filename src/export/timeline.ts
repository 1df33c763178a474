/**
 * The export timeline, built once from SQLite and fed to every format: findings, FTP sessions
 * (start, login, announcements, data connections and their outcome, transfers), TLS handshakes
 * and alerts, NLB heartbeat gaps and stops, flooding, ARP claims, and flows that failed.
 */
import type { Db } from '../store/db.js';
import { findingsFor, warningsFor, type CaptureRow } from '../store/queries.js';
import type { Finding } from '../findings/types.js';
import { FlowIndex, protoName, type FlowView } from './flows.js';
import { readFtpSessions, dataFlows, type FtpSessionView } from './ftp-read.js';
import { readL2, type L2View } from './nlb-read.js';
import { readTls, type TlsHandshakeView } from './tls-read.js';
import { ftpEvents } from './ftp-events.js';
import { l2Events } from './l2-events.js';
import { tlsEvents } from './tls-events.js';
import { onFlow, type TimelineEvent } from './event.js';
import { findingKeys, findingSelected, inWindow, narrowed, withoutSecrets, type Selection } from './selection.js';
import { endpoint } from './text.js';

export interface ExportFinding extends Finding {
  id: number;
  keys: string[];
}

export interface ExportData {
  capture: CaptureRow;
  selection: Selection;
  /** Selected findings, by first time. */
  findings: ExportFinding[];
  /** Findings of the capture before selection (for "n of m" lines). */
  totalFindings: number;
  events: TimelineEvent[];
  ftp: FtpSessionView[];
  tls: TlsHandshakeView[];
  l2: L2View;
  warnings: Array<{ offset: number; frame: number | null; message: string }>;
  flows: FlowIndex;
}

const FLOW_STATE_TEXT: Record<string, string> = {
  'syn-unanswered': 'SYN never answered',
  rejected: 'refused with RST',
  'syn-no-synack': 'SYN answered without SYN-ACK',
};

function flowEvent(f: FlowView, sessionOfFlow: Map<number, number>): TimelineEvent {
  const owner = sessionOfFlow.get(f.index);
  const what = FLOW_STATE_TEXT[f.state] ?? f.state;
  const icmp = f.icmp[0];
  return onFlow({
    type: 'flow', ts: f.firstTs, kind: f.state, desc: 'Connection start', frame: f.firstFrame,
    frames: [f.firstFrame, ...f.icmpFrames], outcome: FLOW_STATE_TEXT[f.state] || icmp ? 'failed' : null,
    keys: [`flow:${f.index}`, ...(owner !== undefined ? [`session:${owner}`] : [])],
    message: `${protoName(f.protocol)} ${endpoint(f.src, f.srcPort)} → ${endpoint(f.dst, f.dstPort)}: ${what}${f.synRetransmissions ? ` (SYN sent ${f.synRetransmissions + 1}×)` : ''}${icmp ? `; ICMP type ${icmp.type} code ${icmp.code} from ${icmp.reporter}` : ''}`,
    data: {
      index: f.index, state: f.state, app: f.app, start: f.firstTs, end: f.lastTs, firstFrame: f.firstFrame, lastFrame: f.lastFrame,
      pkts_toserver: f.packets[0], pkts_toclient: f.packets[1], bytes_toserver: f.bytes[0], bytes_toclient: f.bytes[1],
      synRetransmissions: f.synRetransmissions, icmp: f.icmp,
    },
  }, f);
}

function findingEvent(f: ExportFinding, flows: FlowIndex): TimelineEvent | null {
  if (f.firstTs === null) return null;
  return onFlow({
    type: 'finding', ts: f.firstTs, kind: f.code, desc: 'Finding first evidence', frame: f.frames[0] ?? null, frames: f.frames,
    severity: f.severity, outcome: 'failed', keys: f.keys, session: f.subject.session ?? null, host: f.subject.host ?? null,
    message: `[${f.severity}] ${f.code}: ${f.title}`,
    data: { code: f.code, severity: f.severity, title: f.title, explanation: f.explanation, mitigation: f.mitigation, frames: f.frames, subject: f.subject, details: f.details },
  }, flows.get(f.subject.flow ?? f.subject.session ?? null));
}

export function buildExport(db: Db, capture: CaptureRow, selection: Selection): ExportData {
  const flows = new FlowIndex(db, capture.id);
  const ftpAll = readFtpSessions(db, capture.id);
  const sessionOfFlow = new Map<number, number>();
  for (const s of ftpAll) {
    sessionOfFlow.set(s.id, s.id);
    for (const f of dataFlows(s)) sessionOfFlow.set(f, s.id);
  }
  const all = findingsFor(db, capture.id);
  const findings: ExportFinding[] = all.filter((f) => findingSelected(selection, f))
    .map((f) => ({ ...f, details: withoutSecrets(f.details) as Record<string, unknown>, keys: findingKeys(f, sessionOfFlow) }))
    .sort((a, b) => (a.firstTs ?? 0) - (b.firstTs ?? 0) || a.id - b.id);
  const tlsAll = readTls(db, capture.id, flows);
  const l2 = readL2(db, capture.id);

  const related = narrowed(selection) ? new Set(findings.flatMap((f) => f.keys)) : null;
  const whole = related === null && selection.since === null && selection.until === null;
  const keep = (e: TimelineEvent): boolean => inWindow(selection, e.ts) && (related === null || e.keys.some((k) => related.has(k)));

  const events: TimelineEvent[] = [];
  for (const f of findings) {
    const e = findingEvent(f, flows);
    if (e) events.push(e);
  }
  const ftp: FtpSessionView[] = [];
  for (const s of ftpAll) {
    const es = ftpEvents(s, flows).filter(keep);
    if (whole || es.length > 0) ftp.push(s);
    events.push(...es);
  }
  const tls: TlsHandshakeView[] = [];
  for (const h of tlsAll) {
    const es = tlsEvents(h, flows, sessionOfFlow).filter(keep);
    if (whole || es.length > 0) tls.push(h);
    events.push(...es);
  }
  const l2es = l2Events(l2).filter(keep);
  events.push(...l2es);
  for (const f of flows.failures()) {
    const e = flowEvent(f, sessionOfFlow);
    if (keep(e)) events.push(e);
  }
  // Stable order: by time, then findings after the facts they explain at the same instant.
  const rank = (e: TimelineEvent): number => (e.type === 'finding' ? 1 : 0);
  const indexed = events.map((e, i) => ({ e, i }));
  indexed.sort((a, b) => a.e.ts - b.e.ts || rank(a.e) - rank(b.e) || a.i - b.i);

  const keptHosts = new Set(l2es.map((e) => e.keys).flat());
  const l2Scoped: L2View = whole ? l2 : {
    clusters: l2.clusters.filter((c) => keptHosts.has(`host:${c.clusterIp}`)),
    unknownUnicast: keptHosts.has('l2:unknown-unicast') ? l2.unknownUnicast : null,
    conflicts: l2.conflicts.filter((c) => keptHosts.has(`host:${c.ip}`)),
    multicastBindings: l2.multicastBindings.filter((b) => keptHosts.has(`host:${b.ip}`)),
  };
  return {
    capture, selection, findings, totalFindings: all.length, events: indexed.map((x) => x.e),
    ftp, tls, l2: l2Scoped, warnings: warningsFor(db, capture.id), flows,
  };
}
