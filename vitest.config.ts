import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/**/*.test.{ts,tsx}'],
    pool: 'forks',
    // Vitest's default is one fork per core but one: on these 2-core machines a single fork, and the
    // suite took 235 s; with one per core 153 s (no test asserts a duration).
    maxWorkers: availableParallelism(),
    testTimeout: 60_000,
  },
});
