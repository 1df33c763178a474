import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { NotACaptureError } from '../source/open.js';
import { usageError, UserError } from './errors.js';
import { addAnalysisFlags, analysisOptions, openDbOrFail } from './analyze.js';
import { progressBar } from './progress.js';
import { analyzeAndStore, packetDetail, sha256File, storedCaptureId } from '../compare/ingest.js';
import { loadCapture } from '../compare/load.js';
import { compareCaptures, DEFAULT_WINDOW_SECONDS } from '../compare/compare.js';
import { compareResult, comparisonDocument } from '../compare/document.js';
import { compareSummary } from '../compare/summary.js';

interface CompareFlags {
  db: string;
  json?: boolean;
  keylog?: string;
  passiveRange?: string;
  trusted?: string;
  showPasswords?: boolean;
  window: string;
}

function parseWindow(v: string): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(n > 0)) throw usageError(`--window wants a positive number of seconds, got '${v}'`);
  return n;
}

export function registerCompare(program: Command): void {
  addAnalysisFlags(
    program.command('compare')
      .description('compare two captures of the same traffic taken inside and outside a NAT router: pair the FTP sessions, show rewritten PASV/PORT lines, the NAT mappings and the packets dropped in between')
      .argument('<inside>', 'capture taken on the inside (private) side of the router')
      .argument('<outside>', 'capture taken on the outside side of the router'),
  ).option('--window <seconds>', 'how far apart, once the clock offset is removed, the same session may start in the two captures', String(DEFAULT_WINDOW_SECONDS))
    .action(async (first: string, second: string, flags: CompareFlags) => {
      const windowSeconds = parseWindow(flags.window);
      for (const f of [first, second]) {
        if (f === '-') throw usageError('compare reads each capture twice: give files, not - (stdin)');
        if (!existsSync(f)) throw new UserError(`${f}: no such file`);
        if (statSync(f).isDirectory()) throw new UserError(`${f}: is a directory, not a capture`);
      }
      const options = analysisOptions(flags);
      // A stored analysis made with other options would tell another story: reuse only plain ones.
      const reuse = flags.keylog === undefined && flags.passiveRange === undefined && flags.trusted === undefined && !flags.showPasswords;
      const db = openDbOrFail(flags.db);
      try {
        const ids: number[] = [];
        const paths = new Map<number, string>();
        const bySha = new Map<string, number>();
        for (const file of [first, second]) {
          const sha = await sha256File(file);
          let id = bySha.get(sha) ?? (reuse ? storedCaptureId(db, sha) : null);
          if (id === null) {
            const bar = progressBar(file);
            try {
              id = await analyzeAndStore(db, file, options, bar);
            } catch (e) {
              if (e instanceof NotACaptureError) throw new UserError(e.message);
              throw e;
            } finally {
              bar.done();
            }
          }
          bySha.set(sha, id);
          ids.push(id);
          paths.set(id, file);
        }
        const a = loadCapture(db, ids[0]), b = loadCapture(db, ids[1]);
        if (!a || !b) throw new UserError('the stored captures disappeared while comparing (another faultline writing the same database?)');
        const cmp = compareCaptures(a, b, windowSeconds);
        const detail = await packetDetail(cmp, paths);
        if (flags.json) {
          process.stdout.write(JSON.stringify(comparisonDocument(db, cmp, { showPasswords: options.showPasswords, detail }), null, 2) + '\n');
        } else {
          process.stdout.write(compareSummary(db, cmp, compareResult(cmp, detail), flags.db));
        }
      } finally {
        db.close();
      }
    });
}
