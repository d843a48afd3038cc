import { defineConfig } from 'vitest/config';

/**
 * Unit and integration tests, two files at a time (the CI machine has 2 cores). Tests that need a
 * quiet host — nothing else planting processes, listeners or files meanwhile — live in test/serial
 * and test/e2e and run afterwards, one file at a time (vitest.serial.config.ts).
 */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/fresh-connection.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
