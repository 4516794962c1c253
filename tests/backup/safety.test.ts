/**
 * The guards around backup/restore that need no stack: the per-project lock (real files, real
 * processes), project filtering of a shared HELFY_BACKUP_DIR (real folders), the error of a
 * restore that failed half-way, and runStoreTasks' sibling cancelling (real listr2 runner).
 */
import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { errorOf } from '../helpers/errors.js';
import { acquireProjectLock, lockFile } from '../../src/backup/lock.js';
import { MANIFEST_FORMAT, type Manifest } from '../../src/backup/manifest.js';
import { completePartial, findBackup, scanBackups, writeLock, type LockInfo } from '../../src/backup/store.js';
import { runStoreTasks } from '../../src/backup/tasks.js';
import { killOneOffClients } from '../../src/runtime/docker/backup.js';
import { cmdline, pidAlive, procUid } from '../../src/core/proc.js';
import { partialRestoreError } from '../../src/backup/restore.js';
import type { Context } from '../../src/core/context.js';
import { HelfyError } from '../../src/core/errors.js';
import { createTaskRunner } from '../../src/ui/tasks.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'helfy-bk-safety-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A pid that surely is gone: a process that ran and exited. */
const deadPid = async () => {
  const p = execa('node', ['-e', '']);
  const pid = p.pid!;
  await p;
  return pid;
};


