import type { Rule } from './types.js';
import { PROTOCOLS } from '../protocols.js';

/** Every rule faultline runs: each protocol module lists its rules (one file per code in src/findings/rules/). */
export const RULES: Rule[] = PROTOCOLS.flatMap((p) => p.rules);
