/**
 * The FTP NAT lab's building blocks put together for live capture: client ─ router ─ server
 * namespaces of one topology, the scenario's router rules, vsftpd with its settings, and the
 * scenario's curl runs; plus processes (sniffers, `serve --sniff`, an SSE reader) started
 * inside a namespace whose output and exit are followed. Everything lives in namespaces named
 * like the recorder's (`fl<pid>-<n>-c|r|s`), so a killed run's leftovers are recognised.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NamespaceSet, removeStaleNamespaces, run, sleep, type Background } from './netns.js';
import { curlArgs, type Scenario } from './scenarios.js';
import { TOPOLOGIES, assertContained, buildTopology, type Built, type Topology } from './topology.js';
import { prepareServerFiles, vsftpdConfig, type ServerFiles } from './vsftpd.js';

export const LAB_TOOLS = ['vsftpd', 'curl', 'tcpdump', 'ip', 'iptables', 'openssl', 'ss'];

export function missing(tools: string[]): string[] {
  return tools.filter((t) => run(['sh', '-c', `command -v ${t}`], { allowFail: true }).status !== 0);
}

/** A process inside a namespace: its output so far, its exit, and a way to signal it. */
export class NsProcess {
  stdout = '';
  stderr = '';
  code: number | null = null;
  readonly exited: Promise<number>;
  private child: ChildProcess;

  constructor(readonly label: string, ns: string, argv: string[]) {
    // `ip netns exec` execs the command itself: signals reach it directly.
    this.child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => { this.stdout += d.toString('utf8'); });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString('utf8'); });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => { this.code = code ?? (signal ? 128 : 0); resolve(this.code); });
      this.child.on('error', (e) => { this.stderr += `spawn error: ${e.message}`; this.code = 127; resolve(127); });
    });
  }

  get running(): boolean {
    return this.code === null;
  }

  async waitFor(stream: 'stdout' | 'stderr', re: RegExp, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!re.test(this[stream])) {
      if (!this.running) throw new Error(`${this.label} exited (${this.code}) before ${re}: ${this.stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`${this.label}: no ${re} within ${ms} ms; stderr: ${this.stderr.trim()}`);
      await sleep(50);
    }
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  async stop(ms = 10000): Promise<number> {
    this.signal('SIGINT');
    const done = await Promise.race([this.exited.then(() => true), sleep(ms).then(() => false)]);
    if (!done) { this.signal('SIGKILL'); await this.exited; }
    return this.code!;
  }
}

export interface FtpLab {
  set: NamespaceSet;
  built: Built;
  topology: Topology;
  files: ServerFiles;
  work: string;
  vsftpd: Background;
  /** Runs the scenario's curl runs in the client namespace; their exit statuses. */
  client(): number[];
  teardown(): Promise<void>;
}

export async function startFtpLab(sc: Scenario, index: number): Promise<FtpLab> {
  removeStaleNamespaces(() => undefined);
  const t = TOPOLOGIES[sc.topology];
  const work = mkdtempSync(join(tmpdir(), 'faultline-sniff-lab-'));
  chmodSync(work, 0o755);
  const set = new NamespaceSet(`fl${process.pid}-${index}`);
  const teardown = async (): Promise<void> => {
    await set.teardown();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const built = buildTopology(set, t);
    assertContained(set, built, t);
    for (const rule of sc.router) set.exec(built.router, rule.split(/\s+/));
    const files = prepareServerFiles(join(work, 'srv'));
    set.etcOverlay(built.server, files.etc, (path, text) => writeFileSync(path, text, { mode: path.endsWith('shadow') ? 0o600 : 0o644 }));
    const conf = join(work, 'vsftpd.conf');
    writeFileSync(conf, vsftpdConfig({ ...sc.server, ipv6: t.family === 6 }, t.server, files, join(work, 'vsftpd.log')), { mode: 0o600 });
    const vsftpd = set.spawn(built.server, 'vsftpd', ['vsftpd', conf]);
    const deadline = Date.now() + 5000;
    while (!new RegExp(`:${sc.controlPort}\\s`).test(set.exec(built.server, ['ss', '-Hltn'], { allowFail: true }).stdout)) {
      if (!vsftpd.running || Date.now() > deadline) throw new Error(`vsftpd did not start listening: ${vsftpd.text.trim()}`);
      await sleep(25);
    }
    const host = t.family === 6 ? `[${t.target}]` : t.target;
    const client = (): number[] => sc.runs.map((r) => {
      const argv = ['curl', ...curlArgs(r).map((a) => a.replaceAll('{target}', host).replaceAll('{cert}', files.cert).replaceAll('{file}', 'hello.txt'))];
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const v of ['http_proxy', 'https_proxy', 'ftp_proxy', 'all_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'ALL_PROXY', 'SSLKEYLOGFILE']) delete env[v];
      return set.exec(built.client, argv, { allowFail: true, env, timeoutMs: 30_000 }).status;
    });
    return { set, built, topology: t, files, work, vsftpd, client, teardown };
  } catch (e) {
    await teardown();
    throw e;
  }
}

/** Server-sent events as `curl -N` prints them: event name and parsed data, in order. */
export function sseEvents(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  const out: Array<{ event: string; data: Record<string, unknown> }> = [];
  for (const block of text.split('\n\n')) {
    const ev = /^event: (.+)$/m.exec(block);
    const data = /^data: (.+)$/m.exec(block);
    if (ev && data) out.push({ event: ev[1], data: JSON.parse(data[1]) as Record<string, unknown> });
  }
  return out;
}
