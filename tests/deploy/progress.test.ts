/** The pure parts of `helfy deploy`: where a Swarm deployment stands, whom to name, the deploy tag, kubectl's failures. */
import { describe, expect, it } from 'vitest';
import { kubectlFailure } from '../../src/deploy/kubernetes.js';
import type { SwarmService, SwarmTask } from '../../src/deploy/port.js';
import { assess, culprit } from '../../src/deploy/progress.js';
import { deployTag } from '../../src/deploy/swarm.js';

const task = (state: string, extra: Partial<SwarmTask> = {}): SwarmTask => ({ id: state, state, desiredState: state === 'complete' ? 'complete' : state === 'failed' ? 'shutdown' : 'running', updatedAt: 1, ...extra });
const svc = (name: string, mode: SwarmService['mode'], tasks: SwarmTask[]): SwarmService => ({ name, fullName: `s_${name}`, mode, desired: 1, tasks });

describe('deploy swarm: progress', () => {
  it('a job is done once a task completed; failing while its last attempt failed', () => {
    expect(assess(svc('migrate-postgres', 'replicated-job', [task('complete'), task('failed')]), () => undefined).phase).toBe('done');
    const p = assess(svc('migrate-postgres', 'replicated-job', [task('failed', { error: 'task: non-zero exit (1)', exitCode: 1 })]), () => undefined);
    expect([p.phase, p.detail]).toEqual(['failing', 'attempt 1 failed: task: non-zero exit (1) (exit 1)']);
  });
  it('a service is ready when a running task is healthy (or has no healthcheck), not while starting or unhealthy', () => {
    const s = svc('api', 'replicated', [task('running', { containerId: 'c1' })]);
    expect(assess(s, () => 'healthy').phase).toBe('ready');
    expect(assess(s, () => 'none').detail).toBe('running (no healthcheck)');
    expect(assess(s, () => 'starting')).toMatchObject({ phase: 'waiting', detail: 'running (health: starting)' });
    expect(assess(s, () => 'unhealthy').phase).toBe('failing');
    expect(assess(svc('api', 'replicated', []), () => undefined)).toMatchObject({ phase: 'waiting', detail: 'no task yet' });
  });
  it('names the first unsettled service in dependency order: PostgreSQL before the API that fails because of it', () => {
    const progress = [
      assess(svc('api', 'replicated', [task('failed')]), () => undefined),
      assess(svc('postgres', 'replicated', [task('running', { containerId: 'p' })]), () => 'starting'),
      assess(svc('web', 'replicated', [task('running', { containerId: 'w' })]), () => 'healthy'),
    ];
    expect(culprit(progress)?.name).toBe('postgres');
    expect(culprit(progress.slice(2))).toBeUndefined();
  });
  it('the deploy tag follows the images: same sources, same tag; never latest', () => {
    const a = deployTag({ api: 'helfy-local/api:1', web: 'helfy-local/web:2' });
    expect(a).toMatch(/^deploy-[0-9a-f]{12}$/);
    expect(deployTag({ web: 'helfy-local/web:2', api: 'helfy-local/api:1' })).toBe(a);
    expect(deployTag({ api: 'helfy-local/api:1', web: 'helfy-local/web:3' })).not.toBe(a);
  });
  it('a kubectl that cannot reach its cluster is one line (exit 3) naming the cause', () => {
    const e = kubectlFailure('kubectl apply -k', { exitCode: 1, output: ['error: error validating "/x": error validating data: failed to download openapi: Get "http://localhost:8080/openapi/v2?timeout=32s": dial tcp 127.0.0.1:8080: connect: connection refused; if you choose to ignore these errors, turn validation off with --validate=false'] });
    expect([e.code, e.exitCode]).toEqual(['CONNECTION_FAILED', 3]);
    expect(e.message).not.toContain('\n');
    expect(e.message).toMatch(/^kubectl cannot reach a cluster \(kubectl apply -k\): .*connection refused$/);
  });
});