describe('per-project lock', () => {
  it('a second holder is refused naming the first; after release it can be taken again', async () => {
    const root = tmp();
    const a = await acquireProjectLock(root, 'proj', 'backup');
    expect(JSON.parse(readFileSync(lockFile(root, 'proj'), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname(), project: 'proj', operation: 'backup' });
    const e = await errorOf(acquireProjectLock(root, 'proj', 'restore'));
    expect(e).toBeInstanceOf(HelfyError);
    expect(e.code).toBe('OPERATION_FAILED');
    expect(e.message).toBe(`another backup of proj is running (process ${process.pid} on ${hostname()}, since ${a.info.startedAt})`);
    expect(e.hint).toMatch(/^Nothing was changed\./);
    // Another project in the same folder is not blocked.
    const other = await acquireProjectLock(root, 'other', 'restore');
    await other.release();
    await a.release();
    expect(existsSync(lockFile(root, 'proj'))).toBe(false);
    const b = await acquireProjectLock(root, 'proj', 'restore');
    expect(b.info.operation).toBe('restore');
    await b.release();
  });

  it('of two racing for it, exactly one wins', async () => {
    const root = tmp();
    const r = await Promise.allSettled([acquireProjectLock(root, 'p', 'backup'), acquireProjectLock(root, 'p', 'restore'), acquireProjectLock(root, 'p', 'prune')]);
    expect(r.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
    expect(r.filter((x) => x.status === 'rejected').map((x) => ((x as PromiseRejectedResult).reason as HelfyError).code)).toEqual(['OPERATION_FAILED', 'OPERATION_FAILED']);
  });

  it('a lock whose process is gone (kill -9) is taken over; release leaves a lock taken over by another alone', async () => {
    const root = tmp();
    const pid = await deadPid();
    writeFileSync(lockFile(root, 'p'), JSON.stringify({ pid, host: hostname(), project: 'p', operation: 'backup', startedAt: new Date().toISOString() }));
    const l = await acquireProjectLock(root, 'p', 'restore');
    expect(JSON.parse(readFileSync(lockFile(root, 'p'), 'utf8')).pid).toBe(process.pid);
    // Someone else's lock now in the file (e.g. after a takeover): our release must not delete it.
    const theirs = { pid: 1, host: hostname(), project: 'p', operation: 'backup', startedAt: new Date().toISOString() };
    writeFileSync(lockFile(root, 'p'), JSON.stringify(theirs));
    await l.release();
    expect(JSON.parse(readFileSync(lockFile(root, 'p'), 'utf8'))).toEqual(theirs);
  });

  it('a live process in another process holds it too (a real second helfy would be refused)', async () => {
    const root = tmp();
    const child = execa('node', ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      writeFileSync(lockFile(root, 'p'), JSON.stringify({ pid: child.pid, host: hostname(), project: 'p', operation: 'verify --restore-test', startedAt: new Date().toISOString() }));
      const e = await errorOf(acquireProjectLock(root, 'p', 'backup'));
      expect(e.message).toMatch(new RegExp(`^another verify --restore-test of p is running \\(process ${child.pid} `));
    } finally {
      child.kill('SIGKILL');
      await child.catch(() => undefined);
    }
  });
});

describe('the lock of a running backup (.partial/lock.json)', () => {
  it('is rewritten so that a reader never sees half of it (a kill -9 mid-write left it truncated, so the killed backup looked alive for a day)', async () => {
    const dir = tmp();
    const lock: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), project: 'p', stopped: [] };
    await writeLock(dir, lock);
    let bad = 0;
    for (let i = 0; i < 300; i++) {
      lock.stopped = i % 2 ? ['api', 'worker', 'temporal', 'neo4j'] : ['api'];
      // Readers on the thread pool at the same time as the write (plain writeFile: ~40 % of them saw an empty or cut file).
      const reads = [0, 1, 2].map(() => readFile(join(dir, 'lock.json'), 'utf8').then((t) => JSON.parse(t)).catch(() => bad++));
      await Promise.all([writeLock(dir, lock), ...reads]);
    }
    expect(bad).toBe(0);
    expect(readdirSync(dir)).toEqual(['lock.json']);
  });

  it('unreadable (a crash before its first write): stale when no live process holds a lock in the folder, kept while one does', async () => {
    const root = tmp();
    mkdirSync(join(root, '20261130T120000Z.partial'));
    writeFileSync(join(root, '20261130T120000Z.partial', 'lock.json'), '');
    const held = await acquireProjectLock(root, 'mine', 'backup');
    expect((await scanBackups(root, 'mine')).partials.map((p) => [p.id, p.stale])).toEqual([['20261130T120000Z', false]]);
    await held.release();
    // A dead process's project lock does not count.
    writeFileSync(lockFile(root, 'mine'), JSON.stringify({ pid: await deadPid(), host: hostname(), project: 'mine', operation: 'backup', startedAt: new Date().toISOString() }));
    expect((await scanBackups(root, 'mine')).partials.map((p) => [p.id, p.stale])).toEqual([['20261130T120000Z', true]]);
    // An empty project lock: being written right now (kept), or left by a crash over 5 s ago (nobody's).
    writeFileSync(lockFile(root, 'other'), '');
    expect((await scanBackups(root, 'mine')).partials[0]!.stale).toBe(false);
    utimesSync(lockFile(root, 'other'), new Date(Date.now() - 10_000), new Date(Date.now() - 10_000));
    expect((await scanBackups(root, 'mine')).partials[0]!.stale).toBe(true);
  });

  it('a killed holder not yet reaped by its parent (a zombie) counts as gone', async () => {
    // A parent whose code we hold: perl (Debian's perl-base is Essential) forks a child that exits
    // at once and then sleeps without ever calling wait, and SIGCHLD stays at its default, so the
    // child is a zombie until the parent ends. (A shell parent was racy: dash reaps a finished
    // background job on its own before it execs, so the zombie was sometimes gone before the read.)
    const parent = execa('perl', ['-e', '$| = 1; my $pid = fork() // die "fork: $!"; if ($pid == 0) { exit 0 } print "$pid\n"; sleep 30']);
    try {
      const pid = await new Promise<number>((resolve) => parent.stdout!.once('data', (b: Buffer) => resolve(Number(String(b).trim()))));
      let state = '';
      for (let i = 0; i < 100 && state !== 'Z'; i++, await new Promise((r) => setTimeout(r, 20))) {
        const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
        state = raw.slice(raw.lastIndexOf(')') + 2, raw.lastIndexOf(')') + 3);
      }
      expect(state).toBe('Z');
      expect(() => process.kill(pid, 0)).not.toThrow(); // signal 0 alone says alive
      expect(pidAlive(pid)).toBe(false);
      expect(pidAlive(process.pid)).toBe(true);
    } finally {
      parent.kill('SIGKILL');
      await parent.catch(() => undefined);
    }
  });
});

