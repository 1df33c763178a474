import type { Db } from '../store/db.js';
import { captureRows, findingDigest, hostsFor, protocolsFor, warningsFor, isoTime } from '../store/queries.js';
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
  out.push(...protocolLines(db, captureId));
  const digest = findingDigest(db, captureId);
  const total = digest.reduce((n, d) => n + d.count, 0);
  const bySev = SEVERITIES.map((s) => [s, digest.filter((d) => d.severity === s).reduce((n, d) => n + d.count, 0)] as const).filter(([, n]) => n > 0);
  out.push(`findings  ${total === 0 ? 'none' : bySev.map(([s, n]) => `${n} ${s}`).join(', ')}`);
  // One block per code, most severe first: the first occurrence's explanation, how many more.
  const order = [...digest].sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || a.code.localeCompare(b.code));
  for (const d of order) {
    const first = d.first[0];
    out.push(`  [${d.severity}] ${d.code}${d.count > 1 ? ` ×${d.count}` : ''}: ${first.title}`);
    out.push(`          ${first.explanation}`);
    const frames = d.first.flatMap((f) => f.frames.slice(0, 4));
    out.push(`          frames ${frames.slice(0, 12).join(', ')}${d.evidenceFrames > 12 || d.maxFrames > 4 ? ', ...' : ''}`);
    out.push(`          fix: ${first.mitigation}`);
  }
  out.push(`stored    ${dbPath} (capture ${captureId})`);
  process.stdout.write(out.join('\n') + '\n');
}

function count(db: Db, sql: string, ...args: unknown[]): number {
  try {
    return (db.prepare(sql).get(...args) as { n: number | null }).n ?? 0;
  } catch {
    return 0; // table of a protocol this database predates
  }
}

/** One line per protocol that saw something: FTP sessions and data channels, TLS handshakes, NLB clusters. */
function protocolLines(db: Db, captureId: number): string[] {
  const out: string[] = [];
  const sessions = count(db, 'SELECT COUNT(*) AS n FROM ftp_sessions WHERE capture_id = ?', captureId);
  if (sessions > 0) {
    const tls = count(db, "SELECT COUNT(*) AS n FROM ftp_sessions WHERE capture_id = ? AND tls_mode <> 'none'", captureId);
    const channels = count(db, 'SELECT COUNT(*) AS n FROM ftp_channels WHERE capture_id = ?', captureId);
    const ok = count(db, "SELECT COUNT(*) AS n FROM ftp_channels WHERE capture_id = ? AND outcome = 'completed'", captureId);
    out.push(`ftp       ${sessions} sessions${tls ? ` (${tls} with TLS)` : ''}, ${channels} data-channel announcements, ${ok} completed`);
  }
  const handshakes = count(db, 'SELECT COUNT(*) AS n FROM tls_handshakes WHERE capture_id = ?', captureId);
  if (handshakes > 0) {
    const resumed = count(db, 'SELECT COUNT(*) AS n FROM tls_handshakes WHERE capture_id = ? AND resumed = 1', captureId);
    const decrypted = count(db, "SELECT COUNT(*) AS n FROM tls_handshakes WHERE capture_id = ? AND decrypted = 'yes'", captureId);
    out.push(`tls       ${handshakes} handshakes, ${resumed} resumed${decrypted ? `, ${decrypted} decrypted` : ''}`);
  }
  try {
    const clusters = db.prepare('SELECT cluster_ip AS ip, mode FROM nlb_clusters WHERE capture_id = ?').all(captureId) as Array<{ ip: string; mode: string }>;
    for (const c of clusters) {
      const hosts = db.prepare('SELECT priority FROM nlb_hosts WHERE capture_id = ? AND cluster_ip = ? ORDER BY priority').all(captureId, c.ip) as Array<{ priority: number }>;
      out.push(`nlb       cluster ${c.ip}, ${c.mode} mode, ${hosts.length} hosts${hosts.length ? ` (priorities ${hosts.map((h) => h.priority).join(', ')})` : ''}`);
    }
  } catch {
    // no NLB tables in an older database
  }
  return out;
}
