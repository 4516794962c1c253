/** Health-state logic and the wait loop, against a fake runtime (no Docker). */
import { describe, expect, it } from 'vitest';
import { parseDockerStatus, serviceHealth, type ContainerSnapshot } from '../../src/stack/health.js';
import { HealthWaiter } from '../../src/stack/wait.js';
import type { StackRuntime } from '../../src/stack/runtime.js';
import type { ServiceName } from '../../src/stack/types.js';

function snap(service: string, over: Partial<ContainerSnapshot> = {}): ContainerSnapshot {
  return { id: `id-${service}`, name: `p-${service}-1`, service, state: 'running', status: 'Up 1 second', image: 'img', labels: {}, ports: [], createdAt: 0, ...over };
}

describe('parseDockerStatus', () => {
  it.each([
    ['Up 2 minutes (healthy)', { health: 'healthy' }],
    ['Up 3 seconds (health: starting)', { health: 'starting' }],
    ['Up 1 second (unhealthy)', { health: 'unhealthy' }],
    ['Up 5 hours', {}],
    ['Exited (1) 3 seconds ago', { exitCode: 1 }],
    ['Exited (0) About a minute ago', { exitCode: 0 }],
    ['Restarting (137) 2 seconds ago', { exitCode: 137 }],
    ['Created', {}],
  ])('%s', (status, want) => expect(parseDockerStatus(status)).toEqual(want));
});

describe('serviceHealth', () => {
  it('no container is missing', () => expect(serviceHealth('docker-health', undefined).state).toBe('missing'));
  it('docker health decides for docker-health services', () => {
    expect(serviceHealth('docker-health', snap('x', { health: 'starting' })).state).toBe('starting');
    expect(serviceHealth('docker-health', snap('x', { health: 'healthy' }))).toEqual({ state: 'healthy', detail: 'running (healthy)' });
    expect(serviceHealth('docker-health', snap('x', { health: 'unhealthy' })).state).toBe('unhealthy');
  });
  it('an exited daemon has failed, with its exit code', () => {
    expect(serviceHealth('docker-health', snap('x', { state: 'exited', exitCode: 137 }))).toEqual({ state: 'failed', detail: 'exited with code 137' });
  });
  it('a job completes with exit 0 and fails otherwise', () => {
    expect(serviceHealth('completed', snap('j', { state: 'exited', exitCode: 0 })).state).toBe('completed');
    expect(serviceHealth('completed', snap('j', { state: 'exited', exitCode: 2 }))).toEqual({ state: 'failed', detail: 'job failed (exit 2)' });
    expect(serviceHealth('completed', snap('j')).state).toBe('starting');
  });
  it('probe services: an open port is not enough, the probe must pass', () => {
    expect(serviceHealth('probe', snap('t')).state).toBe('starting');
    expect(serviceHealth('probe', snap('t'), { ok: false, detail: 'WorkflowService NOT_SERVING' })).toEqual({ state: 'starting', detail: 'running (probe: WorkflowService NOT_SERVING)' });
    expect(serviceHealth('probe', snap('t'), { ok: true, detail: 'SERVING' }).state).toBe('healthy');
    // An image healthcheck, when there is one, must pass as well.
    expect(serviceHealth('probe', snap('t', { health: 'starting' }), { ok: true, detail: 'SERVING' }).state).toBe('starting');
  });
  it('created containers wait for their dependencies', () => {
    expect(serviceHealth('docker-health', snap('x', { state: 'created' }))).toEqual({ state: 'starting', detail: 'created, waiting for its dependencies' });
  });
});

/** A fake runtime whose container list follows a script: one entry per tick. */
function fakeRuntime(ticks: ContainerSnapshot[][], probeOk: (tick: number) => boolean = () => true): StackRuntime & { tick: number } {
  const rt = {
    project: 'p',
    kind: 'docker',
    tick: 0,
    async driver() {
      return { upCommand: 'docker-compose up', buildCommand: 'docker-compose build', downCommand: 'docker-compose down', logPrefix: 'compose', compose: { flavor: 'v1' as const, version: '1.29.2', command: 'docker-compose' } };
    },
    async containers() {
      const t = Math.min(rt.tick, ticks.length - 1);
      rt.tick++;
      return ticks[t]!;
    },
    async probe() {
      return { ok: probeOk(rt.tick), detail: probeOk(rt.tick) ? 'SERVING' : 'NOT_SERVING', durationMs: 1 };
    },
  } as unknown as StackRuntime & { tick: number };
  return rt;
}

function waiter(services: ServiceName[], rt: StackRuntime, deadlineMs = 5_000, signal = new AbortController().signal) {
  const w = new HealthWaiter({ services, runtime: rt, deadline: Date.now() + deadlineMs, signal, pollMs: 1 });
  w.markStarted(services);
  return w;
}

