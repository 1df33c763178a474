/**
 * What an export covers: a time window, finding codes, a minimum severity. Findings are
 * selected by code, severity and first time; with --finding or --severity, every other event
 * is kept only when it concerns the same FTP session, flow or host as a selected finding.
 */
import type { Severity } from '../findings/types.js';
import type { Finding } from '../findings/types.js';

export interface Selection {
  /** µs; inclusive. */
  since: number | null;
  until: number | null;
  codes: string[];
  minSeverity: Severity | null;
}

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3 };

export function isSeverity(s: string): s is Severity {
  return s in SEVERITY_RANK;
}

/** --finding or --severity given: the export is about some findings, not the whole capture. */
export function narrowed(sel: Selection): boolean {
  return sel.codes.length > 0 || sel.minSeverity !== null;
}

export function inWindow(sel: Selection, ts: number | null): boolean {
  if (ts === null) return sel.since === null && sel.until === null;
  return (sel.since === null || ts >= sel.since) && (sel.until === null || ts <= sel.until);
}

export function findingSelected(sel: Selection, f: Pick<Finding, 'code' | 'severity' | 'firstTs'>): boolean {
  if (sel.codes.length > 0 && !sel.codes.includes(f.code)) return false;
  if (sel.minSeverity !== null && (SEVERITY_RANK[f.severity] ?? 0) < SEVERITY_RANK[sel.minSeverity]) return false;
  return inWindow(sel, f.firstTs);
}

/**
 * Flow indexes a finding's details name: rules that group several connections under one finding
 * (TLS_NONSTANDARD_PORT's `flows`, TLS_HANDSHAKE_FAILED's `handshakes[].flow`, FTP connections)
 * put the subject's flow first and the others in the details. Flow numbers mean flow indexes
 * everywhere in faultline, so any `flow` number or `flows` number list counts.
 */
export function detailFlows(details: unknown, out = new Set<number>(), depth = 0): Set<number> {
  if (depth > 6 || details === null || typeof details !== 'object') return out;
  if (Array.isArray(details)) {
    for (const x of details) detailFlows(x, out, depth + 1);
    return out;
  }
  for (const [k, v] of Object.entries(details as Record<string, unknown>)) {
    if (k === 'flow' && typeof v === 'number' && Number.isInteger(v)) out.add(v);
    else if (k === 'flows' && Array.isArray(v)) for (const x of v) { if (typeof x === 'number' && Number.isInteger(x)) out.add(x); }
    else detailFlows(v, out, depth + 1);
  }
  return out;
}

/** Relation keys of a finding: its subject, the flows its details name, and the FTP sessions those flows belong to. */
export function findingKeys(f: Pick<Finding, 'code' | 'subject' | 'details'>, sessionOfFlow: Map<number, number>): string[] {
  const keys = new Set<string>();
  const s = f.subject ?? {};
  if (typeof s.session === 'number') keys.add(`session:${s.session}`);
  const flows = detailFlows(f.details);
  if (typeof s.flow === 'number') flows.add(s.flow);
  for (const flow of flows) {
    keys.add(`flow:${flow}`);
    const owner = sessionOfFlow.get(flow);
    if (owner !== undefined) keys.add(`session:${owner}`);
  }
  if (typeof s.host === 'string') keys.add(`host:${s.host}`);
  if (f.code === 'L2_UNKNOWN_UNICAST_FLOODING') keys.add('l2:unknown-unicast');
  return [...keys];
}

/** Drops every `password` member (an analysis run with --show-passwords puts one in FTP_CLEARTEXT_LOGIN's details). */
export function withoutSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutSecrets);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (/^pass(word)?$/i.test(k)) continue;
    out[k] = withoutSecrets(x);
  }
  return out;
}
