// The native service definitions (src/runtime/native/services.ts) against the real servers the
// test suite installs (infra/services/*/install.sh): each ProcessSpec is spawned directly (no
// supervisor: that is supervisor.test.ts) and must really start and turn healthy. The installs are
// injected as NativeContext.locate (locate.ts is tested on its own).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import neo4j from 'neo4j-driver';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig, type HelfyConfig } from '../../src/config/load.js';
import { SETTINGS, type Setting } from '../../src/config/settings.js';
import { HelfyError } from '../../src/core/errors.js';
import { bootstrapPostgres } from '../../src/db/postgres/bootstrap.js';
import { ensureNamespace } from '../../src/db/temporal/namespace.js';
import {
  appBuildMissing,
  BUILD_STAMP,
  ensureAppBuilt,
  nativeService,
  TEMPORAL_INTERNAL_PORTS,
  type NativeContext,
  type NativeService,
} from '../../src/runtime/native/services.js';
import type { Neo4jInstall, PostgresInstall, ProcessSpec, TemporalInstall } from '../../src/runtime/native/types.js';
import { composeEnv } from '../../src/stack/env.js';
import { recordingLogger, type RecordingLogger } from '../db/postgres/fixtures.js';
import { freePorts, isPortOpen, REPO_ROOT, runInstall } from '../support/services/index.js';
import { spawnServer, type SpawnedServer } from '../support/services/util.js';

const MIN = 60_000;
const JAVA = '/usr/lib/jvm/java-17-openjdk-amd64/bin/java';

interface Workspace {
  root: string;
  cfg: HelfyConfig;
  nctx: NativeContext;
  log: RecordingLogger;
  progress: string[];
  secrets: string[];
}

let pgInstall: PostgresInstall;
let neo4jInstall: Neo4jInstall;
let temporalInstall: TemporalInstall;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  // Debian's own server (no TimescaleDB): these are the services' definitions and processes with
  // an injected install; the cached copy with TimescaleDB runs in the native stack tests.
  const [pgBin, neo4jDir, temporalDir] = await Promise.all([runInstall('postgres', { PG_PLAIN: '1' }), runInstall('neo4j'), runInstall('temporal')]);
  const version = /(\d+\.\d+)/.exec(execFileSync(join(pgBin, 'postgres'), ['--version'], { encoding: 'utf8' }))![1]!;
  pgInstall = { binDir: pgBin, version, major: Number(version.split('.')[0]), source: 'debian', timescale: false };
  neo4jInstall = { home: neo4jDir, libDir: join(neo4jDir, 'lib'), version: '5.26.30', source: 'cache', java: { bin: JAVA, major: 17 } };
  temporalInstall = {
    server: join(temporalDir, 'bin', 'temporal-server'),
    sqlTool: join(temporalDir, 'bin', 'temporal-sql-tool'),
    schemaDir: join(temporalDir, 'schema'),
    version: '1.32.1',
    source: 'cache',
  };
}, 10 * MIN);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A workspace as `helfy init` leaves it (config, .env with secrets, free ports), loaded for real. */
async function workspace(over: { timescale?: 'required' | 'optional'; pg?: Partial<PostgresInstall> } = {}): Promise<Workspace> {
  const root = mkdtempSync(join(tmpdir(), 'helfy-native-svc-'));
  // As root, PostgreSQL runs as `postgres`, which must get through to .helfy/data/postgres.
  chmodSync(root, 0o755);
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const ports = await freePorts(7);
  const secrets: string[] = [];
  const env: string[] = [`HELFY_PROJECT_NAME=native-svc-${randomBytes(3).toString('hex')}`, `HELFY_TIMESCALE=${over.timescale ?? 'optional'}`];
  for (const s of SETTINGS as readonly Setting[]) {
    if (!s.secret) continue;
    const v = `${s.env.toLowerCase().replace(/_/g, '')}${randomBytes(12).toString('hex')}`;
    secrets.push(v);
    env.push(`${s.env}=${v}`);
  }
  const keys = ['HELFY_POSTGRES_PORT', 'HELFY_NEO4J_HTTP_PORT', 'HELFY_NEO4J_BOLT_PORT', 'HELFY_TEMPORAL_PORT', 'HELFY_TEMPORAL_UI_PORT', 'HELFY_API_PORT', 'HELFY_WEB_PORT'];
  keys.forEach((k, i) => env.push(`${k}=${ports[i]}`));
  writeFileSync(join(root, 'helfy.config.json'), '{}\n');
  writeFileSync(join(root, '.env'), `${env.join('\n')}\n`);
  const cfg = loadConfig({ cwd: root, env: {} });
  const log = recordingLogger();
  const progress: string[] = [];
  const dirs = { data: join(root, '.helfy', 'data'), logs: join(root, '.helfy', 'logs'), run: join(root, '.helfy', 'run') };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const pgi = { ...pgInstall, ...over.pg };
  const nctx: NativeContext = {
    cfg,
    vars: composeEnv(cfg).vars,
    dirs,
    log,
    onProgress: (l) => progress.push(l),
    locate: { postgres: async () => pgi, neo4j: async () => neo4jInstall, temporal: async () => temporalInstall },
  };
  return { root, cfg, nctx, log, progress, secrets };
}

