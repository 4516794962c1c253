/**
 * The context every part of the native StackRuntime works with: the options, the supervisor
 * (opened once, on first use), the servers (each located or installed once per helfy run), the
 * service definitions (read once, read afresh by `prepare`) and where install progress goes right
 * now. nativeRuntime (../stack.ts) builds one per runtime; tests build their own.
 */
import type { HelfyConfig } from '../../../config/load.js';
import type { Logger } from '../../../core/context.js';
import type { ServiceName } from '../../../stack/types.js';
import type { NativeLocator, NativeService } from '../services/common.js';
import type { InstallProgress, Supervisor } from '../types.js';
import { LOCK_WAIT_MS, type Installs } from './common.js';

export interface NativeRuntimeOptions {
  cfg: HelfyConfig;
  /** helfy's own environment (PATH, HOME, … for the processes; nothing else is inherited). */
  env: NodeJS.ProcessEnv;
  /** composeEnv(cfg).vars: the values the service definitions use (secrets included). */
  vars: Record<string, string>;
  log: Logger;
  /** First-use install progress outside `prepare` (default: info lines). */
  onProgress?: InstallProgress;
  /** Poll interval while waiting for a dependency (ms). */
  pollMs?: number;
  /** The servers (default: locate.ts, which may install Neo4j/Temporal on first use); tests inject their own. */
  locate?: NativeLocator;
  /** composeEnv(cfg).hashes: the dev.helfy.config-hash label of a service started without `up`'s (backup/restore). */
  hashes?: Partial<Record<ServiceName, string>>;
  /** How long up/down/stop wait for another helfy holding the workspace lock (default LOCK_WAIT_MS). */
  lockWaitMs?: number;
}

/**
 * What `prepare` and `up` redirect for their duration: where first-use install progress goes,
 * and whether the definitions' warnings are said (`prepare`) or kept to --verbose (a health check).
 */
export interface StackOutput {
  progress: InstallProgress;
  loud: boolean;
}

export interface StackContext {
  o: NativeRuntimeOptions;
  cfg: HelfyConfig;
  /** Poll interval while waiting for a dependency (ms). */
  pollMs: number;
  out: StackOutput;
  /** The workspace's supervisor, opened on first use. */
  sup: () => Promise<Supervisor>;
  /** The servers located so far (filled by the locator). */
  installs: Installs;
  locator: NativeLocator;
  /** The definitions read so far (`prepare` clears it to read them afresh). */
  services: Map<ServiceName, Promise<NativeService>>;
  /** The definition of a service, read once. */
  svc: (name: ServiceName) => Promise<NativeService>;
}

/** `f` run once; its value also handed to `keep`. A failure is not kept (the next call tries again). */
export function memo<T>(f: () => Promise<T>, keep: (v: T) => void): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f().then((v) => (keep(v), v), (e: unknown) => {
    p = undefined;
    throw e;
  }));
}

export const locateModule = () => import('../locate.js');

/** The locator of the runtime: `o.locate` (tests) or locate.ts, each server once, recorded in `installs`. */
export function stackLocator(o: NativeRuntimeOptions, installs: Installs, out: StackOutput): NativeLocator {
  const { cfg } = o;
  if (o.locate) {
    return {
      postgres: memo(() => o.locate!.postgres(), (v) => (installs.postgres = v)),
      neo4j: memo(() => o.locate!.neo4j(), (v) => (installs.neo4j = v)),
      temporal: memo(() => o.locate!.temporal(), (v) => (installs.temporal = v)),
    };
  }
  return {
    postgres: memo(async () => (await locateModule()).ensurePostgres(cfg, (l) => out.progress(l), { env: o.env }), (v) => (installs.postgres = v)),
    neo4j: memo(async () => (await locateModule()).ensureNeo4j(cfg, (l) => out.progress(l), { env: o.env }), (v) => (installs.neo4j = v)),
    temporal: memo(async () => (await locateModule()).ensureTemporal(cfg, (l) => out.progress(l), { env: o.env }), (v) => (installs.temporal = v)),
  };
}

/** The servers a service needs located before its definition can be prepared. */
export function needs(name: ServiceName): (keyof NativeLocator)[] {
  return name === 'postgres' ? ['postgres'] : name === 'neo4j' ? ['neo4j'] : name === 'temporal' || name === 'temporal-schema' ? ['temporal'] : [];
}

/**
 * The definition of a service (services.ts), read once per runtime and kept in `ctx.services`
 * (a failed read is forgotten). Warnings of the definitions (e.g. TimescaleDB missing) are said
 * once, by `up`'s prepare; a definition read for a health check (status) keeps them to --verbose.
 */
export function readService(ctx: Omit<StackContext, 'svc'>, name: ServiceName): Promise<NativeService> {
  let p = ctx.services.get(name);
  if (!p) {
    const { o, out } = ctx;
    const nlog: Logger = { ...o.log, warn: (m) => (out.loud ? o.log.warn(m) : o.log.debug(`warning: ${m}`)) };
    p = (async () => {
      const [{ nativeService }, s] = await Promise.all([import('../services.js'), ctx.sup()]);
      return nativeService(name as Parameters<typeof nativeService>[0], {
        cfg: ctx.cfg, vars: o.vars, dirs: s.dirs, log: nlog, onProgress: (l) => out.progress(l), locate: ctx.locator,
      });
    })();
    p.catch(() => ctx.services.delete(name));
    ctx.services.set(name, p);
  }
  return p;
}

/** The context of one runtime: nothing is opened, located or read until first used. */
export function stackContext(o: NativeRuntimeOptions): StackContext {
  const { cfg } = o;
  const out: StackOutput = { progress: o.onProgress ?? ((l) => o.log.info(l)), loud: false };
  let supervisor: Promise<Supervisor> | undefined;
  const sup = () => (supervisor ??= import('../supervisor.js').then((m) => m.openSupervisor(cfg.root)));
  const installs: Installs = {};
  const base = { o, cfg, pollMs: o.pollMs ?? 300, out, sup, installs, locator: stackLocator(o, installs, out), services: new Map() };
  const ctx: StackContext = { ...base, svc: (name) => readService(ctx, name) };
  return ctx;
}

/**
 * Runs `fn` holding the workspace lock (.helfy/run/.lock): two helfy processes never start or
 * stop this workspace's services at once (a second `helfy up` used to race the first one's
 * initdb). Another helfy holding it: waits `o.lockWaitMs` (LOCK_WAIT_MS), then an error naming it.
 */
export async function locked<T>(ctx: Pick<StackContext, 'o' | 'sup'>, what: string, fn: (s: Supervisor) => Promise<T>): Promise<T> {
  const s = await ctx.sup();
  return s.withLock(what, () => fn(s), { waitMs: ctx.o.lockWaitMs ?? LOCK_WAIT_MS });
}