describe('a shared HELFY_BACKUP_DIR', () => {
  const manifest = (id: string, project: string): Manifest => ({
    format: 1, id, project, helfyVersion: '0', createdAt: '2026-11-30T10:00:00.000Z', durationMs: 0, stores: ['postgres', 'neo4j'], consistent: true,
    writersStopped: [], writersDowntimeMs: 0, services: {}, files: [{ name: 'globals.sql', store: 'postgres', kind: 'globals', bytes: 10, sha256: 'x', durationMs: 1 }], figures: {}, warnings: [],
  });
  const put = (root: string, id: string, project: string) => {
    mkdirSync(join(root, id), { recursive: true });
    writeFileSync(join(root, id, 'manifest.json'), JSON.stringify(manifest(id, project)));
  };

  it('scan, latest and stale partials are per project; another project\'s backup is found by its id', async () => {
    const root = tmp();
    put(root, '20261130T100000Z', 'mine');
    put(root, '20261130T110000Z', 'theirs');
    const gone = await deadPid();
    mkdirSync(join(root, '20261130T120000Z.partial'));
    writeFileSync(join(root, '20261130T120000Z.partial', 'lock.json'), JSON.stringify({ pid: gone, host: hostname(), startedAt: new Date().toISOString(), project: 'theirs', stopped: ['api'] }));
    mkdirSync(join(root, '20261130T130000Z.partial'));
    writeFileSync(join(root, '20261130T130000Z.partial', 'lock.json'), JSON.stringify({ pid: gone, host: hostname(), startedAt: new Date().toISOString(), project: 'mine', stopped: ['api'] }));

    const s = await scanBackups(root, 'mine');
    expect(s.backups.map((b) => b.id)).toEqual(['20261130T100000Z']);
    expect(s.others.map((b) => [b.id, b.manifest.project])).toEqual([['20261130T110000Z', 'theirs']]);
    expect(s.partials.map((p) => [p.id, p.stale])).toEqual([['20261130T130000Z', true]]);
    // Without a project: everything (the old behaviour, for callers that want it).
    expect((await scanBackups(root)).backups).toHaveLength(2);

    expect((await findBackup(root, 'latest', 'mine')).id).toBe('20261130T100000Z');
    expect((await findBackup(root, '20261130T110000Z', 'mine')).manifest.project).toBe('theirs');
    const e = await errorOf(findBackup(root, 'latest', 'new'));
    expect(e.message).toBe(`no backup of new in ${root} (2 of other projects: mine, theirs)`);
    expect(e.code).toBe('USAGE');
  });
});

describe('a restore that failed half-way', () => {
  it('says what is partial, what is complete, that the writers stay stopped, and how to recover', () => {
    const cause = new HelfyError('OPERATION_FAILED', 'pg_restore exited with 1: ERROR: out of shared memory');
    const e = partialRestoreError(cause, '20261130T100000Z-e2e', ['PostgreSQL helfy_app'], ['Neo4j system', 'Neo4j neo4j'], ['api', 'worker', 'temporal']);
    expect(e.code).toBe('OPERATION_FAILED');
    expect(e.message).toBe('restore of 20261130T100000Z-e2e failed: pg_restore exited with 1: ERROR: out of shared memory');
    expect(e.details).toEqual(['PostgreSQL helfy_app was dropped and is only partly restored (restored completely: Neo4j system, Neo4j neo4j); api, worker, temporal were left stopped']);
    expect(e.hint).toBe('Run `helfy restore 20261130T100000Z-e2e --yes` again (or restore another backup); `helfy up` starts the writers on the data as it is now.');
    const i = partialRestoreError(new HelfyError('INTERRUPTED', 'interrupted'), 'x', ['Neo4j neo4j', 'PostgreSQL helfy_temporal'], [], []);
    expect(i.code).toBe('INTERRUPTED');
    expect(i.message).toBe('restore of x interrupted: interrupted');
    expect(i.details).toEqual(['Neo4j neo4j, PostgreSQL helfy_temporal were dropped and are only partly restored']);
  });
});