/** Runs a spec as the supervisor would (command, args, env, cwd, user), output to its log file. */
function launch(ws: Workspace, spec: ProcessSpec): SpawnedServer {
  const logFile = join(ws.nctx.dirs.logs, `${spec.name}.log`);
  const s = spawnServer({ cmd: spec.command, args: spec.args, env: spec.env, cwd: spec.cwd, user: spec.user, logFile });
  cleanups.push(() => s.stop(spec.stopSignal ?? 'SIGTERM', 5000));
  return s;
}

const logOf = (ws: Workspace, name: string) => {
  try {
    return readFileSync(join(ws.nctx.dirs.logs, `${name}.log`), 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    return '';
  }
};

async function waitHealthy(ws: Workspace, svc: NativeService, proc: SpawnedServer, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!proc.isRunning()) throw new Error(`${svc.spec.name} exited: ${JSON.stringify(await proc.exited)}\n${logOf(ws, svc.spec.name)}`);
    const h = await svc.health(2000);
    if (h.ok) return h.detail;
    last = h.detail;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${svc.spec.name} not healthy after ${timeoutMs} ms: ${last}\n${logOf(ws, svc.spec.name)}`);
}

async function thrown(p: Promise<unknown>): Promise<HelfyError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof HelfyError) return e;
    throw e;
  }
  throw new Error('expected a HelfyError');
}

function listTree(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(`${p}:${e.isDirectory() ? 'dir' : statSync(p).size}`);
    if (e.isDirectory()) out.push(...listTree(p));
  }
  return out.sort();
}

/** Everything a workspace's logger and progress saw, for the "never logged" checks. */
const everythingSaid = (ws: Workspace) => [...ws.log.lines.map((l) => l.msg), ...ws.progress].join('\n');

describe('postgres, temporal-schema and temporal', () => {
  let ws: Workspace;
  let pgProc: SpawnedServer;
  let temporalProc: SpawnedServer;

  beforeAll(async () => {
    ws = await workspace();
  });

  test('postgres: initdb on the first start, scram over TCP with .env\'s password, the bind address only, no socket', async () => {
    const svc = await nativeService('postgres', ws.nctx);
    const pgdata = join(ws.nctx.dirs.data, 'postgres', 'pgdata');
    // nativeService only reads: no data folder yet.
    expect(existsSync(pgdata)).toBe(false);
    expect(svc.ports).toEqual([ws.cfg.ports.postgres]);
    expect(svc.spec).toMatchObject({ name: 'postgres', kind: 'daemon', command: join(pgInstall.binDir, 'postgres'), stopSignal: 'SIGINT' });
    expect(svc.spec.args).toEqual(expect.arrayContaining(['-D', pgdata, '-p', String(ws.cfg.ports.postgres), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'password_encryption=scram-sha-256']));
    expect(svc.spec.args.join(' ')).not.toContain('timescaledb');
    if (process.getuid?.() === 0) expect(svc.spec.user).toBe('postgres');
    // TimescaleDB is optional here: one warning, naming the package.
    expect(ws.log.of('warn').join('\n')).toContain(`timescaledb-2-postgresql-${pgInstall.major}`);

    // As root (PostgreSQL then runs as `postgres`), helfy's own closed folders are opened (o+x).
    chmodSync(join(ws.root, '.helfy'), 0o700);
    // Leftovers of an initdb killed half-way (a pid that is gone) are removed first.
    mkdirSync(join(ws.nctx.dirs.data, 'postgres', 'pgdata.init-999999999', 'base'), { recursive: true });
    writeFileSync(join(ws.nctx.dirs.data, 'postgres', '.pwfile-999999999'), 'old secret\n');
    await svc.prepare();
    if (process.getuid?.() === 0) expect(statSync(join(ws.root, '.helfy')).mode & 0o777).toBe(0o701);
    expect(readFileSync(join(pgdata, 'PG_VERSION'), 'utf8').trim()).toBe(String(pgInstall.major));
    expect(readFileSync(join(pgdata, 'pg_hba.conf'), 'utf8')).toMatch(/^host\s+all all 0\.0\.0\.0\/0 scram-sha-256$/m);
    // The password file given to initdb is gone.
    expect(readdirSync(join(ws.nctx.dirs.data, 'postgres')).filter((n) => n !== 'pgdata')).toEqual([]);
    expect(ws.progress.filter((l) => l.includes('initdb'))).toHaveLength(1);

    pgProc = launch(ws, svc.spec);
    expect(await waitHealthy(ws, svc, pgProc, MIN)).toMatch(/^PostgreSQL 15\./);

    const c = new pg.Client({ host: '127.0.0.1', port: ws.cfg.ports.postgres, user: ws.cfg.postgres.superuser, password: ws.cfg.postgres.superuserPassword, database: 'postgres' });
    await c.connect();
    try {
      const r = await c.query<{ enc: string; listen: string; sock: string; scram: boolean }>(
        `SELECT current_setting('password_encryption') AS enc, current_setting('listen_addresses') AS listen,
                current_setting('unix_socket_directories') AS sock,
                (SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = current_user) AS scram`,
      );
      expect(r.rows[0]).toEqual({ enc: 'scram-sha-256', listen: '127.0.0.1', sock: '', scram: true });
      await c.query('CREATE TABLE kept_across_restarts (n int); INSERT INTO kept_across_restarts VALUES (42)');
    } finally {
      await c.end();
    }
    const bad = new pg.Client({ host: '127.0.0.1', port: ws.cfg.ports.postgres, user: ws.cfg.postgres.superuser, password: 'not-the-password', database: 'postgres' });
    await expect(bad.connect()).rejects.toThrow(/password authentication failed/);
    await bad.end().catch(() => {});
    // Another loopback address of this machine: nothing listens there.
    expect(await isPortOpen(ws.cfg.ports.postgres, '127.0.0.2')).toBe(false);
    expect(await isPortOpen(ws.cfg.ports.postgres, '127.0.0.1')).toBe(true);
    // Never a secret in what was said or in the labels.
    for (const s of ws.secrets) {
      expect(everythingSaid(ws)).not.toContain(s);
      expect(JSON.stringify(svc.spec.labels) + svc.spec.args.join(' ')).not.toContain(s);
    }
  }, 3 * MIN);

  test('postgres: a second start reuses the data folder (no initdb, the table is still there)', async () => {
    await pgProc.stop('SIGINT', 20_000);
    expect(await isPortOpen(ws.cfg.ports.postgres)).toBe(false);
    const svc = await nativeService('postgres', ws.nctx);
    await svc.prepare();
    expect(ws.progress.filter((l) => l.includes('initdb'))).toHaveLength(1);
    pgProc = launch(ws, svc.spec);
    await waitHealthy(ws, svc, pgProc, MIN);
    const c = new pg.Client({ host: '127.0.0.1', port: ws.cfg.ports.postgres, user: ws.cfg.postgres.superuser, password: ws.cfg.postgres.superuserPassword, database: 'postgres' });
    await c.connect();
    try {
      expect((await c.query('SELECT n FROM kept_across_restarts')).rows).toEqual([{ n: 42 }]);
    } finally {
      await c.end();
    }
  }, 2 * MIN);

  test('temporal-schema: the Docker job\'s script exits 0 on a PostgreSQL bootstrapped by helfy; both databases get their schema', async () => {
    await bootstrapPostgres(ws.cfg, recordingLogger());
    const svc = await nativeService('temporal-schema', ws.nctx);
    expect(svc.spec).toMatchObject({ kind: 'job', command: '/bin/sh' });
    expect(svc.spec.env).toMatchObject({
      SQL_HOST: '127.0.0.1',
      SQL_PORT: String(ws.cfg.ports.postgres),
      SQL_USER: 'helfy_temporal',
      SQL_PASSWORD: ws.cfg.postgres.temporalPassword,
      DBNAME: 'helfy_temporal',
      VISIBILITY_DBNAME: 'helfy_temporal_visibility',
      TEMPORAL_SCHEMA_DIR: temporalInstall.schemaDir,
    });
    expect(svc.spec.args[1]).toContain('temporal-sql-tool --db "$db" setup-schema -v 0.0');
    expect(svc.spec.args[1]).not.toContain('$$');
    await svc.prepare();
    const job = launch(ws, svc.spec);
    const exit = await job.exited;
    expect(exit, logOf(ws, 'temporal-schema')).toMatchObject({ code: 0 });
    expect(logOf(ws, 'temporal-schema')).toContain('temporal-schema: done');
    for (const db of ['helfy_temporal', 'helfy_temporal_visibility']) {
      const c = new pg.Client({ host: '127.0.0.1', port: ws.cfg.ports.postgres, user: 'helfy_temporal', password: ws.cfg.postgres.temporalPassword, database: db });
      await c.connect();
      try {
        const v = await c.query<{ curr_version: string }>('SELECT curr_version FROM schema_version');
        expect(v.rows[0]!.curr_version).toMatch(/^1\.\d+$/);
      } finally {
        await c.end();
      }
    }
    // Idempotent: a second run (every `up` runs it) exits 0 too.
    const again = launch(ws, svc.spec);
    expect(await again.exited).toMatchObject({ code: 0 });
  }, 4 * MIN);

  test('temporal: serving on the bind address and its port; internal ports picked in 20000-32767 and kept', async () => {
    const svc = await nativeService('temporal', ws.nctx);
    expect(svc.ports).toEqual([ws.cfg.ports.temporal]);
    await svc.prepare();
    const portsFile = join(ws.nctx.dirs.data, 'temporal', 'ports.json');
    const kept = JSON.parse(readFileSync(portsFile, 'utf8')) as Record<string, number>;
    expect(Object.keys(kept).sort()).toEqual([...TEMPORAL_INTERNAL_PORTS].sort());
    for (const p of Object.values(kept)) {
      expect(p).toBeGreaterThanOrEqual(20000);
      expect(p).toBeLessThanOrEqual(32767);
    }
    expect(new Set(Object.values(kept)).size).toBe(8);
    expect(svc.ports).toEqual([ws.cfg.ports.temporal, ...TEMPORAL_INTERNAL_PORTS.map((k) => kept[k])]);
    const yaml = readFileSync(join(ws.nctx.dirs.data, 'temporal', 'config', 'helfy.yaml'), 'utf8');
    expect(yaml).toContain(`grpcPort: ${ws.cfg.ports.temporal}`);
    expect(yaml).toContain(`connectAddr: "127.0.0.1:${ws.cfg.ports.postgres}"`);
    expect(yaml).toContain('bindOnIP: "127.0.0.1"');
    expect(statSync(join(ws.nctx.dirs.data, 'temporal', 'config')).mode & 0o077).toBe(0);
    // The dynamic config is the file the container mounts.
    expect(readFileSync(join(ws.root, '.helfy', 'temporal', 'dynamicconfig', 'helfy.yaml'), 'utf8')).toBe(readFileSync(join(REPO_ROOT, 'compose', 'temporal', 'dynamicconfig', 'helfy.yaml'), 'utf8'));

    const proc = launch(ws, svc.spec);
    expect(await waitHealthy(ws, svc, proc, 2 * MIN)).toMatch(/SERVING|1\.32/);
    // The next nativeService reads the kept ports (no re-pick while it runs).
    const again = await nativeService('temporal', ws.nctx);
    expect(again.ports).toEqual(svc.ports);
    expect(again.spec.labels['dev.helfy.config-hash']).toBe(svc.spec.labels['dev.helfy.config-hash']);
    await proc.stop('SIGTERM', 20_000);
    // A taken internal port is re-picked at the next start, the others kept.
    const blocker = spawnServer({ cmd: process.execPath, args: ['-e', `require('net').createServer().listen(${kept.historyGrpc}, '127.0.0.1'); setInterval(() => {}, 1000)`], logFile: join(ws.root, 'blocker.log') });
    cleanups.push(() => blocker.stop('SIGKILL', 1000));
    for (let i = 0; i < 50 && !(await isPortOpen(kept.historyGrpc!)); i++) await new Promise((r) => setTimeout(r, 100));
    const third = await nativeService('temporal', ws.nctx);
    await third.prepare();
    const now = JSON.parse(readFileSync(portsFile, 'utf8')) as Record<string, number>;
    expect(now.historyGrpc).not.toBe(kept.historyGrpc);
    expect({ ...now, historyGrpc: 0 }).toEqual({ ...kept, historyGrpc: 0 });
    expect(third.ports).toContain(now.historyGrpc);
    // ... and the server starts on them (it stays up for the worker below).
    temporalProc = launch(ws, third.spec);
    await waitHealthy(ws, third, temporalProc, 2 * MIN);
    await blocker.stop('SIGKILL', 1000);
  }, 5 * MIN);

  test('api / worker / web: the Docker env with the host\'s addresses, production mode, secrets only where they belong', async () => {
    const { cfg } = ws;
    const api = await nativeService('api', ws.nctx);
    const worker = await nativeService('worker', ws.nctx);
    const web = await nativeService('web', ws.nctx);
    // A workspace without apps/ runs its own build of the templates, in .helfy/apps (never in helfy's templates/).
    const apiDir = join(ws.root, '.helfy', 'apps', 'api');
    expect(api.spec).toMatchObject({ command: process.execPath, args: ['dist/server.js'], cwd: apiDir });
    expect(worker.spec).toMatchObject({ command: process.execPath, args: ['dist/worker.js'], cwd: apiDir });
    expect(web.spec).toMatchObject({ command: process.execPath, args: ['dist/server/index.mjs'], cwd: join(ws.root, '.helfy', 'apps', 'web') });
    const dbUrl = new URL(api.spec.env.DATABASE_URL!);
    expect([dbUrl.protocol, dbUrl.username, decodeURIComponent(dbUrl.password), dbUrl.hostname, dbUrl.port, dbUrl.pathname]).toEqual(['postgres:', 'helfy_api', cfg.postgres.appPassword, '127.0.0.1', String(cfg.ports.postgres), '/helfy_app']);
    expect(api.spec.env).toMatchObject({
      PORT: String(cfg.ports.api),
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      HELFY_SERVICE: 'api',
      TEMPORAL_ADDRESS: `127.0.0.1:${cfg.ports.temporal}`,
      NEO4J_URL: `bolt://127.0.0.1:${cfg.ports.neo4jBolt}`,
      NEO4J_PASSWORD: cfg.neo4j.password,
      JWT_SECRET: cfg.api.jwtSecret,
      WEB_ORIGIN: `http://127.0.0.1:${cfg.ports.web}`,
      TRUST_PROXY: '127.0.0.1',
    });
    // Every local program connects from 127.0.0.1: the API wants the web server's PROXY_SECRET
    // (sent as X-Proxy-Secret) before it believes an X-Forwarded-For; only api and web have it.
    expect(api.spec.env.PROXY_SECRET).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(web.spec.env.PROXY_SECRET).toBe(api.spec.env.PROXY_SECRET);
    expect(worker.spec.env.PROXY_SECRET).toBeUndefined();
    expect(api.spec.env.PATH).toBeTruthy();
    // nativeService only reads; prepare() keeps the worker's port.
    const portFile = join(ws.nctx.dirs.data, 'worker', 'port');
    expect(existsSync(portFile)).toBe(false);
    const picked = worker.spec.env.HEALTH_PORT;
    // prepare() refuses an app that is not built; this workspace (no apps/) builds its own mirror of the template.
    await ensureAppBuilt(cfg, 'api', () => undefined);
    await worker.prepare();
    const workerPort = Number(readFileSync(portFile, 'utf8'));
    expect(String(workerPort)).toBe(picked);
    expect(worker.spec.env).toMatchObject({ HELFY_SERVICE: 'worker', HEALTH_PORT: String(workerPort), NODE_ENV: 'production', DATABASE_URL: api.spec.env.DATABASE_URL });
    expect(worker.ports).toEqual([workerPort]);
    expect(worker.spec.env.NEO4J_PASSWORD).toBeUndefined();
    expect(worker.spec.env.JWT_SECRET).toBeUndefined();
    expect(web.spec.env).toMatchObject({ PORT: String(cfg.ports.web), HOST: '127.0.0.1', API_URL: `http://127.0.0.1:${cfg.ports.api}`, NODE_ENV: 'production' });
    expect(web.spec.env.VITE_CONFIG).toBeUndefined();
    for (const v of Object.values(web.spec.env)) for (const s of ws.secrets) expect(v).not.toContain(s);
    // Helfy's own settings are not inherited.
    expect(Object.keys(api.spec.env).filter((k) => k.startsWith('HELFY_') && k !== 'HELFY_SERVICE')).toEqual([]);
    // The worker's port is kept across calls.
    expect((await nativeService('worker', ws.nctx)).ports).toEqual([workerPort]);
    for (const s of ws.secrets) {
      expect(everythingSaid(ws)).not.toContain(s);
      for (const svc of [api, worker, web]) expect(JSON.stringify(svc.spec.labels) + svc.spec.args.join(' ')).not.toContain(s);
    }

    // The web server (the template's build) really starts with that env and answers /health.
    await ensureAppBuilt(cfg, 'web', () => undefined);
    const proc = launch(ws, web.spec);
    expect(await waitHealthy(ws, web, proc, MIN)).toMatch(/^web 0\.\d+\.\d+: ok$/);
    await proc.stop('SIGTERM', 5000);
  }, 3 * MIN);

  test('ensureAppBuilt on the API with node_modules already there (no stamp): no npm ci, one real build, then nothing; its worker starts and reports healthy', async () => {
    const root = ws.root;
    const tpl = join(REPO_ROOT, 'templates', 'api');
    const dir = join(root, 'apps', 'api');
    cpSync(tpl, dir, { recursive: true, filter: (src) => !/\/(node_modules|dist)(\/|$)/.test(src.slice(tpl.length)) });
    // node_modules as hard links (fast, and the template's own files are never written).
    await execa('cp', ['-al', join(tpl, 'node_modules'), join(dir, 'node_modules')]);
    rmSync(join(dir, 'node_modules', '.helfy-install'), { force: true });
    const lines: string[] = [];
    expect(appBuildMissing({ root }, 'api')).toBe(true);
    expect(await ensureAppBuilt({ root }, 'api', (l) => lines.push(l))).toEqual({ built: true, dir });
    expect(lines.filter((l) => l.startsWith('api: npm'))).toEqual(['api: npm run build']);
    for (const f of ['dist/server.js', 'dist/worker.js', 'dist/workflow-bundle.js']) expect(existsSync(join(dir, f))).toBe(true);
    const builtAt = statSync(join(dir, 'dist', 'server.js')).mtimeMs;
    const again: string[] = [];
    expect(await ensureAppBuilt({ root }, 'api', (l) => again.push(l))).toEqual({ built: false, dir });
    expect(again).toEqual([]);
    expect(statSync(join(dir, 'dist', 'server.js')).mtimeMs).toBe(builtAt);

    // The worker from that build, on the native PostgreSQL and Temporal above.
    await ensureNamespace({ address: `127.0.0.1:${ws.cfg.ports.temporal}`, namespace: ws.cfg.temporal.namespace, retentionHours: 24 });
    const worker = await nativeService('worker', ws.nctx);
    expect(worker.spec.cwd).toBe(dir);
    await worker.prepare();
    const proc = launch(ws, worker.spec);
    expect(await waitHealthy(ws, worker, proc, 2 * MIN)).toMatch(/^worker 0\.\d+\.\d+: ok$/);
    // What it logged carries none of the secrets its environment holds.
    await proc.stop('SIGTERM', 15_000);
    for (const sec of ws.secrets) expect(logOf(ws, 'worker')).not.toContain(sec);
  }, 4 * MIN);
});

