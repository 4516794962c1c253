/** /health (no dependency touched), /health/ready (all three), /api/health/neo4j, /metrics. */
import { createRoute, z } from '@hono/zod-openapi';
import type { App } from '../app.js';
import { VERSION } from '../app.js';
import type { Deps } from '../deps.js';
import { errMessage, withTimeout } from '../lib/errors.js';
import { neo4jPoolStats } from '../library/driver.js';
import { temporalHealthy } from '../temporal/client.js';

const Check = z.object({ status: z.enum(['ok', 'down']), latencyMs: z.number(), error: z.string().optional() });
const Ready = z.object({
  status: z.enum(['ready', 'unavailable']),
  service: z.literal('api'),
  version: z.string(),
  down: z.array(z.string()),
  checks: z.object({ postgres: Check, neo4j: Check, temporal: Check }),
});

type CheckResult = z.infer<typeof Check>;

async function timed(dep: 'postgres' | 'neo4j' | 'temporal', ms: number, fn: () => Promise<unknown>): Promise<CheckResult> {
  const start = performance.now();
  try {
    await withTimeout(dep, ms, fn());
    return { status: 'ok', latencyMs: round(performance.now() - start) };
  } catch (e) {
    return { status: 'down', latencyMs: round(performance.now() - start), error: oneLine(errMessage(e)) };
  }
}

const round = (n: number) => Math.round(n * 100) / 100;
const oneLine = (s: string) => s.split('\n')[0]!.slice(0, 300);

export async function readiness(deps: Deps) {
  const ms = deps.config.DEPENDENCY_TIMEOUT_MS;
  const [postgres, neo4j, temporal] = await Promise.all([
    timed('postgres', ms, () => deps.pool.query('SELECT 1')),
    timed('neo4j', ms, () => deps.neo4j.executeQuery('RETURN 1', {}, { database: 'neo4j' })),
    timed('temporal', ms, () => temporalHealthy(deps.temporal, ms)),
  ]);
  const checks = { postgres, neo4j, temporal };
  const down = Object.entries(checks)
    .filter(([, v]) => v.status === 'down')
    .map(([k]) => k);
  return { status: down.length ? ('unavailable' as const) : ('ready' as const), service: 'api' as const, version: VERSION, down, checks };
}

export function registerHealthRoutes(app: App, deps: Deps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/health',
      tags: ['health'],
      summary: 'Liveness: answers without touching any dependency',
      responses: {
        200: {
          description: 'The process is up',
          content: { 'application/json': { schema: z.object({ status: z.literal('ok'), service: z.literal('api'), version: z.string() }) } },
        },
      },
    }),
    (c) => c.json({ status: 'ok' as const, service: 'api' as const, version: VERSION }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/health/ready',
      tags: ['health'],
      summary: 'Readiness: PostgreSQL, Neo4j and Temporal, each with its latency',
      responses: {
        200: { description: 'Every dependency answers', content: { 'application/json': { schema: Ready } } },
        503: { description: 'At least one dependency is down (named in `down`)', content: { 'application/json': { schema: Ready } } },
      },
    }),
    async (c) => {
      const r = await readiness(deps);
      return r.status === 'ready' ? c.json(r, 200) : c.json(r, 503);
    },
  );

  const Neo4jHealth = z.object({
    status: z.enum(['ok', 'error']),
    message: z.string(),
    latencyMs: z.number(),
    pool: z.object({ inUse: z.number().nullable(), idle: z.number().nullable(), max: z.number() }),
    error: z.object({ code: z.string().optional(), message: z.string() }).optional(),
  });
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/health/neo4j',
      tags: ['health'],
      summary: 'Neo4j connectivity, pool figures and the round trip of RETURN 1',
      responses: {
        200: { description: 'Connected', content: { 'application/json': { schema: Neo4jHealth } } },
        500: { description: 'Cannot connect; the error details', content: { 'application/json': { schema: Neo4jHealth } } },
      },
    }),
    async (c) => {
      const start = performance.now();
      const max = 20;
      try {
        await withTimeout('neo4j', deps.config.DEPENDENCY_TIMEOUT_MS, deps.neo4j.executeQuery('RETURN 1 AS one', {}, { database: 'neo4j' }));
        const latencyMs = round(performance.now() - start);
        return c.json({ status: 'ok' as const, message: 'Connected to Neo4j', latencyMs, pool: { ...neo4jPoolStats(deps.neo4j), max } }, 200);
      } catch (e) {
        const latencyMs = round(performance.now() - start);
        const code = (e as { code?: string }).code;
        return c.json(
          {
            status: 'error' as const,
            message: 'Cannot connect to Neo4j',
            latencyMs,
            pool: { ...neo4jPoolStats(deps.neo4j), max },
            error: { ...(code ? { code } : {}), message: oneLine(errMessage(e)) },
          },
          500,
        );
      }
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/metrics',
      tags: ['health'],
      summary: 'Prometheus metrics: requests and latency per route and status, pg and Neo4j pools, workflow starts',
      responses: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } } },
    }),
    async (c) => {
      const body = await deps.metrics.registry.metrics();
      return c.text(body, 200, { 'Content-Type': deps.metrics.registry.contentType });
    },
  );
}
