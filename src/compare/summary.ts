/** The readable `compare` summary: sides, clock, paired sessions and lines, NAT, missing packets, findings. */
import type { Db } from '../store/db.js';
import { findingsFor } from '../store/queries.js';
import { SEVERITIES, type Finding } from '../findings/types.js';
import { announcementLine } from '../findings/rules/ftp-address-rewritten.js';
import type { Comparison } from './compare.js';
import { missingText, type CompareResult } from './document.js';
import { natRules, translationText } from './mappings.js';
import { endpointText, type CaptureView, type SessionRecord } from './model.js';

function captureLine(label: string, v: CaptureView): string {
  return `          ${label.padEnd(8)} ${v.name} (capture ${v.id}, ${v.frames} frames)`;
}

function sessionText(s: SessionRecord): string {
  return `${endpointText(s.client, s.clientPort)} → ${endpointText(s.server, s.serverPort)} (flow ${s.flow})`;
}

function us(n: number): string {
  return Math.abs(n) >= 1e6 ? `${(n / 1e6).toFixed(3)} s` : Math.abs(n) >= 1e3 ? `${(n / 1e3).toFixed(3)} ms` : `${Math.round(n)} µs`;
}

function severityCounts(fs: Finding[]): string {
  const parts = SEVERITIES.map((s) => [s, fs.filter((f) => f.severity === s).length] as const).filter(([, n]) => n > 0);
  return parts.length ? parts.map(([s, n]) => `${n} ${s}`).join(', ') : 'none';
}

export function compareSummary(db: Db, cmp: Comparison, result: CompareResult, dbPath: string): string {
  const out: string[] = [];
  out.push('compare');
  out.push(captureLine('inside', cmp.inside));
  out.push(captureLine('outside', cmp.outside));
  if (cmp.same) out.push('          both arguments are the same capture');
  const rolesHead = cmp.roles.verdict === 'swapped' ? 'SWAPPED: the first argument is the outside capture; ' : cmp.roles.verdict === 'as-given' ? 'as given: ' : 'cannot tell: ';
  out.push(`sides     ${rolesHead}${cmp.roles.basis}`);
  out.push(`clock     outside − inside = ${us(cmp.offset.us)} (${cmp.offset.basis === 'none' ? 'nothing to measure it by; assumed 0' : `from ${cmp.offset.samples} ${cmp.offset.basis === 'ftp-sessions' ? 'FTP session' : 'flow'}${cmp.offset.samples === 1 ? '' : 's'}`}), window ${cmp.windowUs / 1e6} s`);
  const sp = cmp.sessions;
  out.push(`sessions  ${sp.pairs.length} paired${sp.unpairedInside.length ? `, ${sp.unpairedInside.length} inside only` : ''}${sp.unpairedOutside.length ? `, ${sp.unpairedOutside.length} outside only` : ''}`);
  for (const p of sp.pairs) {
    out.push(`          inside  ${sessionText(p.inside)}`);
    out.push(`          outside ${sessionText(p.outside)}   ${p.basis === 'dialogue' ? `${p.tokens.common} of ${Math.max(p.tokens.inside, p.tokens.outside)} lines alike` : 'timing only'}`);
    for (const c of cmp.channels.get(p) ?? []) {
      const line = (x: typeof c.inside): string => announcementLine(x.kind, x.mode, x.text);
      if (c.rewritten) {
        out.push(`            ${c.inside.kind} REWRITTEN (${c.lengthDelta > 0 ? '+' : ''}${c.lengthDelta} bytes)`);
        out.push(`              inside  frame ${c.inside.frame}: ${line(c.inside)}`);
        out.push(`              outside frame ${c.outside.frame}: ${line(c.outside)}`);
      } else out.push(`            ${c.inside.kind} unchanged (inside frame ${c.inside.frame}, outside frame ${c.outside.frame}): ${line(c.inside)}`);
    }
  }
  for (const [label, list] of [['inside only: ', sp.unpairedInside], ['outside only:', sp.unpairedOutside]] as const) {
    for (const s of list.slice(0, 10)) out.push(`          ${label} ${sessionText(s)}`);
    if (list.length > 10) out.push(`          ${label} ... ${list.length - 10} more (see --json)`);
  }
  const rules = natRules(cmp.mappings);
  out.push(`nat       ${rules.length === 0 ? `none seen (${cmp.flows.length} connection${cmp.flows.length === 1 ? '' : 's'} paired unchanged)` : `${rules.length} translation${rules.length === 1 ? '' : 's'}`}`);
  for (const r of rules) {
    const ports = r.ports.map((p) => p.from === p.to ? `${p.from}` : `${p.from}→${p.to}`).join(', ');
    out.push(`          ${r.kind} ${r.from} → ${r.to} (${r.connections} connection${r.connections === 1 ? '' : 's'}: ${r.roles.join(', ')}; ports ${ports}${r.portsPreserved ? ', kept' : ''})`);
  }
  for (const m of cmp.mappings) {
    if (m.kind === 'none') continue;
    out.push(`            ${m.pair.role.padEnd(7)} ${m.translations.map(translationText).join(', ')} (inside flow ${m.pair.inside.index}, outside flow ${m.pair.outside.index})`);
  }
  const total = result.missing.reduce((n, m) => n + m.count, 0);
  const overlaps = result.section.overlap !== null;
  out.push(`missing   ${!overlaps ? 'not comparable: the two captures do not overlap in time' : total === 0 ? 'none' : `${total} packet${total === 1 ? '' : 's'} seen on one side only`}`);
  for (const m of result.missing.slice(0, 30)) out.push(`          ${missingText(m)}`);
  if (result.missing.length > 30) out.push(`          ... ${result.missing.length - 30} more (see --json)`);
  if (result.answered > 0) out.push(`          (${result.answered} connection${result.answered === 1 ? '' : 's'} seen and answered on one side only — ended at the router itself, or not recognised on the other side — are not counted: see --json oneSidedAnswered)`);
  const inside = findingsFor(db, cmp.inside.id), outside = cmp.same ? [] : findingsFor(db, cmp.outside.id);
  out.push(`findings  compare: ${severityCounts(result.findings)}; inside: ${severityCounts(inside)}${cmp.same ? '' : `; outside: ${severityCounts(outside)}`}`);
  for (const f of result.findings) {
    out.push(`  [${f.severity}] ${f.code}: ${f.title}`);
    out.push(`          ${f.explanation}`);
    out.push(`          fix: ${f.mitigation}`);
  }
  // Each capture's own findings, one line per code (analyze shows them one by one).
  for (const sev of SEVERITIES) {
    const codes = [...new Set([...inside, ...outside].filter((f) => f.severity === sev).map((f) => f.code))];
    for (const code of codes) {
      const i = inside.filter((f) => f.code === code), o = outside.filter((f) => f.code === code);
      const where = [i.length ? `inside ×${i.length} (frames ${i[0].frames.slice(0, 6).join(', ')})` : '', o.length ? `outside ×${o.length} (frames ${o[0].frames.slice(0, 6).join(', ')})` : ''].filter(Boolean).join(', ');
      out.push(`  [${sev}] ${code}: ${(i[0] ?? o[0]).title} — ${where}`);
    }
  }
  out.push(`stored    ${dbPath} (capture${cmp.same ? ` ${cmp.inside.id}` : `s ${cmp.inside.id} inside, ${cmp.outside.id} outside`})`);
  return out.join('\n') + '\n';
}
