import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** A command that must succeed did not; the message carries its argv and stderr. */
export class CommandError extends Error {}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Return a non-zero status instead of throwing. */
  allowFail?: boolean;
}

export function run(argv: string[], opts: RunOptions = {}): RunResult {
  const r = spawnSync(argv[0], argv.slice(1), {
    encoding: 'utf8', env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 30_000,
    stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20,
  });
  if (r.error) throw new CommandError(`${argv.join(' ')}: ${r.error.message}`);
  const status = r.status ?? 128;
  if (status !== 0 && !opts.allowFail) {
    throw new CommandError(`${argv.join(' ')} exited ${status}: ${r.stderr.trim()}`);
  }
  return { status, stdout: r.stdout, stderr: r.stderr };
}

/** A long-running process inside a namespace (tcpdump, vsftpd). */
export class Background {
  private output = '';
  private exitCode: number | null = null;
  private readonly exited: Promise<void>;

  constructor(readonly label: string, private readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => { this.output += d.toString('utf8'); });
    child.stderr?.on('data', (d: Buffer) => { this.output += d.toString('utf8'); });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => { this.exitCode = code ?? (signal ? 128 : 0); resolve(); });
      child.on('error', (e) => { this.output += `\nspawn error: ${e.message}`; this.exitCode = 127; resolve(); });
    });
  }

  get text(): string { return this.output; }
  get running(): boolean { return this.exitCode === null; }

  /** Resolves once `pattern` shows in the output; rejects if the process ends or time runs out. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (!this.running) throw new CommandError(`${this.label} ended before ${pattern}: ${this.output.trim()}`);
      if (Date.now() > deadline) throw new CommandError(`${this.label}: no ${pattern} within ${timeoutMs} ms: ${this.output.trim()}`);
      await sleep(25);
    }
  }

  /** SIGINT first (tcpdump flushes and closes its file on it), SIGKILL if it lingers. */
  async stop(timeoutMs = 3000): Promise<void> {
    if (!this.running || this.child.pid === undefined) return;
    this.child.kill('SIGINT');
    const done = await Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!done) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The namespaces of one scenario. Everything created here is removed by teardown(), which is
 * safe to call at any point of a half-built lab: it kills only processes living inside these
 * namespaces (which this run created) and deletes only these namespaces and /etc/netns entries.
 */
export class NamespaceSet {
  private readonly created: string[] = [];
  private readonly etcDirs: string[] = [];
  private readonly children: Background[] = [];

  constructor(readonly prefix: string) {}

  name(role: string): string {
    return `${this.prefix}-${role}`;
  }

  /**
   * A fresh namespace with loopback up. IPv6 is switched off unless wanted, so the captures
   * hold no router solicitations or MLD reports that have nothing to do with the scenario.
   */
  add(role: string, ipv6: boolean): string {
    const ns = this.name(role);
    run(['ip', 'netns', 'add', ns]);
    this.created.push(ns);
    this.exec(ns, ['ip', 'link', 'set', 'lo', 'up']);
    if (ipv6) {
      this.sysctl(ns, ['net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0',
        'net.ipv6.conf.all.router_solicitations=0', 'net.ipv6.conf.default.router_solicitations=0']);
    } else {
      this.sysctl(ns, ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    }
    return ns;
  }

  sysctl(ns: string, settings: string[]): void {
    this.exec(ns, ['sysctl', '-q', '-w', ...settings]);
  }

  exec(ns: string, argv: string[], opts: RunOptions = {}): RunResult {
    return run(['ip', 'netns', 'exec', ns, ...argv], opts);
  }

  /** `ip netns exec` bind-mounts /etc/netns/NS/FILE over /etc/FILE for commands run in NS. */
  etcOverlay(ns: string, files: Record<string, string>, write: (path: string, text: string) => void): void {
    const dir = join('/etc/netns', ns);
    mkdirSync(dir, { recursive: true });
    this.etcDirs.push(dir);
    for (const [name, text] of Object.entries(files)) write(join(dir, name), text);
  }

  spawn(ns: string, label: string, argv: string[], env?: NodeJS.ProcessEnv): Background {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    const bg = new Background(label, child);
    this.children.push(bg);
    return bg;
  }

  async teardown(): Promise<void> {
    for (const bg of this.children.reverse()) {
      try { await bg.stop(); } catch { /* keep tearing down */ }
    }
    for (const ns of this.created) {
      // vsftpd forks a process per session; anything still alive in our namespace is ours.
      const pids = run(['ip', 'netns', 'pids', ns], { allowFail: true }).stdout.split(/\s+/).filter(Boolean);
      for (const pid of pids) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ }
      }
    }
    if (this.created.length) await sleep(50);
    for (const ns of this.created.reverse()) run(['ip', 'netns', 'del', ns], { allowFail: true });
    for (const dir of this.etcDirs) rmSync(dir, { recursive: true, force: true });
    this.created.length = 0;
    this.etcDirs.length = 0;
    this.children.length = 0;
  }
}

/**
 * Namespaces named like this lab's (`fl<pid>-<n>-<role>`) whose recorder process is gone were
 * left by a recorder that was killed outright: remove them (and whatever still runs inside).
 */
export function removeStaleNamespaces(log: (msg: string) => void): void {
  const names = run(['ip', 'netns', 'list'], { allowFail: true }).stdout.split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
  for (const ns of names) {
    const m = /^fl(\d+)-\d+-[crs]$/.exec(ns);
    if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    for (const pid of run(['ip', 'netns', 'pids', ns], { allowFail: true }).stdout.split(/\s+/).filter(Boolean)) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ }
    }
    run(['ip', 'netns', 'del', ns], { allowFail: true });
    rmSync(join('/etc/netns', ns), { recursive: true, force: true });
    log(`removed stale lab namespace ${ns}`);
  }
}

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}
