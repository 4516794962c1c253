import { defineConfig } from 'vitest/config';
import { LaneSequencer } from './tests/support/parallel/sequencer.js';

// `npm test` runs `vitest run --coverage`. V8's block coverage (counters in every block, of the
// workers and of every process a test starts) slows CPU-bound code: a test near its 60 s limit
// without coverage (seeding the whole library into Neo4j, ~47 s on a loaded machine) went over it
// with. The time limits are a safety net, not a measure (speed targets live in bench/), so they
// double when coverage is on.
// Two files run at a time (see below), which slows each one down again: the limits double once more.
const coverage = process.argv.includes('--coverage');
const WORKERS = 2;
const slack = (coverage ? 2 : 1) * (WORKERS > 1 ? 2 : 1);

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000 * slack,
    hookTimeout: 240_000 * slack,
    pool: 'forks',
    // Two files at a time: most of the suite's time is waiting (JVM and server start-ups, vfs
    // copies, image builds), not CPU. Every file takes its own free ports, temp folders and
    // servers; files that share something bigger (the Docker engine's stacks, templates/web/dist)
    // take turns through a lock (tests/support/parallel/), and the sequencer keeps those on one
    // worker while the other runs the rest. (vitest's default is cores - 1 = 1 worker here.)
    fileParallelism: true,
    maxWorkers: WORKERS,
    sequence: { sequencer: LaneSequencer },
    globalSetup: ['tests/support/parallel/global-setup.ts'],
    // The JUnit file lets .ci/run repeat the failed tests' names as its last lines.
    reporters: ['default', ['junit', { outputFile: 'test-artifacts/vitest-junit.xml' }]],
    // child-env does nothing unless coverage is on (then child processes record theirs:
    // tests/coverage/); lock-setup takes the group locks of tests/support/parallel/groups.ts.
    setupFiles: ['tests/coverage/child-env.mjs', 'tests/support/parallel/lock-setup.ts'],
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
