/**
 * The supervisor's parts one by one (src/runtime/native/supervisor/*), against real temp files:
 * paths and names, argument quoting, state files and exit records, the workspace lock (stale,
 * reused-pid, other-boot, unreadable and foreign live holders, the takeover guard), log rotation,
 * tail and follow, the checks before a start, and stop / forget of records whose processes are
 * gone. Only two tests start a process (a detached `sleep`, killed by the code under test).
 * The full supervisor with real services: supervisor.test.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HelfyError } from '../../src/core/errors.js';
import { bootId, groupLive, procStart } from '../../src/core/proc.js';
import { createExclusive, validPid } from '../../src/runtime/native/supervisor/files.js';
import {
  lockAccessError,
  lockHeldError,
  lockHolder,
  lockTime,
  newLock,
  readLock,
  releaseLock,
  takeOver,
  tryAcquire,
  withWorkspaceLock,
  type LockFile,
} from '../../src/runtime/native/supervisor/lock.js';
import { ROTATE_KEEP, followLog, openLog, readLog, rotateLog, splitLines, tailLines } from '../../src/runtime/native/supervisor/logs.js';
import { checkName, exitFile, isExitOf, logFile, realRoot, stateFile, supervisorPaths, type SupervisorPaths } from '../../src/runtime/native/supervisor/paths.js';
import { checkStartable, commandPrefix, startLocked, stateRecord } from '../../src/runtime/native/supervisor/start.js';
import { groupOurs, leaderAlive, listStates, readExit, readState, removeExits, resolveState, type StateFile } from '../../src/runtime/native/supervisor/state.js';
import { forgetLocked, stopLocked } from '../../src/runtime/native/supervisor/stop.js';
import { quoteArg } from '../../src/runtime/native/supervisor/tools.js';
import type { LogLine, ProcessSpec } from '../../src/runtime/native/types.js';

const temps: string[] = [];
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'helfy-supparts-'));
  temps.push(d);
  return d;
}
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** A workspace with its run and logs folders. */
function workspace(): SupervisorPaths {
  const p = supervisorPaths(temp());
  mkdirSync(p.dirs.run, { recursive: true });
  mkdirSync(p.dirs.logs, { recursive: true });
  return p;
}

/** A pid that no longer runs (spawnSync has reaped it). */
function deadPid(): number {
  const r = spawnSync('/bin/true');
  expect(r.status).toBe(0);
  return r.pid;
}

/** A state file for `pid` as a start of this workspace would write it. */
function stateOf(p: SupervisorPaths, name: string, pid: number, extra: Partial<StateFile> = {}): StateFile {
  return {
    name,
    kind: 'daemon',
    pid,
    startedAt: 1_700_000_000_000,
    procStart: procStart(pid) ?? null,
    bootId: bootId(),
    runId: '0123456789ab',
    root: realRoot(p),
    labels: { k: 'v' },
    commandLine: '/bin/x',
    cwd: p.root,
    stopSignal: 'SIGTERM',
    graceS: 0,
    logFile: logFile(p, name),
    ...extra,
  };
}

function writeState(p: SupervisorPaths, s: StateFile): void {
  writeFileSync(stateFile(p, s.name), JSON.stringify(s));
}

function spec(p: SupervisorPaths, extra: Partial<ProcessSpec> = {}): ProcessSpec {
  return { name: 'svc', kind: 'daemon', command: '/bin/sh', args: [], env: {}, cwd: p.root, graceS: 1, labels: {}, ...extra };
}

/** A lock record of another live process (our parent, the vitest main process). */
function foreignLiveLock(what = 'migrating'): LockFile {
  const pid = process.ppid;
  expect(procStart(pid)).toBeDefined();
  return { pid, procStart: procStart(pid)!, bootId: bootId(), what, at: Date.UTC(2024, 0, 2, 3, 4, 5, 678), token: 'foreign' };
}

function writeLock(file: string, l: LockFile): void {
  writeFileSync(file, `${JSON.stringify(l, null, 2)}\n`);
}

async function until(what: string, fn: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A detached `sleep 30` (its own process group), for the two tests that stop or refuse to stop. */
async function detachedSleep(): Promise<number> {
  const c = spawn('/usr/bin/sleep', ['30'], { detached: true, stdio: 'ignore' });
  const pid = await new Promise<number>((res, rej) => {
    c.once('error', rej);
    c.once('spawn', () => res(c.pid!));
  });
  c.unref();
  return pid;
}

async function caught(p: Promise<unknown> | (() => unknown)): Promise<HelfyError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(HelfyError);
    return e as HelfyError;
  }
  throw new Error('expected a HelfyError, nothing was thrown');
}

