/**
 * The programs a start runs the command through (coreutils `env`, util-linux `setpriv`, `id` for a
 * user's ids), found on helfy's PATH, and the shell quoting of the state file's command line.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants as fsc } from 'node:fs';
import { delimiter, join } from 'node:path';
import { HelfyError } from '../../../core/errors.js';

/** The executable `cmd` in helfy's PATH (a default PATH when unset), or undefined. */
export function findOnPath(cmd: string): string | undefined {
  for (const d of (process.env.PATH || '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    if (!d) continue;
    const p = join(d, cmd);
    try {
      accessSync(p, fsc.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

let envBin: { path: string; defaultSignal: boolean } | undefined;
/** coreutils `env` and whether it has --default-signal (coreutils 8.31+). */
export function envTool(): { path: string; defaultSignal: boolean } {
  if (!envBin) {
    const path = findOnPath('env') ?? '/usr/bin/env';
    const r = spawnSync(path, ['--default-signal=INT', 'true'], { stdio: 'ignore', env: {} });
    envBin = { path, defaultSignal: r.status === 0 };
  }
  return envBin;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The uid and gid of `user` (`id -u`, `id -g`); OPERATION_FAILED when there is no such user. */
export function userIds(user: string): { uid: number; gid: number } {
  const id = findOnPath('id') ?? '/usr/bin/id';
  const u = spawnSync(id, ['-u', user], { encoding: 'utf8' });
  const g = spawnSync(id, ['-g', user], { encoding: 'utf8' });
  const uid = Number(u.stdout?.trim());
  const gid = Number(g.stdout?.trim());
  if (u.status !== 0 || g.status !== 0 || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new HelfyError('OPERATION_FAILED', `cannot run as user ${user}: no such user on this machine`, {
      hint: `create it (e.g. adduser --system ${user}) or run helfy as a regular user`,
    });
  }
  return { uid, gid };
}

/** `a` as one POSIX shell word (unquoted when it holds only safe characters). */
export function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}
