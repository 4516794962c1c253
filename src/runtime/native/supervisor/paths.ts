/**
 * Where a supervisor keeps its files: `<root>/.helfy/{data,logs,run}`, the state file
 * `run/<name>.json`, the exit records `run/<name>.<runId>.exit`, the log `logs/<name>.log` and the
 * workspace lock `run/.lock` (with its takeover guard `run/.lock.takeover`). Every other part
 * takes a SupervisorPaths instead of capturing these.
 */
import { realpathSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { HelfyError } from '../../../core/errors.js';
import type { NativeDirs } from '../types.js';

/** The workspace lock's files. */
export interface LockPaths {
  /** The folder that holds them (created on the first acquisition). */
  dir: string;
  /** `.lock`: holder pid + start time + what + since. */
  file: string;
  /** `.lock.takeover`: held (created exclusively) while a stale lock is replaced. */
  guard: string;
}

export interface SupervisorPaths {
  /** The workspace root as given. */
  root: string;
  dirs: NativeDirs;
  lock: LockPaths;
  /** realRoot's answer once the root exists (filled in by realRoot). */
  rootReal?: string;
}

export function lockPaths(runDir: string): LockPaths {
  return { dir: runDir, file: join(runDir, '.lock'), guard: join(runDir, '.lock.takeover') };
}

export function supervisorPaths(root: string): SupervisorPaths {
  const base = join(root, '.helfy');
  const dirs: NativeDirs = { data: join(base, 'data'), logs: join(base, 'logs'), run: join(base, 'run') };
  return { root, dirs, lock: lockPaths(dirs.run) };
}

export function stateFile(p: SupervisorPaths, name: string): string {
  return join(p.dirs.run, `${name}.json`);
}

/** The run's exit record (`<name>.<runId>.exit`; `<name>.exit` for a state file without a run id). */
export function exitFile(p: SupervisorPaths, name: string, runId?: string): string {
  return join(p.dirs.run, runId ? `${name}.${runId}.exit` : `${name}.exit`);
}

/** `f` (a file name in the run folder) is an exit record of `name`, of any run. */
export function isExitOf(name: string, f: string): boolean {
  return f === `${name}.exit` || (f.startsWith(`${name}.`) && /^[0-9a-f]{12}\.exit$/.test(f.slice(name.length + 1)));
}

export function logFile(p: SupervisorPaths, name: string): string {
  return join(p.dirs.logs, `${name}.log`);
}

/** The workspace root as the state files record it (symlinks resolved; as given while it does not exist). */
export function realRoot(p: SupervisorPaths): string {
  if (p.rootReal === undefined) {
    try {
      p.rootReal = realpathSync(p.root);
    } catch {
      return resolvePath(p.root);
    }
  }
  return p.rootReal;
}

/** A process name is the stem of its files: letters, digits, `.`, `_`, `-`, not starting with a dot. */
export function checkName(name: string): void {
  if (!/^[a-z0-9][a-z0-9_.-]*$/i.test(name)) {
    throw new HelfyError('INTERNAL', `invalid process name "${name}" (letters, digits, . _ - only)`);
  }
}
