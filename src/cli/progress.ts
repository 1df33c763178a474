/** A one-line progress bar on stderr, only when stderr is a terminal and the file is large. */
export function progressBar(label: string): ((read: number, total: number | null) => void) & { done(): void } {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let shown = false;
  const start = Date.now();
  const fn = (read: number, total: number | null): void => {
    if (!tty || total === null || total < 32 << 20) return;
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    shown = true;
    const pct = Math.min(100, (read / total) * 100);
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    const mbs = read / 1e6 / Math.max(0.001, (now - start) / 1000);
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct.toFixed(0).padStart(3)}% ${mbs.toFixed(0)} MB/s`);
  };
  return Object.assign(fn, { done: () => { if (shown) process.stderr.write('\r\x1b[K'); } });
}
