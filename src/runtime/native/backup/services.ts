/**
 * services / stop / start of the native backup runtime: the supervisor's records. stop is
 * supervisor.stop; start is the caller's `startService(name)`, which starts the service's spec
 * again (this runtime need not know how a spec is made).
 */
import type { ServiceImage } from '../../../backup/runtime.js';
import type { Neo4jInstall, PostgresInstall, ProcessState, Supervisor } from '../types.js';
import type { NativeBackupContext, NativeBackupOptions } from './context.js';
import { pgInstall } from './postgres.js';

/** One supervised process as the port's ServiceImage: the "image" says which server runs it. */
export function serviceImage(s: ProcessState, pgi?: Pick<PostgresInstall, 'version' | 'binDir'>, n4i?: Pick<Neo4jInstall, 'version' | 'home'>): ServiceImage {
  const what = s.name === 'postgres' && pgi ? `PostgreSQL ${pgi.version} (${pgi.binDir})`
    : s.name === 'neo4j' && n4i ? `Neo4j ${n4i.version} (${n4i.home})`
      : s.labels['dev.helfy.command'] ?? s.name;
  return {
    service: s.name, containerId: `native:${s.name}:${s.pid}`, running: s.state === 'running',
    image: `native: ${what}`, imageId: s.labels['dev.helfy.config-hash'] ?? '', digests: [],
  };
}

export async function listServices(ctx: NativeBackupContext): Promise<ServiceImage[]> {
  const states = await ctx.o.supervisor.list();
  const pgi = states.some((s) => s.name === 'postgres') ? await pgInstall(ctx).catch(() => undefined) : undefined;
  const n4i = states.some((s) => s.name === 'neo4j') ? await ctx.o.neo4j().catch(() => undefined) : undefined;
  return states
    .map((s) => serviceImage(s, pgi, n4i))
    .sort((a, b) => a.service.localeCompare(b.service));
}

/** Stops the running ones of `services` in order; `onStopped` hears of each at once. */
export async function stopServices(supervisor: Pick<Supervisor, 'get' | 'stop'>, services: readonly string[], so: { graceS?: number; onStopped?: (service: string) => void } = {}): Promise<string[]> {
  const stopped: string[] = [];
  for (const s of services) {
    const st = await supervisor.get(s);
    if (st?.state !== 'running') continue;
    await supervisor.stop(s, so.graceS !== undefined ? { graceS: so.graceS } : {});
    stopped.push(s);
    so.onStopped?.(s);
  }
  return stopped;
}

/** Starts those of `services` that ran in this workspace and are not running, in order. */
export async function startServices(o: Pick<NativeBackupOptions, 'supervisor' | 'startService'>, services: readonly string[]): Promise<void> {
  for (const s of services) {
    const st = await o.supervisor.get(s);
    // Never started in this workspace: nothing to start again (as a missing container under Docker).
    if (!st || st.state === 'running') continue;
    await o.startService(s);
  }
}
