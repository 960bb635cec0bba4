import { defineConfig } from 'vitest/config';
import { AWS_TEST_ENV } from './test/helpers/env.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration and end-to-end tests start real emulators and agent processes: give them room,
    // and run files one at a time (two cores) so they do not starve each other.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    pool: 'forks',
    env: {
      ...AWS_TEST_ENV,
      // The control plane runs in the test process: keep its expected warnings out of test output.
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
  },
});