describe('postgres refusals (nothing touched)', () => {
  test('a data folder of another PostgreSQL major: DATA_INCOMPATIBLE naming both versions', async () => {
    const ws = await workspace();
    const pgdata = join(ws.nctx.dirs.data, 'postgres', 'pgdata');
    mkdirSync(join(pgdata, 'base'), { recursive: true });
    writeFileSync(join(pgdata, 'PG_VERSION'), '14\n');
    writeFileSync(join(pgdata, 'postgresql.conf'), '# theirs\n');
    const before = listTree(ws.nctx.dirs.data);
    const e = await thrown(nativeService('postgres', ws.nctx));
    expect(e.code).toBe('DATA_INCOMPATIBLE');
    expect(e.exitCode).toBe(3);
    expect(e.message).toBe(`data folder .helfy/data/postgres/pgdata was written by PostgreSQL 14, the server found is ${pgInstall.major} (${pgInstall.version}, ${pgInstall.binDir})`);
    expect(listTree(ws.nctx.dirs.data)).toEqual(before);
    expect(readFileSync(join(pgdata, 'postgresql.conf'), 'utf8')).toBe('# theirs\n');
  });

  test('as root, a workspace the postgres user cannot get through: refused naming the folder, nothing created', async () => {
    const ws = await workspace();
    const svc = await nativeService('postgres', ws.nctx);
    if (process.getuid?.() !== 0) {
      // Not root: PostgreSQL runs as this user, nothing to get through.
      expect(svc.spec.user).toBeUndefined();
      return;
    }
    chmodSync(ws.root, 0o700);
    const e = await thrown(svc.prepare());
    expect(e.code).toBe('FS_ERROR');
    expect(e.exitCode).toBe(3);
    expect(e.message).toContain(`${ws.root} is closed to other users`);
    expect(e.hint).toBe(`Let it through with \`chmod o+x ${ws.root}\` (lists nothing, only lets it pass), or run helfy as a normal user.`);
    expect(existsSync(join(ws.nctx.dirs.data, 'postgres', 'pgdata'))).toBe(false);
    expect(statSync(ws.root).mode & 0o777).toBe(0o700);
  });

  test('TimescaleDB required but the server has none: TIMESCALE_MISSING naming the package to install', async () => {
    const ws = await workspace({ timescale: 'required' });
    const e = await thrown(nativeService('postgres', ws.nctx));
    expect(e.code).toBe('TIMESCALE_MISSING');
    expect(e.message).toBe(`PostgreSQL ${pgInstall.version} (${pgInstall.binDir}) has no TimescaleDB`);
    expect(e.hint).toContain(`timescaledb-2-postgresql-${pgInstall.major}`);
    expect(existsSync(join(ws.nctx.dirs.data, 'postgres'))).toBe(false);
  });

  test('a server with TimescaleDB preloads it', async () => {
    const ws = await workspace({ timescale: 'required', pg: { timescale: true } });
    const svc = await nativeService('postgres', ws.nctx);
    expect(svc.spec.args).toEqual(expect.arrayContaining(['-c', 'shared_preload_libraries=timescaledb']));
    expect(ws.log.of('warn')).toEqual([]);
  });
});

