import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root: the nearest folder above this file holding faultline's package.json. */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'faultline') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('faultline checkout root not found');
    dir = up;
  }
}

export const repoRoot = findRoot();

/** The compiled CLI, as `npx faultline` runs it. */
export const CLI = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/** `faultline ARGS` run as a user runs it, with `input` on stdin: its exit status and both outputs. */
export function runCli(args: string[], input?: Buffer): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Path of a third-party capture by its manifest local_path (e.g. 'files/zeek/testing/...'). */
export function thirdParty(localPath: string): string {
  return join(repoRoot, 'captures', 'third-party', localPath);
}

export interface ManifestEntry {
  repo: string; commit: string; pathInRepo: string; localPath: string; sha256: string;
  sizeBytes: number; linkType: string; frames: number; exercises: string[];
  fileFormat: string; tsharkJson: string;
}

/** captures/third-party/MANIFEST.tsv, one entry per capture. */
export function manifest(): ManifestEntry[] {
  const lines = readFileSync(join(repoRoot, 'captures', 'third-party', 'MANIFEST.tsv'), 'utf8').split('\n');
  const out: ManifestEntry[] = [];
  for (const line of lines.slice(1)) {
    if (!line.trim()) continue;
    const c = line.split('\t');
    out.push({
      repo: c[0], commit: c[1], pathInRepo: c[2], localPath: c[3], sha256: c[4],
      sizeBytes: Number(c[5]), linkType: c[6], frames: Number(c[7]),
      exercises: c[8] ? c[8].split(/[,;]\s*/).filter(Boolean) : [], fileFormat: c[10], tsharkJson: c[11],
    });
  }
  return out;
}

/** The tshark ground truth stored next to a third-party capture. */
export function tsharkTruth(entry: ManifestEntry): Record<string, unknown> {
  return JSON.parse(readFileSync(thirdParty(entry.tsharkJson), 'utf8')) as Record<string, unknown>;
}

/** tshark lists VXLAN, Geneve, GRE or ERSPAN in this capture (its stored ground truth says so). */
export function carriesTunnels(entry: ManifestEntry): boolean {
  if (entry.tsharkJson === '') return false;
  const protocols = (tsharkTruth(entry).protocols ?? {}) as Record<string, number>;
  return ['vxlan', 'geneve', 'gre', 'erspan'].some((p) => p in protocols);
}
