/**
 * The group lock of ./groups.ts: a folder made with mkdir (atomic) under the system's temp folder,
 * holding its owner's pid; a lock whose owner is gone (a killed worker) is taken over.
 */
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from '../services/util.js';

export const LOCKS = join(tmpdir(), 'helfy-test-locks');
/** Where each wait is recorded (beside the JUnit report). */
const WAITS_DIR = join(import.meta.dirname, '../../../test-artifacts');

/** Waits for the group's lock and takes it; returns its release. */
export async function acquireGroupLock(group: string, file: string, root = LOCKS): Promise<() => void> {
  const dir = join(root, `${group}.lock`);
  mkdirSync(root, { recursive: true });
  const t0 = Date.now();
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'owner.json'), JSON.stringify({ pid: process.pid, file, at: new Date().toISOString() }));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner: { pid?: number } = {};
      try {
        owner = JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as { pid?: number };
      } catch {
        // being written (or its writer died between mkdir and write: taken over below after 10 s)
      }
      const stale = owner.pid ? !pidAlive(owner.pid) : Date.now() - t0 > 10_000;
      if (stale) rmSync(dir, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 500));
    }
  }
  const waited = Date.now() - t0;
  if (waited > 1000 && root === LOCKS) {
    console.log(`[parallel] ${file} waited ${(waited / 1000).toFixed(0)} s for the ${group} group`);
    // The wait counts in the file's time in the JUnit report; scripts/test-summary.mjs takes it
    // off again before it writes the durations the sequencer plans with.
    try {
      mkdirSync(WAITS_DIR, { recursive: true });
      appendFileSync(join(WAITS_DIR, 'parallel-waits.jsonl'), `${JSON.stringify({ file, group, waitedMs: waited })}\n`);
    } catch {
      // a report only
    }
  }
  const release = () => {
    try {
      const o = JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as { pid?: number };
      if (o.pid === process.pid) rmSync(dir, { recursive: true, force: true });
    } catch {
      // already gone
    }
  };
  process.once('exit', release);
  return release;
}

