import type { Rule } from './types.js';

/** Every rule faultline runs. Add a rule: write src/findings/rules/<code>.ts and list it here. */
export const RULES: Rule[] = [];
