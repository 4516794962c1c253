/**
 * The API against real servers: PostgreSQL 15 (bootstrapped and migrated by helfy's own code, the
 * API connected as helfy_api), optionally Neo4j 5 (library migrations applied, a small graph
 * written by the test) and Temporal (namespace registered). No mocks.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { bootstrapPostgres } from '../../src/db/postgres/bootstrap.js';
import { pgConnectionFor } from '../../src/db/postgres/connection.js';
import { migratePostgres } from '../../src/db/postgres/migrate.js';
import { migrateNeo4j } from '../../src/db/neo4j/migrate.js';
import { ensureNamespace } from '../../src/db/temporal/namespace.js';
import { createApp, type App } from '../../templates/api/src/app.js';
import { loadConfig, type Config } from '../../templates/api/src/config.js';
import { closeDeps, createDeps, type Deps } from '../../templates/api/src/deps.js';
import { memoryLogger } from '../../templates/api/src/log.js';
import { makeConfig, recordingLogger } from '../db/postgres/fixtures.js';
import { startNeo4j, startPostgres, startTemporal, type Neo4jServer, type PostgresServer, type TemporalServer } from '../support/services/index.js';

export const REPO = resolve(import.meta.dirname, '../..');
export const PG_MIGRATIONS = resolve(REPO, 'migrations/postgres');
export const NEO4J_MIGRATIONS = resolve(REPO, 'migrations/neo4j');

export interface Stack {
  pgServer: PostgresServer;
  neo4jServer?: Neo4jServer;
  temporalServer?: TemporalServer;
  /** postgres:// URL of helfy_api on helfy_app (what the API uses). */
  apiUrl: string;
  /** Owner connection (for test set-up and checks). */
  owner: pg.ClientConfig;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startStack(o: { neo4j?: boolean; temporal?: boolean } = {}): Promise<Stack> {
  const pgServer = await startPostgres();
  // Real TimescaleDB: bootstrap creates the extension, the migrations make the hypertables.
  const cfg = makeConfig(pgServer, { timescale: 'required' });
  await bootstrapPostgres(cfg, recordingLogger());
  const owner = pgConnectionFor(cfg, 'owner');
  await migratePostgres({ connection: owner, dir: PG_MIGRATIONS, log: recordingLogger(), timescale: 'required' });
  const apiUrl = `postgres://helfy_api:${encodeURIComponent(cfg.postgres.appPassword)}@${pgServer.host}:${pgServer.port}/helfy_app`;

  const [neo4jServer, temporalServer] = await Promise.all([
    o.neo4j ? startNeo4j() : undefined,
    o.temporal ? startTemporal({ postgres: pgServer }) : undefined,
  ]);
  if (neo4jServer) {
    await migrateNeo4j({ connection: { url: neo4jServer.boltUrl, user: neo4jServer.user, password: neo4jServer.password }, dir: NEO4J_MIGRATIONS });
  }
  if (temporalServer) {
    await ensureNamespace({ address: temporalServer.address, namespace: 'helfy', retentionHours: 24 });
  }
  const env: Record<string, string> = {
    DATABASE_URL: apiUrl,
    NEO4J_URL: neo4jServer?.boltUrl ?? 'bolt://127.0.0.1:1',
    NEO4J_USER: 'neo4j',
    NEO4J_PASSWORD: neo4jServer?.password ?? 'unused-password',
    TEMPORAL_ADDRESS: temporalServer?.address ?? '127.0.0.1:1',
    TEMPORAL_NAMESPACE: 'helfy',
    TEMPORAL_TASK_QUEUE: `helfy-test-${process.pid}`,
    JWT_SECRET: 'test-jwt-secret-0123456789abcdef',
    WEB_ORIGIN: 'http://127.0.0.1:3001',
    LOG_LEVEL: 'debug',
    DEPENDENCY_TIMEOUT_MS: '2000',
  };
  return {
    pgServer,
    neo4jServer,
    temporalServer,
    apiUrl,
    owner,
    env,
    async stop() {
      await Promise.allSettled([neo4jServer?.stop(), temporalServer?.stop()]);
      await pgServer.stop();
    },
  };
}

export interface TestApp {
  app: App;
  deps: Deps;
  config: Config;
  log: ReturnType<typeof memoryLogger>;
  close(): Promise<void>;
}

export async function buildApp(stack: Stack, over: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig({ ...stack.env, ...over });
  const log = memoryLogger();
  const deps = await createDeps(config, log);
  const app = createApp(deps);
  return { app, deps, config, log, close: () => closeDeps(deps) };
}

/** JSON request helper around app.request(). */
export async function call(
  app: App,
  method: string,
  path: string,
  o: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token) headers.Authorization = `Bearer ${o.token}`;
  let body: string | undefined;
  if (o.raw !== undefined) body = o.raw;
  else if (o.body !== undefined) body = JSON.stringify(o.body);
  if (body !== undefined) headers['Content-Type'] ??= 'application/json';
  const res = await app.request(path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* text */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

let userSeq = 0;
/** Registers a fresh user; returns its id, tokens and credentials. */
export async function newUser(app: App, name = 'user') {
  const email = `${name}-${process.pid}-${++userSeq}-${Date.now()}@example.com`;
  const password = `pw-${name}-correct-horse`;
  const r = await call(app, 'POST', '/api/auth/register', { body: { email, password, displayName: name } });
  if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { id: r.body.user.id as string, email, password, token: r.body.session.accessToken as string, refreshToken: r.body.session.refreshToken as string };
}

export async function withClient<T>(conn: pg.ClientConfig | string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client(typeof conn === 'string' ? { connectionString: conn } : conn);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * Freezes the test's own PostgreSQL (postmaster and every backend, SIGSTOP) the way a paused
 * container or a dead network looks to a client: connections are accepted by the kernel, nothing
 * answers, nothing is refused. Returns resume() (SIGCONT). Only the pids of this server are signalled.
 */
export function pausePostgres(server: PostgresServer): () => void {
  const postmaster = Number(readFileSync(join(server.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' })
    .split('\n')
    .map((x) => Number(x.trim()))
    .filter((x) => x > 0);
  const pids = [postmaster, ...children];
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  return () => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
  };
}
