import { defineConfig } from 'vitest/config';

/** Tests that need the host to themselves: one file at a time, after the parallel run. */
export default defineConfig({
  test: {
    include: ['test/serial/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/fresh-connection.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
