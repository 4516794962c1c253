/**
 * Setup file (vitest.config.ts `setupFiles`): a test file of an exclusive group (./groups.ts)
 * holds that group's lock (./lock.ts) from before its first hook until after its last. Files of
 * no group run as they are.
 */
import { relative, resolve } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { groupOf } from './groups.js';

const REPO = resolve(import.meta.dirname, '../../..');
const testPath = expect.getState().testPath;
const file = testPath ? relative(REPO, testPath) : undefined;
const group = file ? groupOf(file) : undefined;
if (group && file) {
  let release: (() => void) | undefined;
  // Waiting for the group is not the file's own time: up to an hour (the longest files take ~10 min).
  beforeAll(async () => {
    const { acquireGroupLock } = await import('./lock.js');
    release = await acquireGroupLock(group, file);
  }, 3_600_000);
  afterAll(() => release?.());
}
