import { defineConfig } from 'vitest/config';

// `npm test` runs `vitest run --coverage`. V8's block coverage (counters in every block, of the
// workers and of every process a test starts) slows CPU-bound code: a test near its 60 s limit
// without coverage (seeding the whole library into Neo4j, ~47 s on a loaded machine) went over it
// with. The time limits are a safety net, not a measure (speed targets live in bench/), so they
// double when coverage is on.
const coverage = process.argv.includes('--coverage');
const slack = coverage ? 2 : 1;

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000 * slack,
    hookTimeout: 240_000 * slack,
    pool: 'forks',
    // Two cores, and the integration suites start real servers (a JVM, a Docker engine on vfs,
    // Temporal): files run one at a time so no suite's timings depend on another's load.
    fileParallelism: false,
    // The JUnit file lets .ci/run repeat the failed tests' names as its last lines.
    reporters: ['default', ['junit', { outputFile: 'test-artifacts/vitest-junit.xml' }]],
    // Does nothing unless coverage is on (then child processes record theirs: tests/coverage/).
    setupFiles: ['tests/coverage/child-env.mjs'],
    // A single file (`npx vitest run tests/x`) runs without coverage.
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
      // The per-file table goes to coverage/coverage.txt, not the console, so the log's last lines
      // are the runner's summary (CI shows only a log's tail).
      reporter: ['text-summary', ['text', { skipFull: true, file: 'coverage.txt' }], 'json-summary'],
      reportsDirectory: 'coverage',
      thresholds: { lines: 80 },
      // The figure is printed (and written to coverage/) even when a test fails.
      reportOnFailure: true,
    },
  },
});
