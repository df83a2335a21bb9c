import { defineConfig } from 'vitest/config';

// Two projects: `unit` is pure logic and starts nothing (`npm run test:unit`, seconds); `stack` is the
// integration and e2e files, which share one local cloud started once for the run
// (test/helpers/global-setup.ts) and keep to their own servers, hosts and availability zones.
// `npm test` runs both.
export default defineConfig({
  test: {
    teardownTimeout: 60_000,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'stack',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // test/e2e/migration-faults.test.ts runs its 33 cases at once (each on hosts of its own).
          maxConcurrency: 33,
          // One file at a time, whatever the machine: the files that run the legacy network API switch
          // the whole cloud to it (test/helpers/network-mode.ts) while they run.
          fileParallelism: false,
        },
      },
    ],
  },
});