describe('paths and names', () => {
  it('lays out .helfy/{data,logs,run} with the state, exit, log and lock files', () => {
    const p = supervisorPaths('/w');
    expect(p.dirs).toEqual({ data: '/w/.helfy/data', logs: '/w/.helfy/logs', run: '/w/.helfy/run' });
    expect(p.lock).toEqual({ dir: '/w/.helfy/run', file: '/w/.helfy/run/.lock', guard: '/w/.helfy/run/.lock.takeover' });
    expect(stateFile(p, 'api')).toBe('/w/.helfy/run/api.json');
    expect(logFile(p, 'api')).toBe('/w/.helfy/logs/api.log');
    expect(exitFile(p, 'api', '0123456789ab')).toBe('/w/.helfy/run/api.0123456789ab.exit');
    expect(exitFile(p, 'api')).toBe('/w/.helfy/run/api.exit');
  });

  it("isExitOf matches the name's records of every run and nothing of another name", () => {
    expect(isExitOf('api', 'api.exit')).toBe(true);
    expect(isExitOf('api', 'api.0123456789ab.exit')).toBe(true);
    expect(isExitOf('api', 'api.0123456789AB.exit')).toBe(false);
    expect(isExitOf('api', 'api.012345.exit')).toBe(false);
    expect(isExitOf('api', 'api.json')).toBe(false);
    expect(isExitOf('api', 'api2.exit')).toBe(false);
    expect(isExitOf('api', 'api-web.0123456789ab.exit')).toBe(false);
    expect(isExitOf('api', 'api.web.0123456789ab.exit')).toBe(false);
    expect(isExitOf('pg.main', 'pg.main.0123456789ab.exit')).toBe(true);
  });

  it('checkName accepts file-safe names and refuses the rest with INTERNAL', async () => {
    for (const ok of ['api', 'postgres', 'temporal-ui', 'a.b_c-9', '9x']) expect(() => checkName(ok)).not.toThrow();
    for (const bad of ['', '.hidden', '-x', '../etc', 'a/b', 'a b', 'é']) {
      const e = await caught(() => checkName(bad));
      expect(e.code).toBe('INTERNAL');
      expect(e.message).toBe(`invalid process name "${bad}" (letters, digits, . _ - only)`);
    }
  });

  it('realRoot resolves symlinks once the root exists, and is the resolved path until then', () => {
    const real = temp();
    const link = join(temp(), 'link');
    symlinkSync(real, link);
    expect(realRoot(supervisorPaths(link))).toBe(realpathSync(real));
    const missing = join(temp(), 'later');
    const p = supervisorPaths(missing);
    expect(realRoot(p)).toBe(resolve(missing));
    expect(p.rootReal).toBeUndefined();
    mkdirSync(join(real, 'target'));
    symlinkSync(join(real, 'target'), missing);
    expect(realRoot(p)).toBe(realpathSync(join(real, 'target')));
    expect(p.rootReal).toBe(realpathSync(join(real, 'target')));
  });

  it('validPid accepts only integers above 1', () => {
    expect([2, 4711].map(validPid)).toEqual([true, true]);
    expect([0, 1, -1, -4711, 1.5, '42', null, undefined, Number.NaN].map(validPid)).toEqual(Array(9).fill(false));
  });
});

describe('argument quoting and the command prefix', () => {
  it('quoteArg leaves plain words alone and single-quotes the rest', () => {
    expect(quoteArg('/usr/bin/postgres')).toBe('/usr/bin/postgres');
    expect(quoteArg('-c')).toBe('-c');
    expect(quoteArg('listen_addresses=127.0.0.1,::1')).toBe('listen_addresses=127.0.0.1,::1');
    expect(quoteArg('a b')).toBe(`'a b'`);
    expect(quoteArg('')).toBe(`''`);
    expect(quoteArg(`it's`)).toBe(`'it'\\''s'`);
    expect(quoteArg('$HOME')).toBe(`'$HOME'`);
  });

  it('a quoted command line reads back as the same arguments in /bin/sh', () => {
    const args = ['plain', 'two words', `it's`, '$HOME `id` "q"', '', 'a\nb', '*', '\\'];
    const r = spawnSync('/bin/sh', ['-c', `for a in ${args.map(quoteArg).join(' ')}; do printf '%s\\0' "$a"; done`], { encoding: 'utf8', env: {} });
    expect(r.status).toBe(0);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(args);
  });

  it('commandPrefix without a user is env (with --default-signal when it has it) and --', () => {
    const prefix = commandPrefix('svc', undefined);
    expect(prefix[0]).toMatch(/\/env$/);
    expect(prefix[prefix.length - 1]).toBe('--');
    expect(prefix.length === 2 || (prefix.length === 3 && prefix[1] === '--default-signal=INT,QUIT')).toBe(true);
    expect(prefix.some((a) => a.includes('setpriv'))).toBe(false);
  });

  it('stateRecord quotes the command line, records the real root and defaults the stop signal', () => {
    const p = workspace();
    const s = stateRecord(p, spec(p, { command: '/bin/echo', args: ['a b', 'c'], labels: { x: 'y' } }), { pid: process.pid, runId: 'abcdefabcdef', logFile: '/l' });
    expect(s).toMatchObject({
      name: 'svc',
      kind: 'daemon',
      pid: process.pid,
      procStart: procStart(process.pid),
      bootId: bootId(),
      runId: 'abcdefabcdef',
      root: realpathSync(p.root),
      labels: { x: 'y' },
      commandLine: `/bin/echo 'a b' c`,
      stopSignal: 'SIGTERM',
      graceS: 1,
      logFile: '/l',
    });
    expect('user' in s).toBe(false);
    expect(stateRecord(p, spec(p, { stopSignal: 'SIGINT' }), { pid: process.pid, runId: 'r', asUser: 'postgres', logFile: '/l' })).toMatchObject({ stopSignal: 'SIGINT', user: 'postgres' });
  });
});

