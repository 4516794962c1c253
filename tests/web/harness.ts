/**
 * The web app's tests run against the real thing: the built web server (`vike build`, then
 * `node dist/server/index.mjs` as a child process, as in its image) talking over HTTP to the real
 * API (the API template's createApp served by @hono/node-server in this process) on a real
 * PostgreSQL 15 (bootstrapped and migrated as `helfy up` does; the API connects as helfy_api) and
 * a real Neo4j 5 holding a small library graph written to docs/library-graph.md.
 *
 * Temporal is not started: the API connects to it lazily and only its workflow routes and
 * /health/ready use it, which the web app does not call. TEMPORAL_ADDRESS points at a closed port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import neo4j, { type Driver } from 'neo4j-driver';
import { bootstrapPostgres } from '../../src/db/postgres/bootstrap.js';
import { pgConnectionFor } from '../../src/db/postgres/connection.js';
import { migratePostgres } from '../../src/db/postgres/migrate.js';
import { migrateNeo4j } from '../../src/db/neo4j/migrate.js';
import { makeConfig, recordingLogger } from '../db/postgres/fixtures.js';
import { freePort, startNeo4j, startPostgres, type Neo4jServer } from '../support/services/index.js';

export const REPO = resolve(import.meta.dirname, '../..');
export const WEB_DIR = resolve(REPO, 'templates/web');
const API_SRC = resolve(REPO, 'templates/api/src');
/**
 * The web server's proof to the API (PROXY_SECRET of both, as helfy's native runtime sets it):
 * both listen on loopback, where every local program connects from, so the API believes the web
 * server's X-Forwarded-For only with it.
 */
export const PROXY_SECRET = randomBytes(24).toString('base64url');

/** `vike build` into templates/web/dist (gitignored); once per test file. NODE_ENV=production: vitest
 *  sets `test`, with which React's JSX would be compiled for development (jsxDEV). */
export function buildWeb(): void {
  const r = spawnSync(process.execPath, [resolve(WEB_DIR, 'node_modules/vike/bin.js'), 'build'], { cwd: WEB_DIR, encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_ENV: 'production' } });
  if (r.status !== 0) throw new Error(`vike build failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

export interface WebServer {
  url: string;
  port: number;
  proc: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/** `node dist/server/index.mjs` on a free port with API_URL; resolves once GET /health answers. */
export async function startWeb(apiUrl: string, env: Record<string, string> = {}): Promise<WebServer> {
  const port = await freePort();
  let out = '';
  const proc = spawn(process.execPath, ['dist/server/index.mjs'], {
    cwd: WEB_DIR,
    env: { ...process.env, PORT: String(port), API_URL: apiUrl, HELFY_SERVICE: 'web', NODE_ENV: 'production', PROXY_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`web server exited ${proc.exitCode}:\n${out}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`web server did not answer /health within 20 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    proc,
    output: () => out,
    stop: () =>
      new Promise<void>((res) => {
        if (proc.exitCode !== null) return res();
        proc.once('exit', () => res());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
      }),
  };
}

export interface ApiServer {
  url: string;
  port: number;
  jwtSecret: string;
  /** Stops listening (the web app then sees a dead API); start() listens again on the same port. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export interface Stack {
  api: ApiServer;
  neo4j: Driver;
  /** SQL as the superuser on helfy_app (for checks the tests make themselves). */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

/** PostgreSQL + Neo4j (migrated, with the test graph) + the API over HTTP. */
export async function startStack(): Promise<Stack> {
  const [pgServer, neoServer] = await Promise.all([startPostgres(), startNeo4j()]);
  const cfg = makeConfig(pgServer, { timescale: 'required' });
  const log = recordingLogger();
  await bootstrapPostgres(cfg, log);
  await migratePostgres({ connection: pgConnectionFor(cfg, 'owner'), dir: resolve(REPO, 'migrations/postgres'), log, timescale: 'required' });
  await migrateNeo4j({ connection: { url: neoServer.boltUrl, user: neoServer.user, password: neoServer.password }, dir: resolve(REPO, 'migrations/neo4j'), log });
  const driver = neo4j.driver(neoServer.boltUrl, neo4j.auth.basic(neoServer.user, neoServer.password), { disableLosslessIntegers: true });
  await writeLibraryGraph(driver);

  const jwtSecret = randomBytes(24).toString('base64url');
  const deadTemporal = await freePort();
  const env = {
    DATABASE_URL: `postgres://helfy_api:${encodeURIComponent(cfg.postgres.appPassword)}@${pgServer.host}:${pgServer.port}/helfy_app`,
    NEO4J_URL: neoServer.boltUrl,
    NEO4J_USER: neoServer.user,
    NEO4J_PASSWORD: neoServer.password,
    TEMPORAL_ADDRESS: `127.0.0.1:${deadTemporal}`,
    JWT_SECRET: jwtSecret,
    LOG_LEVEL: 'warn',
    // The web server (on loopback) is the API's proxy: its X-Forwarded-For names the browser, and
    // is believed only with the web server's PROXY_SECRET (any local program connects from 127.0.0.1).
    TRUST_PROXY: '127.0.0.1',
    PROXY_SECRET,
  };
  const api = await serveApi(env);

  const pg = (await import('pg')).default;
  const superPool = new pg.Pool({ ...pgConnectionFor(cfg, 'superuser', 'helfy_app'), max: 2, idleTimeoutMillis: 1000 });
  // An idle client that the server closes at teardown must not become an uncaught error.
  superPool.on('error', () => {});
  return {
    api: { ...api, jwtSecret },
    neo4j: driver,
    sql: async (text, params) => (await superPool.query(text, params as unknown[])).rows,
    stop: async () => {
      await api.stop();
      await superPool.end();
      await driver.close();
      await Promise.allSettled([pgServer.stop(), neoServer.stop()]);
    },
  };
}

