/**
 * `helfy up`, the core: preflight (ports, images), staged start, health wait, hooks.
 *
 * Stages: the data stores (postgres, neo4j) start first; once PostgreSQL is healthy the database
 * bootstrap creates the roles and databases the rest needs (Temporal's schema job connects as
 * `helfy_temporal`); then everything else starts and helfy waits for health in dependency order,
 * one task per service. Containers are never removed on failure: they stay for inspection.
 */
import type { HelfyConfig } from '../config/load.js';
import type { Context, Logger } from '../core/context.js';
import { ExitCode, HelfyError } from '../core/errors.js';
import { describeHolder } from './runtime.js';
import { builder, configuredImage, service, servicesToBuild, withDependencies } from './catalog.js';
import { LABEL_CONFIG_HASH } from './compose-file.js';
import { formatDuration } from './duration.js';
import { isReady, serviceHealth, type ContainerSnapshot, type ServiceState } from './health.js';
import type { RuntimeDriver, RuntimeInfo, StackRuntime } from './runtime.js';
import type { ServiceName } from './types.js';
import { serviceUrls, type ServiceUrl } from './urls.js';
import { HealthWaiter, type TrackedService, type WaitOutcome } from './wait.js';

export interface UpOptions {
  /** Requested services (dependencies are added). */
  services: ServiceName[];
  timeoutMs: number;
  wait: boolean;
  build: boolean;
  pull: 'missing' | 'never';
  /** Expected dev.helfy.config-hash label per service (env.ts). */
  hashes: Record<ServiceName, string>;
  buildTags: Partial<Record<ServiceName, string>>;
  pollMs?: number;
  probeTimeoutMs?: number;
}

export interface UpHooks {
  bootstrap(log: Logger): Promise<{ changed: boolean; changes: string[]; durationMs: number }>;
  /**
   * Steps that run as soon as one service is ready, while the rest still starts: the worker can
   * only become healthy once Temporal has its namespace, so that is registered when Temporal serves.
   * A failure ends `up` with that error.
   */
  onReady?: Partial<Record<ServiceName, (log: Logger) => Promise<void>>>;
  afterHealthy(info: { services: ServiceName[]; alreadyUp: boolean }): Promise<void>;
}

export interface UpServiceResult {
  name: ServiceName;
  state: ServiceState;
  detail: string;
  /** ms from the start of `up` until ready (absent when it was already up or not waited for). */
  readyAfterMs?: number;
  urls: ServiceUrl[];
}

export interface UpResult {
  project: string;
  status: 'started' | 'already-up' | 'started-no-wait';
  /** Which runtime runs the stack (docker or native, and what exactly). */
  runtime: RuntimeInfo;
  /** The compose used (Docker only; absent when nothing had to run). */
  compose?: { flavor: 'v1' | 'v2'; version: string; command: string };
  services: UpServiceResult[];
  /** Images built by this run (absent when every image was there already). */
  built?: { services: ServiceName[]; images: string[]; durationMs: number };
  bootstrap?: { changed: boolean; changes: string[]; durationMs: number };
  durationMs: number;
}

/** Is the requested part of the stack already up with the current configuration? */
export async function alreadyUp(rt: StackRuntime, closure: ServiceName[], o: UpOptions, probeTimeoutMs: number): Promise<boolean> {
  if (o.build) return false;
  const list = await rt.containers();
  const byService = new Map(list.map((c) => [c.service, c]));
  const checks = await Promise.all(
    closure.map(async (n) => {
      const c = byService.get(n);
      if (!c || c.labels[LABEL_CONFIG_HASH] !== o.hashes[n]) return false;
      const def = service(n);
      const probe = def.readiness === 'probe' && c.state === 'running' ? await rt.probe(def, probeTimeoutMs) : undefined;
      return isReady(serviceHealth(def.readiness, c, probe).state);
    }),
  );
  return checks.every(Boolean);
}