describe('state files and exit records', () => {
  it('readState returns a state file, and nothing for a missing, broken or untrustworthy one', async () => {
    const p = workspace();
    const good = stateOf(p, 'api', 4711);
    writeState(p, good);
    expect(await readState(stateFile(p, 'api'))).toEqual(good);
    expect(await readState(stateFile(p, 'missing'))).toBeUndefined();
    const f = join(p.dirs.run, 'x.json');
    for (const bad of ['{not json', '', 'null', JSON.stringify({ ...good, pid: 0 }), JSON.stringify({ ...good, pid: 1 }), JSON.stringify({ ...good, pid: -4711 }), JSON.stringify({ ...good, pid: '4711' }), JSON.stringify({ ...good, name: '' }), JSON.stringify({ ...good, name: 7 })]) {
      writeFileSync(f, bad);
      expect(await readState(f), bad).toBeUndefined();
    }
  });

  it('readExit reads the run record, its time from `at` or else the mtime; an unparsable or empty one is none', async () => {
    const p = workspace();
    const rec = exitFile(p, 'job', '0123456789ab');
    expect(await readExit(p, { name: 'job', runId: '0123456789ab' })).toBeUndefined();
    writeFileSync(rec, '{"code":3,"signal":null,"at":1234}\n');
    expect(await readExit(p, { name: 'job', runId: '0123456789ab' })).toEqual({ code: 3, signal: null, at: 1234 });
    writeFileSync(rec, '{"code":null,"signal":"SIGTERM"}\n');
    utimesSync(rec, 1_600_000_000, 1_600_000_000);
    expect(await readExit(p, { name: 'job', runId: '0123456789ab' })).toEqual({ code: null, signal: 'SIGTERM', at: 1_600_000_000_000 });
    // The record of another run is not this run's; a state file without a run id reads `<name>.exit`.
    expect(await readExit(p, { name: 'job', runId: 'ffffffffffff' })).toBeUndefined();
    writeFileSync(exitFile(p, 'job'), '{"code":0,"signal":null,"at":5}');
    expect(await readExit(p, { name: 'job' })).toEqual({ code: 0, signal: null, at: 5 });
    for (const bad of ['{}', '{"code":', '']) {
      writeFileSync(rec, bad);
      expect(await readExit(p, { name: 'job', runId: '0123456789ab' }), bad).toBeUndefined();
    }
  });

  it("removeExits removes every record of the name and nothing else", async () => {
    const p = workspace();
    const files = ['api.exit', 'api.0123456789ab.exit', 'api.aaaaaaaaaaaa.exit', 'api.json', 'api2.exit', 'api-web.0123456789ab.exit', '.lock'];
    for (const f of files) writeFileSync(join(p.dirs.run, f), '{}');
    await removeExits(p, 'api');
    expect(readdirSync(p.dirs.run).sort()).toEqual(['.lock', 'api-web.0123456789ab.exit', 'api.json', 'api2.exit']);
    await removeExits(supervisorPaths(join(p.root, 'nowhere')), 'api'); // no run folder: nothing to do
  });

  it('resolveState: running only for a live leader with its start time, this boot, this workspace and no record', async () => {
    const p = workspace();
    const live = stateOf(p, 'me', process.pid);
    expect(leaderAlive(p, live)).toBe(true);
    expect(groupOurs(p, live)).toBe(true);
    expect(await resolveState(p, live)).toEqual({ name: 'me', kind: 'daemon', state: 'running', pid: process.pid, startedAt: 1_700_000_000_000, labels: { k: 'v' }, logFile: logFile(p, 'me') });
    expect(await resolveState(p, { ...live, procStart: '1' })).toMatchObject({ state: 'exited' });
    expect(await resolveState(p, { ...live, procStart: null })).toMatchObject({ state: 'exited' });
    expect(await resolveState(p, { ...live, bootId: 'another-boot' })).toMatchObject({ state: 'exited' });
    expect(groupOurs(p, { ...live, bootId: 'another-boot' })).toBe(false);
    // Older state files (no root) are trusted; a state file of another workspace never is.
    expect(await resolveState(p, { ...live, root: undefined })).toMatchObject({ state: 'running' });
    const copied = { ...live, root: '/some/other/workspace' };
    expect(leaderAlive(p, copied)).toBe(false);
    expect(groupOurs(p, copied)).toBe(false);
    // With a record the run has ended, whatever the pid; another workspace's record is not read.
    writeFileSync(exitFile(p, 'me', live.runId), '{"code":0,"signal":null,"at":99}');
    expect(await resolveState(p, live)).toMatchObject({ state: 'exited', exit: { code: 0, signal: null, at: 99 } });
    const other = await resolveState(p, copied);
    expect(other.state).toBe('exited');
    expect(other.exit).toBeUndefined();
    // A dead leader without a record: exited, no exit; its group is gone too.
    const dead = stateOf(p, 'gone', deadPid());
    expect(dead.procStart).toBeNull();
    expect(await resolveState(p, dead)).toMatchObject({ state: 'exited' });
    expect((await resolveState(p, dead)).exit).toBeUndefined();
    expect(groupOurs(p, dead)).toBe(false);
  });

  it('listStates lists the state files by name, skipping dot files and broken ones; no run folder is no processes', async () => {
    const p = workspace();
    writeState(p, stateOf(p, 'web', deadPid()));
    writeState(p, stateOf(p, 'api', process.pid));
    writeFileSync(join(p.dirs.run, 'broken.json'), '{');
    writeFileSync(join(p.dirs.run, '.hidden.json'), JSON.stringify(stateOf(p, 'hidden', process.pid)));
    writeFileSync(join(p.dirs.run, '.lock'), '{}');
    writeFileSync(join(p.dirs.run, 'api.0123456789ab.exit.tmp'), '{}');
    expect((await listStates(p)).map((s) => [s.name, s.state])).toEqual([['api', 'running'], ['web', 'exited']]);
    expect(await listStates(supervisorPaths(join(p.root, 'nowhere')))).toEqual([]);
  });
});

