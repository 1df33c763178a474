import type { AnalyzerFactory } from './analysis/analyzer.js';
import type { Rule } from './findings/types.js';
import type { FactWriter } from './store/facts.js';
import type { DocumentSection } from './store/queries.js';
import { FTP_MODULE } from './proto/ftp/module.js';
import { TLS_MODULE } from './proto/tls/module.js';
import { L2_MODULE } from './proto/l2/module.js';

/**
 * A protocol's contribution to the pipeline: its analyzers, its rules, the tables its facts
 * live in and how they reach SQLite and the JSON document. Adding a protocol = one module here.
 */
export interface ProtocolModule {
  name: string;
  analyzers: AnalyzerFactory[];
  rules: Rule[];
  /** SQL creating this protocol's tables: one schema migration, applied in the order below. */
  migration: string;
  writeFacts: FactWriter | null;
  /** Key in the `--json` document (e.g. 'ftp') and how to build it from SQLite. */
  document: { key: string; section: DocumentSection } | null;
}

/** Order matters twice: analyzers see events in this order, and migrations are numbered by it. */
export const PROTOCOLS: ProtocolModule[] = [TLS_MODULE, FTP_MODULE, L2_MODULE];
