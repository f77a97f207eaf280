// The worker's young generation: its own heap's semi-space is capped on its command line (WORKER_SEMI_SPACE_MB); this module, imported first by the worker's main, clears that flag again before any tenant isolate exists, so that isolates keep the young-generation size isolated-vm gives them from memoryMb.

import v8 from 'node:v8';

/**
 * V8 reads `--max-semi-space-size` when it configures each new heap, and a set flag overrides the
 * young-generation size isolated-vm asks for (about 1.4 MiB at the default 64 MiB memoryMb): left
 * set, every tenant isolate's young generation could grow to 3 × the worker's. The worker's own heap,
 * configured at start-up, keeps its cap; 0 is the flag's "not set".
 */
export function clearSemiSpaceFlag(): void {
  v8.setFlagsFromString('--max-semi-space-size=0');
}

clearSemiSpaceFlag();
