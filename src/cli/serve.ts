import type { Command } from 'commander';
import { DEFAULT_OPTIONS } from '../analysis/context.js';
import { createFaultlineServer } from '../server/server.js';
import { DEFAULT_MAX_UPLOAD, formatSize, parseSize, resolveToken } from '../server/config.js';
import { usageError, UserError } from './errors.js';
import { parsePassiveRange, parseTrusted } from './options.js';

interface ServeFlags {
  port: string;
  db: string;
  host: string;
  token?: string;
  maxUpload?: string;
  passiveRange?: string;
  trusted?: string;
  workers: string;
}

const MIN_TOKEN_LENGTH = 16;

export function registerServe(program: Command): void {
  program.command('serve')
    .description('web view: upload captures and explore findings, FTP ladders, TLS handshakes, NLB clusters and timelines in a browser')
    .option('--port <n>', 'TCP port to listen on (0 = any free port)', '8080')
    .option('--db <path>', 'SQLite database to read and to store uploads in', './faultline.db')
    .option('--host <address>', 'address to bind; anything but loopback requires a token', '127.0.0.1')
    .option('--token <token>', `token API requests must carry (generated and printed when --host is not loopback; at least ${MIN_TOKEN_LENGTH} characters)`)
    .option('--max-upload <size>', 'largest accepted upload, e.g. 500M or 2G', '2G')
    .option('--passive-range <lo-hi>', 'the FTP server\'s configured passive port range, for analysing uploads')
    .option('--trusted <cidrs>', 'comma-separated networks FTP peers are expected in, for analysing uploads')
    .option('--workers <n>', 'analyses running at once', '2')
    .action(async (flags: ServeFlags) => {
      const port = /^\d{1,5}$/.test(flags.port) ? Number(flags.port) : NaN;
      if (!(port >= 0 && port <= 65535)) throw usageError(`--port wants 0..65535, got '${flags.port}'`);
      const maxUpload = flags.maxUpload === undefined ? DEFAULT_MAX_UPLOAD : parseSize(flags.maxUpload);
      if (maxUpload === null) throw usageError(`--max-upload wants a size such as 500M or 2G, got '${flags.maxUpload}'`);
      const workers = /^\d{1,2}$/.test(flags.workers) ? Number(flags.workers) : 0;
      if (workers < 1) throw usageError(`--workers wants a number from 1 to 99, got '${flags.workers}'`);
      if (flags.token !== undefined && flags.token.length < MIN_TOKEN_LENGTH) throw usageError(`--token must be at least ${MIN_TOKEN_LENGTH} characters`);
      const { token, generated } = resolveToken(flags.host, flags.token);
      const analyzeOptions = { ...DEFAULT_OPTIONS, passiveRange: parsePassiveRange(flags.passiveRange), trusted: parseTrusted(flags.trusted) };

      let app;
      try {
        app = createFaultlineServer({ host: flags.host, port, dbPath: flags.db, token, maxUpload, uploadDir: null, workers }, analyzeOptions);
      } catch (e) {
        throw new UserError(`cannot open database ${flags.db}: ${(e as Error).message}`);
      }
      let url: string;
      try {
        url = await app.listen();
      } catch (e) {
        await app.close();
        throw new UserError(`cannot listen on ${flags.host}:${port}: ${(e as Error).message}`);
      }
      process.stderr.write(`faultline: serving ${url}/ (database ${flags.db}, uploads up to ${formatSize(maxUpload)})\n`);
      if (token !== null) {
        process.stderr.write(`faultline: API token ${generated ? '(generated) ' : ''}required; open ${url}/?token=${encodeURIComponent(token)}\n`);
      }
      await new Promise<void>((resolve) => {
        const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      process.stderr.write('faultline: shutting down\n');
      await app.close();
    });
}
