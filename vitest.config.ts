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
    // Does nothing unless coverage is on (then child processes record theirs: tests/coverage/).
    setupFiles: ['tests/coverage/child-env.mjs'],
    // `npm test` runs `vitest run --coverage`; a single file (`npx vitest run tests/x`) runs without.
    coverage: {
      // @vitest/coverage-v8 plus the V8 coverage of the processes the tests start (the built CLI,
      // API, worker and web server), mapped back through their source maps.
      provider: 'custom',
      customProviderModule: 'tests/coverage/provider.mjs',
      include: [
        'src/**/*.ts',
        'templates/api/src/**/*.ts',
        'templates/web/{pages,components,server}/**/*.{ts,tsx}',
      ],
      exclude: ['**/*.d.ts'],
      reporter: ['text-summary', ['text', { skipFull: true }], 'json-summary'],
      reportsDirectory: 'coverage',
      thresholds: { lines: 80 },
    },
  },
});
