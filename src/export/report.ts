/**
 * What both incident reports (Markdown and HTML) say, as plain data: capture facts, scope, the
 * findings by severity, deduplicated mitigations, timeline rows, FTP, TLS and NLB summaries.
 * The renderers only lay these out and escape them.
 */
import type { ExportData, ExportFinding } from './timeline.js';
import type { FtpSessionView } from './ftp-read.js';
import type { L2View } from './nlb-read.js';
import { SEVERITY_RANK, narrowed } from './selection.js';
import { endpoint } from './text.js';
import { iso } from './time.js';
import { FAILED_STATES, STATE_TEXT } from './ftp-words.js';

/** Timeline rows a report lists; the machine formats carry every event. */
export const REPORT_TIMELINE_LIMIT = 2000;

const LINK_NAMES: Record<number, string> = { 0: 'BSD loopback', 1: 'Ethernet', 101: 'raw IP', 108: 'OpenBSD loopback', 113: 'Linux cooked (SLL)', 228: 'raw IPv4', 229: 'raw IPv6', 276: 'Linux cooked v2 (SLL2)' };

export function when(us: number | null): string {
  return us === null ? 'unknown time' : iso(us);
}

export function captureFacts(d: ExportData): Array<[string, string]> {
  const c = d.capture;
  let links: number[] = [];
  try { links = JSON.parse(c.link_types) as number[]; } catch { /* stays empty */ }
  const span = c.first_ts !== null && c.last_ts !== null ? `${iso(c.first_ts)} → ${iso(c.last_ts)} (${((c.last_ts - c.first_ts) / 1e6).toFixed(3)} s)` : 'no frames';
  return [
    ['file', c.file],
    ['sha256', c.sha256],
    ['format', `${c.format}${c.compressed ? ' (gzip)' : ''}${c.damaged ? ', damaged: analysed up to the damage' : ''}`],
    ['link types', links.map((l) => `${LINK_NAMES[l] ?? 'link type'} (${l})`).join(', ') || 'none'],
    ['frames', `${c.frames} (${c.bytes} bytes)`],
    ['time span', span],
    ['analysed', `${c.analyzed_at} (capture ${c.id} in the database)`],
  ];
}

export function scopeText(d: ExportData): string {
  const s = d.selection;
  const parts: string[] = [];
  if (s.codes.length > 0) parts.push(`findings ${s.codes.join(', ')}`);
  if (s.minSeverity !== null) parts.push(`severity ${s.minSeverity} or worse`);
  if (s.since !== null) parts.push(`from ${iso(s.since)}`);
  if (s.until !== null) parts.push(`until ${iso(s.until)}`);
  const what = parts.length === 0 ? 'the whole capture' : parts.join('; ');
  const related = narrowed(s) ? ' Other events are listed when they concern the same FTP session, connection or host as a selected finding.' : '';
  return `Scope: ${what}. ${d.findings.length} of ${d.totalFindings} findings selected.${related}`;
}

export function bySeverity(findings: ExportFinding[]): ExportFinding[] {
  return [...findings].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || (a.firstTs ?? 0) - (b.firstTs ?? 0) || a.id - b.id);
}

export function severityCounts(findings: ExportFinding[]): string {
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(f.severity, (counts.get(f.severity) ?? 0) + 1);
  return ['high', 'medium', 'low', 'info'].filter((s) => counts.has(s)).map((s) => `${counts.get(s)} ${s}`).join(', ');
}

export function subjectText(f: ExportFinding): string {
  const s = f.subject ?? {};
  const parts: string[] = [];
  if (s.session !== undefined) parts.push(`FTP session ${s.session}`);
  if (s.flow !== undefined && s.flow !== s.session) parts.push(`flow ${s.flow}`);
  if (s.host !== undefined) parts.push(`host ${s.host}`);
  return parts.join(', ') || 'the capture';
}

/** A Wireshark display filter that shows exactly the evidence frames. */
export function evidenceFilter(frames: number[]): string {
  return frames.length === 0 ? '' : `frame.number in {${frames.join(', ')}}`;
}

export interface MitigationItem { text: string; codes: string[] }

export function mitigations(findings: ExportFinding[]): MitigationItem[] {
  const out: MitigationItem[] = [];
  for (const f of bySeverity(findings)) {
    const known = out.find((m) => m.text === f.mitigation);
    if (known) { if (!known.codes.includes(f.code)) known.codes.push(f.code); } else out.push({ text: f.mitigation, codes: [f.code] });
  }
  return out;
}

export function sessionFacts(s: FtpSessionView): Array<[string, string]> {
  const channels = s.channels.map((ch) => `${ch.kind} ${endpoint(ch.announcedIp, ch.announcedPort)}: ${STATE_TEXT[ch.outcome] ?? ch.outcome}`);
  const failedChannels = s.channels.filter((ch) => FAILED_STATES.has(ch.outcome)).length;
  return [
    ['control connection', `${endpoint(s.client, s.clientPort)} → ${endpoint(s.server, s.serverPort)} (flow ${s.id}), frames ${s.firstFrame}–${s.lastFrame}`],
    ['time', `${iso(s.firstTs)} → ${iso(s.lastTs)}`],
    ['login', `${s.user !== null ? JSON.stringify(s.user) : 'no USER'}: ${s.login}${s.loginCode !== null ? ` (${s.loginCode})` : ''}${s.anonymous ? ', anonymous' : ''}; password masked`],
    ['FTPS', s.tlsMode === 'none' ? 'none: the control connection is clear text' : `${s.tlsMode}${s.prot ? `, PROT ${s.prot}` : ''}${s.ccc ? ', CCC' : ''}`],
    ['commands', String(s.commandCount)],
    ['data channels', channels.length === 0 ? 'none announced' : `${channels.length} (${failedChannels} failed): ${channels.join('; ')}`],
    ['transfers', s.transfers.length === 0 ? 'none' : s.transfers.map((t) => `${t.verb}${t.name ? ` ${t.name}` : ''} → ${t.reply ? t.reply.code : 'no reply'} (${t.result})`).join('; ')],
  ];
}

export interface HostRow { cluster: string; host: string; priority: number; heartbeats: number; gaps: string; stopped: string }

export function nlbHostRows(l2: L2View): HostRow[] {
  return l2.clusters.flatMap((c) => c.hosts.map((h) => ({
    cluster: c.clusterIp, host: `${h.ip ?? '?'}${h.name ? ` (${h.name})` : ''}`, priority: h.priority, heartbeats: h.heartbeats,
    gaps: h.gaps.length === 0 ? 'none' : h.gaps.map((g) => `${g.seconds.toFixed(1)} s after frame ${g.afterFrame}${g.beyondTolerance ? ' (beyond tolerance)' : ''}`).join('; '),
    stopped: h.stopped ? `last heartbeat ${iso(h.stopped.lastTs)}, then ${h.stopped.silentSeconds.toFixed(1)} s silent` : 'no',
  })));
}

export function pct(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}