async function preflightPorts(rt: StackRuntime, cfg: HelfyConfig, closure: ServiceName[]): Promise<void> {
  const wanted = closure.flatMap((n) => service(n).ports.map((p) => ({ service: n, port: cfg.ports[p.config], setting: p.setting })));
  if (!wanted.length) return;
  const busy = (await rt.busyPorts(wanted.map((w) => w.port))).filter((b) => b.holder.kind !== 'project-container');
  if (!busy.length) return;
  const lines = busy.map((b) => {
    const w = wanted.find((x) => x.port === b.port)!;
    return `port ${b.port} (${w.service}, ${w.setting}) on ${cfg.bindAddress} is in use by ${describeHolder(b.holder)}`;
  });
  const first = busy[0]!;
  throw new HelfyError('PORT_IN_USE', busy.length === 1 ? lines[0]! : `${busy.length} ports are in use: ${busy.map((b) => b.port).join(', ')}`, {
    details: busy.length === 1 ? [] : lines,
    hint: `Nothing was started. Stop what holds the port, or move the service: helfy init --force --${wanted.find((x) => x.port === first.port)!.setting.replace(/^HELFY_|_PORT$/g, '').toLowerCase().replace(/_/g, '-')}-port <port>.`,
    data: { ports: busy.map((b) => ({ port: b.port, holder: b.holder })) },
  });
}

async function preflightImages(rt: StackRuntime, cfg: HelfyConfig, closure: ServiceName[], o: UpOptions): Promise<void> {
  // Native services run no images (the apps' builds are checked by missingImages/build below).
  if (o.pull !== 'never' || rt.kind === 'native') return;
  const refs = [...new Set(closure.map((n) => {
    const def = service(n);
    return builder(def) ? cfg.images.node : configuredImage(def, cfg, o.buildTags);
  }))];
  const missing = await rt.missingImages(refs);
  if (missing.length) {
    throw new HelfyError('OPERATION_FAILED', `--pull never, but ${missing.length === 1 ? 'this image is' : 'these images are'} not present: ${missing.join(', ')}`, {
      exitCode: ExitCode.Environment,
      hint: 'Pull or build them first, point the HELFY_*_IMAGE settings at images you have, or use --pull missing.',
      data: { missingImages: missing },
    });
  }
}

/** Everything before anything starts: a failure here leaves the machine untouched (exit 3). */
export async function preflight(rt: StackRuntime, cfg: HelfyConfig, closure: ServiceName[], o: UpOptions): Promise<void> {
  await Promise.all([preflightPorts(rt, cfg, closure), preflightImages(rt, cfg, closure, o)]);
}

function taskTitle(s: TrackedService, t0: number): string {
  return `${s.name}: ${s.health.detail}${s.readyAt ? ` (${((s.readyAt - t0) / 1000).toFixed(1)}s)` : ''}`;
}

/** The native runtime cannot run a service without a native build (temporal-ui): refused before anything starts. */
export function checkRunnable(rt: StackRuntime, closure: ServiceName[]): void {
  if (rt.kind !== 'native') return;
  const docker = closure.filter((n) => !NATIVE_SERVICES.has(n));
  if (docker.length) {
    throw new HelfyError('USAGE', `${docker.join(', ')} ha${docker.length > 1 ? 've' : 's'} no native build: the native runtime cannot run ${docker.length > 1 ? 'them' : 'it'}`, {
      hint: 'Run it under Docker (HELFY_RUNTIME=docker helfy up temporal-ui), or leave it out.',
    });
  }
}

/** One `up` while it runs: what its stages share (the waiter, the signal that stops compose / the build, the results). */
export interface UpRun {
  ctx: Context;
  cfg: HelfyConfig;
  rt: StackRuntime;
  o: UpOptions;
  hooks: UpHooks;
  closure: ServiceName[];
  native: boolean;
  waiter: HealthWaiter;
  composeAbort: AbortController;
  composeSignal: AbortSignal;
  composeLog: (l: string) => void;
  /** A logger for hooks while the task list renders: its lines are printed afterwards. */
  quietLog: Logger;
  deferred: string[];
  toBuild: ServiceName[];
  imageOf: (n: ServiceName) => string;
  building: Promise<WaitOutcome>;
  bootstrap?: UpResult['bootstrap'];
  built?: UpResult['built'];
}

