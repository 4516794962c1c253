/**
 * Where a Swarm deployment stands, from the services and tasks the engine reports (pure: the
 * orchestration in ./swarm.ts feeds it what the SwarmPort read). A one-off step (replicated-job)
 * is done once a task completed; a long-running service is ready once a task runs and its
 * container's healthcheck says healthy (or it has none). Swarm retries a failed task itself (the
 * export's restart policies), so a failure is only a reason to name the service at the timeout,
 * not to stop waiting early.
 */
import type { ContainerHealth, SwarmService, SwarmTask } from './port.js';

export type Phase = 'ready' | 'done' | 'waiting' | 'failing';

export interface ServiceProgress {
  name: string;
  job: boolean;
  phase: Phase;
  /** One line on what the engine says (task state, its error, the container's health). */
  detail: string;
  /** Failed attempts so far (tasks that failed or were rejected). */
  failures: number;
}

const FAILED = new Set(['failed', 'rejected']);

/** The newest task Swarm still wants to run (or the newest of all). */
function current(tasks: readonly SwarmTask[]): SwarmTask | undefined {
  return tasks.find((t) => t.desiredState === 'running' || t.desiredState === 'ready' || t.desiredState === 'complete') ?? tasks[0];
}

function failureOf(t: SwarmTask): string {
  return `${t.state}${t.error ? `: ${t.error}` : ''}${t.exitCode ? ` (exit ${t.exitCode})` : ''}`;
}

export function assess(s: SwarmService, health: (containerId: string) => ContainerHealth | undefined): ServiceProgress {
  const job = s.mode.endsWith('-job');
  const failures = s.tasks.filter((t) => FAILED.has(t.state)).length;
  const lastFailure = s.tasks.find((t) => FAILED.has(t.state));
  const base = { name: s.name, job, failures };
  if (job) {
    const completed = s.tasks.filter((t) => t.state === 'complete').length;
    if (completed >= s.desired) return { ...base, phase: 'done', detail: 'completed' };
    const t = current(s.tasks);
    if (t && FAILED.has(t.state)) return { ...base, phase: 'failing', detail: `attempt ${failures} ${failureOf(t)}` };
    const detail = t ? `${t.state}${failures ? ` (after ${failures} failed attempt${failures > 1 ? 's' : ''}: ${failureOf(lastFailure!)})` : ''}` : 'no task yet';
    return { ...base, phase: failures ? 'failing' : 'waiting', detail };
  }
  const running = s.tasks.filter((t) => t.state === 'running' && t.desiredState === 'running');
  for (const t of running) {
    const h = t.containerId ? health(t.containerId) : undefined;
    if (h === 'healthy' || h === 'none') return { ...base, phase: 'ready', detail: h === 'healthy' ? 'running (healthy)' : 'running (no healthcheck)' };
  }
  const t = running[0];
  if (t) {
    const h = t.containerId ? health(t.containerId) : undefined;
    if (h === 'unhealthy') return { ...base, phase: 'failing', detail: 'running (unhealthy)' };
    return { ...base, phase: failures ? 'failing' : 'waiting', detail: `running (health: ${h ?? 'unknown'})${failures ? `, ${failures} earlier task${failures > 1 ? 's' : ''} failed (${failureOf(lastFailure!)})` : ''}` };
  }
  const c = current(s.tasks);
  if (c && FAILED.has(c.state)) return { ...base, phase: 'failing', detail: `task ${failureOf(c)}` };
  return { ...base, phase: failures ? 'failing' : 'waiting', detail: `${c ? c.state : 'no task yet'}${lastFailure ? ` (last failure: ${failureOf(lastFailure)})` : ''}` };
}

export const settled = (p: ServiceProgress) => p.phase === 'ready' || p.phase === 'done';

/**
 * The order a deployment settles in: each service after what it waits for (the depends_on of
 * the export, src/export/swarm.ts: the stores, the bootstrap, the schema and migration steps,
 * Temporal and its namespace, then the apps). Names it does not list come last.
 */
export const SETTLE_ORDER = ['postgres', 'postgres-bootstrap', 'temporal-schema', 'migrate-postgres', 'neo4j', 'migrate-neo4j', 'temporal', 'temporal-namespace', 'api', 'worker', 'web'];

/**
 * The service to name when the deployment did not settle: the first unsettled one in
 * SETTLE_ORDER. A service that fails because what it needs is not there (the API restarting while
 * PostgreSQL is unhealthy) is a consequence; what it waits for is the cause.
 */
export function culprit(progress: readonly ServiceProgress[], order: readonly string[] = SETTLE_ORDER): ServiceProgress | undefined {
  const rank = (p: ServiceProgress) => (order.indexOf(p.name) < 0 ? order.length : order.indexOf(p.name));
  return progress.filter((p) => !settled(p)).sort((a, b) => rank(a) - rank(b))[0];
}
