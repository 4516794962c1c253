/**
 * The workspace lock (`.helfy/run/.lock`): who works on the workspace (holder pid + start time +
 * boot id + what + since). A lock whose holder is dead (or a reused pid, or from before a reboot)
 * is stale and taken over under a takeover guard, so two helfys that saw the same stale lock never
 * both take it; an unparsable lock is taken over the same way. Re-entrant in one async call chain.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../../../core/atomic-write.js';
import { HelfyError } from '../../../core/errors.js';
import { bootId, procStart } from '../../../core/proc.js';
import { createExclusive, isErrno, readJson, sleep, validPid } from './files.js';
import type { LockPaths } from './paths.js';

/** What `.helfy/run/.lock` holds: who works on the workspace, and since when. */
export interface LockFile {
  pid: number;
  /** Field 22 of /proc/<pid>/stat of the holder (a reused pid is not the holder). */
  procStart: string | null;
  bootId: string;
  what: string;
  /** ms since epoch. */
  at: number;
  /** Unique per acquisition: a holder only ever removes its own lock. */
  token: string;
}

/** Lock files (absolute paths) held by the current async call chain: a nested withLock just runs. */
const heldLocks = new AsyncLocalStorage<ReadonlySet<string>>();
/** A takeover guard older than this was left by a helfy that died within its few-ms takeover. */
export const GUARD_STALE_MS = 5000;
const LOCK_POLL_MS = 100;
/** How long start / stop / forget wait for another helfy's lock (an outer withLock makes them not wait at all). */
export const START_LOCK_WAIT_MS = 30_000;
export const STOP_LOCK_WAIT_MS = 90_000;

/** The holder of `l` is alive: same pid, same start time, same boot. */
export function lockHolderAlive(l: LockFile): boolean {
  if (l.bootId !== bootId()) return false;
  const now = procStart(l.pid);
  return now !== undefined && l.procStart !== null && now === l.procStart;
}

/** A lock file written by helfy (a valid pid and a token), or undefined. */
export async function readLock(file: string): Promise<LockFile | undefined> {
  const l = await readJson<LockFile>(file);
  return l && validPid(l.pid) && typeof l.token === 'string' ? l : undefined;
}

