import type { FactSet } from '../analysis/context.js';

export type Severity = 'info' | 'low' | 'medium' | 'high';
export const SEVERITIES: Severity[] = ['high', 'medium', 'low', 'info'];

export interface FindingSubject {
  session?: number;
  flow?: number;
  host?: string;
}

/** One diagnosis: the JSON contract of FINDINGS.md. */
export interface Finding {
  code: string;
  severity: Severity;
  title: string;
  explanation: string;
  mitigation: string;
  /** Evidence frame numbers (1-based, Wireshark's numbering), ascending. */
  frames: number[];
  firstTs: number | null;
  subject: FindingSubject;
  details: Record<string, unknown>;
}

/** What a rule decides per occurrence; code, severity and texts come from the rule itself. */
export interface FindingDraft {
  frames: number[];
  firstTs: number | null;
  subject: FindingSubject;
  details: Record<string, unknown>;
  /** Overrides the rule's generic explanation with one naming the concrete values. */
  explanation?: string;
  title?: string;
  mitigation?: string;
}

export interface RuleOptions {
  /** Configured passive port range (`--passive-range LO-HI`). */
  passiveRange: [number, number] | null;
  /** Trusted networks (`--trusted CIDR,...`). */
  trusted: string[];
}

/** Policy: one module per finding code, reading facts, never packets. */
export interface Rule {
  code: string;
  severity: Severity;
  title: string;
  explanation: string;
  mitigation: string;
  evaluate(facts: FactSet, opts: RuleOptions): FindingDraft[];
}