describe('HealthWaiter', () => {
  it('is ready once every service is, in any order of arrival', async () => {
    const rt = fakeRuntime([
      [snap('postgres', { health: 'starting' })],
      [snap('postgres', { health: 'healthy' }), snap('temporal-schema')],
      [snap('postgres', { health: 'healthy' }), snap('temporal-schema', { state: 'exited', exitCode: 0 }), snap('temporal')],
    ]);
    const w = waiter(['postgres', 'temporal-schema', 'temporal'], rt);
    const seen: string[] = [];
    w.onChange((s) => seen.push(`${s.name}:${s.health.state}`));
    expect(await w.run()).toEqual({ kind: 'ready' });
    expect(seen).toEqual(expect.arrayContaining(['postgres:starting', 'postgres:healthy', 'temporal-schema:completed', 'temporal:healthy']));
    expect(seen.indexOf('postgres:healthy')).toBeLessThan(seen.indexOf('temporal:healthy'));
  });

  it('fails fast on an exited container, naming it', async () => {
    const rt = fakeRuntime([[snap('postgres', { health: 'healthy' }), snap('neo4j', { state: 'exited', exitCode: 1, finishedAt: Date.now() + 1000 })]]);
    const out = await waiter(['postgres', 'neo4j'], rt).run();
    expect(out).toMatchObject({ kind: 'failed', service: 'neo4j', health: { detail: 'exited with code 1' } });
  });

  it('times out naming the first service that is not ready while its dependencies are', async () => {
    const rt = fakeRuntime([[snap('postgres', { health: 'healthy' }), snap('temporal-schema', { state: 'exited', exitCode: 0, finishedAt: Date.now() + 1000 }), snap('temporal')]], () => false);
    const out = await waiter(['postgres', 'temporal-schema', 'temporal'], rt, 50).run();
    expect(out).toMatchObject({ kind: 'timeout', service: 'temporal', health: { state: 'starting' } });
  });

  it('does not count a container of an older configuration as ready', async () => {
    const old = snap('api', { health: 'healthy', labels: { 'dev.helfy.config-hash': 'old' } });
    const fresh = snap('api', { health: 'healthy', labels: { 'dev.helfy.config-hash': 'new' } });
    const rt = fakeRuntime([[old], [old], [fresh]]);
    const w = new HealthWaiter({ services: ['api'], runtime: rt, deadline: Date.now() + 5000, signal: new AbortController().signal, pollMs: 1, expectedHashes: { api: 'new' } });
    w.markStarted(['api']);
    expect(await w.run()).toEqual({ kind: 'ready' });
    expect(rt.tick).toBe(3);
  });

  it('a container stopped before this up is being restarted, not failed, while compose runs', async () => {
    const stale = snap('web', { state: 'exited', exitCode: 137, finishedAt: Date.now() - 60_000 });
    const rt = fakeRuntime([[stale], [stale], [snap('web', { health: 'healthy' })]]);
    const w = waiter(['web'], rt);
    w.setComposeRunning(true);
    const done = w.run();
    setTimeout(() => w.setComposeRunning(false), 20);
    expect(await done).toEqual({ kind: 'ready' });
  });

  it('is not ready while compose still runs (it may still replace containers)', async () => {
    const rt = fakeRuntime([[snap('api', { health: 'healthy' })]]);
    const w = waiter(['api'], rt, 100);
    w.setComposeRunning(true);
    expect((await w.run()).kind).toBe('timeout');
  });

  it('services compose was not asked to start yet only show the pending note', async () => {
    const rt = fakeRuntime([[snap('postgres', { health: 'healthy' }), snap('web', { state: 'exited', exitCode: 1, finishedAt: Date.now() + 1000 })]]);
    const w = new HealthWaiter({ services: ['postgres', 'web'], runtime: rt, deadline: Date.now() + 5000, signal: new AbortController().signal, pollMs: 1 });
    w.markStarted(['postgres']);
    w.pendingNote = 'waiting for the bootstrap';
    expect(await w.run(() => w.services.get('postgres')!.health.state === 'healthy')).toEqual({ kind: 'ready' });
    expect(w.services.get('web')!.health).toEqual({ state: 'missing', detail: 'waiting for the bootstrap' });
  });

  it('stops at once when interrupted', async () => {
    const ac = new AbortController();
    const rt = fakeRuntime([[snap('postgres', { health: 'starting' })]]);
    const w = waiter(['postgres'], rt, 60_000, ac.signal);
    setTimeout(() => ac.abort(), 20);
    const t0 = Date.now();
    expect(await w.run()).toEqual({ kind: 'interrupted' });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('reports a compose failure when no container explains it', async () => {
    let now = 1_000_000;
    const rt = fakeRuntime([[]]);
    const w = new HealthWaiter({ services: ['postgres'], runtime: rt, deadline: now + 60_000, signal: new AbortController().signal, pollMs: 1, now: () => (now += 500) });
    w.markStarted(['postgres']);
    w.markComposeFailed(['ERROR: pull access denied for nope'], 1);
    expect(await w.run()).toMatchObject({ kind: 'compose-failed', exitCode: 1 });
  });
});
