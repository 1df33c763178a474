import type { ProtocolModule } from '../../protocols.js';

/** FTP: analyzers, rules, tables and JSON section (filled in as the FTP issue lands). */
export const FTP_MODULE: ProtocolModule = {
  name: 'ftp',
  analyzers: [],
  rules: [],
  migration: 'CREATE TABLE IF NOT EXISTS ftp_placeholder (id INTEGER PRIMARY KEY);',
  writeFacts: null,
  document: null,
};
