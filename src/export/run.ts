/**
 * `faultline export`: checks the request, opens the database, resolves the capture, builds the
 * timeline once and renders the chosen format to stdout or a file (written under a temporary
 * name and renamed, so a reader never sees half a file). The pcap format slices the original
 * capture instead and needs --out.
 */
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { openDb, type Db } from '../store/db.js';
import { buildExport, type ExportData } from './timeline.js';
import { ExportError, resolveCapture } from './capture.js';
import { isSeverity, type Selection } from './selection.js';
import { parseTimeArg } from './time.js';
import { renderJsonl } from './jsonl.js';
import { renderTimesketchCsv, renderTimesketchJsonl } from './timesketch.js';
import { renderL2tCsv } from './l2tcsv.js';
import { renderMarkdown } from './markdown.js';
import { renderHtml } from './html.js';
import { sliceSpec } from './slice-spec.js';
import { writeSlice } from './pcap-slice.js';

export const FORMATS = ['jsonl', 'timesketch', 'l2tcsv', 'markdown', 'html', 'pcap'] as const;
export type ExportFormat = (typeof FORMATS)[number];

export interface ExportRequest {
  db: string;
  capture?: string;
  format?: string;
  out?: string;
  since?: string;
  until?: string;
  finding?: string[];
  severity?: string;
  csv?: boolean;
}

export interface ExportIo {
  stdout(text: string): void;
  log(line: string): void;
}

/** File name pieces: what --out gets when it is a directory, and the extension added when it has none. */
function naming(format: ExportFormat, csv: boolean, mixed: boolean): { tag: string; ext: string } {
  switch (format) {
    case 'jsonl': return { tag: 'eve', ext: '.jsonl' };
    case 'timesketch': return { tag: 'timesketch', ext: csv ? '.csv' : '.jsonl' };
    case 'l2tcsv': return { tag: 'l2t', ext: '.csv' };
    case 'markdown': return { tag: 'report', ext: '.md' };
    case 'html': return { tag: 'report', ext: '.html' };
    case 'pcap': return { tag: 'slice', ext: mixed ? '.pcapng' : '.pcap' };
  }
}

function captureBase(name: string): string {
  return basename(name).replace(/\.gz$/i, '').replace(/\.(pcapng|pcap|cap|dmp)$/i, '') || 'capture';
}

function outputPath(out: string, captureName: string, n: { tag: string; ext: string }): string {
  if (existsSync(out) && statSync(out).isDirectory()) return join(out, `${captureBase(captureName)}.${n.tag}${n.ext}`);
  return extname(out) === '' ? out + n.ext : out;
}

export function parseSelection(req: ExportRequest): Selection {
  const time = (flag: string, v: string | undefined): number | null => {
    if (v === undefined) return null;
    const us = parseTimeArg(v);
    if (us === null) throw new ExportError(`${flag} '${v}': give ISO 8601 (2024-05-01T12:00:00Z) or epoch seconds`, 2);
    return us;
  };
  const since = time('--since', req.since);
  const until = time('--until', req.until);
  if (since !== null && until !== null && since > until) throw new ExportError('--since is after --until', 2);
  const codes = (req.finding ?? []).flatMap((c) => c.split(',')).map((c) => c.trim().toUpperCase()).filter(Boolean);
  for (const c of codes) if (!/^[A-Z][A-Z0-9_]*$/.test(c)) throw new ExportError(`--finding '${c}' is not a finding code (e.g. FTP_DATA_CONNECT_FAILED)`, 2);
  let minSeverity: Selection['minSeverity'] = null;
  if (req.severity !== undefined) {
    const s = req.severity.trim().toLowerCase();
    if (!isSeverity(s)) throw new ExportError(`--severity '${req.severity}': one of info, low, medium, high`, 2);
    minSeverity = s;
  }
  return { since, until, codes, minSeverity };
}

export function render(format: Exclude<ExportFormat, 'pcap'>, data: ExportData, csv: boolean): string {
  switch (format) {
    case 'jsonl': return renderJsonl(data);
    case 'timesketch': return csv ? renderTimesketchCsv(data) : renderTimesketchJsonl(data);
    case 'l2tcsv': return renderL2tCsv(data);
    case 'markdown': return renderMarkdown(data);
    case 'html': return renderHtml(data);
  }
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.partial-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new ExportError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function openExisting(path: string): Db {
  if (!existsSync(path)) throw new ExportError(`no database at ${path} (run faultline analyze FILE --db ${path} first)`);
  try {
    return openDb(path);
  } catch (e) {
    throw new ExportError(`cannot open database ${path}: ${(e as Error).message}`);
  }
}

export async function runExport(req: ExportRequest, io: ExportIo): Promise<void> {
  if (req.format === undefined) throw new ExportError(`--format is required: one of ${FORMATS.join(', ')}`, 2);
  const format = req.format.trim().toLowerCase() as ExportFormat;
  if (!FORMATS.includes(format)) throw new ExportError(`unknown format '${req.format}': one of ${FORMATS.join(', ')}`, 2);
  const csv = req.csv === true;
  if (csv && format !== 'timesketch') throw new ExportError('--csv applies to --format timesketch only', 2);
  if (format === 'pcap' && req.out === undefined) throw new ExportError('--format pcap writes a capture file: give --out PATH', 2);
  const selection = parseSelection(req);

  const db = openExisting(req.db);
  try {
    const { row, givenFile } = await resolveCapture(db, req.capture);
    const data = buildExport(db, row, selection);
    for (const code of selection.codes) {
      if (!data.findings.some((f) => f.code === code)) io.log(`note: no ${code} finding in capture ${row.id}${selection.since !== null || selection.until !== null ? ' within the time window' : ''}`);
    }
    let links: number[] = [];
    try { links = JSON.parse(row.link_types) as number[]; } catch { /* none recorded */ }
    const mixed = new Set(links.filter((l) => l >= 0)).size > 1;
    const target = req.out === undefined ? null : outputPath(req.out, row.name, naming(format, csv, mixed));
    const source = givenFile ?? row.file;
    if (target !== null && (resolve(target) === resolve(source) || resolve(target) === resolve(req.db))) {
      throw new ExportError(`refusing to overwrite ${target}: it is the ${resolve(target) === resolve(req.db) ? 'database' : 'capture'} itself`);
    }
    if (format === 'pcap') {
      if (data.findings.length === 0) {
        throw new ExportError(`no finding selected in capture ${row.id} (${data.totalFindings} in all): nothing to slice; adjust --finding/--severity/--since/--until`);
      }
      if (source === '-') throw new ExportError(`capture ${row.id} was read from stdin: give the file with --capture FILE to slice it`);
      const spec = sliceSpec(db, row.id, data.findings);
      const r = await writeSlice(source, row.sha256, links, spec, target!);
      io.log(`wrote ${r.frames} frames (${r.format}, link type${r.linkTypes.length > 1 ? 's' : ''} ${r.linkTypes.join(', ')}) for ${data.findings.length} finding${data.findings.length === 1 ? '' : 's'} to ${target}${r.maskedSecrets ? `; ${r.maskedSecrets} FTP password argument${r.maskedSecrets === 1 ? '' : 's'} masked` : ''}`);
      return;
    }
    const text = render(format, data, csv);
    if (target === null) io.stdout(text);
    else {
      writeAtomically(target, text);
      io.log(`wrote ${data.events.length} events, ${data.findings.length} finding${data.findings.length === 1 ? '' : 's'} (${format}${csv ? ' csv' : ''}) to ${target}`);
    }
  } finally {
    db.close();
  }
}