/**
 * The images helfy builds (api — which the worker runs too — and web): each once, in parallel
 * with starting the data stores, and only when its content-hash tag is missing (or --build).
 */
export async function buildApps(u: UpRun): Promise<WaitOutcome> {
  const { closure, waiter, toBuild } = u;
  if (!toBuild.length) return { kind: 'ready' };
  const users = closure.filter((n) => {
    const b = builder(service(n));
    return b !== undefined && toBuild.includes(b.name);
  });
  for (const n of users) waiter.pendingNotes.set(n, u.native ? `building the ${builder(service(n))!.name} app (npm run build)` : `building image ${u.imageOf(n)}`);
  const tb = Date.now();
  // A first build (npm ci from the registry) can take minutes: it does not count against --timeout.
  waiter.holdDeadline = true;
  const r = await u.rt.build(toBuild, { signal: u.composeSignal, onLine: u.composeLog }).finally(() => {
    waiter.holdDeadline = false;
    waiter.extendDeadline(Date.now() - tb);
  });
  for (const n of users) waiter.pendingNotes.delete(n);
  if (r.cancelled) return { kind: 'interrupted' };
  if (r.exitCode !== 0) return { kind: 'build-failed', services: toBuild, output: r.output, exitCode: r.exitCode };
  // Native: no images; the apps' build output (npm run build) in their folders.
  u.built = { services: toBuild, images: toBuild.map((n) => (u.native ? `${n} app (npm run build)` : u.imageOf(n))), durationMs: Date.now() - tb };
  return { kind: 'ready' };
}

/** Stage 1: the data stores, then (once PostgreSQL is ready) the database bootstrap. */
async function startStores(u: UpRun, stage1: ServiceName[]): Promise<WaitOutcome | undefined> {
  const { closure, waiter, o } = u;
  waiter.pendingNote = closure.includes('postgres') ? 'waiting for PostgreSQL and the database bootstrap' : undefined;
  waiter.markStarted(stage1);
  waiter.setComposeRunning(true);
  const r = await u.rt.up(stage1, { build: false, pull: o.pull, signal: u.composeSignal, onLine: u.composeLog, hashes: o.hashes });
  waiter.setComposeRunning(false);
  if (r.cancelled) return { kind: 'interrupted' };
  if (r.exitCode !== 0) {
    // Without waiting nothing else would notice the failure.
    if (!o.wait) return { kind: 'compose-failed', output: r.output, exitCode: r.exitCode };
    waiter.markComposeFailed(r.output, r.exitCode);
  }
  if (closure.includes('postgres')) {
    const out = await waiter.run(() => isReady(waiter.services.get('postgres')!.health.state));
    if (out.kind !== 'ready') return out;
    u.bootstrap = await u.hooks.bootstrap(u.quietLog);
  }
  return undefined;
}

/** Stage 2: everything (images built above: compose only creates and starts containers). */
function startRest(u: UpRun): Promise<WaitOutcome> {
  const { waiter, o } = u;
  waiter.setComposeRunning(true);
  return u.rt.up(u.closure, { build: false, pull: o.pull, signal: u.composeSignal, onLine: u.composeLog, hashes: o.hashes }).then((r): WaitOutcome => {
    waiter.setComposeRunning(false);
    if (r.cancelled) return { kind: 'interrupted' };
    if (r.exitCode !== 0) {
      waiter.markComposeFailed(r.output, r.exitCode);
      return { kind: 'compose-failed', output: r.output, exitCode: r.exitCode };
    }
    return { kind: 'ready' };
  });
}