describe('runStoreTasks', () => {
  const ctx = { signal: new AbortController().signal, tasks: createTaskRunner({ json: true, quiet: true, color: false }, false, true) } as unknown as Context;
  const run = async (cancelSiblings: boolean) => {
    let siblingSawAbort: boolean | undefined;
    let siblingFinished = false;
    const err = await errorOf(runStoreTasks(ctx, [
      { title: 'fails', run: async () => { throw new HelfyError('OPERATION_FAILED', 'pg_restore failed'); } },
      {
        title: 'sibling',
        run: async (signal) => {
          await new Promise((r) => setTimeout(r, 300));
          siblingSawAbort = signal.aborted;
          if (signal.aborted) throw new HelfyError('INTERRUPTED', 'interrupted');
          siblingFinished = true;
        },
      },
    ], { cancelSiblings }));
    return { err, siblingSawAbort, siblingFinished };
  };

  it('restore (no sibling cancel): the other store runs to its end; the failure is the one thrown', async () => {
    const r = await run(false);
    expect(r).toMatchObject({ siblingSawAbort: false, siblingFinished: true });
    expect(r.err.message).toBe('pg_restore failed');
  });

  it('backup (sibling cancel): the other store is cancelled; the real failure wins over its interruption', async () => {
    const r = await run(true);
    expect(r).toMatchObject({ siblingSawAbort: true, siblingFinished: false });
    expect(r.err.message).toBe('pg_restore failed');
  });
});

describe('orphaned `docker run` clients of a backup killed with -9 (killOneOffClients)', () => {
  // Stand-ins for the docker CLI (no container is created): node processes whose argv carries the
  // labels helfy's one-off `docker run` gets, which is all killOneOffClients looks at.
  const client = (project: string, tag: string) =>
    execa('node', ['-e', 'setInterval(() => {}, 1000)', 'run', '--rm', '-i', '--label', `dev.helfy.backup=${tag}`, '--label', `com.docker.compose.project-backup=${project}`, 'img', 'neo4j-admin'], { reject: false });

  it('kills this user\'s clients of this project and that tag only', async () => {
    const mine = client('projx', 'bk-1');
    const otherTag = client('projx', 'bk-2');
    const otherProject = client('projy', 'bk-1');
    const all = [mine, otherTag, otherProject];
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect(await killOneOffClients('projx', 'bk-1')).toEqual([mine.pid]);
      expect((await mine).signal).toBe('SIGKILL');
      expect(otherTag.exitCode).toBeNull();
      expect(otherProject.exitCode).toBeNull();
      expect(await killOneOffClients('projx', 'bk-2')).toEqual([otherTag.pid]);
      expect((await otherTag).signal).toBe('SIGKILL');
      expect(otherProject.exitCode).toBeNull();
      expect(await killOneOffClients('projz', 'bk-1')).toEqual([]);
      // Another user's process with the same labels is left alone (here: nobody, via setpriv).
      const foreign = execa('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', '-e', 'setInterval(() => {}, 1000)', 'run', '--label', 'dev.helfy.backup=bk-3', '--label', 'com.docker.compose.project-backup=projx'], { reject: false });
      all.push(foreign);
      // Until setpriv has exec'd node (its own argv carries the labels too, as root).
      await expect.poll(() => cmdline(foreign.pid!)[0], { timeout: 10_000 }).toBe('node');
      expect(cmdline(foreign.pid!)).toContain('dev.helfy.backup=bk-3');
      expect(procUid(foreign.pid!)).toBe(65534);
      expect(await killOneOffClients('projx', 'bk-3')).toEqual([]);
      expect(foreign.exitCode).toBeNull();
    } finally {
      for (const c of all) c.kill('SIGKILL');
    }
  });
});


