/** Who holds the host ports the native services want: this workspace's processes, another helfy starting them, or a foreign process. */
import { CATALOG } from '../../../stack/catalog.js';
import type { PortHolder } from '../../../stack/runtime.js';
import { listNative } from './snapshot.js';
import type { StackContext } from './context.js';

/** Host ports of `ports` that cannot be bound, each with its holder. */
export async function busyPorts(ctx: Pick<StackContext, 'cfg' | 'sup'>, ports: number[]): Promise<{ port: number; holder: PortHolder }[]> {
  const { cfg } = ctx;
  const { isPortFree, findProcessOnPort } = await import('../../ports.js');
  const free = await Promise.all(ports.map((p) => isPortFree(cfg.bindAddress, p)));
  const busy = ports.filter((_, i) => !free[i]);
  if (!busy.length) return [];
  const [{ procStat, groupLive }, all] = await Promise.all([import('../../../core/proc.js'), listNative(ctx.sup)]);
  // Ours: a running process, and what an exited run left alive (its wrapper died, its
  // command still serves): `up` stops that leftover before it starts the service again.
  const running = all.filter((s) => s.state === 'running' || groupLive(s.pid));
  const groups = new Map(running.map((s) => [s.pid, s.name]));
  const owner = (port: number) => CATALOG.find((d) => d.ports.some((p) => cfg.ports[p.config] === port))?.name;
  return Promise.all(busy.map(async (port): Promise<{ port: number; holder: PortHolder }> => {
    const proc = await findProcessOnPort(port);
    const mine = proc ? groups.get(procStat(proc.pid)?.pgrp ?? -1) : running.find((s) => s.name === owner(port))?.name;
    if (mine) return { port, holder: { kind: 'project-container', container: mine, service: mine } };
    // Another helfy holding this workspace's lock is starting that very service right now (a
    // second `helfy up` at once): its process may not be listed or mapped yet. Not a foreign
    // holder — the lock decides (this up waits for it, then finds the service up or names it).
    const svcName = owner(port);
    if (svcName && (await (await ctx.sup()).lockHolder())) return { port, holder: { kind: 'project-container', container: svcName, service: svcName } };
    return { port, holder: proc ? { kind: 'process', ...proc } : { kind: 'unknown' } };
  }));
}
