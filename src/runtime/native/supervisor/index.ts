/**
 * openSupervisor: the Supervisor of one workspace, assembled from the parts beside this file
 * (paths, lock, state, start, stop, logs); see ../supervisor.ts for how it works.
 */
import type { Supervisor } from '../types.js';
import { START_LOCK_WAIT_MS, STOP_LOCK_WAIT_MS, lockHolder, withWorkspaceLock } from './lock.js';
import { ROTATE_BYTES, followLog, readLog } from './logs.js';
import { checkName, supervisorPaths } from './paths.js';
import { startLocked } from './start.js';
import { getState, listStates } from './state.js';
import { forgetLocked, stopLocked } from './stop.js';

export interface SupervisorOptions {
  /** Rotation threshold in bytes (default 10 MB; tests pass a small one). */
  rotateBytes?: number;
  /** followLog's poll interval (default 250 ms). */
  pollMs?: number;
}

export function openSupervisor(root: string, opts: SupervisorOptions = {}): Supervisor {
  const rotateBytes = opts.rotateBytes ?? ROTATE_BYTES;
  const pollMs = opts.pollMs ?? 250;
  const paths = supervisorPaths(root);

  const sup: Supervisor = {
    dirs: paths.dirs,

    lockHolder: () => lockHolder(paths.lock),

    withLock: (what, fn, o = {}) => withWorkspaceLock(paths.lock, what, fn, o),

    start(spec) {
      checkName(spec.name);
      return sup.withLock(`starting ${spec.name}`, () => startLocked(paths, spec, rotateBytes), { waitMs: START_LOCK_WAIT_MS });
    },

    list: () => listStates(paths),

    async get(name) {
      checkName(name);
      return getState(paths, name);
    },

    stop(name, o = {}) {
      checkName(name);
      return sup.withLock(`stopping ${name}`, () => stopLocked(paths, name, o), { waitMs: STOP_LOCK_WAIT_MS });
    },

    forget(name) {
      checkName(name);
      return sup.withLock(`forgetting ${name}`, () => forgetLocked(paths, name), { waitMs: STOP_LOCK_WAIT_MS });
    },

    async readLog(name, o = {}) {
      checkName(name);
      return readLog(paths, name, o);
    },

    async followLog(name, o, onLine, signal) {
      checkName(name);
      return followLog(paths, name, o, onLine, signal, pollMs);
    },
  };
  return sup;
}