describe('the manifest\'s own checksum (manifest.json.sha256)', () => {
  const manifest = (id: string, format: number): Manifest => ({
    format, id, project: 'p', helfyVersion: '0', createdAt: '2026-11-30T10:00:00.000Z', durationMs: 0, stores: ['postgres', 'neo4j'], consistent: true,
    writersStopped: [], writersDowntimeMs: 0, services: {}, files: [{ name: 'globals.sql', store: 'postgres', kind: 'globals', bytes: 10, sha256: 'a'.repeat(64), durationMs: 1 }],
    figures: { postgres: { rows: { 'public.users': 12 } } } as never, warnings: [],
  });
  /** A complete backup as `helfy backup` leaves it: written by the same completePartial. */
  const complete = async (root: string, id: string): Promise<string> => {
    const partial = join(root, `${id}.partial`);
    mkdirSync(partial, { recursive: true });
    return completePartial(partial, root, manifest(id, MANIFEST_FORMAT));
  };

  it('is written beside the manifest in sha256sum format, and sha256sum -c (coreutils) accepts it', async () => {
    const root = tmp();
    const dir = await complete(root, '20261130T100000Z');
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', 'manifest.json.sha256']);
    const r = await execa('sha256sum', ['-c', 'manifest.json.sha256'], { cwd: dir, reject: false });
    expect([r.exitCode, r.stdout]).toEqual([0, 'manifest.json: OK']);
    expect((await findBackup(root, '20261130T100000Z', 'p')).manifest.figures).toEqual({ postgres: { rows: { 'public.users': 12 } } });
  });

  it('one digit changed in the figures: the backup is damaged, named so by list (scan) and refused by id before anything reads it', async () => {
    const root = tmp();
    const dir = await complete(root, '20261130T100000Z');
    const file = join(dir, 'manifest.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"public.users": 12', '"public.users": 13'));
    expect((await execa('sha256sum', ['-c', 'manifest.json.sha256'], { cwd: dir, reject: false })).exitCode).toBe(1);
    const scan = await scanBackups(root, 'p');
    expect(scan.backups).toEqual([]);
    expect(scan.damaged).toEqual([{ id: '20261130T100000Z', reason: expect.stringMatching(/^manifest\.json was changed or damaged: its sha256 is [0-9a-f]{64}, manifest\.json\.sha256 says [0-9a-f]{64}$/) }]);
    const e = await errorOf(findBackup(root, '20261130T100000Z', 'p'));
    expect([e.code, e.exitCode]).toEqual(['BACKUP_DAMAGED', 1]);
    expect(e.message).toMatch(/^backup 20261130T100000Z is damaged: manifest\.json was changed or damaged/);
    expect(e.hint).toMatch(/Nothing was changed/);
  });

  it('a flipped byte in the checksum file, a missing one (format 2) or invalid JSON: damaged, each with its own reason; a format-1 manifest without one is still read', async () => {
    const root = tmp();
    const a = await complete(root, '20261130T100000Z');
    const sumA = join(a, 'manifest.json.sha256');
    const line = readFileSync(sumA, 'utf8');
    writeFileSync(sumA, `${line[0] === 'f' ? '0' : 'f'}${line.slice(1)}`);
    const b = await complete(root, '20261130T110000Z');
    rmSync(join(b, 'manifest.json.sha256'));
    const c = await complete(root, '20261130T120000Z');
    writeFileSync(join(c, 'manifest.json'), '{"format": 2, "id": ');
    mkdirSync(join(root, '20261130T130000Z'));
    writeFileSync(join(root, '20261130T130000Z', 'manifest.json'), JSON.stringify(manifest('20261130T130000Z', 1)));
    const scan = await scanBackups(root, 'p');
    expect(scan.backups.map((x) => x.id)).toEqual(['20261130T130000Z']);
    expect(Object.fromEntries(scan.damaged.map((d) => [d.id, d.reason.replace(/[0-9a-f]{64}/g, '<sha>')]))).toEqual({
      '20261130T100000Z': 'manifest.json was changed or damaged: its sha256 is <sha>, manifest.json.sha256 says <sha>',
      '20261130T110000Z': 'manifest.json.sha256 is missing (the manifest cannot be trusted)',
      '20261130T120000Z': expect.stringMatching(/^20261130T120000Z: manifest\.json is not valid JSON/),
    });
    const e = await errorOf(findBackup(root, '20261130T120000Z', 'p'));
    expect(e.code).toBe('BACKUP_DAMAGED');
    expect(e.message).toMatch(/^backup 20261130T120000Z is damaged: 20261130T120000Z: manifest\.json is not valid JSON/);
  });
});
