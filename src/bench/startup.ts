/** Start-up figures (issue 18): placeholder, filled in with the lazy command loading. */
import type { Recorder } from './harness.js';

export async function startupBenchmarks(_r: Recorder): Promise<void> {}
