/** The incident report in Markdown: every packet-derived value through md(), ladders in fenced code blocks. */
import type { ExportData } from './timeline.js';
import { endpoint, md, mdCode, mdFence } from './text.js';
import { iso } from './time.js';
import { ladderText } from './ladder-text.js';
import {
  bySeverity, captureFacts, evidenceFilter, mitigations, nlbHostRows, pct, REPORT_TIMELINE_LIMIT, scopeText, sessionFacts,
  severityCounts, subjectText, when,
} from './report.js';

function table(head: string[], rows: Array<Array<string | number | null>>): string {
  const line = (cells: Array<string | number | null>): string => `| ${cells.map((c) => md(c ?? '')).join(' | ')} |`;
  return [line(head), `|${head.map(() => ' --- ').join('|')}|`, ...rows.map(line)].join('\n');
}

export function renderMarkdown(d: ExportData): string {
  const out: string[] = [];
  out.push(`# Incident report: ${md(d.capture.name)}`, '');
  out.push(table(['capture', ''], captureFacts(d)), '');
  out.push(md(scopeText(d)), '');

  out.push('## What broke', '');
  const findings = bySeverity(d.findings);
  if (findings.length === 0) {
    out.push('No findings in scope: faultline saw nothing it diagnoses as broken here.', '');
  } else {
    out.push(`${findings.length} finding${findings.length === 1 ? '' : 's'} (${severityCounts(findings)}):`, '');
    for (const f of findings) out.push(`- **${md(f.severity.toUpperCase())}** ${md(f.title)} — ${md(when(f.firstTs))}, frame${f.frames.length === 1 ? '' : 's'} ${md(f.frames.join(', ') || 'none')} (${mdCode(f.code)})`);
    out.push('');
    findings.forEach((f, i) => {
      out.push(`### ${i + 1}. ${md(f.code)} (${md(f.severity)})`, '');
      out.push(`**${md(f.title)}**`, '');
      out.push(`- When: ${md(when(f.firstTs))}`);
      out.push(`- Where: ${md(subjectText(f))}`);
      out.push(`- Evidence frames: ${md(f.frames.join(', ') || 'none')}${f.frames.length ? ` (Wireshark filter: ${mdCode(evidenceFilter(f.frames))})` : ''}`);
      out.push('', md(f.explanation), '', `**Mitigation:** ${md(f.mitigation)}`, '');
    });
    out.push('## Mitigations', '');
    for (const m of mitigations(findings)) out.push(`- ${md(m.text)} (${m.codes.map(md).join(', ')})`);
    out.push('');
  }

  out.push('## Timeline', '');
  if (d.events.length === 0) out.push('No dated events in scope.', '');
  else {
    const rows = d.events.slice(0, REPORT_TIMELINE_LIMIT).map((e) => [iso(e.ts), e.frame, e.type, e.outcome === 'failed' ? `✗ ${e.message}` : e.message]);
    out.push(table(['time (UTC)', 'frame', 'type', 'event'], rows), '');
    if (d.events.length > REPORT_TIMELINE_LIMIT) out.push(`(${d.events.length - REPORT_TIMELINE_LIMIT} more events: export jsonl or timesketch for all of them)`, '');
  }

  out.push('## FTP sessions', '');
  if (d.ftp.length === 0) out.push('No FTP session in scope.', '');
  for (const s of d.ftp) {
    out.push(`### Session ${s.id}: ${md(`${s.client} → ${s.server}`)}`, '');
    out.push(table(['', ''], sessionFacts(s)), '');
    out.push(mdFence(ladderText(s)), '');
  }

  out.push('## TLS', '');
  if (d.tls.length === 0) out.push('No TLS handshake in scope.', '');
  else {
    out.push(table(['frame', 'client → server', 'SNI', 'version', 'cipher', 'outcome', 'alerts'], d.tls.map((h) => [
      h.frame, `${h.client ?? '?'} → ${endpoint(h.server, h.serverPort)}`, h.sni ?? '', h.version ?? '', h.cipher ?? '',
      `${h.state ?? ''}${h.failure ? `: ${h.failure}` : ''}${h.resumed ? ' (resumed)' : ''}`,
      h.alerts.map((a) => `${a.level ?? ''} ${a.description ?? 'encrypted'}${a.frame !== null ? ` (frame ${a.frame})` : ''}`.trim()).join('; '),
    ])), '');
  }

  out.push('## NLB and layer 2', '');
  const l2 = d.l2;
  if (l2.clusters.length === 0 && !l2.unknownUnicast && l2.conflicts.length === 0 && l2.multicastBindings.length === 0) out.push('No NLB cluster, flooding or ARP conflict in scope.', '');
  if (l2.clusters.length > 0) {
    out.push(table(['cluster IP', 'mode', 'cluster MAC', 'hosts', 'first seen', 'flooded to this port'], l2.clusters.map((c) => [
      c.clusterIp, c.mode, c.clusterMac, c.hosts.length, iso(c.firstTs),
      c.flooded ? `${c.flooded.frames} frames (${pct(c.flooded.shareFrames)})${c.flooded.peak ? `, peak ${c.flooded.peak.frames} frames at ${iso(c.flooded.peak.second * 1e6)}` : ''}` : 'none',
    ])), '');
    out.push(table(['cluster', 'host', 'priority', 'heartbeats', 'gaps', 'stopped'], nlbHostRows(l2).map((h) => [h.cluster, h.host, h.priority, h.heartbeats, h.gaps, h.stopped])), '');
  }
  if (l2.unknownUnicast) {
    const u = l2.unknownUnicast;
    out.push(`Unknown-unicast flooding: ${u.frames} frames (${pct(u.shareFrames)} of the port's frames)${u.peak ? `, peak ${u.peak.frames} frames at ${md(iso(u.peak.second * 1e6))}` : ''}.`, '');
  }
  for (const c of l2.conflicts) out.push(`- ARP: ${md(c.ip)} claimed by ${c.claims.map((b) => `${md(b.mac)} (${b.frames} frames from frame ${b.firstFrame})`).join(', ')}`);
  for (const b of l2.multicastBindings) out.push(`- ARP: ${md(b.ip)} bound to multicast MAC ${md(b.mac)} (frame ${b.firstFrame})`);
  if (l2.conflicts.length > 0 || l2.multicastBindings.length > 0) out.push('');

  if (d.warnings.length > 0) {
    out.push('## Capture warnings', '');
    for (const w of d.warnings) out.push(`- byte ${w.offset}${w.frame !== null ? `, frame ${w.frame}` : ''}: ${md(w.message)}`);
    out.push('');
  }
  out.push('---', '', `Generated by faultline export from the analysis database; passwords are masked.`, '');
  return out.join('\n');
}
