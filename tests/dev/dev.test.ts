/**
 * `helfy dev` end to end: the built CLI on a pseudo-terminal, the apps copied from the templates
 * into a temp workspace, real PostgreSQL 15 / Neo4j 5 / Temporal from tests/support/services
 * (`--no-stores`: dev uses them instead of starting Docker containers; see harness.ts).
 * Edits to a page and to an API route are served live; a crashed process is named and the others
 * keep running; Ctrl-C typed into the terminal ends with exit 130, no process of the dev loop left,
 * the ports free again and the databases still answering.
 */
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { isPortFree } from '../../src/runtime/ports.js';
import { helfy } from '../helpers/cli.js';
import {
  editFile, HEALTH_HANDLER, HEALTH_ROUTE, LOGIN_PAGE, makeWorkspace, pollUntil, processesUnder, startDev, startStores, type DevRun, type Stores,
} from './harness.js';

let stores: Stores;
let ws: string;
let bare: string;
const apiUrl = () => `http://127.0.0.1:${stores.env.HELFY_API_PORT}`;
const webUrl = () => `http://127.0.0.1:${stores.env.HELFY_WEB_PORT}`;

beforeAll(async () => {
  stores = await startStores();
  [ws, bare] = await Promise.all([makeWorkspace('devloop', { apps: true }), makeWorkspace('devbare', { apps: false })]);
}, 300_000);

