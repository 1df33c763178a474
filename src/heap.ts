/**
 * How much V8 lets the heap grow between collections (docs/decisions.md, "V8's heap growth").
 * By default V8 lets the old generation grow to up to four times what the last full collection
 * found alive, and the young generation to 32 MiB: for an analysis that allocates fast and keeps
 * ~50–80 MiB in flight, that headroom was most of the peak RSS. V8 reads both settings each time
 * it sizes the heap, so they can be set while running: the old generation's growth at once, the
 * young generation's once it has reached YOUNG_MIB (it starts at 2 MiB; kept that small, objects
 * that would die young get promoted and the analysis runs ~30 % slower). Measured on the
 * benchmark capture: peak RSS 252–261 MB → 169–178 MB, on the 2.6 M-packet one 304–308 MB →
 * 191–195 MB, for about 10 % more time.
 *
 * Starting a worker thread puts V8's flags back to node's command line, so whoever starts one
 * sets them again once it runs (leanHeapAgain).
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

const OLD_GROWTH = '--heap-growing-percent=50';
const YOUNG_GROWTH = '--semi-space-growth-factor=1';
/** The settings, as V8 command-line flags. */
export const LEAN_HEAP_FLAGS = [OLD_GROWTH, YOUNG_GROWTH];
/** Young generation size (both semi-spaces) at which it stops growing. */
export const YOUNG_MIB = 8;

/** What is in force in this thread: set by useLeanHeap, set again by leanHeapAgain. */
let applied: string[] = [];

/**
 * The flags to set: none of those the user already chose on node's command line
 * (`node --heap-growing-percent=0 dist/src/cli/main.js ...`, in either spelling), so a user's own tuning
 * wins. (Node refuses these two in NODE_OPTIONS.)
 */
export function leanHeapFlags(execArgv: readonly string[]): string[] {
  const name = (flag: string): string => flag.replace(/^--/, '').split('=')[0].replace(/_/g, '-');
  const given = new Set(execArgv.map(name));
  return LEAN_HEAP_FLAGS.filter((f) => !given.has(name(f)));
}

function youngMiB(): number {
  return (getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) / 2 ** 20;
}

/** Set by useLeanHeap when the young generation is still to stop growing (leanHeapTick). */
let youngPending = false;

/** Applies them to the process: the command line does, first thing, and the web view's analysis worker. */
export function useLeanHeap(): void {
  const wanted = leanHeapFlags(process.execArgv);
  applied = wanted.filter((f) => f !== YOUNG_GROWTH);
  for (const f of applied) setFlagsFromString(f);
  youngPending = wanted.includes(YOUNG_GROWTH);
  leanHeapTick();
}

/** Called as work goes on (the capture reader does, per chunk read): stops the young generation's growth once it is YOUNG_MIB. */
export function leanHeapTick(): void {
  if (!youngPending || youngMiB() < YOUNG_MIB) return;
  youngPending = false;
  applied.push(YOUNG_GROWTH);
  setFlagsFromString(YOUNG_GROWTH);
}

/** After a worker thread has come online: the flags in force, again. */
export function leanHeapAgain(): void {
  for (const f of applied) setFlagsFromString(f);
}
