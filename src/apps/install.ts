/**
 * An app's dependencies for `helfy dev`: `npm ci` when node_modules is missing or the lockfile
 * changed since the last install, and never when they are up to date.
 *
 * After each install helfy writes `node_modules/.helfy-install` (a hash of package-lock.json and
 * the Node major version). Without that stamp (node_modules made by hand, by `npm install`, or
 * copied), npm's own record of what it installed (`node_modules/.package-lock.json`) is compared
 * with the lockfile's packages; when they agree the stamp is written and nothing is installed.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HelfyError } from '../core/errors.js';

export const STAMP_FILE = '.helfy-install';

export type InstallState =
  | { needed: false; reason: 'up-to-date' }
  | { needed: true; reason: 'no-node_modules' | 'lockfile-changed' };

function lockHash(dir: string): string {
  const lock = readFileSync(join(dir, 'package-lock.json'));
  return createHash('sha256').update(`node ${process.versions.node.split('.')[0]}\n`).update(lock).digest('hex');
}

type Packages = Record<string, { version?: string; resolved?: string; link?: boolean; dev?: boolean; optional?: boolean }>;

/** The installed packages npm recorded match the lockfile's (name → version), root entry aside. */
function hiddenLockMatches(dir: string): boolean {
  try {
    const want = (JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as { packages?: Packages }).packages ?? {};
    const have = (JSON.parse(readFileSync(join(dir, 'node_modules', '.package-lock.json'), 'utf8')) as { packages?: Packages }).packages ?? {};
    const keys = (p: Packages) => Object.keys(p).filter((k) => k !== '');
    const wk = keys(want);
    // npm leaves optional packages for other platforms out of node_modules: those may be absent.
    for (const k of wk) {
      if (!have[k]) {
        if (want[k]!.optional) continue;
        return false;
      }
      if (have[k]!.version !== want[k]!.version) return false;
    }
    return keys(have).every((k) => want[k] !== undefined);
  } catch {
    return false;
  }
}

export function installState(dir: string): InstallState {
  if (!existsSync(join(dir, 'package-lock.json'))) {
    throw new HelfyError('USAGE', `${join(dir, 'package-lock.json')} is missing`, {
      hint: 'helfy dev installs with `npm ci`, which needs the lockfile: run `npm install` in that folder once to create it.',
    });
  }
  if (!existsSync(join(dir, 'node_modules'))) return { needed: true, reason: 'no-node_modules' };
  const stamp = join(dir, 'node_modules', STAMP_FILE);
  const hash = lockHash(dir);
  if (existsSync(stamp)) return readFileSync(stamp, 'utf8').trim() === hash ? { needed: false, reason: 'up-to-date' } : { needed: true, reason: 'lockfile-changed' };
  if (hiddenLockMatches(dir)) {
    writeStamp(dir);
    return { needed: false, reason: 'up-to-date' };
  }
  return { needed: true, reason: 'lockfile-changed' };
}

/** Temp file + rename: a killed helfy never leaves a stamp that claims a half-done install. */
export function writeStamp(dir: string): void {
  const stamp = join(dir, 'node_modules', STAMP_FILE);
  // npm ci of an app without dependencies creates no node_modules.
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  writeFileSync(`${stamp}.tmp`, `${lockHash(dir)}\n`);
  renameSync(`${stamp}.tmp`, stamp);
}