/** The staged start: the build beside stage 1, the bootstrap, the build awaited, stage 2, the health wait. */
export async function startStages(u: UpRun): Promise<WaitOutcome> {
  const { closure, waiter, o } = u;
  const stage1 = closure.filter((n) => service(n).stage === 1);
  const stage2 = closure.filter((n) => service(n).stage === 2);
  u.building = buildApps(u);
  u.building.catch(() => undefined);
  if (stage1.length) {
    const out = await startStores(u, stage1);
    if (out) return out;
  }
  waiter.pendingNote = undefined;
  if (u.toBuild.length) {
    // Keep polling (the task list stays live) until the images are there.
    let b: WaitOutcome | undefined;
    void u.building.then((x) => (b = x), () => (b = { kind: 'ready' }));
    const out = await waiter.run(() => b !== undefined);
    const result = await u.building;
    if (out.kind !== 'ready') return out;
    if (result.kind !== 'ready') return result;
  }
  waiter.markStarted(closure);
  const composeDone = stage2.length ? startRest(u) : Promise.resolve<WaitOutcome>({ kind: 'ready' });
  if (!o.wait) return composeDone;
  const out = await waiter.run();
  u.composeAbort.abort();
  await composeDone;
  return out;
}

/** One task per service, resolved when it is ready, rejected with its state once `finished` settles. */
export function waitTasks(closure: ServiceName[], waiter: HealthWaiter, finished: Promise<void>, t0: number) {
  return closure.map((name) => ({
    title: `${name}: waiting`,
    // The title carries the elapsed time; listr's own timer is off.
    rendererOptions: { timer: { condition: false, field: '' } },
    task: (_: unknown, task: { title: string; output: string }) =>
      new Promise<void>((resolve, reject) => {
        const update = (s: TrackedService) => {
          if (s.name !== name) return;
          task.title = taskTitle(s, t0);
          if (isReady(s.health.state)) {
            off();
            resolve();
          }
        };
        const off = waiter.onChange(update);
        void finished.then(() => {
          off();
          const s = waiter.services.get(name)!;
          if (isReady(s.health.state)) resolve();
          else reject(new Error(`${name}: ${s.health.detail}`));
        });
      }),
  }));
}

/** The error a failed outcome ends `up` with (the build's or compose's last lines are printed first). */
export async function outcomeError(u: UpRun, outcome: WaitOutcome, driver: RuntimeDriver): Promise<unknown> {
  const { ctx, native, closure, waiter } = u;
  if (outcome.kind === 'interrupted') return interrupted();
  if (outcome.kind === 'hook-failed') return outcome.error;
  if (outcome.kind === 'build-failed') {
    const tail = outcome.output.slice(-40);
    ctx.log.raw(tail.map((l) => `  build | ${l}`).join('\n'));
    const what = native ? `the ${outcome.services.join(', ')} app${outcome.services.length > 1 ? 's' : ''}` : `the ${outcome.services.join(', ')} image${outcome.services.length > 1 ? 's' : ''}`;
    return new HelfyError('BUILD_FAILED', `building ${what} failed (${driver.buildCommand}, exit ${outcome.exitCode})`, {
      hint: native
        ? 'The last build lines are above. The build installs the app\'s dependencies from the npm registry (npm ci): check that it is reachable (proxy: HTTP_PROXY/HTTPS_PROXY).'
        : 'The last build lines are above. The image installs its dependencies from the npm registry inside the build: check that the engine\'s build containers reach it (proxy: HTTP_PROXY/HTTPS_PROXY; a TLS-inspecting proxy: a HELFY_NODE_IMAGE that trusts its CA).',
      data: { buildOutput: tail },
    });
  }
  if (outcome.kind === 'compose-failed') {
    // Compose gives up on a dependency that is unhealthy; blame that service, not compose.
    const bad = closure.find((n) => ['unhealthy', 'failed'].includes(waiter.services.get(n)!.health.state));
    if (!bad) {
      const tail = outcome.output.slice(-40);
      ctx.log.raw(tail.map((l) => `  ${driver.logPrefix} | ${l}`).join('\n'));
      return new HelfyError('OPERATION_FAILED', `${driver.upCommand} failed (exit ${outcome.exitCode})`, {
        hint: `The ${native ? 'output' : 'compose output'} is above. ${native ? 'Processes' : 'Containers'} that did start were left in place; \`helfy status\` shows them.`,
        data: { composeOutput: tail },
      });
    }
    outcome = { kind: 'failed', service: bad, health: waiter.services.get(bad)!.health, container: waiter.container(bad) };
  }
  if (outcome.kind === 'failed' || outcome.kind === 'timeout') {
    return unhealthyError(ctx, u.rt, outcome.kind, outcome.service, outcome.health.detail, outcome.container, u.o.timeoutMs);
  }
  return undefined;
}

