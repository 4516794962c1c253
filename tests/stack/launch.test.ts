/**
 * The launch of the api and worker, without Docker: the readiness probe against real HTTP servers
 * on loopback, the workspace copy of Temporal's dynamic config, and `up`'s build step against a
 * fake runtime (the real engine is exercised by stack.e2e.test.ts).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HelfyConfig } from '../../src/config/load.js';
import type { Context } from '../../src/core/context.js';
import { HelfyError } from '../../src/core/errors.js';
import { COMPOSE_FILE } from '../../src/stack/compose-file.js';
import { workspaceConfigDir, writeConfigMounts } from '../../src/stack/config-mounts.js';
import type { ContainerSnapshot } from '../../src/stack/health.js';
import { probeReady, readinessChecks, runProbe } from '../../src/stack/probes.js';
import { api } from '../../src/stack/services/app.js';
import type { StackRuntime } from '../../src/stack/runtime.js';
import type { ServiceName } from '../../src/stack/types.js';
import { upStack, type UpOptions } from '../../src/stack/up.js';

describe('the API readiness probe (GET /health/ready over real HTTP)', () => {
  let server: Server;
  let port = 0;
  const replies: Record<string, { status: number; body: unknown } | 'hang'> = {};
  beforeAll(async () => {
    server = createServer((req, res) => {
      const r = replies[req.headers['x-case'] as string] ?? replies[String(port)];
      const answer = replies.current;
      if (answer === 'hang') return; // never answers
      const a = (answer ?? r) as { status: number; body: unknown };
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(typeof a.body === 'string' ? a.body : JSON.stringify(a.body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const url = () => `http://127.0.0.1:${port}/health/ready`;

  it('200 is ready, with each dependency and its latency in the detail', async () => {
    replies.current = { status: 200, body: { status: 'ok', service: 'api', version: '0.1.0', checks: { postgres: { ok: true, latencyMs: 2.4 }, neo4j: { ok: true, latencyMs: 3 }, temporal: { ok: true, latencyMs: 1 } } } };
    const r = await probeReady(url(), 1000);
    expect(r).toEqual({
      ok: true, detail: 'api 0.1.0: ready (postgres 2 ms, neo4j 3 ms, temporal 1 ms)', version: '0.1.0',
      info: { httpStatus: 200, checks: [{ name: 'postgres', ok: true, latencyMs: 2 }, { name: 'neo4j', ok: true, latencyMs: 3 }, { name: 'temporal', ok: true, latencyMs: 1 }] },
    });
  });

  it('503 is not ready and names what is down, with its error', async () => {
    replies.current = { status: 503, body: { status: 'unavailable', service: 'api', version: '0.1.0', dependencies: { postgres: { status: 'ok', latency_ms: 2 }, neo4j: { status: 'down', error: 'connect ECONNREFUSED 172.18.0.3:7687' }, temporal: { status: 'down', message: 'deadline exceeded' } } } };
    const r = await probeReady(url(), 1000);
    expect(r.ok).toBe(false);
    expect(r.detail).toBe('api 0.1.0: not ready: neo4j, temporal down (neo4j: connect ECONNREFUSED 172.18.0.3:7687)');
  });

  it('a body it cannot read still gives the HTTP status; a server that never answers, the timeout', async () => {
    replies.current = { status: 503, body: 'Service Unavailable' };
    expect(await probeReady(url(), 1000)).toMatchObject({ ok: false, detail: 'not ready: HTTP 503' });
    replies.current = 'hang';
    const t0 = Date.now();
    const r = await probeReady(url(), 300);
    expect(r).toEqual({ ok: false, detail: `GET ${url()}: no answer within 300 ms` });
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('runProbe sends the api to /health/ready on its published port', async () => {
    replies.current = { status: 200, body: { service: 'api', version: '9.9.9', checks: { postgres: { ok: true } } } };
    const cfg = { bindAddress: '127.0.0.1', ports: { api: port } } as unknown as HelfyConfig;
    const r = await runProbe(api, cfg, 1000);
    expect(r).toMatchObject({ ok: true, detail: 'api 9.9.9: ready (postgres)', version: '9.9.9' });
    expect(r!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('reads readiness documents generically and ignores what is not a check', () => {
    expect(readinessChecks({ status: 'ok', meta: { a: 1 }, checks: { pg: { ok: false, error: { code: 'X' } } } })).toEqual([{ name: 'pg', ok: false, error: '{"code":"X"}' }]);
    expect(readinessChecks('nope')).toEqual([]);
    expect(readinessChecks({ status: 'ok' })).toEqual([]);
  });
});

describe('Temporal dynamic config: the workspace copy', () => {
  it('is written into .helfy/ with the shipped content, atomically, and left alone when unchanged', () => {
    const root = mkdtempSync(join(tmpdir(), 'helfy-ws-'));
    try {
      const first = writeConfigMounts({ root });
      const dir = workspaceConfigDir({ root }, './temporal/dynamicconfig');
      expect(dir).toBe(join(root, '.helfy/temporal/dynamicconfig'));
      expect(first).toEqual([{ file: join(dir, 'helfy.yaml'), changed: true }]);
      const shipped = readFileSync(join(COMPOSE_FILE, '../temporal/dynamicconfig/helfy.yaml'), 'utf8');
      expect(readFileSync(join(dir, 'helfy.yaml'), 'utf8')).toBe(shipped);
      expect(statSync(join(dir, 'helfy.yaml')).mode & 0o777).toBe(0o644);
      const mtime = statSync(join(dir, 'helfy.yaml')).mtimeMs;
      expect(writeConfigMounts({ root })).toEqual([{ file: join(dir, 'helfy.yaml'), changed: false }]);
      expect(statSync(join(dir, 'helfy.yaml')).mtimeMs).toBe(mtime);
      writeFileSync(join(dir, 'helfy.yaml'), 'edited by hand\n');
      expect(writeConfigMounts({ root })[0]!.changed).toBe(true);
      expect(readFileSync(join(dir, 'helfy.yaml'), 'utf8')).toBe(shipped);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

/** A fake engine: containers appear healthy once compose `up` was asked for them. */
function fakeStack(o: { missing: string[]; buildExit?: number; buildMs?: number; hashes: Record<string, string> }) {
  const events: string[] = [];
  const started = new Set<string>();
  const rt = {
    project: 'p',
    kind: 'docker',
    async describe() {
      return { kind: 'docker', detail: 'Docker (fake)' };
    },
    async driver() {
      return { upCommand: 'docker-compose up', buildCommand: 'docker-compose build', downCommand: 'docker-compose down', logPrefix: 'compose', compose: { flavor: 'v1' as const, version: '1.29.2', command: 'docker-compose' } };
    },
    async busyPorts() {
      return [];
    },
    async missingImages(refs: string[]) {
      events.push(`missing? ${refs.join(' ')}`);
      return refs.filter((r) => o.missing.includes(r));
    },
    async build(services: string[], opts: { build?: boolean }) {
      events.push(`build ${services.join(' ')}`);
      await new Promise((r) => setTimeout(r, o.buildMs ?? 30));
      void opts;
      return { exitCode: o.buildExit ?? 0, output: o.buildExit ? ['npm error code SELF_SIGNED_CERT_IN_CHAIN'] : ['Successfully built'], cancelled: false, durationMs: 30 };
    },
    async up(services: string[], opts: { build?: boolean }) {
      events.push(`up ${services.join(' ')}${opts.build ? ' --build' : ''}`);
      services.forEach((s) => started.add(s));
      return { exitCode: 0, output: [], cancelled: false, durationMs: 1 };
    },
    async containers(): Promise<ContainerSnapshot[]> {
      return [...started].map((s) => ({
        id: s, name: `p-${s}-1`, service: s, status: 'Up', image: 'i', createdAt: 0, ports: [],
        labels: { 'dev.helfy.config-hash': o.hashes[s]! },
        ...(s === 'temporal-schema' ? { state: 'exited' as const, exitCode: 0, finishedAt: Date.now() + 60_000 } : { state: 'running' as const, health: s === 'temporal' ? undefined : ('healthy' as const) }),
      }));
    },
    async probe() {
      return { ok: true, detail: 'SERVING', durationMs: 1 };
    },
  } as unknown as StackRuntime;
  return { rt, events };
}

