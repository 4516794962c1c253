/** stackStatus and the already-up check against a fake runtime. */
import { describe, expect, it } from 'vitest';
import type { HelfyConfig } from '../../src/config/load.js';
import type { ContainerSnapshot } from '../../src/stack/health.js';
import type { StackRuntime } from '../../src/stack/runtime.js';
import { stackStatus } from '../../src/stack/status.js';
import { alreadyUp } from '../../src/stack/up.js';
import type { ServiceName } from '../../src/stack/types.js';

const cfg = {
  projectName: 'demo', bindAddress: '127.0.0.1',
  ports: { postgres: 5432, neo4jHttp: 7474, neo4jBolt: 7687, temporal: 7233, temporalUi: 8233, api: 3000, web: 3001 },
  postgres: { superuser: 'postgres' },
} as unknown as HelfyConfig;

const NOW = Date.parse('2030-01-01T00:10:00Z');

function c(service: string, over: Partial<ContainerSnapshot> = {}): ContainerSnapshot {
  return { id: service, name: `demo-${service}-1`, service, state: 'running', health: 'healthy', status: 'Up', image: `img/${service}`, labels: { 'dev.helfy.config-hash': `h-${service}` }, ports: [], createdAt: 0, ...over };
}

function rt(list: ContainerSnapshot[], failing: string[] = []): StackRuntime {
  return {
    project: 'demo',
    kind: 'docker',
    describe: async () => ({ kind: 'docker', detail: 'Docker (fake)' }),
    containers: async () => list,
    startTimes: async (ids: string[]) => Object.fromEntries(ids.map((id) => [id, NOW - 600_000])),
    probe: async (def: { name: string }) => ({ ok: !failing.includes(def.name), detail: failing.includes(def.name) ? 'ECONNREFUSED' : 'ok', durationMs: 5 }),
  } as unknown as StackRuntime;
}

const all = () => [c('postgres'), c('neo4j'), c('temporal-schema', { state: 'exited', health: undefined, exitCode: 0 }), c('temporal', { health: undefined }), c('api'), c('worker'), c('web')];

describe('stackStatus', () => {
  it('a healthy stack: every service healthy, probes ok, uptime from the start time', async () => {
    const r = await stackStatus(rt(all()), cfg, { now: () => NOW });
    expect(r.running).toBe(true);
    expect(r.healthy).toBe(true);
    expect(r.services.map((s) => `${s.name}:${s.state}`)).toEqual(['postgres:healthy', 'neo4j:healthy', 'temporal-schema:completed', 'temporal:healthy', 'api:healthy', 'worker:healthy', 'web:healthy']);
    expect(r.services[0]).toMatchObject({ uptimeS: 600, image: 'img/postgres', probe: { ok: true }, urls: [{ label: 'PostgreSQL', url: 'postgres://postgres@127.0.0.1:5432/postgres' }] });
    expect(r.services.find((s) => s.name === 'temporal-ui')).toBeUndefined();
  });

  it('a failing live probe makes the service (and the stack) unhealthy even when Docker says healthy', async () => {
    const r = await stackStatus(rt(all(), ['neo4j']), cfg, { now: () => NOW });
    expect(r.healthy).toBe(false);
    expect(r.services.find((s) => s.name === 'neo4j')).toMatchObject({ state: 'healthy', healthy: false, probe: { ok: false, detail: 'ECONNREFUSED' } });
  });

  it('temporal is healthy only when its gRPC probe passes', async () => {
    const r = await stackStatus(rt(all(), ['temporal']), cfg, { now: () => NOW });
    expect(r.services.find((s) => s.name === 'temporal')).toMatchObject({ state: 'starting', healthy: false });
  });

  it('the api is ready only when /health/ready passes; the worker goes by its own healthcheck', async () => {
    const r = await stackStatus(rt(all(), ['api']), cfg, { now: () => NOW });
    expect(r.healthy).toBe(false);
    expect(r.services.find((s) => s.name === 'api')).toMatchObject({ state: 'starting', healthy: false, detail: 'running (probe: ECONNREFUSED)' });
    const w = await stackStatus(rt(all().map((x) => (x.service === 'worker' ? { ...x, health: 'unhealthy' as const } : x))), cfg, { now: () => NOW });
    expect(w.healthy).toBe(false);
    expect(w.services.find((s) => s.name === 'worker')).toMatchObject({ state: 'unhealthy', healthy: false, detail: 'running (healthcheck: unhealthy)' });
    expect(w.services.find((s) => s.name === 'worker')!.probe).toBeUndefined();
  });

  it('no containers: not running, not healthy', async () => {
    const r = await stackStatus(rt([]), cfg, { now: () => NOW });
    expect(r).toMatchObject({ running: false, healthy: false });
    expect(r.services.every((s) => s.state === 'missing')).toBe(true);
  });

  it('an optional service appears once it has a container', async () => {
    const r = await stackStatus(rt([...all(), c('temporal-ui', { health: undefined })]), cfg, { now: () => NOW });
    expect(r.services.find((s) => s.name === 'temporal-ui')).toMatchObject({ profile: 'ui', healthy: true });
  });
});

describe('alreadyUp', () => {
  const hashes = Object.fromEntries(['postgres', 'neo4j', 'temporal-schema', 'temporal', 'api', 'worker', 'web'].map((n) => [n, `h-${n}`])) as Record<ServiceName, string>;
  const opts = { services: [] as ServiceName[], timeoutMs: 1, wait: true, build: false, pull: 'missing' as const, hashes, buildTags: {} };
  const closure: ServiceName[] = ['postgres', 'neo4j', 'temporal-schema', 'temporal', 'api', 'worker', 'web'];

  it('true when every service runs healthy with the current configuration', async () => {
    expect(await alreadyUp(rt(all()), closure, opts, 100)).toBe(true);
  });
  it('false when one container has another configuration hash, is missing, or --build is given', async () => {
    expect(await alreadyUp(rt(all()), closure, { ...opts, hashes: { ...hashes, api: 'changed' } }, 100)).toBe(false);
    expect(await alreadyUp(rt(all().filter((x) => x.service !== 'web')), closure, opts, 100)).toBe(false);
    expect(await alreadyUp(rt(all()), closure, { ...opts, build: true }, 100)).toBe(false);
  });
  it('false when Temporal runs but its gRPC health is not SERVING', async () => {
    expect(await alreadyUp(rt(all(), ['temporal']), closure, opts, 100)).toBe(false);
  });
});