afterAll(async () => {
  // Nothing may be left, whatever a failed test did.
  for (const p of processesUnder(ws ?? '/nonexistent')) {
    try {
      process.kill(-p.pgid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await stores?.stop();
  for (const d of [ws, bare]) if (d) rmSync(d, { recursive: true, force: true });
}, 120_000);

async function stopWithCtrlC(d: DevRun): Promise<{ code: number | null }> {
  d.ctrlC();
  const r = await Promise.race([d.exited, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no exit within 30 s:\n${d.screen().slice(-3000)}`)), 30_000))]);
  return r;
}

function tcpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => {
      s.end();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('helfy dev: bad input', () => {
  it('no apps in the workspace: exit 2, the cause and `helfy init` as the hint, nothing started', async () => {
    const r = await helfy(['dev'], { cwd: bare, env: stores.env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('error: no apps/api or apps/web in this workspace: helfy dev runs the apps from their workspace sources');
    expect(r.stderr).toMatch(/hint: `helfy init` scaffolds them \(.*apps\/api, .*apps\/web\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(processesUnder(bare)).toEqual([]);
  });

  it('--json is refused (a dev loop has no single result): one JSON error document, exit 2', async () => {
    const r = await helfy(['dev', '--json'], { cwd: ws, env: stores.env });
    expect(r.code).toBe(2);
    expect(r.json.error.code).toBe('USAGE');
    expect(r.json.error.message).toContain('--json is not available for helfy dev');
  });

  it('an unknown process name: exit 2 listing the valid ones', async () => {
    const r = await helfy(['dev', 'api', 'db'], { cwd: ws, env: stores.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown dev process: db');
    expect(r.stderr).toContain('helfy dev runs api, worker, web');
  });

  it('no Docker engine (default: stores in Docker): exit 3 before any process starts, the hint names --no-stores', async () => {
    const r = await helfy(['dev'], { cwd: ws, env: { ...stores.env, DOCKER_HOST: `unix://${ws}/no-engine.sock`, HELFY_RUNTIME: 'docker' }, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(`error: Docker engine unreachable at ${ws}/no-engine.sock`);
    expect(r.stderr).toContain('helfy dev --no-stores');
    expect(processesUnder(join(ws, 'apps'))).toEqual([]);
  });

  it('the API port taken by another process: exit 3 naming the port and its holder, no dev process started', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen({ host: '127.0.0.1', port: Number(stores.env.HELFY_API_PORT) }, () => r()));
    try {
      const r = await helfy(['dev', '--no-stores'], { cwd: ws, env: stores.env, timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(`port ${stores.env.HELFY_API_PORT} (api, HELFY_API_PORT) on 127.0.0.1 is in use by`);
      expect(r.stderr).toContain('--api-port <port>');
      expect(processesUnder(join(ws, 'apps'))).toEqual([]);
    } finally {
      await new Promise((r) => srv.close(r));
    }
  }, 120_000);
});

describe('helfy dev: the live loop (real PostgreSQL, Neo4j, Temporal)', () => {
  let d: DevRun;

  beforeAll(async () => {
    d = startDev(ws, stores.env);
    await d.waitFor(/api is up/, 120_000);
    await d.waitFor(/web is up/, 120_000);
    await d.waitFor(/worker is up/, 120_000);
  }, 400_000);

  afterAll(async () => {
    if (d && d.proc.exitCode === null) {
      d.ctrlC();
      await Promise.race([d.exited, new Promise((r) => setTimeout(r, 20_000))]);
    }
  }, 60_000);

  it('runs api, worker and web with the containers\' environment: the API is ready on all three stores; output is prefixed; no secret printed', async () => {
    const ready = await (await fetch(`${apiUrl()}/health/ready`)).json();
    expect(ready).toMatchObject({ status: 'ready', down: [], checks: { postgres: { status: 'ok' }, neo4j: { status: 'ok' }, temporal: { status: 'ok' } } });
    // The web app reaches the API through API_URL (its same-origin proxy): the API's own 401,
    // not the proxy's 502 API_UNAVAILABLE.
    const viaWeb = await fetch(`${webUrl()}/api/biometrics`);
    expect(viaWeb.status).toBe(401);
    expect(((await viaWeb.json()) as any).error.code).toBe('TOKEN_MISSING');
    const screen = d.screen();
    expect(screen).toMatch(/^api {4}\| .*"msg":"listening"/m);
    expect(screen).toMatch(/^worker \| .*"msg":"worker running"/m);
    expect(screen).toMatch(/^web {4}\| .*Vike v/m);
    const cfg = loadConfig({ cwd: ws, env: stores.env });
    for (const s of [cfg.api.jwtSecret, cfg.postgres.appPassword, cfg.neo4j.password, cfg.postgres.superuserPassword]) expect(screen).not.toContain(s);
    // Each process in its own process group, none in helfy's.
    const helfyPgid = processesUnder(ws).find((p) => p.cmdline.includes('bin/helfy.js'))?.pgid;
    expect(helfyPgid).toBeDefined();
    const groups = new Set(processesUnder(join(ws, 'apps')).map((p) => p.pgid));
    expect(groups.size).toBe(3);
    expect(groups.has(helfyPgid!)).toBe(false);
  });

  it('an edit to a page file is served within 15 s, without a rebuild', async () => {
    const page = join(ws, LOGIN_PAGE);
    const before = await (await fetch(`${webUrl()}/login`)).text();
    expect(before).toContain('<h1>Log in</h1>');
    editFile(page, '<h1>Log in</h1>', '<h1>Log in to Helfy (dev edit 1)</h1>');
    const tail = () => d.screen().slice(-6000);
    const h1 = (b: string) => b.includes('Log in to Helfy (dev edit 1)');
    const ms = await pollUntil(`${webUrl()}/login`, h1, 15_000, 50, tail);
    expect(ms).toBeLessThan(15_000);
    // Two saves 15 ms apart (a formatter rewriting the file on save): the last one is served.
    // Without dev's watcher setting Vite dropped the second save now and then (2 runs in 8).
    editFile(page, '<h1>Log in to Helfy (dev edit 1)</h1>', '<h1>Log in (dev edit 2a)</h1>');
    await new Promise((r) => setTimeout(r, 15));
    editFile(page, '<h1>Log in (dev edit 2a)</h1>', '<h1>Log in (dev edit 2)</h1>');
    await pollUntil(`${webUrl()}/login`, (b) => b.includes('<h1>Log in (dev edit 2)</h1>') && !b.includes('dev edit 1'), 15_000, 50, tail);
  }, 40_000);

  it('an edit to an API route changes its response within 15 s (tsx watch restarts the API)', async () => {
    expect(await (await fetch(`${apiUrl()}/health`)).json()).toEqual({ status: 'ok', service: 'api', version: '0.1.0' });
    editFile(join(ws, HEALTH_ROUTE), HEALTH_HANDLER, HEALTH_HANDLER.replace('version: VERSION', "version: 'dev-edit-1'"));
    await pollUntil(`${apiUrl()}/health`, (b) => b.startsWith('200') && b.includes('"version":"dev-edit-1"'), 15_000, 50, () => d.screen().slice(-6000));
  }, 40_000);

  it('a crashed process is named; the others keep serving', async () => {
    const web = processesUnder(join(ws, 'apps', 'web')).find((p) => p.cmdline.includes('vike/bin.js'));
    expect(web).toBeDefined();
    process.kill(-web!.pgid, 'SIGKILL');
    await d.waitFor(/warning: web was killed by SIGKILL; api, worker keep running/, 15_000);
    expect(await isPortFree('127.0.0.1', Number(stores.env.HELFY_WEB_PORT))).toBe(true);
    await pollUntil(`${apiUrl()}/health`, (b) => b.startsWith('200'), 10_000, 50, () => d.screen().slice(-6000));
    expect(d.proc.exitCode).toBeNull();
  }, 30_000);

  it('Ctrl-C at the terminal: exit 130 with the message; no process left, ports free, the databases still answer', async () => {
    const before = processesUnder(join(ws, 'apps'));
    expect(before.length).toBeGreaterThanOrEqual(2);
    const r = await stopWithCtrlC(d);
    expect(r.code, d.screen().slice(-3000)).toBe(130);
    expect(d.screen()).toContain('error: interrupted: the dev processes were stopped');
    expect(d.screen()).toContain('hint: The data stores keep running');
    // Not one process of those groups (tsx, its node child, the worker) is left.
    expect(processesUnder(ws)).toEqual([]);
    for (const p of before) {
      expect(() => process.kill(-p.pgid, 0), `group ${p.pgid} (${p.cmdline})`).toThrow();
    }
    expect(await isPortFree('127.0.0.1', Number(stores.env.HELFY_API_PORT))).toBe(true);
    expect(await isPortFree('127.0.0.1', Number(stores.env.HELFY_WEB_PORT))).toBe(true);

    const cfg = loadConfig({ cwd: ws, env: stores.env });
    const client = new pg.Client({ host: '127.0.0.1', port: stores.pg.port, user: 'helfy_api', password: cfg.postgres.appPassword, database: 'helfy_app' });
    await client.connect();
    try {
      // The migrations dev applied are there; the API's role can read its tables.
      expect((await client.query('SELECT count(*)::int AS n FROM users')).rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
    const neo = await fetch(`${stores.neo.httpUrl}/db/neo4j/tx/commit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`neo4j:${stores.neo.password}`).toString('base64')}` },
      body: JSON.stringify({ statements: [{ statement: 'RETURN 1 AS one' }] }),
    });
    expect(((await neo.json()) as any).results[0].data[0].row).toEqual([1]);
    expect(await tcpAnswers(Number(stores.env.HELFY_TEMPORAL_PORT))).toBe(true);
  }, 60_000);
});

describe('helfy dev <process>: only the ones asked for', () => {
  it('`helfy dev api` runs the API alone (the web port stays free); Ctrl-C exits 130', async () => {
    const d = startDev(ws, stores.env, ['api']);
    try {
      await d.waitFor(/api is up/, 120_000);
      expect((await fetch(`${apiUrl()}/health`)).status).toBe(200);
      expect(await isPortFree('127.0.0.1', Number(stores.env.HELFY_WEB_PORT))).toBe(true);
      expect(d.screen()).not.toMatch(/^(web|worker) *\|/m);
      const r = await stopWithCtrlC(d);
      expect(r.code).toBe(130);
      expect(processesUnder(ws)).toEqual([]);
    } finally {
      if (d.proc.exitCode === null) d.proc.kill('SIGKILL');
    }
  }, 180_000);
});