/** Runs the staged start with one live task per service; returns the outcome once the task list is done. */
async function runWithTasks(u: UpRun, t0: number): Promise<WaitOutcome> {
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const tasks = u.o.wait ? waitTasks(u.closure, u.waiter, finished, t0) : [];
  const listr = tasks.length ? u.ctx.tasks.run(tasks, { concurrent: true, exitOnError: false }).catch(() => undefined) : Promise.resolve();
  try {
    const outcome = await startStages(u);
    if (outcome.kind !== 'ready') {
      // Nothing keeps running behind a failure: a build still going is stopped.
      u.composeAbort.abort();
      await u.building.catch(() => undefined);
    }
    return outcome;
  } finally {
    finish();
    await listr;
    for (const line of u.deferred) u.ctx.log.info(line);
  }
}

export async function upStack(ctx: Context, cfg: HelfyConfig, rt: StackRuntime, o: UpOptions, hooks: UpHooks): Promise<UpResult> {
  const t0 = Date.now();
  const closure = withDependencies(o.services);
  const probeTimeoutMs = o.probeTimeoutMs ?? 2000;
  checkRunnable(rt, closure);
  const base = { project: rt.project };
  const urlsOf = (n: ServiceName) => serviceUrls(service(n), cfg);

  if (await alreadyUp(rt, closure, o, probeTimeoutMs)) {
    await hooks.afterHealthy({ services: closure, alreadyUp: true });
    return {
      ...base, runtime: await rt.describe(), status: 'already-up', durationMs: Date.now() - t0,
      services: closure.map((n) => ({ name: n, state: service(n).kind === 'job' ? 'completed' : 'healthy', detail: 'already up', urls: urlsOf(n) })),
    };
  }
  // Preflight: compose present (Docker), ports free, images there — before anything starts.
  const [driver] = await Promise.all([rt.driver(), preflight(rt, cfg, closure, o)]);
  if (ctx.signal.aborted) throw interrupted();
  // Native: locate the servers and install what is missing (first use), still before anything starts.
  // The task list is not rendering yet, so the progress goes out as plain lines.
  if (rt.prepare) await rt.prepare(closure, { signal: ctx.signal, onProgress: (l) => ctx.log.info(l) });
  if (ctx.signal.aborted) throw interrupted();

  const waiter = new HealthWaiter({ services: closure, runtime: rt, deadline: t0 + o.timeoutMs, signal: ctx.signal, pollMs: o.pollMs, probeTimeoutMs, expectedHashes: o.hashes });
  const composeAbort = new AbortController();
  // Lines logged while the task list renders would garble it: collect them, print afterwards.
  const deferred: string[] = [];
  const quietLog: Logger = { ...ctx.log, info: (m) => deferred.push(m), success: (m) => deferred.push(m), warn: (m) => deferred.push(`warning: ${m}`) };
  const imageOf = (n: ServiceName) => configuredImage(service(n), cfg, o.buildTags);
  const buildNames = servicesToBuild(closure);
  const u: UpRun = {
    ctx, cfg, rt, o, hooks, closure, native: rt.kind === 'native', waiter, composeAbort, composeSignal: AbortSignal.any([ctx.signal, composeAbort.signal]),
    composeLog: (l) => ctx.log.debug(`${driver.logPrefix}: ${l}`), quietLog, deferred, imageOf,
    toBuild: o.build ? buildNames : await missingBuilds(rt, buildNames, imageOf), building: Promise.resolve({ kind: 'ready' }),
  };
  const readySteps: Promise<void>[] = [];
  const fired = new Set<ServiceName>();
  waiter.onChange((s) => {
    const step = hooks.onReady?.[s.name];
    if (!step || fired.has(s.name) || !isReady(s.health.state)) return;
    fired.add(s.name);
    readySteps.push(step(quietLog).catch((e: unknown) => waiter.abortWith(e)));
  });

  const outcome = await runWithTasks(u, t0);
  await Promise.all(readySteps);
  const error = await outcomeError(u, outcome, driver);
  if (error) throw error;

  const results: UpServiceResult[] = closure.map((n) => {
    const s = waiter.services.get(n)!;
    return { name: n, state: s.health.state, detail: s.health.detail, ...(s.readyAt ? { readyAfterMs: s.readyAt - t0 } : {}), urls: urlsOf(n) };
  });
  if (o.wait) await hooks.afterHealthy({ services: closure, alreadyUp: false });
  const { built, bootstrap } = u;
  return { ...base, runtime: await rt.describe(), ...(driver.compose ? { compose: driver.compose } : {}), status: o.wait ? 'started' : 'started-no-wait', services: results, ...(built ? { built } : {}), ...(bootstrap ? { bootstrap } : {}), durationMs: Date.now() - t0 };
}