describe('neo4j', () => {
  test('starts from the jars with neo4j.conf and auth.ini; Bolt login with .env\'s password', async () => {
    const ws = await workspace();
    const svc = await nativeService('neo4j', ws.nctx);
    const home = join(ws.nctx.dirs.data, 'neo4j');
    expect(svc.ports).toEqual([ws.cfg.ports.neo4jBolt, ws.cfg.ports.neo4jHttp]);
    expect(svc.spec.command).toBe(JAVA);
    expect(svc.spec.args).toEqual(expect.arrayContaining(['-Xms256m', '-Xmx512m', '-cp', `${neo4jInstall.libDir}/*`, 'org.neo4j.server.CommunityEntryPoint', `--home-dir=${home}`]));
    await svc.prepare();
    const conf = readFileSync(join(home, 'conf', 'neo4j.conf'), 'utf8');
    expect(conf).toContain(`server.bolt.listen_address=127.0.0.1:${ws.cfg.ports.neo4jBolt}`);
    expect(conf).toContain(`server.http.listen_address=127.0.0.1:${ws.cfg.ports.neo4jHttp}`);
    expect(conf).toContain('dbms.security.auth_enabled=true');
    expect(conf).toContain('server.memory.pagecache.size=128m');
    expect(conf).not.toContain(ws.cfg.neo4j.password);
    expect(readFileSync(join(home, 'data', 'dbms', 'auth.ini'), 'utf8')).toMatch(/^neo4j:SHA-256,[0-9a-f]{64},[0-9a-f]{64},1024:\n$/);

    const proc = launch(ws, svc.spec);
    expect(await waitHealthy(ws, svc, proc, 4 * MIN)).toMatch(/^Neo4j Kernel 5\.26\.\d+ community/);
    const boltUrl = `bolt://127.0.0.1:${ws.cfg.ports.neo4jBolt}`;
    const wrong = neo4j.driver(boltUrl, neo4j.auth.basic('neo4j', 'not-the-password'), { logging: { level: 'error', logger: () => {} } });
    await expect(wrong.verifyAuthentication()).resolves.toBe(false);
    await wrong.close();
    expect(await isPortOpen(ws.cfg.ports.neo4jBolt, '127.0.0.2')).toBe(false);
    for (const s of ws.secrets) expect(everythingSaid(ws) + JSON.stringify(svc.spec)).not.toContain(s);
    await proc.stop('SIGTERM', 30_000);
  }, 6 * MIN);
});

