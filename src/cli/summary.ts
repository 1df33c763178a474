import type { Db } from '../store/db.js';
import { captureRows, findingsFor, hostsFor, protocolsFor, warningsFor, isoTime } from '../store/queries.js';
import { SEVERITIES } from '../findings/types.js';
import type { AnalyzeOptions } from '../analysis/context.js';
import type { DecodeStats } from '../analysis/facts.js';
import { linkTypeName } from '../decode/names.js';

export function human(bytes: number): string {
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0, v = bytes;
  while (v >= 1000 && i < u.length - 1) { v /= 1000; i++; }
  return (i === 0 ? String(v) : v.toFixed(1)) + ' ' + u[i];
}

/** The readable summary of one stored capture, on stdout. */
export function printSummary(db: Db, captureId: number, dbPath: string, _options: AnalyzeOptions): void {
  const c = captureRows(db, [captureId])[0];
  const out: string[] = [];
  const stats = JSON.parse(c.stats) as DecodeStats;
  const span = c.first_ts !== null && c.last_ts !== null ? ((c.last_ts - c.first_ts) / 1e6).toFixed(3) + ' s' : 'n/a';
  const links = (JSON.parse(c.link_types) as number[]).map(linkTypeName).join(', ') || 'none';
  out.push(`capture   ${c.name}`);
  out.push(`          ${c.format}${c.compressed ? ' (gzip)' : ''}, link types: ${links}, ${c.frames} frames, ${human(c.bytes)}`);
  out.push(`          ${isoTime(c.first_ts) ?? '-'} → ${isoTime(c.last_ts) ?? '-'} (${span})`);
  out.push(`          sha256 ${c.sha256}`);
  const unknown = Object.entries(stats.unknownLinkTypes);
  if (unknown.length) out.push(`          not decoded: ${unknown.map(([lt, n]) => `${n} frames of link type ${lt}`).join(', ')}`);
  const hosts = hostsFor(db, captureId, 10);
  const hostCount = (db.prepare('SELECT COUNT(*) AS n FROM hosts WHERE capture_id = ?').get(captureId) as { n: number }).n;
  out.push(`hosts     ${hostCount}${hostCount > hosts.length ? ` (top ${hosts.length} by bytes)` : ''}`);
  for (const h of hosts) {
    out.push(`          ${String(h.ip).padEnd(40)} ${String(Number(h.packetsSent) + Number(h.packetsReceived)).padStart(8)} pkts ${human(Number(h.bytesSent) + Number(h.bytesReceived)).padStart(10)}  ${h.flows} flows`);
  }
  const protos = protocolsFor(db, captureId);
  out.push(`flows     ${protos.reduce((n, p) => n + p.flows, 0)}`);
  for (const p of protos) out.push(`          ${p.protocol.padEnd(16)} ${String(p.flows).padStart(7)} flows ${String(p.packets).padStart(9)} pkts ${human(p.bytes).padStart(10)}`);
  const other = stats.frames - stats.ipv4 - stats.ipv6;
  if (other > 0) out.push(`          non-IP frames: ${other} (ARP ${stats.arp})`);
  const warnings = warningsFor(db, captureId);
  out.push(`warnings  ${warnings.length === 0 ? 'none' : warnings.length}`);
  for (const w of warnings.slice(0, 20)) out.push(`          ${w.offset >= 0 ? `@${w.offset}: ` : ''}${w.message}`);
  if (warnings.length > 20) out.push(`          ... ${warnings.length - 20} more (see --json)`);
  const findings = findingsFor(db, captureId);
  const bySev = SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length] as const).filter(([, n]) => n > 0);
  out.push(`findings  ${findings.length === 0 ? 'none' : bySev.map(([s, n]) => `${n} ${s}`).join(', ')}`);
  for (const s of SEVERITIES) {
    for (const f of findings.filter((x) => x.severity === s)) {
      out.push(`  [${s}] ${f.code}: ${f.title}`);
      out.push(`          frames ${f.frames.slice(0, 12).join(', ')}${f.frames.length > 12 ? ', ...' : ''}`);
      out.push(`          fix: ${f.mitigation}`);
    }
  }
  out.push(`stored    ${dbPath} (capture ${captureId})`);
  process.stdout.write(out.join('\n') + '\n');
}
