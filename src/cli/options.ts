import { readFileSync } from 'node:fs';
import { usageError, UserError } from './errors.js';
import { parseIp } from '../decode/addr.js';

export function parsePassiveRange(v: string | undefined): [number, number] | null {
  if (v === undefined) return null;
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(v.trim());
  if (!m) throw usageError(`--passive-range wants LO-HI (e.g. 50000-50100), got '${v}'`);
  const lo = Number(m[1]), hi = Number(m[2]);
  if (lo < 1 || hi > 65535 || lo > hi) throw usageError(`--passive-range ${v}: ports must be 1..65535 with LO <= HI`);
  return [lo, hi];
}

export function parseTrusted(v: string | undefined): string[] {
  if (v === undefined) return [];
  const out: string[] = [];
  for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [addr, bits] = part.split('/');
    const ip = parseIp(addr);
    const max = ip?.length === 4 ? 32 : 128;
    if (!ip || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max))) {
      throw usageError(`--trusted: '${part}' is not an address or CIDR network`);
    }
    out.push(bits === undefined ? `${addr}/${max}` : part);
  }
  return out;
}

export function readKeylog(path: string | undefined): string | null {
  if (path === undefined) return null;
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`--keylog ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}
