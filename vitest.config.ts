import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 240_000,
    pool: 'forks',
    // Two cores: the integration suites start real servers, so keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
