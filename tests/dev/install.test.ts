/**
 * `helfy dev`'s dependency step with the real npm: `npm ci` when node_modules is missing or the
 * lockfile changed, nothing when up to date. The apps here are tiny (one `file:` dependency each,
 * so npm needs no registry) but the npm is the real one.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HelfyError } from '../../src/core/errors.js';
import { installState, STAMP_FILE } from '../../src/apps/install.js';
import { ensureDependencies } from '../../src/dev/run.js';
import { runGroupProcess, SpawnFailedError } from '../../src/runtime/process/group.js';
import { recordingLogger } from '../db/postgres/fixtures.js';
import { tempDir } from '../helpers/cli.js';

const root = tempDir('helfy-devinstall-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An app with local packages as dependencies and its lockfile, made by npm itself. */
function makeApp(name: string, deps: string[]): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const d of deps) {
    mkdirSync(join(dir, 'vendor', d), { recursive: true });
    writeFileSync(join(dir, 'vendor', d, 'package.json'), JSON.stringify({ name: d, version: '1.0.0' }));
    writeFileSync(join(dir, 'vendor', d, 'index.js'), `module.exports = ${JSON.stringify(d)};\n`);
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, dependencies: Object.fromEntries(deps.map((d) => [d, `file:vendor/${d}`])) }, null, 2));
  execFileSync('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'ignore' });
  return dir;
}

function ctxFor() {
  const log = recordingLogger();
  return { log, env: process.env, signal: new AbortController().signal };
}