function fakeCtx(): Context & { lines: string[] } {
  const lines: string[] = [];
  const log = { info: (m: string) => lines.push(m), success: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m), debug() {}, raw: (m: string) => lines.push(m) };
  return { options: { json: true } as Context['options'], env: {}, log, prompt: {} as Context['prompt'], tasks: { run: async () => undefined } as unknown as Context['tasks'], stdout() {}, signal: new AbortController().signal, lines } as Context & { lines: string[] };
}

describe('helfy up builds the api image once, for the api and the worker', () => {
  const names: ServiceName[] = ['postgres', 'neo4j', 'temporal-schema', 'temporal', 'api', 'worker', 'web'];
  const hashes = Object.fromEntries(names.map((n) => [n, `h-${n}`])) as Record<ServiceName, string>;
  const cfg = {
    bindAddress: '127.0.0.1', ports: { postgres: 1, neo4jHttp: 2, neo4jBolt: 3, temporal: 4, temporalUi: 5, api: 6, web: 7 },
    images: { postgres: 'pg', neo4j: 'neo', temporal: 't', temporalAdminTools: 'ta', temporalUi: 'tu', node: 'node:22-bookworm-slim' },
    postgres: { superuser: 'postgres' },
  } as unknown as HelfyConfig;
  const opts = (over: Partial<UpOptions> = {}): UpOptions => ({
    services: ['worker', 'web'], timeoutMs: 5000, wait: true, build: false, pull: 'missing', hashes, buildTags: { api: 'aaa', web: 'www' }, pollMs: 5, ...over,
  });
  const hooks = { bootstrap: async () => ({ changed: false, changes: [], durationMs: 1 }), afterHealthy: async () => {} };

  it('missing images: one build of api and web, while the data stores start, before the rest starts', async () => {
    const { rt, events } = fakeStack({ missing: ['helfy-local/api:aaa', 'helfy-local/web:www'], hashes });
    const r = await upStack(fakeCtx(), cfg, rt, opts(), hooks);
    expect(r.status).toBe('started');
    expect(r.built).toMatchObject({ services: ['api', 'web'], images: ['helfy-local/api:aaa', 'helfy-local/web:www'] });
    expect(events.filter((e) => e.startsWith('build'))).toEqual(['build api web']);
    const upAll = events.findIndex((e) => e.startsWith('up postgres neo4j temporal-schema'));
    expect(events.indexOf('build api web')).toBeLessThan(upAll);
    expect(events.indexOf('up postgres neo4j')).toBeLessThan(upAll);
    expect(events.filter((e) => e.includes('--build'))).toEqual([]);
    expect(r.services.map((s) => `${s.name}:${s.state}`)).toEqual(['postgres:healthy', 'neo4j:healthy', 'temporal-schema:completed', 'temporal:healthy', 'api:healthy', 'worker:healthy', 'web:healthy']);
  });

  it('images present: no build; --build: rebuilds them anyway (still once)', async () => {
    const a = fakeStack({ missing: [], hashes });
    const r = await upStack(fakeCtx(), cfg, a.rt, opts(), hooks);
    expect(r.built).toBeUndefined();
    expect(a.events.some((e) => e.startsWith('build'))).toBe(false);
    const b = fakeStack({ missing: [], hashes });
    await upStack(fakeCtx(), cfg, b.rt, opts({ build: true }), hooks);
    expect(b.events.filter((e) => e.startsWith('build'))).toEqual(['build api web']);
  });

  it('the build does not count against --timeout (a first npm ci takes minutes); health still does', async () => {
    const { rt } = fakeStack({ missing: ['helfy-local/api:aaa'], buildMs: 600, hashes });
    const t0 = Date.now();
    const r = await upStack(fakeCtx(), cfg, rt, opts({ services: ['worker'], timeoutMs: 200 }), hooks);
    expect(r.status).toBe('started');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
    expect(r.built!.durationMs).toBeGreaterThanOrEqual(590);
  });

  it('`up worker` alone builds the api image it runs', async () => {
    const { rt, events } = fakeStack({ missing: ['helfy-local/api:aaa'], hashes });
    const r = await upStack(fakeCtx(), cfg, rt, opts({ services: ['worker'] }), hooks);
    expect(r.services.map((s) => s.name)).toEqual(['postgres', 'temporal-schema', 'temporal', 'worker']);
    expect(events.filter((e) => e.startsWith('build'))).toEqual(['build api']);
  });

  it('the namespace is registered as soon as Temporal serves (the worker needs it), once; its failure ends up', async () => {
    const { rt, events } = fakeStack({ missing: [], hashes });
    let calls = 0;
    const r = await upStack(fakeCtx(), cfg, rt, opts({ services: ['worker'] }), { ...hooks, onReady: { temporal: async () => { calls++; events.push('namespace'); } } });
    expect(r.status).toBe('started');
    expect(calls).toBe(1);
    expect(events.indexOf('namespace')).toBeGreaterThan(events.findIndex((e) => e.startsWith('up postgres temporal-schema temporal worker')));
    const b = fakeStack({ missing: [], hashes });
    const boom = new HelfyError('CONNECTION_FAILED', 'Temporal at 127.0.0.1:4 refused the namespace registration');
    const err = await upStack(fakeCtx(), cfg, b.rt, opts({ services: ['worker'] }), { ...hooks, onReady: { temporal: async () => { throw boom; } } }).catch((e: unknown) => e);
    expect(err).toBe(boom);
  });

  it('a failed build stops before the services that need it start, with the build output and a hint', async () => {
    const { rt, events } = fakeStack({ missing: ['helfy-local/api:aaa'], buildExit: 1, hashes });
    const ctx = fakeCtx();
    const err = (await upStack(ctx, cfg, rt, opts({ services: ['worker'] }), hooks).catch((e: unknown) => e)) as HelfyError;
    expect(err).toBeInstanceOf(HelfyError);
    expect(err.message).toBe('building the api image failed (docker-compose build, exit 1)');
    expect(err.exitCode).toBe(1);
    expect(err.hint).toMatch(/npm registry/);
    expect(ctx.lines.join('\n')).toContain('  build | npm error code SELF_SIGNED_CERT_IN_CHAIN');
    expect(events.some((e) => e.startsWith('up') && e.includes('worker'))).toBe(false);
  });
});