describe('ensureAppBuilt', () => {
  test('a workspace app without node_modules: npm ci + build once; the second call does nothing', async () => {
    const root = mkdtempSync(join(tmpdir(), 'helfy-native-build-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const dir = join(root, 'apps', 'web');
    mkdirSync(dir, { recursive: true });
    const counter = join(root, 'builds.txt');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'tiny-web', version: '1.0.0', private: true, scripts: { build: `node build.mjs` } }));
    writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'tiny-web', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'tiny-web', version: '1.0.0' } } }));
    // No .dockerignore: its own dist/ and node_modules still never count as sources.
    writeFileSync(join(dir, 'build.mjs'), `import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(counter)}, 'build\\n');\nmkdirSync('dist/server', { recursive: true });\nwriteFileSync('dist/server/index.mjs', '');\n`);
    const lines: string[] = [];
    expect(appBuildMissing({ root }, 'web')).toBe(true);
    expect(await ensureAppBuilt({ root }, 'web', (l) => lines.push(l))).toEqual({ built: true, dir });
    expect(lines).toContain('web: npm ci (no node_modules)');
    expect(lines).toContain('web: npm run build');
    expect(existsSync(join(dir, 'node_modules', '.helfy-install'))).toBe(true);
    expect(readFileSync(join(dir, BUILD_STAMP), 'utf8').trim()).toMatch(/^[0-9a-f]{12}$/);
    expect(readFileSync(counter, 'utf8')).toBe('build\n');
    expect(appBuildMissing({ root }, 'web')).toBe(false);

    const again: string[] = [];
    expect(await ensureAppBuilt({ root }, 'web', (l) => again.push(l))).toEqual({ built: false, dir });
    expect(again).toEqual([]);
    expect(readFileSync(counter, 'utf8')).toBe('build\n');

    // A changed source is a new build (no npm ci: the lockfile did not change).
    writeFileSync(join(dir, 'page.txt'), 'new page');
    expect(appBuildMissing({ root }, 'web')).toBe(true);
    const third: string[] = [];
    expect((await ensureAppBuilt({ root }, 'web', (l) => third.push(l))).built).toBe(true);
    expect(third.filter((l) => l.startsWith('web: npm'))).toEqual(['web: npm run build']);
    expect(readFileSync(counter, 'utf8')).toBe('build\nbuild\n');
  }, 3 * MIN);

  test('a workspace without apps/ builds its own mirror of the template in .helfy/apps; helfy\'s templates folder is never written', async () => {
    const tpl = join(REPO_ROOT, 'templates', 'api');
    const snapshot = () => readdirSync(tpl, { recursive: true, withFileTypes: true })
      // (other suites' own outputs beside it — .test-dist-*, test-artifacts, coverage — are not the native build's)
      .filter((e) => e.isFile() && !/^(node_modules|\.test-dist-[^/]*|test-artifacts|coverage)(\/|$)/.test(join(e.parentPath, e.name).slice(tpl.length + 1)))
      .map((e) => { const f = join(e.parentPath, e.name); return `${f.slice(tpl.length + 1)} ${statSync(f).mtimeMs}`; }).sort();
    const before = snapshot();
    const nmBefore = statSync(join(tpl, 'node_modules')).mtimeMs;
    const [a, b] = [mkdtempSync(join(tmpdir(), 'helfy-mirror-a-')), mkdtempSync(join(tmpdir(), 'helfy-mirror-b-'))];
    cleanups.push(() => rmSync(a, { recursive: true, force: true }), () => rmSync(b, { recursive: true, force: true }));
    const lines: string[] = [];
    expect(await ensureAppBuilt({ root: a }, 'api', (l) => lines.push(l))).toEqual({ built: true, dir: join(a, '.helfy', 'apps', 'api') });
    expect(lines[0]).toBe(`api: helfy's template into ${join(a, '.helfy', 'apps', 'api')} (a workspace without apps/api builds its own copy)`);
    for (const f of ['dist/server.js', 'dist/worker.js', 'package.json', 'src/server.ts']) expect(existsSync(join(a, '.helfy', 'apps', 'api', f)), f).toBe(true);
    expect(appBuildMissing({ root: a }, 'api')).toBe(false);
    // Another workspace has its own build; the first one's is untouched by it.
    const builtAt = statSync(join(a, '.helfy', 'apps', 'api', 'dist', 'server.js')).mtimeMs;
    expect(appBuildMissing({ root: b }, 'api')).toBe(true);
    expect((await ensureAppBuilt({ root: b }, 'api', () => undefined)).dir).toBe(join(b, '.helfy', 'apps', 'api'));
    expect(statSync(join(a, '.helfy', 'apps', 'api', 'dist', 'server.js')).mtimeMs).toBe(builtAt);
    expect(snapshot()).toEqual(before);
    expect(statSync(join(tpl, 'node_modules')).mtimeMs).toBe(nmBefore);
  }, 4 * MIN);
});
