import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The faultline checkout (or installed package) root: web/ and node_modules/ live there. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'faultline') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('faultline package root not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export const ROOT = packageRoot();
export const WEB_ROOT = join(ROOT, 'web');

/**
 * d3 v7's UMD bundle, served as /vendor/d3.min.js (no CDN). Looked up next to faultline first,
 * then in a parent node_modules, as npm hoists dependencies of an installed package.
 */
export function d3Path(): string | null {
  let dir = ROOT;
  for (;;) {
    const p = join(dir, 'node_modules', 'd3', 'dist', 'd3.min.js');
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}
