/**
 * `helfy down`, the core: remove containers and network (native: stop the processes in reverse
 * dependency order); with `volumes`, the data volumes (native: the .helfy/data folders) after a
 * confirmation.
 */
import type { Context } from '../core/context.js';
import { HelfyError } from '../core/errors.js';
import type { RuntimeKind, StackRuntime } from './runtime.js';

export interface DownResult {
  project: string;
  runtime: RuntimeKind;
  volumes: boolean;
  status: 'removed' | 'nothing-to-do' | 'cancelled';
  removedContainers: string[];
  removedVolumes: { name: string; size: number }[];
  /** Volumes left in place (without --volumes). */
  keptVolumes: string[];
  durationMs: number;
}

export function formatBytes(n: number): string {
  if (n < 0) return 'size unknown';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export async function downStack(ctx: Context, rt: StackRuntime, o: { volumes: boolean }): Promise<DownResult> {
  const t0 = Date.now();
  const [containers, vols] = await Promise.all([rt.containers(), rt.volumes()]);
  const native = rt.kind === 'native';
  const base = { project: rt.project, runtime: rt.kind ?? 'docker', volumes: o.volumes };
  const volWord = native ? 'data folder' : 'data volume';
  if (o.volumes && vols.length) {
    // Asked before anything is touched (and before any task list renders).
    const list = vols.map((v) => `${v.name} (${formatBytes(v.size)})`).join(', ');
    const yes = await ctx.prompt.confirm({
      message: `Delete ${vols.length} ${volWord}${vols.length > 1 ? 's' : ''} of ${rt.project} for good: ${list}?`,
      flag: '--yes',
    });
    if (!yes) return { ...base, status: 'cancelled', removedContainers: [], removedVolumes: [], keptVolumes: vols.map((v) => v.name), durationMs: Date.now() - t0 };
  }
  if (containers.length === 0 && (!o.volumes || vols.length === 0)) {
    return { ...base, status: 'nothing-to-do', removedContainers: [], removedVolumes: [], keptVolumes: vols.map((v) => v.name), durationMs: Date.now() - t0 };
  }
  ctx.log.info(`stopping ${containers.length} ${native ? 'process' : 'container'}(s) of ${rt.project}${o.volumes ? ` and deleting its ${native ? 'data folders' : 'volumes'}` : ''}…`);
  const r = await rt.down({ volumes: o.volumes, onLine: (l) => ctx.log.debug(`${native ? 'native' : 'compose'}: ${l}`) });
  if (r.exitCode !== 0) {
    throw new HelfyError('OPERATION_FAILED', `${(await rt.driver()).downCommand} failed (exit ${r.exitCode})`, {
      details: r.output.slice(-20),
      hint: '`helfy status` shows what is left; run `helfy down` again.',
    });
  }
  const [left, leftVols] = await Promise.all([rt.containers(), o.volumes ? rt.volumes() : Promise.resolve(vols)]);
  if (left.length || (o.volumes && leftVols.length)) {
    const [cw, vw] = native ? ['process', 'data folder'] : ['container', 'volume'];
    throw new HelfyError('OPERATION_FAILED', `down left ${left.length} ${cw}(s) and ${o.volumes ? leftVols.length : 0} ${vw}(s) behind`, {
      details: [...left.map((c) => `${cw} ${c.name} (${c.status})`), ...(o.volumes ? leftVols.map((v) => `${vw} ${v.name}`) : [])],
      hint: native ? '`helfy status` shows what is left; run `helfy down` again.' : 'Something else may be using them (`docker ps -a`, `docker volume ls`); run `helfy down` again.',
    });
  }
  return {
    ...base,
    status: 'removed',
    removedContainers: containers.map((c) => c.name),
    removedVolumes: o.volumes ? vols.map((v) => ({ name: v.name, size: v.size })) : [],
    keptVolumes: o.volumes ? [] : vols.map((v) => v.name),
    durationMs: Date.now() - t0,
  };
}