/** `at` (ms since epoch) as an ISO time without milliseconds, for messages. */
export function lockTime(at: number): string {
  return new Date(at).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** This process's lock record for `what` (a fresh token). */
export function newLock(what: string): LockFile {
  return {
    pid: process.pid,
    procStart: procStart(process.pid) ?? null,
    bootId: bootId(),
    what,
    at: Date.now(),
    token: randomBytes(8).toString('hex'),
  };
}

/**
 * Replaces the stale lock `seen` (dead holder) by `mine`, atomically: only the helfy holding the
 * takeover guard (created exclusively) may replace a lock, and it re-reads the lock under the
 * guard, so two helfys that both saw the same stale lock never both take it. True when taken.
 */
export async function takeOver(lock: LockPaths, seen: LockFile, mine: LockFile): Promise<boolean> {
  const guard: LockFile = { ...mine, what: `taking over the lock of pid ${seen.pid}` };
  if (!(await createExclusive(lock.guard, `${JSON.stringify(guard)}\n`))) {
    // Another helfy is taking it over right now; a guard left by one that died is removed.
    try {
      const g = await readLock(lock.guard);
      const old = Date.now() - (await stat(lock.guard)).mtimeMs > GUARD_STALE_MS;
      if (old && (!g || !lockHolderAlive(g))) await rm(lock.guard, { force: true });
    } catch {
      /* gone meanwhile */
    }
    return false;
  }
  try {
    const now = await readLock(lock.file);
    if (!now || now.token !== seen.token) return false; // changed meanwhile: look again
    await writeFileAtomic(lock.file, `${JSON.stringify(mine, null, 2)}\n`);
    return true;
  } finally {
    await rm(lock.guard, { force: true });
  }
}

/** An unparsable lock file (not ours to trust) replaced under the takeover guard when unchanged. */
export async function takeOverUnreadable(lock: LockPaths, raw: string, mine: LockFile): Promise<boolean> {
  if (!(await createExclusive(lock.guard, `${JSON.stringify(mine)}\n`))) return false;
  try {
    const now = await readFile(lock.file, 'utf8').catch(() => undefined);
    if (now !== raw) return false;
    await writeFileAtomic(lock.file, `${JSON.stringify(mine, null, 2)}\n`);
    return true;
  } finally {
    await rm(lock.guard, { force: true });
  }
}

/** Takes the lock file; when it cannot, the live holder if it saw one. */
export async function tryAcquire(lock: LockPaths, mine: LockFile): Promise<{ ok: true } | { ok: false; holder?: LockFile }> {
  mkdirSync(lock.dir, { recursive: true });
  if (await createExclusive(lock.file, `${JSON.stringify(mine, null, 2)}\n`)) return { ok: true };
  const cur = await readLock(lock.file);
  if (!cur) {
    // Unreadable (not written by helfy, or emptied): a lock nobody can be holding.
    const raw = await readFile(lock.file, 'utf8').catch(() => undefined);
    if (raw === undefined) return { ok: false }; // released meanwhile
    return (await takeOverUnreadable(lock, raw, mine)) ? { ok: true } : { ok: false };
  }
  if (lockHolderAlive(cur)) return { ok: false, holder: cur };
  return (await takeOver(lock, cur, mine)) ? { ok: true } : { ok: false };
}

/** Removes the lock file when it is still `mine` (same token). */
export async function releaseLock(lock: LockPaths, mine: LockFile): Promise<void> {
  const cur = await readLock(lock.file);
  if (cur?.token === mine.token) await rm(lock.file, { force: true });
}

/** The error for a lock file helfy may not create (permissions, read-only file system); `e` itself for any other. */
export function lockAccessError(lockFile: string, e: unknown): unknown {
  if (isErrno(e, 'EACCES') || isErrno(e, 'EPERM') || isErrno(e, 'EROFS')) {
    return new HelfyError('OPERATION_FAILED', `cannot take the workspace lock ${lockFile}: ${(e as NodeJS.ErrnoException).code === 'EROFS' ? 'read-only file system' : 'permission denied'}`, {
      hint: 'run helfy as the user that owns this workspace (and its .helfy folder)',
    });
  }
  return e;
}

/** The error naming the live holder of the lock (this process, or another helfy). */
export function lockHeldError(lockFile: string, holder: LockFile): HelfyError {
  const self = holder.pid === process.pid;
  return new HelfyError(
    'OPERATION_FAILED',
    self
      ? `this helfy (pid ${holder.pid}) is already working on this workspace: ${holder.what}, since ${lockTime(holder.at)}`
      : `another helfy (pid ${holder.pid}: ${holder.what}, since ${lockTime(holder.at)}) is working on this workspace`,
    {
      hint: `wait for it to finish and run this again${self ? '' : ` (if it hangs: kill ${holder.pid})`}; the lock is ${lockFile}`,
      data: { lock: lockFile, pid: holder.pid, what: holder.what, since: holder.at },
    },
  );
}

/** Supervisor.withLock: runs `fn` holding the workspace lock (see the Supervisor interface). */
export async function withWorkspaceLock<T>(lock: LockPaths, what: string, fn: () => Promise<T>, o: { waitMs?: number } = {}): Promise<T> {
  const held = heldLocks.getStore();
  if (held?.has(lock.file)) return fn();
  const mine = newLock(what);
  const deadline = Date.now() + Math.max(0, o.waitMs ?? 0);
  let holder: LockFile | undefined;
  for (;;) {
    mine.at = Date.now();
    const r = await tryAcquire(lock, mine).catch((e: unknown) => {
      throw lockAccessError(lock.file, e);
    });
    if (r.ok) break;
    if (r.holder) holder = r.holder;
    const late = Date.now() >= deadline;
    if (late && !holder && Date.now() >= deadline + 2000) {
      throw new HelfyError('OPERATION_FAILED', `the workspace lock ${lock.file} stays busy`, {
        hint: 'another helfy is probably starting or stopping services here: run this again in a moment',
      });
    }
    if (late && holder) throw lockHeldError(lock.file, holder);
    // No holder seen yet (the lock changed hands under us): look again right away once.
    await sleep(r.holder ? LOCK_POLL_MS : 10);
  }
  try {
    return await heldLocks.run(new Set([...(held ?? []), lock.file]), fn);
  } finally {
    await releaseLock(lock, mine);
  }
}

/** Supervisor.lockHolder: another live process holding the lock (never this one; a stale lock is none). */
export async function lockHolder(lock: LockPaths): Promise<{ pid: number; what: string; at: number } | undefined> {
  const l = await readLock(lock.file);
  if (!l || l.pid === process.pid || !lockHolderAlive(l)) return undefined;
  return { pid: l.pid, what: l.what, at: l.at };
}
