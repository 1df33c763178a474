import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export interface Measurement {
  label: string;
  argv: string[];
  exitCode: number | null;
  wallSeconds: number;
  userSeconds: number | null;
  systemSeconds: number | null;
  /** Peak resident set size in KiB (VmHWM / "Maximum resident set size"). */
  peakRssKb: number | null;
  rssSource: 'time -v' | '/proc VmHWM';
  stdout: string;
  stderrTail: string;
}

const GNU_TIME = '/usr/bin/time';

/**
 * Runs a command to completion and measures wall time (here) and peak RSS: under GNU time -v when
 * it is installed (Debian package `time`), otherwise by polling /proc/PID/status for VmHWM.
 * stdout goes to /dev/null unless captured.
 */
export async function measure(label: string, argv: string[], opts: { captureStdout?: boolean } = {}): Promise<Measurement> {
  const useTime = existsSync(GNU_TIME);
  const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-'));
  const timeFile = join(dir, 'time.txt');
  const cmd = useTime ? [GNU_TIME, '-v', '-o', timeFile, ...argv] : argv;
  const devNull = openSync('/dev/null', 'w');
  const t0 = performance.now();
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', opts.captureStdout ? 'pipe' : devNull, 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  let hwm: number | null = null;
  const poll = useTime ? null : setInterval(() => {
    const kb = vmHwm(child.pid);
    if (kb !== null) hwm = Math.max(hwm ?? 0, kb);
  }, 20);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const wallSeconds = (performance.now() - t0) / 1000;
  if (poll) clearInterval(poll);
  closeSync(devNull);
  let userSeconds: number | null = null, systemSeconds: number | null = null, peakRssKb: number | null = hwm;
  if (useTime && existsSync(timeFile)) {
    const text = readFileSync(timeFile, 'utf8');
    peakRssKb = field(text, 'Maximum resident set size (kbytes)');
    userSeconds = field(text, 'User time (seconds)');
    systemSeconds = field(text, 'System time (seconds)');
  }
  rmSync(dir, { recursive: true, force: true });
  return { label, argv, exitCode, wallSeconds, userSeconds, systemSeconds, peakRssKb, rssSource: useTime ? 'time -v' : '/proc VmHWM', stdout, stderrTail: stderr };
}

function field(text: string, name: string): number | null {
  const line = text.split('\n').find((l) => l.trim().startsWith(name + ':'));
  return line ? Number(line.split(':').pop()!.trim()) : null;
}

function vmHwm(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
