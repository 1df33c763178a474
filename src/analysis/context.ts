import type { CaptureFact, DecodeStats, HostFact, ProtocolCount, WarningFact } from './facts.js';
import { emptyStats } from './facts.js';
import { emptyFtpFacts, type FtpFacts } from '../proto/ftp/facts.js';
import { emptyTlsFacts, type TlsFacts } from '../proto/tls/facts.js';
import { emptyL2Facts, type L2Facts } from '../proto/l2/facts.js';
import type { RuleOptions } from '../findings/types.js';

export interface AnalyzeOptions extends RuleOptions {
  /** NSS key log text for TLS decryption (`--keylog`). */
  keylog: string | null;
  /** Show passwords in output (`--show-passwords`); masked otherwise. */
  showPasswords: boolean;
  /** Reassembly: out-of-order bytes buffered per direction before a gap is forced. */
  maxPendingPerDirection: number;
  /** Bytes kept per application line/record buffer before a warning (FTP lines, TLS records). */
  maxStreamBuffer: number;
}

export const DEFAULT_OPTIONS: AnalyzeOptions = {
  passiveRange: null,
  trusted: [],
  keylog: null,
  showPasswords: false,
  maxPendingPerDirection: 1 << 20,
  maxStreamBuffer: 1 << 20,
};

/**
 * Everything one capture's analysis knows: the facts so far, warnings, statistics. Analyzers
 * add their own fact sections (ftp, tls, l2) as they are built.
 */
export interface FactSet {
  ftp: FtpFacts;
  tls: TlsFacts;
  l2: L2Facts;
  capture: CaptureFact;
  warnings: WarningFact[];
  hosts: HostFact[];
  protocols: ProtocolCount[];
  stats: DecodeStats;
}

export class AnalysisContext {
  readonly facts: FactSet;
  /** Warnings are capped so a hostile file cannot flood memory; the rest are counted. */
  private static readonly MAX_WARNINGS = 1000;
  suppressedWarnings = 0;

  constructor(readonly options: AnalyzeOptions, file: string, name: string) {
    this.facts = {
      capture: { file, name, sha256: '', format: 'pcap', compressed: false, linkTypes: [], frames: 0, bytes: 0, firstTs: null, lastTs: null, damaged: false },
      ftp: emptyFtpFacts(),
      tls: emptyTlsFacts(),
      l2: emptyL2Facts(),
      warnings: [],
      hosts: [],
      protocols: [],
      stats: emptyStats(),
    };
  }

  warn(offset: number, message: string, frame: number | null = null): void {
    if (this.facts.warnings.length >= AnalysisContext.MAX_WARNINGS) { this.suppressedWarnings++; return; }
    this.facts.warnings.push({ offset, frame, message });
  }
}
