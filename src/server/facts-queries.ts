/**
 * Read-only queries the views need beyond the `--json` document: an FTP session's command and
 * reply dialogue (the document carries only the command count) and dated events for the
 * incident timeline. Protocol tables are looked up by name first, so a database written before
 * a module existed (or by a module that changed its tables) yields empty lists, not errors.
 */
import type { Db } from '../store/db.js';
import { isoTime } from '../store/queries.js';

export function hasTable(db: Db, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

function columns(db: Db, table: string): Set<string> {
  return new Set((db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as Array<{ name: string }>).map((r) => r.name));
}

/** Commands whose argument is a secret (RFC 959 PASS and ACCT): never shown by the web view. */
const SECRET_VERBS = new Set(['PASS', 'ACCT']);

export interface DialogueCommand {
  seq: number; verb: string; arg: string | null; masked: boolean; known: boolean; frame: number; ts: string | null; via: string;
  preliminary: { code: number; frame: number | null } | null;
  reply: { code: number; text: string | null; frame: number | null; ts: string | null } | null;
}

interface CommandRow {
  seq: number; verb: string; arg: string | null; known: number; frame: number; ts: number; via: string;
  prelim_code: number | null; prelim_frame: number | null; reply_code: number | null; reply_text: string | null; reply_frame: number | null; reply_ts: number | null;
}

const DIALOGUE_COLUMNS = ['seq', 'verb', 'arg', 'known', 'frame', 'ts', 'via', 'prelim_code', 'prelim_frame', 'reply_code', 'reply_text', 'reply_frame', 'reply_ts'];

/** The kept commands of one FTP session with their replies, in order; null when the table is missing. */
export function ftpDialogue(db: Db, captureId: number, session: number): DialogueCommand[] | null {
  if (!hasTable(db, 'ftp_commands')) return null;
  const have = columns(db, 'ftp_commands');
  if (!DIALOGUE_COLUMNS.every((c) => have.has(c))) return null;
  const rows = db.prepare(`SELECT ${DIALOGUE_COLUMNS.join(', ')} FROM ftp_commands WHERE capture_id = ? AND session = ? ORDER BY seq`).all(captureId, session) as CommandRow[];
  return rows.map((r) => {
    const masked = SECRET_VERBS.has(r.verb.toUpperCase());
    return {
      seq: r.seq, verb: r.verb, arg: masked ? null : r.arg, masked, known: r.known === 1, frame: r.frame, ts: isoTime(r.ts), via: r.via,
      preliminary: r.prelim_code === null ? null : { code: r.prelim_code, frame: r.prelim_frame },
      reply: r.reply_code === null ? null : { code: r.reply_code, text: r.reply_text, frame: r.reply_frame, ts: isoTime(r.reply_ts) },
    };
  });
}

export interface TimelineEvent {
  /** µs since the epoch (exact) and its ISO form. */
  us: number;
  ts: string;
  kind: 'capture' | 'finding' | 'ftp-command' | 'ftp-reply' | 'ftp-announcement' | 'flow-failure';
  label: string;
  severity: string | null;
  frame: number | null;
  session?: number;
  code?: string;
}

const MAX_EVENTS = 5000;

/** Dated facts of one capture from SQLite, oldest first, at most MAX_EVENTS of them. */
export function timelineEvents(db: Db, captureId: number): { events: TimelineEvent[]; truncated: boolean } {
  const out: TimelineEvent[] = [];
  const push = (us: number | null, e: Omit<TimelineEvent, 'us' | 'ts'>): void => {
    if (us === null || !Number.isFinite(us)) return;
    out.push({ us, ts: isoTime(us)!, ...e });
  };
  const cap = db.prepare(`SELECT first_ts, last_ts, name FROM captures WHERE id = ?`).get(captureId) as { first_ts: number | null; last_ts: number | null; name: string } | undefined;
  if (!cap) return { events: [], truncated: false };
  push(cap.first_ts, { kind: 'capture', label: 'capture starts', severity: null, frame: 1 });
  push(cap.last_ts, { kind: 'capture', label: 'capture ends', severity: null, frame: null });

  for (const f of db.prepare(`SELECT code, severity, title, frames, first_ts FROM findings WHERE capture_id = ? ORDER BY first_ts`).all(captureId) as Array<{ code: string; severity: string; title: string; frames: string; first_ts: number | null }>) {
    const frames = JSON.parse(f.frames) as number[];
    push(f.first_ts, { kind: 'finding', label: `${f.code}: ${f.title}`, severity: f.severity, frame: frames[0] ?? null, code: f.code });
  }

  if (hasTable(db, 'ftp_commands') && columns(db, 'ftp_commands').has('reply_ts')) {
    const rows = db.prepare(`SELECT session, verb, arg, frame, ts, reply_code, reply_text, reply_frame, reply_ts FROM ftp_commands WHERE capture_id = ? ORDER BY ts LIMIT ?`).all(captureId, MAX_EVENTS) as Array<{ session: number; verb: string; arg: string | null; frame: number; ts: number; reply_code: number | null; reply_text: string | null; reply_frame: number | null; reply_ts: number | null }>;
    for (const r of rows) {
      const arg = SECRET_VERBS.has(r.verb.toUpperCase()) || r.arg === null ? '' : ` ${r.arg}`;
      push(r.ts, { kind: 'ftp-command', label: `${r.verb}${arg}`, severity: null, frame: r.frame, session: r.session });
      if (r.reply_code !== null) push(r.reply_ts, { kind: 'ftp-reply', label: `${r.reply_code} ${r.reply_text ?? ''}`.trim(), severity: r.reply_code >= 400 ? 'medium' : null, frame: r.reply_frame, session: r.session });
    }
  }
  if (hasTable(db, 'ftp_channels') && columns(db, 'ftp_channels').has('ts')) {
    const rows = db.prepare(`SELECT session, kind, frame, ts, announced_ip, announced_port, outcome FROM ftp_channels WHERE capture_id = ? ORDER BY ts LIMIT ?`).all(captureId, MAX_EVENTS) as Array<{ session: number; kind: string; frame: number; ts: number; announced_ip: string; announced_port: number; outcome: string }>;
    for (const r of rows) {
      push(r.ts, { kind: 'ftp-announcement', label: `${r.kind} announces ${r.announced_ip}:${r.announced_port} (${r.outcome})`, severity: null, frame: r.frame, session: r.session });
    }
  }
  const failures = db.prepare(`SELECT idx, src_ip, src_port, dst_ip, dst_port, first_ts, first_frame, state FROM flows
    WHERE capture_id = ? AND state IN ('syn-unanswered', 'rejected', 'reset', 'syn-no-synack') ORDER BY first_ts LIMIT ?`).all(captureId, MAX_EVENTS) as Array<{ idx: number; src_ip: string; src_port: number; dst_ip: string; dst_port: number; first_ts: number; first_frame: number; state: string }>;
  for (const f of failures) {
    push(f.first_ts, { kind: 'flow-failure', label: `flow ${f.idx} ${f.src_ip}:${f.src_port} → ${f.dst_ip}:${f.dst_port} ${f.state}`, severity: null, frame: f.first_frame });
  }
  out.sort((a, b) => a.us - b.us);
  return { events: out.slice(0, MAX_EVENTS), truncated: out.length > MAX_EVENTS };
}
