/**
 * Health-state logic, pure: from what Docker reports about a container (and, for services
 * whose readiness is a live probe, the probe's answer) to one state per service. `up` waits on
 * it, `status` reports it.
 */
import type { Readiness } from './types.js';

export type ContainerState = 'created' | 'running' | 'restarting' | 'paused' | 'exited' | 'dead' | 'removing';
export type DockerHealth = 'starting' | 'healthy' | 'unhealthy';

/** What helfy needs from one container listing entry. */
export interface ContainerSnapshot {
  id: string;
  name: string;
  service: string;
  state: ContainerState;
  /** Docker healthcheck status, when the container has a healthcheck. */
  health?: DockerHealth;
  exitCode?: number;
  /** Docker's human status, e.g. "Up 3 minutes (healthy)". */
  status: string;
  image: string;
  labels: Record<string, string>;
  ports: { host: string; hostPort: number; containerPort: number }[];
  createdAt: number;
  /** When a stopped container last exited (ms since epoch; 0/absent when unknown or running). */
  finishedAt?: number;
}

export type ServiceState =
  /** No container (not created yet, or removed). */
  | 'missing'
  /** Created or running, not ready yet. */
  | 'starting'
  /** Ready: Docker health healthy and/or live probe passes. */
  | 'healthy'
  /** Running but the healthcheck reports unhealthy (it may still recover). */
  | 'unhealthy'
  /** A one-shot job that exited 0. */
  | 'completed'
  /** Exited (daemon), a job that exited non-zero, or a dead container. */
  | 'failed';

export interface ServiceHealth {
  state: ServiceState;
  /** One line for humans: "running (health: starting)", "exited with code 1", ... */
  detail: string;
}

/** Parses Docker's status text ("Up 2 minutes (healthy)", "Exited (1) 3 seconds ago"). */
export function parseDockerStatus(status: string): { health?: DockerHealth; exitCode?: number } {
  const out: { health?: DockerHealth; exitCode?: number } = {};
  if (/\(healthy\)/.test(status)) out.health = 'healthy';
  else if (/\(unhealthy\)/.test(status)) out.health = 'unhealthy';
  else if (/\(health: starting\)/.test(status)) out.health = 'starting';
  const m = /^(?:Exited|Restarting) \((-?\d+)\)/.exec(status);
  if (m) out.exitCode = Number(m[1]);
  return out;
}

export interface ProbeOutcome {
  ok: boolean;
  detail: string;
}

/**
 * One service's state.
 * @param readiness how the service is declared ready (catalog)
 * @param c its container, if any
 * @param probe the live probe's last answer (only used for readiness `probe`)
 */
export function serviceHealth(readiness: Readiness, c: ContainerSnapshot | undefined, probe?: ProbeOutcome): ServiceHealth {
  if (!c) return { state: 'missing', detail: 'no container' };
  if (readiness === 'completed') {
    if (c.state === 'exited' || c.state === 'dead') {
      return c.exitCode === 0 ? { state: 'completed', detail: 'completed (exit 0)' } : { state: 'failed', detail: `job failed (exit ${c.exitCode ?? '?'})` };
    }
    return { state: 'starting', detail: c.state === 'created' ? 'created, waiting for its dependencies' : 'running' };
  }
  switch (c.state) {
    case 'exited':
    case 'dead':
      return { state: 'failed', detail: c.exitCode !== undefined ? `exited with code ${c.exitCode}` : c.state };
    case 'restarting':
      return { state: 'failed', detail: `crashed and restarting${c.exitCode !== undefined ? ` (last exit code ${c.exitCode})` : ''}` };
    case 'removing':
      return { state: 'missing', detail: 'being removed' };
    case 'created':
      return { state: 'starting', detail: 'created, waiting for its dependencies' };
    case 'paused':
      return { state: 'unhealthy', detail: 'paused' };
    case 'running':
      break;
  }
  if (c.health === 'unhealthy') return { state: 'unhealthy', detail: 'running (healthcheck: unhealthy)' };
  if (c.health === 'starting') return { state: 'starting', detail: 'running (healthcheck: starting)' };
  if (readiness === 'probe') {
    if (!probe) return { state: 'starting', detail: 'running (not probed yet)' };
    return probe.ok ? { state: 'healthy', detail: `running (${probe.detail})` } : { state: 'starting', detail: `running (probe: ${probe.detail})` };
  }
  // readiness docker-health: a container without a healthcheck counts as ready when running.
  return { state: 'healthy', detail: c.health === 'healthy' ? 'running (healthy)' : 'running (no healthcheck)' };
}

export function isReady(s: ServiceState): boolean {
  return s === 'healthy' || s === 'completed';
}

/** States after which waiting longer does not help. */
export function isFatal(s: ServiceState): boolean {
  return s === 'failed';
}
