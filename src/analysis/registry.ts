import type { AnalyzerFactory } from './analyzer.js';
import { PROTOCOLS } from '../protocols.js';

/** Every protocol analyzer, in the order they see events. */
export const ANALYZERS: AnalyzerFactory[] = PROTOCOLS.flatMap((p) => p.analyzers);