async function serveApi(env: Record<string, string>): Promise<Omit<ApiServer, 'jwtSecret'>> {
  const { loadConfig } = await import(`${API_SRC}/config.ts`);
  const { createLogger } = await import(`${API_SRC}/log.ts`);
  const { createDeps, closeDeps } = await import(`${API_SRC}/deps.ts`);
  const { createApp } = await import(`${API_SRC}/app.ts`);
  const { serve } = await import(resolve(REPO, 'templates/api/node_modules/@hono/node-server/dist/index.mjs'));
  const config = loadConfig(env);
  const deps = await createDeps(config, createLogger('warn', { service: 'api' }));
  const app = createApp(deps);
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((res) => {
      server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info: AddressInfo) => {
        port = info.port;
        res();
      }) as Server;
    });
  const close = () =>
    new Promise<void>((res) => {
      if (!server) return res();
      server.close(() => res());
      server.closeAllConnections();
      server = undefined;
    });
  await listen();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    pause: close,
    resume: listen,
    stop: async () => {
      await close();
      await closeDeps(deps);
    },
  };
}

/** The test's small library, following docs/library-graph.md (source: 'helfy-test'). */
export const GRAPH = {
  exercises: [
    { id: 'Barbell_Squat', name: 'Barbell Squat', level: 'intermediate', force: 'push', mechanic: 'compound', category: 'strength', equipment: ['barbell'], primary: ['quadriceps'], secondary: ['glutes', 'hamstrings'], instructions: ['Rest the bar on your upper back.', 'Squat until your thighs are parallel.', 'Drive back up.'] },
    { id: 'Bodyweight_Squat', name: 'Bodyweight Squat', level: 'beginner', force: 'push', mechanic: 'compound', category: 'strength', equipment: [], primary: ['quadriceps'], secondary: ['glutes'], instructions: ['Stand with feet shoulder-width apart.', 'Squat down and stand up.'] },
    { id: 'Goblet_Squat', name: 'Goblet Squat', level: 'beginner', force: 'push', mechanic: 'compound', category: 'strength', equipment: ['dumbbell'], primary: ['quadriceps'], secondary: ['glutes', 'hamstrings'], instructions: ['Hold a dumbbell at your chest.', 'Squat.'] },
    { id: 'Leg_Press', name: 'Leg Press', level: 'beginner', force: 'push', mechanic: 'compound', category: 'strength', equipment: ['machine'], primary: ['quadriceps'], secondary: ['glutes'], instructions: ['Push the platform away.'] },
    { id: 'Dumbbell_Bicep_Curl', name: 'Dumbbell Bicep Curl', level: 'beginner', force: 'pull', mechanic: 'isolation', category: 'strength', equipment: ['dumbbell'], primary: ['biceps'], secondary: ['forearms'], instructions: ['Curl the dumbbells up.'] },
  ],
  regions: { quadriceps: 'legs', glutes: 'legs', hamstrings: 'legs', biceps: 'arms', forearms: 'arms' } as Record<string, string>,
  foods: [
    { id: '09040', name: 'Bananas, raw', energyKcal: 89, proteinG: 1.09, fatG: 0.33, carbsG: 22.84, fiberG: 2.6, sugarG: 12.23, group: '09', groupName: 'Fruits and Fruit Juices' },
    { id: '20044', name: 'Rice, white, long-grain, regular, raw, unenriched', energyKcal: 365, proteinG: 7.13, fatG: 0.66, carbsG: 79.95, fiberG: 1.3, sugarG: 0.12, group: '20', groupName: 'Cereal Grains and Pasta' },
  ],
};

