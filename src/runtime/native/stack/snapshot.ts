/**
 * A process as src/stack sees a container (id = name = service): its state, its `status` text
 * ("Up 5 minutes (pid 123) (healthy: …)", "Exited (1) 2 seconds ago"), health and exit code; and
 * what `status` says about the runtime (the servers behind it) and when each process started.
 */
import { join } from 'node:path';
import { service } from '../../../stack/catalog.js';
import type { ContainerSnapshot, DockerHealth } from '../../../stack/health.js';
import { runProbe } from '../../../stack/probes.js';
import type { RuntimeInfo } from '../../../stack/runtime.js';
import type { ServiceName } from '../../../stack/types.js';
import type { ProcessState, Supervisor } from '../types.js';
import { LABEL_COMMAND, LABEL_SERVER, ago, exitCodeOf, isNative, serverLabel, startWindowMs, type Installs } from './common.js';
import type { StackContext } from './context.js';

/** What a health check needs: the configuration, and the apps' definitions (their own checks). */
export type HealthDeps = Pick<StackContext, 'cfg' | 'svc'>;

/** Health of a running daemon whose readiness is its own check (Docker: the healthcheck). */
export async function healthOf(ctx: HealthDeps, s: ProcessState, name: ServiceName): Promise<{ health: DockerHealth; detail: string }> {
  let r: { ok: boolean; detail: string };
  try {
    // The stores' and Temporal's checks are their catalog probes: run directly, so a health check
    // (status) never builds a definition, whose locator may install Neo4j/Temporal on first use.
    // The apps' definitions locate nothing.
    if (name === 'postgres' || name === 'neo4j' || name === 'temporal') {
      const p = await runProbe(service(name), ctx.cfg, 2000);
      r = { ok: Boolean(p?.ok), detail: p?.detail ?? 'no probe' };
    } else r = await (await ctx.svc(name)).health(2000);
  } catch (e) {
    r = { ok: false, detail: (e as Error).message };
  }
  if (r.ok) return { health: 'healthy', detail: r.detail };
  return { health: Date.now() - s.startedAt < startWindowMs(name) ? 'starting' : 'unhealthy', detail: r.detail };
}

/** The process as a container: state, status text, health (daemons checked like Docker's healthcheck), exit code. */
export async function snapshot(ctx: HealthDeps, s: ProcessState): Promise<ContainerSnapshot> {
  const { cfg } = ctx;
  const name = s.name as ServiceName;
  const def = service(name);
  const ports = def.ports.map((p) => ({ host: cfg.bindAddress, hostPort: cfg.ports[p.config], containerPort: cfg.ports[p.config] }));
  const base = {
    id: s.name, name: s.name, service: s.name, image: `native: ${s.labels[LABEL_COMMAND] ?? '?'}`, labels: s.labels, ports, createdAt: s.startedAt,
  };
  if (s.state === 'exited') {
    const code = exitCodeOf(s);
    const how = s.exit ? (s.exit.code !== null ? `(${s.exit.code})` : `(${code ?? '?'}, killed by ${s.exit.signal})`) : '(no exit record: killed together with its wrapper, or the machine rebooted)';
    const at = s.exit?.at;
    return { ...base, state: 'exited', ...(code !== undefined ? { exitCode: code } : {}), status: `Exited ${how}${at ? ` ${ago(Date.now() - at)} ago` : ''}`, ...(at ? { finishedAt: at } : {}) };
  }
  const up = `Up ${ago(Date.now() - s.startedAt)} (pid ${s.pid})`;
  if (def.kind === 'daemon' && def.readiness === 'docker-health') {
    const h = await healthOf(ctx, s, name);
    return { ...base, state: 'running', health: h.health, status: `${up} (${h.health === 'starting' ? 'health: starting' : h.health}: ${h.detail})` };
  }
  return { ...base, state: 'running', status: up };
}

/** The processes of the native services (not of other names the supervisor may know). */
export async function listNative(sup: () => Promise<Supervisor>): Promise<ProcessState[]> {
  return (await (await sup()).list()).filter((s) => isNative(s.name));
}

/** The runtime in one line: the servers located in this run, else those the running processes were started with. */
export async function describeRuntime(ctx: Pick<StackContext, 'cfg' | 'sup'> & { installs: Installs }): Promise<RuntimeInfo> {
  const parts: string[] = [];
  const labels = new Map((await listNative(ctx.sup).catch(() => [])).map((s) => [s.name, s.labels[LABEL_SERVER]]));
  for (const n of ['postgres', 'neo4j', 'temporal'] as const) {
    const l = serverLabel(n, ctx.installs) ?? labels.get(n);
    if (l) parts.push(l);
  }
  return { kind: 'native', detail: `native (${parts.length ? parts.join(', ') : `processes under ${join(ctx.cfg.root, '.helfy')}`})` };
}

/** Start time (ms since epoch) of each of `ids` that is a known native process. */
export async function startTimes(sup: () => Promise<Supervisor>, ids: string[]): Promise<Record<string, number>> {
  const byName = new Map((await listNative(sup)).map((s) => [s.name, s.startedAt]));
  return Object.fromEntries(ids.filter((i) => byName.has(i)).map((i) => [i, byName.get(i)!]));
}
