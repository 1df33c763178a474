#!/usr/bin/env node
/**
 * Entry point. V8's heap settings (src/heap.ts) go first, before the commands' modules load and
 * anything grows the heap.
 */
import { useLeanHeap } from '../heap.js';

useLeanHeap();
const { watchStdout } = await import('./stdout.js');
watchStdout();
const { main } = await import('./program.js');
await main();
