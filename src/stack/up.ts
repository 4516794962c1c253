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
import { describeHolder } from '../runtime/ports.js';
import { builder, configuredImage, service, servicesToBuild, withDependencies } from './catalog.js';
import { LABEL_CONFIG_HASH } from './compose-file.js';
import { formatDuration } from './duration.js';
import { isReady, serviceHealth, type ContainerSnapshot, type ServiceState } from './health.js';
import type { RuntimeInfo, StackRuntime } from './runtime.js';
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

export async function upStack(ctx: Context, cfg: HelfyConfig, rt: StackRuntime, o: UpOptions, hooks: UpHooks): Promise<UpResult> {
  const t0 = Date.now();
  const closure = withDependencies(o.services);
  const probeTimeoutMs = o.probeTimeoutMs ?? 2000;
  const native = rt.kind === 'native';
  if (native) {
    const docker = closure.filter((n) => !NATIVE_SERVICES.has(n));
    if (docker.length) {
      throw new HelfyError('USAGE', `${docker.join(', ')} ha${docker.length > 1 ? 've' : 's'} no native build: the native runtime cannot run ${docker.length > 1 ? 'them' : 'it'}`, {
        hint: 'Run it under Docker (HELFY_RUNTIME=docker helfy up temporal-ui), or leave it out.',
      });
    }
  }
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
  const composeInfo = driver.compose;
  const { upCommand, buildCommand } = driver;

  const waiter = new HealthWaiter({ services: closure, runtime: rt, deadline: t0 + o.timeoutMs, signal: ctx.signal, pollMs: o.pollMs, probeTimeoutMs, expectedHashes: o.hashes });
  const composeAbort = new AbortController();
  const composeSignal = AbortSignal.any([ctx.signal, composeAbort.signal]);
  const composeLog = (l: string) => ctx.log.debug(`${driver.logPrefix}: ${l}`);
  // Lines logged while the task list renders would garble it: collect them, print afterwards.
  const deferred: string[] = [];
  const quietLog: Logger = { ...ctx.log, info: (m) => deferred.push(m), success: (m) => deferred.push(m), warn: (m) => deferred.push(`warning: ${m}`) };
  let bootstrap: UpResult['bootstrap'];
  let built: UpResult['built'];
  const readySteps: Promise<void>[] = [];
  const fired = new Set<ServiceName>();
  waiter.onChange((s) => {
    const step = hooks.onReady?.[s.name];
    if (!step || fired.has(s.name) || !isReady(s.health.state)) return;
    fired.add(s.name);
    readySteps.push(step(quietLog).catch((e: unknown) => waiter.abortWith(e)));
  });

  // The images helfy builds (api — which the worker runs too — and web): each once, in parallel
  // with starting the data stores, and only when its content-hash tag is missing (or --build).
  const buildNames = servicesToBuild(closure);
  const imageOf = (n: ServiceName) => configuredImage(service(n), cfg, o.buildTags);
  const toBuild = o.build ? buildNames : await missingBuilds(rt, buildNames, imageOf);
  const runBuild = async (): Promise<WaitOutcome> => {
    if (!toBuild.length) return { kind: 'ready' };
    const users = closure.filter((n) => {
      const b = builder(service(n));
      return b !== undefined && toBuild.includes(b.name);
    });
    for (const n of users) waiter.pendingNotes.set(n, native ? `building the ${builder(service(n))!.name} app (npm run build)` : `building image ${imageOf(n)}`);
    const tb = Date.now();
    // A first build (npm ci from the registry) can take minutes: it does not count against --timeout.
    waiter.holdDeadline = true;
    const r = await rt.build(toBuild, { signal: composeSignal, onLine: composeLog }).finally(() => {
      waiter.holdDeadline = false;
      waiter.extendDeadline(Date.now() - tb);
    });
    for (const n of users) waiter.pendingNotes.delete(n);
    if (r.cancelled) return { kind: 'interrupted' };
    if (r.exitCode !== 0) return { kind: 'build-failed', services: toBuild, output: r.output, exitCode: r.exitCode };
    // Native: no images; the apps' build output (npm run build) in their folders.
    built = { services: toBuild, images: toBuild.map((n) => (native ? `${n} app (npm run build)` : imageOf(n))), durationMs: Date.now() - tb };
    return { kind: 'ready' };
  };

  let building: Promise<WaitOutcome> = Promise.resolve({ kind: 'ready' });
  const flow = async (): Promise<WaitOutcome> => {
    const stage1 = closure.filter((n) => service(n).stage === 1);
    const stage2 = closure.filter((n) => service(n).stage === 2);
    building = runBuild();
    building.catch(() => undefined);
    if (stage1.length) {
      waiter.pendingNote = closure.includes('postgres') ? 'waiting for PostgreSQL and the database bootstrap' : undefined;
      waiter.markStarted(stage1);
      waiter.setComposeRunning(true);
      const r = await rt.up(stage1, { build: false, pull: o.pull, signal: composeSignal, onLine: composeLog, hashes: o.hashes });
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
        bootstrap = await hooks.bootstrap(quietLog);
      }
    }
    waiter.pendingNote = undefined;
    if (toBuild.length) {
      // Keep polling (the task list stays live) until the images are there.
      let b: WaitOutcome | undefined;
      void building.then((x) => (b = x), () => (b = { kind: 'ready' }));
      const out = await waiter.run(() => b !== undefined);
      const result = await building;
      if (out.kind !== 'ready') return out;
      if (result.kind !== 'ready') return result;
    }
    let composeDone: Promise<WaitOutcome> = Promise.resolve({ kind: 'ready' });
    waiter.markStarted(closure);
    if (stage2.length) {
      waiter.setComposeRunning(true);
      // Images were built above: compose only creates and starts containers.
      composeDone = rt.up(closure, { build: false, pull: o.pull, signal: composeSignal, onLine: composeLog, hashes: o.hashes }).then((r): WaitOutcome => {
        waiter.setComposeRunning(false);
        if (r.cancelled) return { kind: 'interrupted' };
        if (r.exitCode !== 0) {
          waiter.markComposeFailed(r.output, r.exitCode);
          return { kind: 'compose-failed', output: r.output, exitCode: r.exitCode };
        }
        return { kind: 'ready' };
      });
    }
    if (!o.wait) return composeDone;
    const out = await waiter.run();
    composeAbort.abort();
    await composeDone;
    return out;
  };

  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const tasks = o.wait
    ? closure.map((name) => ({
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
      }))
    : [];
  const listr = tasks.length ? ctx.tasks.run(tasks, { concurrent: true, exitOnError: false }).catch(() => undefined) : Promise.resolve();
  let outcome: WaitOutcome;
  try {
    outcome = await flow();
    if (outcome.kind !== 'ready') {
      // Nothing keeps running behind a failure: a build still going is stopped.
      composeAbort.abort();
      await building.catch(() => undefined);
    }
  } finally {
    finish();
    await listr;
    for (const line of deferred) ctx.log.info(line);
  }

  await Promise.all(readySteps);
  if (outcome.kind === 'interrupted') throw interrupted();
  if (outcome.kind === 'hook-failed') throw outcome.error;
  if (outcome.kind === 'build-failed') {
    const tail = outcome.output.slice(-40);
    ctx.log.raw(tail.map((l) => `  build | ${l}`).join('\n'));
    const what = native ? `the ${outcome.services.join(', ')} app${outcome.services.length > 1 ? 's' : ''}` : `the ${outcome.services.join(', ')} image${outcome.services.length > 1 ? 's' : ''}`;
    throw new HelfyError('OPERATION_FAILED', `building ${what} failed (${buildCommand}, exit ${outcome.exitCode})`, {
      hint: native
        ? 'The last build lines are above. The build installs the app\'s dependencies from the npm registry (npm ci): check that it is reachable (proxy: HTTP_PROXY/HTTPS_PROXY).'
        : 'The last build lines are above. The image installs its dependencies from the npm registry inside the build: check that the engine\'s build containers reach it (proxy: HTTP_PROXY/HTTPS_PROXY; a TLS-inspecting proxy: a HELFY_NODE_IMAGE that trusts its CA).',
      data: { buildOutput: tail },
    });
  }
  if (outcome.kind === 'compose-failed') {
    // Compose gives up on a dependency that is unhealthy; blame that service, not compose.
    const bad = closure.find((n) => ['unhealthy', 'failed'].includes(waiter.services.get(n)!.health.state));
    if (bad) outcome = { kind: 'failed', service: bad, health: waiter.services.get(bad)!.health, container: waiter.container(bad) };
    else {
      const tail = outcome.output.slice(-40);
      ctx.log.raw(tail.map((l) => `  ${native ? 'native' : 'compose'} | ${l}`).join('\n'));
      throw new HelfyError('OPERATION_FAILED', `${upCommand} failed (exit ${outcome.exitCode})`, {
        hint: `The ${native ? 'output' : 'compose output'} is above. ${native ? 'Processes' : 'Containers'} that did start were left in place; \`helfy status\` shows them.`,
        data: { composeOutput: tail },
      });
    }
  }
  if (outcome.kind === 'failed' || outcome.kind === 'timeout') {
    throw await unhealthyError(ctx, rt, outcome.kind, outcome.service, outcome.health.detail, outcome.container, o.timeoutMs);
  }

  const results: UpServiceResult[] = closure.map((n) => {
    const s = waiter.services.get(n)!;
    return { name: n, state: s.health.state, detail: s.health.detail, ...(s.readyAt ? { readyAfterMs: s.readyAt - t0 } : {}), urls: urlsOf(n) };
  });
  if (o.wait) await hooks.afterHealthy({ services: closure, alreadyUp: false });
  return { ...base, runtime: await rt.describe(), ...(composeInfo ? { compose: composeInfo } : {}), status: o.wait ? 'started' : 'started-no-wait', services: results, ...(built ? { built } : {}), ...(bootstrap ? { bootstrap } : {}), durationMs: Date.now() - t0 };
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