async function writeLibraryGraph(driver: Driver): Promise<void> {
  const source = 'helfy-test';
  await driver.executeQuery(
    `UNWIND $regions AS r MERGE (m:Muscle {name: r.muscle}) SET m.source = $source
     MERGE (b:BodyRegion {name: r.region}) SET b.source = $source MERGE (m)-[:IN_REGION]->(b)`,
    { regions: Object.entries(GRAPH.regions).map(([muscle, region]) => ({ muscle, region })), source },
  );
  await driver.executeQuery(
    `UNWIND $exercises AS x
     MERGE (e:Exercise {id: x.id})
       SET e.name = x.name, e.level = x.level, e.force = x.force, e.mechanic = x.mechanic, e.instructions = x.instructions, e.source = $source
     MERGE (c:Category {name: x.category}) SET c.source = $source
     MERGE (e)-[:IN_CATEGORY]->(c)
     WITH e, x
     CALL (e, x) { UNWIND x.primary AS p MATCH (m:Muscle {name: p}) MERGE (e)-[:PRIMARY_MUSCLE]->(m) }
     CALL (e, x) { UNWIND x.secondary AS s MATCH (m:Muscle {name: s}) MERGE (e)-[:SECONDARY_MUSCLE]->(m) }
     CALL (e, x) { UNWIND x.equipment AS q MERGE (g:Equipment {name: q}) SET g.source = $source MERGE (e)-[:USES]->(g) }`,
    { exercises: GRAPH.exercises, source },
  );
  await driver.executeQuery(
    `UNWIND $foods AS x
     MERGE (f:Food {id: x.id})
       SET f.name = x.name, f.brand = null, f.energyKcal = x.energyKcal, f.proteinG = x.proteinG, f.fatG = x.fatG,
           f.carbsG = x.carbsG, f.fiberG = x.fiberG, f.sugarG = x.sugarG, f.source = $source
     MERGE (g:FoodGroup {code: x.group}) SET g.name = x.groupName, g.source = $source
     MERGE (f)-[:IN_GROUP]->(g)
     MERGE (p:Portion {id: x.id + ':1'}) SET p.description = '100 g', p.grams = 100, p.source = $source
     MERGE (f)-[:HAS_PORTION]->(p)`,
    { foods: GRAPH.foods, source },
  );
  await driver.executeQuery('CALL db.awaitIndexes(60)');
}

/** An HS256 JWT like the API's access tokens (for the forged / expired cookie tests). */
export async function signJwt(payload: Record<string, unknown>, secret: string): Promise<string> {
  const { createHmac } = await import('node:crypto');
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = enc({ alg: 'HS256', typ: 'JWT' });
  const body = enc(payload);
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

/** A cookie jar for fetch: keeps Set-Cookie values, sends them back; never follows redirects. */
export class Browserless {
  cookies = new Map<string, string>();
  setCookies: string[] = [];
  constructor(readonly base: string) {}
  async request(path: string, init: RequestInit & { form?: Record<string, string> } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    let body = init.body;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers.set('content-type', 'application/x-www-form-urlencoded');
    }
    const res = await fetch(this.base + path, { ...init, body, headers, redirect: 'manual' });
    for (const sc of res.headers.getSetCookie()) {
      this.setCookies.push(sc);
      const [pair] = sc.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (!value || /max-age=0/i.test(sc)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
}
