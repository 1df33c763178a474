import type { FactSet } from '../analysis/context.js';
import type { Finding, Rule, RuleOptions, Tally } from './types.js';
import { RULES } from './registry.js';
import { flatString } from '../decode/bytes.js';

/**
 * Runs every rule over a capture's facts; findings come out ordered by first evidence frame.
 * `tallies` holds the rules that took settled parts already (see Tally): the facts are their last part.
 */
export function runRules(facts: FactSet, opts: RuleOptions, rules: Rule[] = RULES, tallies?: ReadonlyMap<Rule, Tally>): Finding[] {
  const out: Finding[] = [];
  for (const rule of rules) {
    const tally = tallies?.get(rule);
    if (tally) tally.add(facts, opts);
    for (const d of tally ? tally.finish(opts) : rule.evaluate(facts, opts)) {
      out.push({
        code: rule.code,
        severity: rule.severity,
        // Findings wait in memory until stored: one flat string each, not a tree of pieces.
        title: flatString(d.title ?? rule.title),
        explanation: flatString(d.explanation ?? rule.explanation),
        mitigation: flatString(d.mitigation ?? rule.mitigation),
        frames: [...new Set(d.frames)].sort((a, b) => a - b),
        firstTs: d.firstTs,
        subject: d.subject,
        details: d.details,
      });
    }
  }
  return out.sort((a, b) => (a.frames[0] ?? Infinity) - (b.frames[0] ?? Infinity) || a.code.localeCompare(b.code));
}
