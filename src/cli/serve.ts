import type { Command } from 'commander';
import { DEFAULT_OPTIONS } from '../analysis/context.js';
import { createFaultlineServer } from '../server/server.js';
import { DEFAULT_MAX_UPLOAD, formatSize, parseSize, resolveToken } from '../server/config.js';
import { usageError, UserError } from './errors.js';
import { parsePassiveRange, parseTrusted } from './options.js';
import { Sniffer, parseVia } from './sniff.js';
import { LiveCaptureError } from '../source/live.js';

interface ServeFlags {
  port: string;
  db: string;
  host: string;
  token?: string;
  maxUpload?: string;
  passiveRange?: string;
  trusted?: string;
  workers: string;
  sniff?: string;
  sniffFilter: string;
  via: string;
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
    .option('--sniff <iface>', 'also capture live on this interface; the browser gets its findings, FTP sessions and counters as they come')
    .option('--sniff-filter <bpf>', 'BPF capture filter for --sniff', '')
    .option('--via <cap|tcpdump>', 'how --sniff captures: the cap module (libpcap) or tcpdump', 'cap')
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
      const via = parseVia(flags.via);

      let app;
      try {
        app = createFaultlineServer({ host: flags.host, port, dbPath: flags.db, token, maxUpload, uploadDir: null, workers }, analyzeOptions);
      } catch (e) {
        throw new UserError(`cannot open database ${flags.db}: ${(e as Error).message}`);
      }
      // The capture starts before the server listens, so that a capture error comes first and alone.
      let sniffer: Sniffer | null = null;
      if (flags.sniff !== undefined) {
        const iface = flags.sniff;
        const startedAt = new Date().toISOString();
        try {
          sniffer = await Sniffer.start({
            iface, filter: flags.sniffFilter, via, db: app.db, analyze: analyzeOptions, write: null, ring: null, durationS: null, count: null,
          }, { committed: (snap, stats, final) => app.live.committed(snap, stats, final) });
        } catch (e) {
          await app.close();
          if (e instanceof LiveCaptureError) throw new UserError(e.message);
          throw e;
        }
        const s = sniffer;
        const src = s.liveSource;
        app.live.setStatus({ iface, via: src.via, filter: flags.sniffFilter, captureId: s.captureId, running: true, timestamps: src.timestamps, startedAt, message: null });
        void s.done.then((r) => {
          if (r.failure === null) return;
          process.stderr.write(`faultline: live capture stopped: ${r.failure}\n`);
          const st = app.live.status;
          if (st) app.live.setStatus({ ...st, running: false, message: r.failure });
        });
      }
      let url: string;
      try {
        url = await app.listen();
      } catch (e) {
        await sniffer?.stop('requested');
        await app.close();
        throw new UserError(`cannot listen on ${flags.host}:${port}: ${(e as Error).message}`);
      }
      process.stderr.write(`faultline: serving ${url}/ (database ${flags.db}, uploads up to ${formatSize(maxUpload)})\n`);
      if (token !== null) {
        process.stderr.write(`faultline: API token ${generated ? '(generated) ' : ''}required; open ${url}/?token=${encodeURIComponent(token)}\n`);
      }
      if (sniffer) process.stderr.write(`faultline: capturing on ${sniffer.liveSource.iface} via ${sniffer.liveSource.via} as capture ${sniffer.captureId}; the browser follows it live\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      process.stderr.write('faultline: shutting down\n');
      if (sniffer) await sniffer.stop('interrupted');
      await app.close();
    });
}
