/**
 * The incident report as one self-contained HTML file: inline CSS, inline SVG ladders, no
 * scripts, no fonts, images or links to fetch. A Content-Security-Policy of default-src 'none'
 * makes the browser refuse any request should something slip through; every value from the
 * capture goes through xml().
 */
import type { ExportData } from './timeline.js';
import { endpoint, xml } from './text.js';
import { iso } from './time.js';
import { ladderSvg } from './ladder-svg.js';
import {
  bySeverity, captureFacts, evidenceFilter, mitigations, nlbHostRows, pct, REPORT_TIMELINE_LIMIT, scopeText, sessionFacts,
  severityCounts, subjectText, when,
} from './report.js';

const CSS = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1c2833;margin:2rem auto;max-width:1060px;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.3rem}h2{border-bottom:2px solid #d5d8dc;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;margin:.6rem 0;width:100%}th,td{border:1px solid #d5d8dc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f6f7}td.num{text-align:right;white-space:nowrap}td.time{white-space:nowrap;font-family:monospace;font-size:.85rem}
code{font-family:monospace;background:#f4f6f7;padding:0 .25rem;border-radius:3px}
.sev{display:inline-block;border-radius:3px;padding:0 .4rem;color:#fff;font-size:.8rem;font-weight:bold;text-transform:uppercase}
.sev-high{background:#c0392b}.sev-medium{background:#d68910}.sev-low{background:#2e86c1}.sev-info{background:#7f8c8d}
.finding{border:1px solid #d5d8dc;border-left:5px solid #7f8c8d;border-radius:4px;padding:.4rem 1rem;margin:1rem 0}
.finding.high{border-left-color:#c0392b}.finding.medium{border-left-color:#d68910}.finding.low{border-left-color:#2e86c1}
.mitigation{background:#eafaf1;border-radius:4px;padding:.4rem .7rem}
tr.failed td{background:#fdedec}.scope{color:#566573}.ladder-box{overflow-x:auto;border:1px solid #d5d8dc;border-radius:4px;margin:.6rem 0}
.ladder-box svg{display:block}footer{margin-top:3rem;color:#808b96;font-size:.85rem}
`;

function tableHtml(head: string[], rows: Array<Array<string | number | null>>, cls: (i: number) => string = () => '', colClass: string[] = []): string {
  const th = head.map((h) => `<th>${xml(h)}</th>`).join('');
  const td = (c: string | number | null, j: number): string => {
    const k = colClass[j] ?? (typeof c === 'number' ? 'num' : '');
    return `<td${k ? ` class="${k}"` : ''}>${xml(c)}</td>`;
  };
  const body = rows.map((r, i) => `<tr${cls(i) ? ` class="${cls(i)}"` : ''}>${r.map(td).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function factsHtml(facts: Array<[string, string]>): string {
  return `<table class="facts"><tbody>${facts.map(([k, v]) => `<tr><th scope="row">${xml(k)}</th><td>${xml(v)}</td></tr>`).join('')}</tbody></table>`;
}

export function renderHtml(d: ExportData): string {
  const b: string[] = [];
  b.push(`<h1>Incident report: ${xml(d.capture.name)}</h1>`);
  b.push(factsHtml(captureFacts(d)));
  b.push(`<p class="scope">${xml(scopeText(d))}</p>`);

  b.push('<h2 id="what-broke">What broke</h2>');
  const findings = bySeverity(d.findings);
  if (findings.length === 0) b.push('<p>No findings in scope: faultline saw nothing it diagnoses as broken here.</p>');
  else {
    b.push(`<p>${findings.length} finding${findings.length === 1 ? '' : 's'} (${xml(severityCounts(findings))}):</p><ul class="summary">`);
    for (const f of findings) {
      b.push(`<li><span class="sev sev-${xml(f.severity)}">${xml(f.severity)}</span> ${xml(f.title)} — ${xml(when(f.firstTs))}, frames ${xml(f.frames.join(', ') || 'none')} (<code>${xml(f.code)}</code>)</li>`);
    }
    b.push('</ul>');
    findings.forEach((f, i) => {
      b.push(`<section class="finding ${xml(f.severity)}" data-code="${xml(f.code)}">`);
      b.push(`<h3>${i + 1}. <code>${xml(f.code)}</code> <span class="sev sev-${xml(f.severity)}">${xml(f.severity)}</span></h3>`);
      b.push(`<p><strong>${xml(f.title)}</strong></p>`);
      b.push(factsHtml([['when', when(f.firstTs)], ['where', subjectText(f)], ['evidence frames', f.frames.join(', ') || 'none'], ['Wireshark filter', evidenceFilter(f.frames)]]));
      b.push(`<p>${xml(f.explanation)}</p>`);
      b.push(`<p class="mitigation"><strong>Mitigation:</strong> ${xml(f.mitigation)}</p></section>`);
    });
    b.push('<h2 id="mitigations">Mitigations</h2><ul>');
    for (const m of mitigations(findings)) b.push(`<li>${xml(m.text)} (${m.codes.map((c) => `<code>${xml(c)}</code>`).join(', ')})</li>`);
    b.push('</ul>');
  }

  b.push('<h2 id="timeline">Timeline</h2>');
  if (d.events.length === 0) b.push('<p>No dated events in scope.</p>');
  else {
    const events = d.events.slice(0, REPORT_TIMELINE_LIMIT);
    b.push(tableHtml(['time (UTC)', 'frame', 'type', 'event'], events.map((e) => [iso(e.ts), e.frame, e.type, e.message]), (i) => (events[i].outcome === 'failed' ? 'failed' : ''), ['time']));
    if (d.events.length > REPORT_TIMELINE_LIMIT) b.push(`<p>${d.events.length - REPORT_TIMELINE_LIMIT} more events: export jsonl or timesketch for all of them.</p>`);
  }

  b.push('<h2 id="ftp">FTP sessions</h2>');
  if (d.ftp.length === 0) b.push('<p>No FTP session in scope.</p>');
  for (const s of d.ftp) {
    b.push(`<section class="ftp-session" data-session="${s.id}"><h3>Session ${s.id}: ${xml(s.client)} → ${xml(s.server)}</h3>`);
    b.push(factsHtml(sessionFacts(s)));
    b.push(`<div class="ladder-box">${ladderSvg(s)}</div></section>`);
  }

  b.push('<h2 id="tls">TLS</h2>');
  if (d.tls.length === 0) b.push('<p>No TLS handshake in scope.</p>');
  else {
    b.push(tableHtml(['frame', 'client → server', 'SNI', 'version', 'cipher', 'outcome', 'alerts'], d.tls.map((h) => [
      h.frame, `${h.client ?? '?'} → ${endpoint(h.server, h.serverPort)}`, h.sni ?? '', h.version ?? '', h.cipher ?? '',
      `${h.state ?? ''}${h.failure ? `: ${h.failure}` : ''}${h.resumed ? ' (resumed)' : ''}`,
      h.alerts.map((a) => `${a.level ?? ''} ${a.description ?? 'encrypted'}${a.frame !== null ? ` (frame ${a.frame})` : ''}`.trim()).join('; '),
    ]), (i) => (d.tls[i].state === 'failed' || d.tls[i].state === 'dropped' ? 'failed' : '')));
  }

  b.push('<h2 id="nlb">NLB and layer 2</h2>');
  const l2 = d.l2;
  if (l2.clusters.length === 0 && !l2.unknownUnicast && l2.conflicts.length === 0 && l2.multicastBindings.length === 0) b.push('<p>No NLB cluster, flooding or ARP conflict in scope.</p>');
  if (l2.clusters.length > 0) {
    b.push(tableHtml(['cluster IP', 'mode', 'cluster MAC', 'hosts', 'first seen', 'flooded to this port'], l2.clusters.map((c) => [
      c.clusterIp, c.mode, c.clusterMac, c.hosts.length, iso(c.firstTs),
      c.flooded ? `${c.flooded.frames} frames (${pct(c.flooded.shareFrames)})${c.flooded.peak ? `, peak ${c.flooded.peak.frames} frames at ${iso(c.flooded.peak.second * 1e6)}` : ''}` : 'none',
    ])));
    const hosts = nlbHostRows(l2);
    b.push(tableHtml(['cluster', 'host', 'priority', 'heartbeats', 'gaps', 'stopped'], hosts.map((h) => [h.cluster, h.host, h.priority, h.heartbeats, h.gaps, h.stopped]),
      (i) => (hosts[i].stopped !== 'no' || hosts[i].gaps.includes('beyond') ? 'failed' : '')));
  }
  if (l2.unknownUnicast) {
    const u = l2.unknownUnicast;
    b.push(`<p>Unknown-unicast flooding: ${u.frames} frames (${xml(pct(u.shareFrames))} of the port's frames)${u.peak ? `, peak ${u.peak.frames} frames at ${xml(iso(u.peak.second * 1e6))}` : ''}.</p>`);
  }
  if (l2.conflicts.length > 0 || l2.multicastBindings.length > 0) {
    b.push('<ul>');
    for (const c of l2.conflicts) b.push(`<li>ARP: ${xml(c.ip)} claimed by ${c.claims.map((x) => `${xml(x.mac)} (${x.frames} frames from frame ${x.firstFrame})`).join(', ')}</li>`);
    for (const x of l2.multicastBindings) b.push(`<li>ARP: ${xml(x.ip)} bound to multicast MAC ${xml(x.mac)} (frame ${x.firstFrame})</li>`);
    b.push('</ul>');
  }
  if (d.warnings.length > 0) {
    b.push('<h2 id="warnings">Capture warnings</h2><ul>');
    for (const w of d.warnings) b.push(`<li>byte ${w.offset}${w.frame !== null ? `, frame ${w.frame}` : ''}: ${xml(w.message)}</li>`);
    b.push('</ul>');
  }
  b.push('<footer>Generated by faultline export from the analysis database; passwords are masked.</footer>');

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Incident report: ${xml(d.capture.name)}</title>
<style>${CSS}</style>
</head>
<body>
${b.join('\n')}
</body>
</html>
`;
}
