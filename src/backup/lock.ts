/**
 * One backup-side operation per project at a time: `helfy backup`, `helfy restore`, `backup
 * verify --restore-test` and `backup prune` take `<backup root>/.lock-<project>.json` (created
 * with O_EXCL, holding pid + host + what runs). A second one is refused before anything is
 * touched. A lock whose process is gone (same host, pid dead; another host: older than a day)
 * is stale and taken over. Files only (node:fs).
 */
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { HelfyError } from '../core/errors.js';
import { pidAlive } from '../core/proc.js';
import { holderGone } from './store.js';

export interface ProjectLockInfo {
  pid: number;
  host: string;
  project: string;
  /** What holds it: `backup`, `restore`, `verify --restore-test`, `prune`. */
  operation: string;
  startedAt: string;
}

export interface ProjectLock {
  file: string;
  info: ProjectLockInfo;
  release(): Promise<void>;
}

export function lockFile(root: string, project: string): string {
  return join(root, `.lock-${project.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
}

/** Whether the holder of `info` is gone. Unreadable content: stale (a crash between open and write). */
export function lockIsStale(info: Pick<ProjectLockInfo, 'pid' | 'host' | 'startedAt'> | undefined, now = Date.now()): boolean {
  return !info || holderGone(info, now);
}

async function readLock(file: string): Promise<ProjectLockInfo | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as ProjectLockInfo;
  } catch {
    return undefined;
  }
}

/** Takes the project's lock or throws (exit 1) naming the holder; nothing else is touched. */
export async function acquireProjectLock(root: string, project: string, operation: string): Promise<ProjectLock> {
  await mkdir(root, { recursive: true });
  const file = lockFile(root, project);
  const info: ProjectLockInfo = { pid: process.pid, host: hostname(), project, operation, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const fh = await open(file, 'wx');
      try {
        await fh.writeFile(`${JSON.stringify(info, null, 2)}\n`);
      } finally {
        await fh.close();
      }
      return {
        file,
        info,
        async release() {
          // Only our own lock: a stale-lock takeover by another process must not be undone.
          const now = await readLock(file);
          if (now && now.pid === info.pid && now.host === info.host && now.startedAt === info.startedAt) await rm(file, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new HelfyError('FS_ERROR', `cannot create the lock ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'Check HELFY_BACKUP_DIR and its permissions.' });
      }
      const held = await readLock(file);
      if (held && !lockIsStale(held)) {
        throw new HelfyError('OPERATION_FAILED', `another ${held.operation} of ${project} is running (process ${held.pid} on ${held.host}, since ${held.startedAt})`, {
          hint: `Nothing was changed. Wait for it to finish, then run this again; if that process is gone for good, delete ${file}.`,
          data: { lock: held },
        });
      }
      if (!held) {
        // Just created by another process that has not written it yet: wait for it.
        const m = await stat(file).then((x) => x.mtimeMs, () => 0);
        if (m && Date.now() - m < 5000) {
          await new Promise((r) => setTimeout(r, 250));
          continue;
        }
      }
      // Stale (its process is gone, or half-written by a crash long ago): take it over.
      await rm(file, { force: true });
    }
  }
  throw new HelfyError('OPERATION_FAILED', `could not take the lock ${file}: another helfy process keeps taking it`, { hint: 'Nothing was changed. Run this again.' });
}

// ---------------------------------------------------------------------------------------------
// Owners of `backup verify` leftovers (scratch databases, containers, volumes) after a kill -9.

/** `<host>:<pid>` of this process, as the verify containers' owner label holds it. */
export function ownerTag(): string {
  return `${hostname()}:${process.pid}`;
}

/** An owner `<host>:<pid>` is gone: same host and the pid is dead (another host's: never ours to judge). */
export function ownerGone(owner: string): boolean {
  const i = owner.lastIndexOf(':');
  const pid = Number(owner.slice(i + 1));
  if (i < 0 || !Number.isInteger(pid) || pid <= 0) return false;
  return owner.slice(0, i) === hostname() && !pidAlive(pid);
}

function hostHash(host = hostname()): string {
  return createHash('sha256').update(host).digest('hex').slice(0, 6);
}

/** The suffix of this process's scratch databases: `<host hash>_<pid>_<time>` (fits in 63 bytes). */
export function scratchSuffix(now = Date.now()): string {
  return `${hostHash()}_${process.pid}_${now.toString(36)}`;
}

/** A scratch database `helfy_verify_<store>_<host hash>_<pid>_<time>` whose process on this host is gone. */
export function scratchDatabaseGone(name: string): boolean {
  const m = /^helfy_verify_(?:app|temporal|visibility)_([0-9a-f]{6})_(\d+)_[0-9a-z]+$/.exec(name);
  if (!m || m[1] !== hostHash()) return false;
  return !pidAlive(Number(m[2]));
}