async function missingBuilds(rt: StackRuntime, names: ServiceName[], imageOf: (n: ServiceName) => string): Promise<ServiceName[]> {
  if (!names.length) return [];
  const missing = new Set(await rt.missingImages(names.map(imageOf)));
  return names.filter((n) => missing.has(imageOf(n)));
}

/** The services the native runtime can run (temporal-ui has no native build). */
const NATIVE_SERVICES = new Set<ServiceName>(['postgres', 'neo4j', 'temporal-schema', 'temporal', 'api', 'worker', 'web']);

function interrupted(): HelfyError {
  return new HelfyError('INTERRUPTED', 'interrupted: stopped waiting for the stack', {
    hint: 'Containers were left as they are. Run `helfy up` again to continue, `helfy status` to see them, or `helfy down` to stop them.',
  });
}

async function unhealthyError(ctx: Context, rt: StackRuntime, kind: 'failed' | 'timeout', name: ServiceName, detail: string, c: ContainerSnapshot | undefined, timeoutMs: number): Promise<HelfyError> {
  let logs: string[] = [];
  if (c) {
    try {
      logs = (await rt.logs(c.id, { tail: 40 })).map((l) => l.text);
    } catch (e) {
      logs = [`(could not read the logs: ${(e as Error).message})`];
    }
  }
  const what = kind === 'timeout' ? `${name} did not become healthy within ${formatDuration(timeoutMs)} (${detail})` : `${name} failed: ${detail}`;
  if (logs.length) {
    ctx.log.raw(`Last ${logs.length} log lines of ${name}:`);
    ctx.log.raw(logs.map((l) => `  ${name} | ${l}`).join('\n'));
  } else ctx.log.raw(`${name} has no log output${c ? '' : rt.kind === 'native' ? ' (its process was not started)' : ' (no container was created)'}.`);
  return new HelfyError('STACK_UNHEALTHY', what, {
    hint: `The ${rt.kind === 'native' ? 'processes' : 'containers'} were left in place for inspection: \`helfy logs ${name}\` shows its output, \`helfy status\` the whole stack; \`helfy up\` retries, \`helfy down\` stops everything.`,
    data: { service: name, reason: kind, detail, logs },
  });
}
