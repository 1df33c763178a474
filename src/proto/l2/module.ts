import type { ProtocolModule } from '../../protocols.js';

/** L2: analyzers, rules, tables and JSON section (filled in as the L2 issue lands). */
export const L2_MODULE: ProtocolModule = {
  name: 'l2',
  analyzers: [],
  rules: [],
  migration: 'CREATE TABLE IF NOT EXISTS l2_placeholder (id INTEGER PRIMARY KEY);',
  writeFacts: null,
  document: null,
};
