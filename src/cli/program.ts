/** The faultline command line: every command, and how errors reach the user (see main.ts for the entry). */
import { Command, CommanderError } from 'commander';
import { registerAnalyze } from './analyze.js';
import { registerServe } from './serve.js';
import { registerExport } from './export.js';
import { registerSniff } from './sniff.js';
import { registerInterfaces } from './interfaces.js';
import { registerCompare } from './compare.js';
import { UserError } from './errors.js';

const program = new Command();
program
  .name('faultline')
  .description('Finds where FTP/FTPS transfers, TLS connections and Windows NLB clusters break in packet captures, and why.')
  .version('0.1.0')
  .showHelpAfterError('(run faultline --help for usage)')
  .exitOverride();

registerAnalyze(program);
registerServe(program);
registerExport(program);
registerSniff(program);
registerInterfaces(program);
registerCompare(program);

export async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; every other commander complaint is a usage error (exit 2).
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    if (e instanceof UserError) {
      process.stderr.write(`faultline: ${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    const err = e as Error;
    process.stderr.write(`faultline: internal error: ${err.message}${process.env.FAULTLINE_DEBUG ? '\n' + err.stack : ' (set FAULTLINE_DEBUG=1 to see where)'}\n`);
    process.exitCode = 1;
  }
}
