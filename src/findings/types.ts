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

/**
 * A rule's judgement in pieces, for an analysis that stores units as they settle and forgets
 * them: every settled part's facts are added as they come, the final facts last, and finish
 * drafts the findings. What it keeps between parts is bounded (per group: what a finding shows),
 * so memory does not grow with the capture.
 */
export interface Tally {
  add(facts: FactSet, opts: RuleOptions): void;
  finish(opts: RuleOptions): FindingDraft[];
}

/** Policy: one module per finding code, reading facts, never packets. */
export interface Rule {
  code: string;
  severity: Severity;
  title: string;
  explanation: string;
  mitigation: string;
  evaluate(facts: FactSet, opts: RuleOptions): FindingDraft[];
  /** A rule that judges units across the whole capture can take them part by part (see Tally). */
  tally?(): Tally;
}

/** A rule made of its tally: evaluating a whole fact set is adding it as the one part. */
export function tallied(rule: Omit<Rule, 'evaluate'> & { tally(): Tally }): Rule {
  return {
    ...rule,
    evaluate(facts, opts) {
      const t = rule.tally();
      t.add(facts, opts);
      return t.finish(opts);
    },
  };
}