describe('the workspace lock, part by part', () => {
  it('createExclusive creates the file complete once, then refuses, leaving no temp files', async () => {
    const d = temp();
    const f = join(d, '.lock');
    expect(await createExclusive(f, 'first\n')).toBe(true);
    expect(await createExclusive(f, 'second\n')).toBe(false);
    expect(readFileSync(f, 'utf8')).toBe('first\n');
    expect(readdirSync(d)).toEqual(['.lock']);
  });

  it('tryAcquire takes a free lock (creating the run folder) and names a live foreign holder', async () => {
    const p = supervisorPaths(temp());
    const mine = newLock('starting api');
    expect(mine).toMatchObject({ pid: process.pid, procStart: procStart(process.pid), bootId: bootId(), what: 'starting api' });
    expect(mine.token).toMatch(/^[0-9a-f]{16}$/);
    expect(await tryAcquire(p.lock, mine)).toEqual({ ok: true });
    expect(JSON.parse(readFileSync(p.lock.file, 'utf8'))).toEqual(mine);
    await releaseLock(p.lock, mine);
    expect(existsSync(p.lock.file)).toBe(false);

    const theirs = foreignLiveLock();
    writeLock(p.lock.file, theirs);
    expect(await tryAcquire(p.lock, newLock('stopping api'))).toEqual({ ok: false, holder: theirs });
    expect(await readLock(p.lock.file)).toEqual(theirs);
  });

  it('a stale lock (dead holder, reused pid, another boot, unreadable) is taken over', async () => {
    const p = workspace();
    const live = foreignLiveLock();
    const stale: Array<[string, string]> = [
      ['dead holder', JSON.stringify({ ...live, pid: deadPid() })],
      ['reused pid', JSON.stringify({ ...live, procStart: '1' })],
      ['holder of another boot', JSON.stringify({ ...live, bootId: 'another-boot' })],
      ['no start time', JSON.stringify({ ...live, procStart: null })],
      ['unreadable', 'garbage'],
      ['empty', ''],
      ['pid 1', JSON.stringify({ ...live, pid: 1 })],
    ];
    for (const [why, content] of stale) {
      writeFileSync(p.lock.file, content);
      const mine = newLock(`after ${why}`);
      expect(await tryAcquire(p.lock, mine), why).toEqual({ ok: true });
      expect(await readLock(p.lock.file), why).toEqual(mine);
      expect(existsSync(p.lock.guard), why).toBe(false);
    }
  });

  it('the takeover guard: a fresh one blocks a takeover, an old one of a dead helfy is removed', async () => {
    const p = workspace();
    const stale = { ...foreignLiveLock(), pid: deadPid() };
    writeLock(p.lock.file, stale);
    const guard = { ...foreignLiveLock('taking over'), pid: deadPid() };
    writeLock(p.lock.guard, guard);
    const mine = newLock('mine');
    // Fresh: another helfy is taking it over right now; nothing changes.
    expect(await takeOver(p.lock, stale, mine)).toBe(false);
    expect(await readLock(p.lock.file)).toEqual(stale);
    expect(existsSync(p.lock.guard)).toBe(true);
    // A live holder's guard stays, however old.
    writeLock(p.lock.guard, foreignLiveLock('taking over'));
    utimesSync(p.lock.guard, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    expect(await takeOver(p.lock, stale, mine)).toBe(false);
    expect(existsSync(p.lock.guard)).toBe(true);
    // Old and its holder dead: removed (this attempt still fails), the next one takes the lock.
    writeLock(p.lock.guard, guard);
    utimesSync(p.lock.guard, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    expect(await takeOver(p.lock, stale, mine)).toBe(false);
    expect(existsSync(p.lock.guard)).toBe(false);
    expect(await takeOver(p.lock, stale, mine)).toBe(true);
    expect(await readLock(p.lock.file)).toEqual(mine);
  });

  it('takeOver refuses a lock that changed hands after it was seen', async () => {
    const p = workspace();
    const seen = { ...foreignLiveLock(), pid: deadPid(), token: 'seen' };
    const now = { ...seen, token: 'someone-else' };
    writeLock(p.lock.file, now);
    expect(await takeOver(p.lock, seen, newLock('mine'))).toBe(false);
    expect(await readLock(p.lock.file)).toEqual(now);
    expect(existsSync(p.lock.guard)).toBe(false);
  });

  it('releaseLock removes only its own lock', async () => {
    const p = workspace();
    const theirs = foreignLiveLock();
    writeLock(p.lock.file, theirs);
    await releaseLock(p.lock, newLock('mine'));
    expect(await readLock(p.lock.file)).toEqual(theirs);
    await releaseLock(p.lock, theirs);
    expect(existsSync(p.lock.file)).toBe(false);
    await releaseLock(p.lock, theirs); // already gone: nothing to do
  });

  it('withWorkspaceLock refuses at once (waitMs 0) naming a live foreign holder, and runs nothing', async () => {
    const p = workspace();
    const theirs = foreignLiveLock();
    writeLock(p.lock.file, theirs);
    let ran = false;
    const e = await caught(withWorkspaceLock(p.lock, 'starting api', async () => (ran = true)));
    expect(ran).toBe(false);
    expect(e.code).toBe('OPERATION_FAILED');
    expect(e.message).toBe(`another helfy (pid ${theirs.pid}: migrating, since 2024-01-02T03:04:05Z) is working on this workspace`);
    expect(e.hint).toBe(`wait for it to finish and run this again (if it hangs: kill ${theirs.pid}); the lock is ${p.lock.file}`);
    expect(e.data).toEqual({ lock: p.lock.file, pid: theirs.pid, what: 'migrating', since: theirs.at });
    expect(await readLock(p.lock.file)).toEqual(theirs);
  });

  it('lockHeldError for this process says so, without a kill hint', () => {
    const self = { ...newLock('backing up'), at: Date.UTC(2024, 5, 1) };
    const e = lockHeldError('/w/.lock', self);
    expect(e.message).toBe(`this helfy (pid ${process.pid}) is already working on this workspace: backing up, since 2024-06-01T00:00:00Z`);
    expect(e.hint).toBe('wait for it to finish and run this again; the lock is /w/.lock');
  });

  it('withWorkspaceLock holds the lock while fn runs, is re-entrant, and releases it when fn throws', async () => {
    const p = workspace();
    const seen = await withWorkspaceLock(p.lock, 'outer', async () => {
      const outer = await readLock(p.lock.file);
      const inner = await withWorkspaceLock(p.lock, 'inner', async () => (await readLock(p.lock.file))?.what);
      return { outer, inner };
    });
    expect(seen.outer).toMatchObject({ pid: process.pid, what: 'outer' });
    expect(seen.inner).toBe('outer');
    expect(existsSync(p.lock.file)).toBe(false);
    await expect(withWorkspaceLock(p.lock, 'failing', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(p.lock.file)).toBe(false);
  });

  it('withWorkspaceLock waits (waitMs) for a holder that releases', async () => {
    const p = workspace();
    writeLock(p.lock.file, foreignLiveLock());
    setTimeout(() => rmSync(p.lock.file), 150);
    const t0 = Date.now();
    expect(await withWorkspaceLock(p.lock, 'waiter', async () => (await readLock(p.lock.file))?.what, { waitMs: 5000 })).toBe('waiter');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
  });

  it('lockHolder names a live foreign holder only', async () => {
    const p = workspace();
    expect(await lockHolder(p.lock)).toBeUndefined();
    const theirs = foreignLiveLock();
    writeLock(p.lock.file, theirs);
    expect(await lockHolder(p.lock)).toEqual({ pid: theirs.pid, what: 'migrating', at: theirs.at });
    writeLock(p.lock.file, { ...theirs, pid: deadPid() });
    expect(await lockHolder(p.lock)).toBeUndefined();
    writeLock(p.lock.file, newLock('mine'));
    expect(await lockHolder(p.lock)).toBeUndefined();
    writeFileSync(p.lock.file, 'garbage');
    expect(await lockHolder(p.lock)).toBeUndefined();
  });

  it('lockAccessError: permission and read-only errors become OPERATION_FAILED, others pass through', () => {
    const errno = (code: string) => Object.assign(new Error(code), { code });
    const denied = lockAccessError('/w/.lock', errno('EACCES')) as HelfyError;
    expect(denied).toBeInstanceOf(HelfyError);
    expect(denied.code).toBe('OPERATION_FAILED');
    expect(denied.message).toBe('cannot take the workspace lock /w/.lock: permission denied');
    expect(denied.hint).toBe('run helfy as the user that owns this workspace (and its .helfy folder)');
    expect((lockAccessError('/w/.lock', errno('EPERM')) as HelfyError).message).toBe('cannot take the workspace lock /w/.lock: permission denied');
    expect((lockAccessError('/w/.lock', errno('EROFS')) as HelfyError).message).toBe('cannot take the workspace lock /w/.lock: read-only file system');
    const other = errno('ENOSPC');
    expect(lockAccessError('/w/.lock', other)).toBe(other);
  });

  it('lockTime is ISO time to the second', () => {
    expect(lockTime(Date.UTC(2024, 11, 31, 23, 59, 58, 999))).toBe('2024-12-31T23:59:58Z');
  });
});

describe('logs, part by part', () => {
  it('splitLines trims \\r and a final newline only', () => {
    expect(splitLines('')).toEqual([]);
    expect(splitLines('a\r\nb\n')).toEqual(['a', 'b']);
    expect(splitLines('a\n\nb')).toEqual(['a', '', 'b']);
    expect(splitLines('\n')).toEqual(['']);
  });

  it('rotateLog: over the threshold the log becomes .1, older ones shift, the oldest is dropped', async () => {
    const d = temp();
    const f = join(d, 'api.log');
    expect(ROTATE_KEEP).toBe(3);
    await rotateLog(f, 10); // missing: nothing to do
    expect(readdirSync(d)).toEqual([]);
    writeFileSync(f, '0123456789');
    await rotateLog(f, 10); // at the threshold: kept
    expect(readdirSync(d)).toEqual(['api.log']);
    for (const [i, text] of ['one', 'two', 'three'].entries()) writeFileSync(`${f}.${i + 1}`, text);
    writeFileSync(f, 'current, over ten bytes');
    await rotateLog(f, 10);
    expect(readdirSync(d).sort()).toEqual(['api.log.1', 'api.log.2', 'api.log.3']);
    expect(['1', '2', '3'].map((i) => readFileSync(`${f}.${i}`, 'utf8'))).toEqual(['current, over ten bytes', 'one', 'two']);
    // A gap (.1 only) shifts without inventing files.
    rmSync(`${f}.2`);
    rmSync(`${f}.3`);
    writeFileSync(f, 'newest, over ten bytes');
    await rotateLog(f, 10);
    expect(readdirSync(d).sort()).toEqual(['api.log.1', 'api.log.2']);
    expect(readFileSync(`${f}.2`, 'utf8')).toBe('current, over ten bytes');
  });

  it('tailLines reads the last lines across 64 KiB chunks, UTF-8 split at a chunk edge intact', async () => {
    const d = temp();
    const f = join(d, 'big.log');
    // 21 bytes a line: the 64 KiB chunk edge from the end falls inside a two-byte ü.
    const lines = Array.from({ length: 6000 }, (_, i) => `${String(i).padStart(4, '0')}${'ü'.repeat(8)}`);
    expect(Buffer.byteLength(`${lines[0]}\n`)).toBe(21);
    writeFileSync(f, `${lines.join('\n')}\n`);
    expect(await tailLines(f, 3)).toEqual(lines.slice(-3));
    expect(await tailLines(f, 4000)).toEqual(lines.slice(-4000));
    expect(await tailLines(f, 10_000)).toEqual(lines);
    expect(await tailLines(f, 0)).toEqual([]);
    expect(await tailLines(f, -1)).toEqual([]);
    expect(await tailLines(join(d, 'missing.log'), 5)).toEqual([]);
    writeFileSync(f, 'a\r\nb\r\nno newline');
    expect(await tailLines(f, 2)).toEqual(['b', 'no newline']);
  });

  it('readLog: the tail takes the rest from .1; without a tail, .1 then the log', async () => {
    const p = workspace();
    const f = logFile(p, 'api');
    writeFileSync(`${f}.1`, 'old1\nold2\nold3\n');
    writeFileSync(`${f}.2`, 'older\n');
    writeFileSync(f, 'new1\nnew2\n');
    const texts = (ls: LogLine[]) => ls.map((l) => `${l.stream}:${l.text}`.replace(/^stdout:/, ''));
    expect(texts(await readLog(p, 'api', { tail: 1 }))).toEqual(['new2']);
    expect(texts(await readLog(p, 'api', { tail: 4 }))).toEqual(['old2', 'old3', 'new1', 'new2']);
    expect(texts(await readLog(p, 'api', { tail: 100 }))).toEqual(['old1', 'old2', 'old3', 'new1', 'new2']);
    expect(texts(await readLog(p, 'api'))).toEqual(['old1', 'old2', 'old3', 'new1', 'new2']);
    expect(await readLog(p, 'none')).toEqual([]);
  });

  it('openLog appends to a regular file (0640 when new) and refuses a symlink or a non-file at its name', async () => {
    const d = temp();
    const f = join(d, 'api.log');
    writeFileSync(f, 'before\n');
    let fd = openLog('api', f, undefined);
    writeSync(fd, 'after\n');
    closeSync(fd);
    expect(readFileSync(f, 'utf8')).toBe('before\nafter\n');
    const fresh = join(d, 'new.log');
    fd = openLog('new', fresh, undefined);
    closeSync(fd);
    expect(statSync(fresh).mode & 0o600).toBe(0o600);
    expect(statSync(fresh).mode & 0o137).toBe(0); // at most 0640

    const target = join(d, 'target');
    writeFileSync(target, 'precious\n');
    const planted = join(d, 'planted.log');
    symlinkSync(target, planted);
    const e = await caught(() => openLog('web', planted, undefined));
    expect(e.code).toBe('OPERATION_FAILED');
    expect(e.message).toBe(`web: its log ${planted} is a symbolic link; refusing to write through it`);
    expect(e.hint).toBe(`remove it (rm ${planted}) and start again`);
    expect(readFileSync(target, 'utf8')).toBe('precious\n');

    // Something that opens but is no file (a device): refused, the fd closed. A folder fails to open (EISDIR).
    const e2 = await caught(() => openLog('db', '/dev/null', undefined));
    expect(e2.code).toBe('OPERATION_FAILED');
    expect(e2.message).toBe('db: its log /dev/null is not a regular file');
    const folder = join(d, 'folder.log');
    mkdirSync(folder);
    expect(() => openLog('db', folder, undefined)).toThrow(expect.objectContaining({ code: 'EISDIR' }));
  });

  it('followLog: the tail, then appended lines, from the start after a truncation, the partial last line at abort', async () => {
    const p = workspace();
    const f = logFile(p, 'api');
    writeFileSync(f, 'a\nb\n');
    const seen: string[] = [];
    const ac = new AbortController();
    const done = followLog(p, 'api', { tail: 1 }, (l) => seen.push(l.text), ac.signal, 10);
    await until('the tail', () => seen.length === 1);
    writeFileSync(f, 'c\r\n', { flag: 'a' });
    await until('the appended line', () => seen.length === 2);
    writeFileSync(f, 'x\n'); // replaced by a shorter file (a restart rotated it)
    await until('the line of the new file', () => seen.length === 3);
    writeFileSync(f, 'y', { flag: 'a' });
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual(['b', 'c', 'x']);
    ac.abort();
    await done;
    expect(seen).toEqual(['b', 'c', 'x', 'y']);
  });

  it('followLog with tail 0 shows nothing old, and waits for a log that does not exist yet', async () => {
    const p = workspace();
    writeFileSync(logFile(p, 'old'), 'old line\n');
    const seen: string[] = [];
    const ac = new AbortController();
    const a = followLog(p, 'old', { tail: 0 }, (l) => seen.push(`old:${l.text}`), ac.signal, 10);
    const b = followLog(p, 'later', {}, (l) => seen.push(`later:${l.text}`), ac.signal, 10);
    await new Promise((r) => setTimeout(r, 50));
    writeFileSync(logFile(p, 'later'), 'first\n');
    writeFileSync(logFile(p, 'old'), 'new line\n', { flag: 'a' });
    await until('both new lines', () => seen.length === 2);
    ac.abort();
    await Promise.all([a, b]);
    expect(seen.sort()).toEqual(['later:first', 'old:new line']);
  });
});

describe('start checks, stop and forget without a running service', () => {
  it('checkStartable refuses a running name, a relative, missing or non-executable command and a missing folder', async () => {
    const p = workspace();
    await expect(checkStartable(p, spec(p), undefined)).resolves.toBeUndefined();
    const running = await caught(checkStartable(p, spec(p), stateOf(p, 'svc', process.pid)));
    expect([running.code, running.message, running.hint, running.data]).toEqual([
      'OPERATION_FAILED',
      `svc is already running (pid ${process.pid})`,
      'stop it first (helfy down svc), or leave it running',
      { name: 'svc', pid: process.pid },
    ]);
    // Ended (a record) or dead: may start again.
    await expect(checkStartable(p, spec(p), stateOf(p, 'svc', deadPid()))).resolves.toBeUndefined();

    const relative = await caught(checkStartable(p, spec(p, { command: 'sh' }), undefined));
    expect([relative.code, relative.message]).toEqual(['INTERNAL', 'svc: command must be an absolute path, got sh']);
    const missing = join(p.root, 'no-such-binary');
    const e = await caught(checkStartable(p, spec(p, { command: missing }), undefined));
    expect([e.code, e.message]).toEqual(['TOOL_MISSING', `svc: ${missing} does not exist or is not executable`]);
    writeFileSync(missing, '#!/bin/sh\n');
    chmodSync(missing, 0o644);
    expect((await caught(checkStartable(p, spec(p, { command: missing }), undefined))).code).toBe('TOOL_MISSING'); // not executable (root too: no x bit)
    const cwd = join(p.root, 'no-such-folder');
    const c = await caught(checkStartable(p, spec(p, { cwd }), undefined));
    expect([c.code, c.message]).toEqual(['OPERATION_FAILED', `svc: working folder ${cwd} does not exist`]);
    const c2 = await caught(checkStartable(p, spec(p, { cwd: missing }), undefined));
    expect(c2.message).toBe(`svc: working folder ${missing} does not exist`);
  });

  it('startLocked refuses before it touches anything (no folders, no log, no rotation)', async () => {
    const p = supervisorPaths(temp());
    mkdirSync(p.dirs.run, { recursive: true });
    writeState(p, stateOf(p, 'svc', process.pid));
    const e = await caught(startLocked(p, spec(p), 1));
    expect(e.message).toBe(`svc is already running (pid ${process.pid})`);
    expect(existsSync(p.dirs.logs)).toBe(false);
    expect(existsSync(p.dirs.data)).toBe(false);
  });

  it('stopLocked: false without a state file, for a dead run, and for a live process named by another workspace (never signalled)', async () => {
    const p = workspace();
    expect(await stopLocked(p, 'none', {})).toBe(false);
    writeState(p, stateOf(p, 'dead', deadPid()));
    expect(await stopLocked(p, 'dead', {})).toBe(false);
    expect(readdirSync(p.dirs.run)).toEqual(['dead.json']);
    const pid = await detachedSleep();
    try {
      writeState(p, stateOf(p, 'copied', pid, { root: '/another/workspace' }));
      expect(await stopLocked(p, 'copied', { graceS: 0 })).toBe(false);
      expect(procStart(pid)).toBeDefined();
    } finally {
      process.kill(-pid, 'SIGKILL');
    }
  });

  it('stopLocked SIGKILLs a group still alive after the grace period and records SIGKILL for it', async () => {
    const p = workspace();
    const pid = await detachedSleep();
    try {
      const s = stateOf(p, 'sleeper', pid);
      writeState(p, s);
      const t0 = Date.now();
      expect(await stopLocked(p, 'sleeper', { graceS: 0 })).toBe(true);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(groupLive(pid)).toBe(false);
      const rec = JSON.parse(readFileSync(exitFile(p, 'sleeper', s.runId), 'utf8'));
      expect(rec).toMatchObject({ code: null, signal: 'SIGKILL' });
      expect(await resolveState(p, s)).toMatchObject({ state: 'exited', exit: { code: null, signal: 'SIGKILL' } });
      // The state stays (stop does not forget); a second stop finds nothing to stop.
      expect(await stopLocked(p, 'sleeper', {})).toBe(false);
    } finally {
      if (groupLive(pid)) process.kill(-pid, 'SIGKILL');
    }
  });

  it('forgetLocked refuses a running process and removes the state and every exit record of an ended one', async () => {
    const p = workspace();
    writeState(p, stateOf(p, 'svc', process.pid));
    const e = await caught(forgetLocked(p, 'svc'));
    expect([e.code, e.message]).toEqual(['OPERATION_FAILED', `svc is still running (pid ${process.pid}); stop it before forgetting it`]);
    expect(existsSync(stateFile(p, 'svc'))).toBe(true);

    writeState(p, stateOf(p, 'job', deadPid()));
    for (const f of ['job.exit', 'job.0123456789ab.exit', 'job2.json', 'job2.exit']) writeFileSync(join(p.dirs.run, f), '{}');
    await forgetLocked(p, 'job');
    expect(readdirSync(p.dirs.run).sort()).toEqual(['job2.exit', 'job2.json', 'svc.json']);
    await forgetLocked(p, 'never-started'); // nothing to forget
  });
});
