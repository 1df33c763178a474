/**
 * Aligns two token sequences (an FTP session's commands as seen at two vantage points) by their
 * longest common subsequence, so a command missing on one side (capture started late, stopped
 * early, lost segment) shifts nothing after it.
 */

/** Above this many cells the exact table gets too big: align greedily with a lookahead instead. */
const MAX_CELLS = 4_000_000;
const LOOKAHEAD = 16;

/** Index pairs [i, j] with a[i] === b[j], increasing in both. */
export function alignTokens(a: string[], b: string[]): Array<[number, number]> {
  if (a.length === 0 || b.length === 0) return [];
  if ((a.length + 1) * (b.length + 1) > MAX_CELLS) return alignGreedy(a, b);
  const w = b.length + 1;
  // Suffix LCS lengths: table[i*w+j] = LCS(a[i..], b[j..]).
  const table = new Uint32Array((a.length + 1) * w);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      table[i * w + j] = a[i] === b[j] ? table[(i + 1) * w + j + 1] + 1 : Math.max(table[(i + 1) * w + j], table[i * w + j + 1]);
    }
  }
  const out: Array<[number, number]> = [];
  let i = 0, j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) { out.push([i, j]); i++; j++; }
    else if (table[(i + 1) * w + j] >= table[i * w + j + 1]) i++;
    else j++;
  }
  return out;
}

function alignGreedy(a: string[], b: string[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let j = 0;
  for (let i = 0; i < a.length && j < b.length; i++) {
    for (let k = j; k < Math.min(b.length, j + LOOKAHEAD); k++) {
      if (a[i] === b[k]) { out.push([i, k]); j = k + 1; break; }
    }
  }
  return out;
}

/** Median of a non-empty list (the mean of the middle two for even lengths). */
export function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}
