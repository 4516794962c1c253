import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 240_000,
    pool: 'forks',
    // Two cores, and the integration suites start real servers (a JVM, a Docker engine on vfs,
    // Temporal): files run one at a time so no suite's timings depend on another's load.
    fileParallelism: false,
    reporters: ['default'],
  },
});
