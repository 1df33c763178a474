#!/usr/bin/env node
/**
 * Entry point. The heap settings go first, before the commands' modules are even loaded: V8's
 * young generation keeps the size it has when they take effect (src/heap.ts).
 */
import { useLeanHeap } from '../heap.js';

useLeanHeap();
const { main } = await import('./program.js');
await main();
