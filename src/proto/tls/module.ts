import type { ProtocolModule } from '../../protocols.js';

/** TLS: analyzers, rules, tables and JSON section (filled in as the TLS issue lands). */
export const TLS_MODULE: ProtocolModule = {
  name: 'tls',
  analyzers: [],
  rules: [],
  migration: 'CREATE TABLE IF NOT EXISTS tls_placeholder (id INTEGER PRIMARY KEY);',
  writeFacts: null,
  document: null,
};
