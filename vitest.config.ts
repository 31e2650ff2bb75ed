import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Native code and tfjs both use real threads; forks isolate crashes per file.
    pool: 'forks',
    maxWorkers: 2,
  },
});
