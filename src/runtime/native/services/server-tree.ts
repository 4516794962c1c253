/**
 * A server tree the `postgres` OS user can run. As root, helfy runs PostgreSQL as that user, which
 * must be able to reach the binaries: Debian's /usr/lib/postgresql is, but the copy with
 * TimescaleDB that native/timescaledb/install.sh puts in the helfy cache sits under root's home
 * (/root is 0700). Then a mirror of the cached tree made of hard links (a real copy where links
 * cannot be made, e.g. across file systems) is placed in a folder that user can reach, once per
 * build: the binaries must be files in their own tree, since PostgreSQL finds lib/ and share/
 * relative to its binary (a symlink is resolved first and would lead back into the cache).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { HelfyError } from '../../../core/errors.js';
import type { OsUser } from './common.js';

/** Every folder above `path` lets `user` through (theirs, or o+x). */
export function reachableBy(path: string, user: OsUser): boolean {
  for (let d = dirname(path); ; d = dirname(d)) {
    const st = statSync(d);
    if (st.uid !== user.uid && (st.mode & 0o001) === 0) return false;
    if (dirname(d) === d) return true;
  }
}

/** The install.sh tree a bin folder belongs to (the folder holding `.installed`), if any. */
function installedTree(binDir: string): string | undefined {
  for (let d = binDir, i = 0; i < 6; d = dirname(d), i++) {
    if (existsSync(join(d, '.installed'))) return d;
    if (dirname(d) === d) break;
  }
  return undefined;
}

/**
 * The bin folder `user` runs PostgreSQL from: `binDir` itself when no user switch is needed or
 * the user reaches it; else the bin folder of a mirror of its cached tree under `mirrorRoot`
 * (which must itself be reachable: the caller's own folder).
 */
export function serverBinFor(binDir: string, user: OsUser | undefined, mirrorRoot: string): string {
  if (!user || reachableBy(join(binDir, 'postgres'), user)) return binDir;
  const tree = installedTree(binDir);
  if (!tree) {
    throw new HelfyError('FS_ERROR', `PostgreSQL runs as the \`${user.name}\` OS user (helfy runs as root), which cannot reach ${binDir}`, {
      hint: 'Install PostgreSQL where every user can read it (e.g. the system package), or run helfy as a normal user.',
      exitCode: 3,
    });
  }
  const stamp = readFileSync(join(tree, '.installed'), 'utf8');
  // One mirror per build (its stamp): a rebuild never replaces files a running server uses.
  const target = join(mirrorRoot, `${basename(tree)}-${createHash('sha256').update(stamp).digest('hex').slice(0, 8)}`);
  const done = () => existsSync(join(target, '.installed')) && readFileSync(join(target, '.installed'), 'utf8') === stamp;
  if (!done()) {
    mkdirSync(mirrorRoot, { recursive: true, mode: 0o755 });
    const tmp = `${target}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    try {
      execFileSync('cp', ['-al', tree, tmp], { stdio: 'ignore' });
    } catch {
      rmSync(tmp, { recursive: true, force: true });
      execFileSync('cp', ['-a', tree, tmp], { stdio: 'ignore' });
    }
    rmSync(target, { recursive: true, force: true });
    try {
      renameSync(tmp, target);
    } catch (e) {
      // Another process put the same mirror in place meanwhile.
      rmSync(tmp, { recursive: true, force: true });
      if (!done()) throw e;
    }
  }
  return join(target, relative(tree, binDir));
}
