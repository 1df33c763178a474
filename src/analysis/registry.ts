import type { AnalyzerFactory } from './analyzer.js';

/** Every protocol analyzer, in the order they see events. */
export const ANALYZERS: AnalyzerFactory[] = [];
