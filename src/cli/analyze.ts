import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { DEFAULT_OPTIONS, type AnalyzeOptions } from '../analysis/context.js';
import { NotACaptureError } from '../source/open.js';
import { openDb } from '../store/db.js';
import { analyzeAndStore } from '../store/ingest.js';
import { PROTOCOLS } from '../protocols.js';
import { writeAnalysisDocument } from '../store/queries.js';
import { UserError } from './errors.js';
import { parsePassiveRange, parseTrusted, readKeylog } from './options.js';
import { progressBar } from './progress.js';
import { printSummary } from './summary.js';

interface AnalyzeFlags {
  db: string;
  json?: boolean;
  keylog?: string;
  passiveRange?: string;
  trusted?: string;
  showPasswords?: boolean;
}

export function analysisOptions(flags: Omit<AnalyzeFlags, 'db' | 'json'>): AnalyzeOptions {
  return {
    ...DEFAULT_OPTIONS,
    passiveRange: parsePassiveRange(flags.passiveRange),
    trusted: parseTrusted(flags.trusted),
    keylog: readKeylog(flags.keylog),
    showPasswords: flags.showPasswords === true,
  };
}

/** The options of every command that analyses and stores (analyze, compare, sniff): the database and analysisOptions' flags. */
export function addAnalysisOptions(cmd: Command): Command {
  return cmd
    .option('--db <path>', 'SQLite database to store results in', './faultline.db')
    .option('--keylog <file>', 'NSS key log (SSLKEYLOGFILE) for TLS decryption')
    .option('--passive-range <lo-hi>', 'the FTP server\'s configured passive port range, e.g. 50000-50100')
    .option('--trusted <cidrs>', 'comma-separated networks FTP peers are expected in')
    .option('--show-passwords', 'print FTP passwords instead of masking them');
}

/** analyze and compare: the analysis options and --json. */
export function addAnalysisFlags(cmd: Command): Command {
  return addAnalysisOptions(cmd).option('--json', 'print the analysis as one JSON document on stdout');
}

export function registerAnalyze(program: Command): void {
  addAnalysisFlags(
    program.command('analyze')
      .description('analyse capture files (pcap, pcapng, gzip-compressed, or - for stdin), store the results and print a summary')
      .argument('<files...>', 'capture files'),
  ).action(async (files: string[], flags: AnalyzeFlags) => {
    const options = analysisOptions(flags);
    const db = openDbOrFail(flags.db);
    const ids: number[] = [];
    let failures = 0;
    for (const file of files) {
      if (file !== '-' && !existsSync(file)) { process.stderr.write(`faultline: ${file}: no such file\n`); failures++; continue; }
      if (file !== '-' && statSync(file).isDirectory()) { process.stderr.write(`faultline: ${file}: is a directory, not a capture\n`); failures++; continue; }
      const bar = progressBar(file);
      try {
        const { captureId } = await analyzeAndStore(db, file, options, { progress: bar, storing: () => bar.done() });
        bar.done();
        ids.push(captureId);
        if (!flags.json) printSummary(db, captureId, flags.db, options);
      } catch (e) {
        bar.done();
        if (e instanceof NotACaptureError) { process.stderr.write(`faultline: ${e.message}\n`); failures++; continue; }
        throw e;
      }
    }
    // Streamed a batch of rows at a time: the document of a large capture is never whole in memory.
    if (flags.json) writeAnalysisDocument((text) => process.stdout.write(text), db, ids, { showPasswords: options.showPasswords }, PROTOCOLS.map((p) => p.document));
    db.close();
    if (failures > 0) process.exitCode = 1;
  });
}

export function openDbOrFail(path: string): ReturnType<typeof openDb> {
  try {
    return openDb(path);
  } catch (e) {
    throw new UserError(`cannot open database ${path}: ${(e as Error).message}`);
  }
}
