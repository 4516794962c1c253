/**
 * Test files that must not run beside another file of the same group, although the suite runs
 * two files at a time (vitest.config.ts). Each group is a shared resource:
 *   - docker: a whole stack (or the stand-in images) on the one Docker engine. On 2 cores
 *     two stacks at once make each other's health waits and time limits fragile, and identical
 *     workspaces build the same image tags.
 *   - web-dist: `vike build` into templates/web/dist, and a server run from it (a build empties
 *     dist while another file's server starts or serves from it).
 * A file of a group takes the group's lock before its first hook (./lock-setup.ts) and the
 * sequencer (./sequencer.ts) orders the files so that a group's files rarely wait for each other.
 * Paths are relative to the repository.
 */
export const EXCLUSIVE_GROUPS: Record<string, readonly string[]> = {
  docker: [
    'tests/support/docker/docker.test.ts',
    'tests/backup/verify-sweep.test.ts',
    'tests/backup/backup.e2e.test.ts',
    'tests/smoke/ci.e2e.test.ts',
    'tests/smoke/smoke.e2e.test.ts',
    'tests/stack/stack.e2e.test.ts',
    'tests/cli/interrupt-tty.test.ts',
    'tests/dev/dev-docker.test.ts',
    'tests/runtimes.test.ts',
    'tests/deploy/deploy.e2e.test.ts',
  ],
  'web-dist': ['tests/web/ssr.test.ts', 'tests/web/browser.test.ts'],
};

/** The group of a test file (a path relative to the repository), if any. */
export function groupOf(relPath: string): string | undefined {
  const p = relPath.replace(/\\/g, '/');
  return Object.keys(EXCLUSIVE_GROUPS).find((g) => EXCLUSIVE_GROUPS[g]!.includes(p));
}
