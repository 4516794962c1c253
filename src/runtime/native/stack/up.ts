/**
 * `up` of the native runtime, like compose: the services in dependency order, each after its
 * `healthy` / `completed` dependencies are reached; one already running with the same
 * configuration is kept, one whose configuration changed is restarted, a job that completed with
 * the same configuration is not run again; leftovers of a run whose wrapper died are stopped first.
 */
import { CATALOG, service, topoOrder } from '../../../stack/catalog.js';
import { LABEL_CONFIG_HASH } from '../../../stack/compose-file.js';
import type { RunResult, StackUpOptions } from '../../../stack/runtime.js';
import type { ServiceName } from '../../../stack/types.js';
import type { ProcessSpec, ProcessState, Supervisor } from '../types.js';
import { LABEL_COMMAND, LABEL_SERVER, LABEL_SPEC_HASH, exitCodeOf, serverLabel } from './common.js';
import type { StackContext } from './context.js';
import { healthOf } from './snapshot.js';

/** Waits until `dep` satisfies `cond`; a string when it cannot (it failed), undefined when it did. */
export async function waitFor(
  ctx: Pick<StackContext, 'cfg' | 'svc' | 'sup' | 'pollMs'>, dep: ServiceName, cond: 'healthy' | 'completed', signal?: AbortSignal,
): Promise<string | undefined | 'cancelled'> {
  for (;;) {
    if (signal?.aborted) return 'cancelled';
    const s = await (await ctx.sup()).get(dep);
    if (!s) return `dependency ${dep} is not running`;
    if (cond === 'completed') {
      if (s.state === 'exited') return exitCodeOf(s) === 0 ? undefined : `dependency ${dep} did not complete successfully (exit ${exitCodeOf(s) ?? '?'})`;
    } else {
      if (s.state === 'exited') return `dependency ${dep} exited (${exitCodeOf(s) ?? '?'})`;
      const h = await healthOf(ctx, s, dep);
      if (h.health === 'healthy') return undefined;
    }
    await new Promise((r) => setTimeout(r, ctx.pollMs));
  }
}

/** Like compose: `healthy` / `completed` dependencies of `name` must be reached before it starts (the first that fails, in order). */
export async function waitForDependencies(
  ctx: Pick<StackContext, 'cfg' | 'svc' | 'sup' | 'pollMs'>, name: ServiceName, signal?: AbortSignal,
): Promise<string | undefined | 'cancelled'> {
  for (const [dep, cond] of Object.entries(service(name).dependsOn) as [ServiceName, string][]) {
    if (cond !== 'healthy' && cond !== 'completed') continue;
    const why = await waitFor(ctx, dep, cond, signal);
    if (why) return why;
  }
  return undefined;
}

/**
 * What `up` does with a service's current process: `keep` it (running, same configuration and
 * spec), `restart` it (running, changed), leave a job `completed` earlier with the same
 * configuration, or `start` it.
 */
export function upAction(cur: ProcessState | undefined, kind: 'daemon' | 'job', configHash: string, specHash: string): 'keep' | 'restart' | 'completed' | 'start' {
  const same = cur && cur.labels[LABEL_CONFIG_HASH] === configHash && cur.labels[LABEL_SPEC_HASH] === specHash;
  if (cur?.state === 'running') return same ? 'keep' : 'restart';
  if (cur && kind === 'job' && same && exitCodeOf(cur) === 0) return 'completed';
  return 'start';
}

/** The labels a process starts with: its definition's, the configuration and spec hashes, the command line (300 chars at most), the server. */
export function startLabels(spec: ProcessSpec, configHash: string, specHash: string, server: string | undefined): Record<string, string> {
  return {
    ...spec.labels, [LABEL_CONFIG_HASH]: configHash, [LABEL_SPEC_HASH]: specHash,
    [LABEL_COMMAND]: [spec.command, ...spec.args].join(' ').slice(0, 300), ...(server ? { [LABEL_SERVER]: server } : {}),
  };
}

/** One service of `up`, its dependencies reached: kept, restarted, or prepared and started. */
export async function upService(ctx: StackContext, s: Supervisor, name: ServiceName, opts: StackUpOptions, say: (l: string) => void): Promise<void> {
  const def = service(name);
  const ns = await ctx.svc(name);
  const { specHash } = await import('../services/common.js');
  const specHashOf = () => ns.spec.labels[LABEL_CONFIG_HASH] ?? specHash(ns.spec);
  const hash = specHashOf();
  const configHash = opts.hashes?.[name] ?? ctx.o.hashes?.[name] ?? hash;
  const cur = await s.get(name);
  const action = upAction(cur, def.kind, configHash, hash);
  if (action === 'keep') {
    say(`${name}: running (pid ${cur!.pid})`);
    return;
  }
  if (action === 'restart') {
    say(`${name}: configuration changed, restarting`);
    await s.stop(name);
  } else if (action === 'completed') {
    say(`${name}: completed earlier`);
    return;
  }
  if (cur) {
    // A run whose wrapper died (kill -9 of the wrapper alone) may have left its command
    // alive, still serving and holding the port: stopped (through the supervisor, which knows
    // the group is ours) before its record is forgotten, or nothing would track it again.
    if (cur.state === 'exited' && (await s.stop(name))) say(`${name}: stopped what an earlier run left running (pid ${cur.pid})`);
    await s.forget(name);
  }
  const prev = ctx.out.progress;
  ctx.out.progress = say;
  try {
    await ns.prepare();
  } finally {
    ctx.out.progress = prev;
  }
  // prepare() may have re-picked a port (or the app was just built): the hash is of what actually starts.
  const startHash = specHashOf();
  const server = serverLabel(name, ctx.installs);
  const st = await s.start({ ...ns.spec, labels: startLabels(ns.spec, opts.hashes?.[name] ?? ctx.o.hashes?.[name] ?? startHash, startHash, server) });
  say(`${name}: started (pid ${st.pid})`);
}

/** `up` without the workspace lock (nativeRuntime takes it): the services in dependency order. */
export async function upLocked(ctx: StackContext, names: ServiceName[], opts: StackUpOptions): Promise<RunResult> {
  const t0 = Date.now();
  const output: string[] = [];
  const say = (l: string) => {
    output.push(l);
    opts.onLine?.(l);
  };
  const result = (exitCode: number, cancelled = false): RunResult => ({ exitCode, output, cancelled, durationMs: Date.now() - t0 });
  const s = await ctx.sup();
  const order = topoOrder(CATALOG.filter((d) => names.includes(d.name)));
  for (const name of order) {
    if (opts.signal?.aborted) return result(130, true);
    const why = await waitForDependencies(ctx, name, opts.signal);
    if (why === 'cancelled') return result(130, true);
    if (why) {
      say(`${name}: ${why}`);
      return result(1);
    }
    await upService(ctx, s, name, opts, say);
  }
  return result(0);
}