describe('helfy dev: app dependencies (real npm ci)', () => {
  it('installs when node_modules is missing, then never again while the lockfile is unchanged', async () => {
    const dir = makeApp('app1', ['left']);
    expect(installState(dir)).toEqual({ needed: true, reason: 'no-node_modules' });
    const c1 = ctxFor();
    expect(await ensureDependencies(c1, new Map([['api', dir]]))).toEqual(['api']);
    expect(c1.log.of('info')[0]).toBe('api: installing dependencies (npm ci: no node_modules)...');
    expect(c1.log.of('success')[0]).toMatch(/^api: dependencies installed in \d+\.\ds$/);
    expect(readFileSync(join(dir, 'node_modules', 'left', 'index.js'), 'utf8')).toContain('"left"');
    expect(existsSync(join(dir, 'node_modules', STAMP_FILE))).toBe(true);

    // Up to date: npm does not run (npm ci would have deleted this file with node_modules).
    writeFileSync(join(dir, 'node_modules', 'marker'), 'kept');
    const c2 = ctxFor();
    expect(await ensureDependencies(c2, new Map([['api', dir]]))).toEqual([]);
    expect(c2.log.of('info')).toEqual([]);
    expect(readFileSync(join(dir, 'node_modules', 'marker'), 'utf8')).toBe('kept');
  }, 120_000);

  it('reinstalls when the lockfile changed', async () => {
    const dir = makeApp('app2', ['left']);
    await ensureDependencies(ctxFor(), new Map([['web', dir]]));
    writeFileSync(join(dir, 'node_modules', 'marker'), 'old install');
    // A dependency added the usual way: package.json and lockfile change together.
    mkdirSync(join(dir, 'vendor', 'right'), { recursive: true });
    writeFileSync(join(dir, 'vendor', 'right', 'package.json'), JSON.stringify({ name: 'right', version: '2.0.0' }));
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    pkg.dependencies.right = 'file:vendor/right';
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    execFileSync('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'ignore' });
    expect(installState(dir)).toEqual({ needed: true, reason: 'lockfile-changed' });
    const c = ctxFor();
    expect(await ensureDependencies(c, new Map([['web', dir]]))).toEqual(['web']);
    expect(c.log.of('info')[0]).toBe('web: installing dependencies (npm ci: package-lock.json changed)...');
    expect(existsSync(join(dir, 'node_modules', 'marker'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'node_modules', 'right', 'package.json'), 'utf8')).version).toBe('2.0.0');
  }, 120_000);

  it('node_modules copied without a stamp: npm\'s own record decides (matching: no install; stale: install)', async () => {
    const src = makeApp('app3', ['left']);
    await ensureDependencies(ctxFor(), new Map([['api', src]]));
    // A copy of app + node_modules (as the dev test makes with cp -al), no stamp.
    const copy = join(root, 'app3-copy');
    cpSync(src, copy, { recursive: true, verbatimSymlinks: true });
    rmSync(join(copy, 'node_modules', STAMP_FILE));
    expect(installState(copy)).toEqual({ needed: false, reason: 'up-to-date' });
    expect(existsSync(join(copy, 'node_modules', STAMP_FILE))).toBe(true);

    // The same copy, but its lockfile now names another version than npm installed.
    rmSync(join(copy, 'node_modules', STAMP_FILE));
    const lock = JSON.parse(readFileSync(join(copy, 'package-lock.json'), 'utf8'));
    lock.packages['vendor/left'].version = '1.0.1';
    writeFileSync(join(copy, 'package-lock.json'), JSON.stringify(lock, null, 2));
    expect(installState(copy)).toEqual({ needed: true, reason: 'lockfile-changed' });
  }, 120_000);

  it('a failing npm ci: exit 1 naming the app, no stamp; no lockfile: a usage error with a hint', async () => {
    const dir = makeApp('app4', ['left']);
    // package.json and lockfile out of sync: npm ci refuses.
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    pkg.dependencies.missing = 'file:vendor/missing';
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
    const c = ctxFor();
    const err = await ensureDependencies(c, new Map([['api', dir]])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HelfyError);
    expect((err as HelfyError).message).toMatch(/^api: npm ci failed \(exit \d+\)$/);
    expect((err as HelfyError).exitCode).toBe(1);
    expect(c.log.of('info').some((l) => l.startsWith('  api | npm '))).toBe(true);
    expect(existsSync(join(dir, 'node_modules', STAMP_FILE))).toBe(false);

    const bare = join(root, 'bare');
    mkdirSync(bare);
    writeFileSync(join(bare, 'package.json'), '{"name":"bare","version":"1.0.0"}');
    const e2 = (() => {
      try {
        installState(bare);
      } catch (e) {
        return e as HelfyError;
      }
    })();
    expect(e2?.code).toBe('USAGE');
    expect(e2?.hint).toContain('npm install');
  }, 120_000);

  it('npm missing from PATH (or the app folder gone): a one-line error with exit 3 and a hint, not a crash', async () => {
    const dir = makeApp('app5', ['left']);
    const emptyBin = join(root, 'empty-bin');
    mkdirSync(emptyBin, { recursive: true });
    const c = { ...ctxFor(), env: { PATH: emptyBin } };
    const err = await ensureDependencies(c, new Map([['api', dir]])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HelfyError);
    expect((err as HelfyError).message).toBe('api: could not run npm ci (npm was not found on PATH or is not executable)');
    expect((err as HelfyError).exitCode).toBe(3);
    expect((err as HelfyError).hint).toBe('Is npm on PATH? It comes with Node.js.');
    // The spawn failure's 'error' event comes a tick later: it must not be an unhandled one
    // (vitest fails the run on those), and nothing was installed.
    await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);

    const gone = join(root, 'gone-app');
    const e2 = await runGroupProcess({ name: 'x', command: process.execPath, args: ['-e', ''], cwd: gone, env: process.env, onLine: () => {} }).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(SpawnFailedError);
    expect((e2 as Error).message).toBe(`the folder ${gone} does not exist`);
    await new Promise((r) => setTimeout(r, 100));
    // A command that does start still resolves with its exit code.
    expect(await runGroupProcess({ name: 'y', command: process.execPath, args: ['-e', 'process.exit(7)'], cwd: root, env: process.env, onLine: () => {} })).toEqual({ code: 7, cancelled: false });
  }, 120_000);
});
