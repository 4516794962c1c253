/**
 * `stop` and `down` of the native runtime: dependents first (the reverse of the start order,
 * processes of unknown names first of all); each process stopped (SIGTERM, SIGKILL after its
 * grace period) and forgotten; `down --volumes` deletes `.helfy/data/<service>` once every
 * process stopped.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CATALOG, topoOrder } from '../../../stack/catalog.js';
import type { RunResult, VolumeInfo } from '../../../stack/runtime.js';
import type { Supervisor } from '../types.js';
import { isNative } from './common.js';
import type { StackContext } from './context.js';

/** Dependents first: the reverse of the start order (processes of unknown names first of all). */
export function stopOrder(names: string[]): string[] {
  const known = topoOrder(CATALOG.filter((d) => names.includes(d.name))).reverse();
  return [...names.filter((n) => !isNative(n)), ...known];
}

/** Stops and forgets each of `names` in that order, one line each; the failures (the rest are still stopped). */
export async function stopAll(s: Pick<Supervisor, 'stop' | 'forget'>, names: string[], onLine: (l: string) => void): Promise<string[]> {
  const failures: string[] = [];
  for (const n of names) {
    try {
      const was = await s.stop(n);
      await s.forget(n);
      onLine(`${n}: ${was ? 'stopped' : 'was not running'}`);
    } catch (e) {
      failures.push(`${n}: ${(e as Error).message}`);
      onLine(`${n}: could not stop: ${(e as Error).message}`);
    }
  }
  return failures;
}

/** `down` without the workspace lock: every process, dependents first; with `volumes` (and no failure) the data folders too. */
export async function downLocked(
  ctx: Pick<StackContext, 'cfg' | 'sup'>, opts: { volumes: boolean; onLine?: (l: string) => void }, volumes: () => Promise<VolumeInfo[]>,
): Promise<RunResult> {
  const t0 = Date.now();
  const output: string[] = [];
  const onLine = (l: string) => {
    output.push(l);
    opts.onLine?.(l);
  };
  const s = await ctx.sup();
  const names = (await s.list()).map((x) => x.name);
  const failures = await stopAll(s, stopOrder(names), onLine);
  if (opts.volumes && !failures.length) {
    for (const v of await volumes()) {
      await rm(join(ctx.cfg.root, v.name), { recursive: true, force: true });
      onLine(`removed ${v.name}`);
    }
  }
  return { exitCode: failures.length ? 1 : 0, output, cancelled: false, durationMs: Date.now() - t0 };
}

/** `stop` without the workspace lock: these services, dependents first; the others keep running. */
export async function stopLocked(ctx: Pick<StackContext, 'sup'>, names: string[], opts: { onLine?: (l: string) => void }): Promise<RunResult> {
  const t0 = Date.now();
  const output: string[] = [];
  const failures = await stopAll(await ctx.sup(), stopOrder(names), (l) => {
    output.push(l);
    opts.onLine?.(l);
  });
  return { exitCode: failures.length ? 1 : 0, output, cancelled: false, durationMs: Date.now() - t0 };
}
