import type { Command } from 'commander';
import { ExportError } from '../export/capture.js';
import { FORMATS, runExport, type ExportRequest } from '../export/run.js';
import { UserError } from './errors.js';

export function registerExport(program: Command): void {
  program.command('export')
    .description('export an analysed capture from the database: incident timelines (jsonl, timesketch, l2tcsv), reports (markdown, html) or the evidence frames (pcap)')
    .option('--capture <id|file>', 'capture id, analysed file (matched by path or sha256) or sha256; default: the latest')
    .option('--format <format>', `one of ${FORMATS.join(', ')}`)
    .option('--out <path>', 'output file or directory (default: stdout; required for pcap)')
    .option('--since <time>', 'from this time on (ISO 8601, UTC unless an offset is given, or epoch seconds)')
    .option('--until <time>', 'up to this time')
    .option('--finding <codes...>', 'only these finding codes (and the sessions, flows, hosts they concern)')
    .option('--severity <level>', 'only findings of this severity or worse: info, low, medium, high')
    .option('--csv', 'timesketch: CSV instead of JSON lines')
    .option('--db <path>', 'SQLite database written by analyze', './faultline.db')
    .action(async (flags: ExportRequest) => {
      try {
        await runExport(flags, {
          stdout: (t) => { process.stdout.write(t); },
          log: (l) => { process.stderr.write(`faultline: ${l}\n`); },
        });
      } catch (e) {
        if (e instanceof ExportError) throw new UserError(e.message.replace(/\s*\n\s*/g, ' '), e.exitCode);
        throw e;
      }
    });
}
