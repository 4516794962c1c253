/**
 * `helfy dev`, the core: the apps' dependencies, the data stores, then api / worker / web as
 * local processes with live reload until Ctrl-C.
 *
 * Local processes, not bind-mounted containers: file watching through bind mounts and npm
 * installs inside containers are slow or unreliable on the vfs storage driver and on Docker
 * Desktop, while tsx watch / Vite on the host reload in about a second; the same processes also
 * serve a native (Docker-less) stack. They connect to the stores' published ports.
 */
import { join } from 'node:path';
import type { HelfyConfig } from '../config/load.js';
import { appSource, workspaceAppDir, type AppName } from '../config/apps.js';
import type { Context } from '../core/context.js';
import { HelfyError } from '../core/errors.js';
import { startGroupProcess, runGroupProcess, SpawnFailedError, type GroupProcess } from '../runtime/process/group.js';
import { isPortFree } from '../runtime/ports.js';
import type { ServiceName } from '../stack/types.js';
import { prefixer } from '../stack/logs.js';
import { childEnvironment, connectHost, devEnvironment, DEV_PROCESSES, type DevProcessName } from '../apps/env.js';
import { installState, writeStamp } from '../apps/install.js';

const APP_OF: Record<DevProcessName, AppName> = { api: 'api', worker: 'api', web: 'web' };
const STORES = ['postgres', 'neo4j', 'temporal'] as const;
export const STOP_GRACE_MS = 5000;

export interface DevOptions {
  processes: DevProcessName[];
  /** false: use the stores at the configured addresses instead of starting them in Docker. */
  stores: boolean;
  timeoutMs: number;
}

export interface DevResult {
  processes: { name: DevProcessName; pid: number; exitCode: number | null; forced: boolean }[];
  installed: AppName[];
  stoppedContainers: string[];
}

/** The command line of one dev process, from the app's own node_modules (no npx, no shell). */
export function devCommand(name: DevProcessName, dir: string, cfg: HelfyConfig): { command: string; args: string[] } {
  if (name === 'web') {
    return { command: process.execPath, args: [join(dir, 'node_modules', 'vike', 'bin.js'), 'dev', '--port', String(cfg.ports.web), '--host', cfg.bindAddress] };
  }
  const entry = name === 'api' ? 'src/server.ts' : 'src/worker.ts';
  return { command: process.execPath, args: [join(dir, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'watch', '--clear-screen=false', entry] };
}

/** The apps the requested processes run from; a missing workspace copy is a usage error. */
export function requireApps(root: string, processes: readonly DevProcessName[]): Map<AppName, string> {
  const apps = new Map<AppName, string>();
  const missing: AppName[] = [];
  for (const p of processes) {
    const app = APP_OF[p];
    if (apps.has(app) || missing.includes(app)) continue;
    const src = appSource(root, app);
    if (src.from === 'workspace') apps.set(app, src.dir);
    else missing.push(app);
  }
  if (missing.length) {
    throw new HelfyError('USAGE', `no ${missing.map((a) => `apps/${a}`).join(' or ')} in this workspace: helfy dev runs the apps from their workspace sources`, {
      hint: `\`helfy init\` scaffolds them (${missing.map((a) => workspaceAppDir(root, a)).join(', ')}) from the bundled templates; then edit and run them there.`,
      data: { missing },
    });
  }
  return apps;
}

/** `npm ci` for each app whose dependencies are missing or stale; returns the apps it installed. */
export async function ensureDependencies(ctx: Pick<Context, 'log' | 'env' | 'signal'>, apps: Map<AppName, string>): Promise<AppName[]> {
  const installed: AppName[] = [];
  for (const [app, dir] of apps) {
    const state = installState(dir);
    if (!state.needed) {
      ctx.log.debug(`${app}: dependencies up to date`);
      continue;
    }
    ctx.log.info(`${app}: installing dependencies (npm ci: ${state.reason === 'no-node_modules' ? 'no node_modules' : 'package-lock.json changed'})...`);
    const t0 = Date.now();
    const tail: string[] = [];
    let r: { code: number | null; cancelled: boolean };
    try {
      r = await runGroupProcess({
        name: `${app} npm ci`, command: 'npm', args: ['ci', '--no-audit', '--no-fund'], cwd: dir,
        env: childEnvironment(ctx.env, {}), signal: ctx.signal,
        onLine: (l) => {
          tail.push(l);
          if (tail.length > 40) tail.shift();
          ctx.log.info(`  ${app} | npm ${l}`);
        },
      });
    } catch (e) {
      throw new HelfyError('OPERATION_FAILED', `${app}: could not run npm ci (${(e as Error).message})`, { exitCode: 3, hint: 'Is npm on PATH? It comes with Node.js.' });
    }
    if (r.cancelled) throw interrupted();
    if (r.code !== 0) {
      throw new HelfyError('BUILD_FAILED', `${app}: npm ci failed (exit ${r.code})`, {
        hint: `Its last lines are above. Run \`npm ci\` in ${dir} to see the whole output.`, data: { output: tail },
      });
    }
    writeStamp(dir);
    installed.push(app);
    ctx.log.success(`${app}: dependencies installed in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }
  return installed;
}

/** Starts the data stores exactly as `helfy up postgres neo4j temporal` does; stops the app containers first. */
async function startStores(ctx: Context, cfg: HelfyConfig, o: DevOptions): Promise<string[]> {
  const { openStack } = await import('../stack/open.js');
  const { rt, env } = await openStack(ctx, { requireSecrets: true, compose: true }).catch((e: unknown) => {
    // Dev can also run against stores that are not Docker containers.
    if (e instanceof HelfyError && e.code === 'DOCKER_UNREACHABLE') {
      throw new HelfyError(e.code, e.message, { hint: `${e.hint ?? ''} Or, with PostgreSQL, Neo4j and Temporal running elsewhere (HELFY_POSTGRES_HOST/PORT, ...): helfy dev --no-stores.`.trim(), data: e.data, details: e.details });
    }
    throw e;
  });
  // The app containers publish the ports the dev processes listen on.
  const running = (await rt.containers()).filter((c) => (DEV_PROCESSES as readonly string[]).includes(c.service) && c.state === 'running').map((c) => c.service);
  if (running.length) {
    // Native: the built apps run as supervised processes on the same ports; Docker: their containers.
    const native = rt.kind === 'native';
    const plural = running.length > 1;
    const what = `${running.join(', ')} ${native ? `process${plural ? 'es' : ''}` : `container${plural ? 's' : ''}`}`;
    ctx.log.info(native ? `stopping the native ${what} (helfy dev runs them in watch mode on the same ports)` : `stopping the ${what} (helfy dev runs them as local processes on the same ports)`);
    const driver = await rt.driver();
    const r = await rt.stop(running as ServiceName[], { signal: ctx.signal, onLine: (l) => ctx.log.debug(`${driver.logPrefix}: ${l}`) });
    if (r.cancelled) throw interrupted();
    if (r.exitCode !== 0) {
      throw new HelfyError('OPERATION_FAILED', native ? `could not stop the native ${running.join(', ')} process(es)` : `could not stop the ${running.join(', ')} container(s) (compose stop, exit ${r.exitCode})`, {
        ...(native ? { details: r.output.slice(-10) } : {}), hint: 'Stop them with `helfy down`, then run helfy dev again.',
      });
    }
  }
  const [{ upStack }, { afterHealthy, bootstrapDatabases, registerNamespaceEarly }, { writeConfigMounts }] = await Promise.all([
    import('../stack/up.js'), import('../stack/bootstrap.js'), import('../stack/config-mounts.js'),
  ]);
  for (const w of writeConfigMounts(cfg)) if (w.changed) ctx.log.debug(`wrote ${w.file}`);
  const up = await upStack(ctx, cfg, rt, {
    services: [...STORES], timeoutMs: o.timeoutMs, wait: true, build: false, pull: 'missing', hashes: env.hashes, buildTags: env.buildTags,
  }, {
    bootstrap: (log) => bootstrapDatabases(ctx, cfg, log),
    onReady: { temporal: (log) => registerNamespaceEarly(cfg, log) },
    afterHealthy: (info) => afterHealthy(ctx, cfg, info),
  });
  ctx.log.success(up.status === 'already-up' ? 'data stores already up' : `data stores up in ${(up.durationMs / 1000).toFixed(1)}s`);
  return running;
}

/** Stores started by someone else (a native install, the test servers): roles, migrations, namespace. */
async function prepareExternalStores(ctx: Context, cfg: HelfyConfig): Promise<void> {
  const { afterHealthy } = await import('../stack/bootstrap.js');
  await afterHealthy(ctx, cfg, { services: [...STORES], alreadyUp: true });
  ctx.log.success(`using the data stores at ${cfg.postgres.host}:${cfg.ports.postgres} (PostgreSQL), ${cfg.neo4j.host}:${cfg.ports.neo4jBolt} (Neo4j), ${cfg.temporal.host}:${cfg.ports.temporal} (Temporal)`);
}

async function freeLocalPort(host: string): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host, port: 0 }, () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** startGroupProcess, a command that cannot be started being a user error (exit 3), not a crash. */
function startOrExplain(o: Parameters<typeof startGroupProcess>[0]): GroupProcess {
  try {
    return startGroupProcess(o);
  } catch (e) {
    if (!(e instanceof SpawnFailedError)) throw e;
    throw new HelfyError('OPERATION_FAILED', `${o.name}: could not start ${o.command} (${e.message})`, {
      exitCode: 3, hint: `Check that ${o.cwd} exists and that ${o.command} can run there, then run helfy dev again.`,
    });
  }
}

function interrupted(): HelfyError {
  return new HelfyError('INTERRUPTED', 'interrupted: the dev processes were stopped', {
    hint: 'The data stores keep running (`helfy status`); `helfy dev` starts the processes again, `helfy down` stops the stores.',
  });
}

/** Polls a URL until it answers 2xx, the signal fires or the process exits; then says so (after one request to `warm`). */
async function announceWhenUp(ctx: Context, name: string, url: string, proc: GroupProcess, stop: AbortSignal, warm?: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (!stop.aborted && !proc.exited && Date.now() < deadline) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (r.ok) {
        // Vite transforms the pages and optimizes their dependencies on the first page request:
        // made here, so it is not the developer's first edit that races with it.
        if (warm) await fetch(warm, { signal: AbortSignal.timeout(60_000) }).then((x) => x.arrayBuffer(), () => undefined);
        ctx.log.success(`${name} is up: ${url.replace(/\/health$/, '')}`);
        return;
      }
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function runDev(ctx: Context, cfg: HelfyConfig, o: DevOptions): Promise<DevResult> {
  const apps = requireApps(cfg.root, o.processes);
  const installed = await ensureDependencies(ctx, apps);
  if (ctx.signal.aborted) throw interrupted();
  const stoppedContainers = o.stores ? await startStores(ctx, cfg, o) : (await prepareExternalStores(ctx, cfg), []);
  if (ctx.signal.aborted) throw interrupted();

  // The ports the processes listen on must be free (after the app containers were stopped).
  const listen = o.processes.filter((p) => p !== 'worker').map((p) => ({ p, port: p === 'api' ? cfg.ports.api : cfg.ports.web, setting: p === 'api' ? 'HELFY_API_PORT' : 'HELFY_WEB_PORT' }));
  for (const l of listen) {
    if (!(await isPortFree(cfg.bindAddress, l.port))) {
      const { findProcessOnPort } = await import('../runtime/ports.js');
      const holder = await findProcessOnPort(l.port);
      throw new HelfyError('PORT_IN_USE', `port ${l.port} (${l.p}, ${l.setting}) on ${cfg.bindAddress} is in use${holder ? ` by ${holder.command} (pid ${holder.pid})` : ''}`, {
        hint: `Stop what holds it, or move the ${l.p}: helfy init --force --${l.p}-port <port>.`,
      });
    }
  }

  const { composeEnv } = await import('../stack/env.js');
  const vars = composeEnv(cfg).vars;
  const workerHealthPort = await freeLocalPort(connectHost(cfg.bindAddress));
  const prefix = prefixer(o.processes);
  const host = connectHost(cfg.bindAddress);
  const procs: GroupProcess[] = [];
  const exits = new Map<DevProcessName, number | null>();
  const stopAll = new AbortController();
  let allExited!: () => void;
  const allGone = new Promise<void>((r) => (allExited = r));

  // A second Ctrl-C while stopping: kill what is left at once (prepended, so it runs before the
  // entry point's handler re-raises the signal and ends helfy).
  let stopping = false;
  const onSecondSignal = () => {
    if (stopping) for (const p of procs) p.killNow();
  };
  process.prependListener('SIGINT', onSecondSignal);
  process.prependListener('SIGTERM', onSecondSignal);
  // helfy ending any other way (an internal error) takes the process groups with it.
  const onExit = () => {
    for (const p of procs) p.killNow();
  };
  process.once('exit', onExit);

  try {
    for (const name of o.processes) {
      const dir = apps.get(APP_OF[name])!;
      const { command, args } = devCommand(name, dir, cfg);
      const own = devEnvironment(cfg, name, { vars, workerHealthPort, viteConfig: ctx.env.VITE_CONFIG });
      ctx.log.debug(`${name}: ${args.slice(1).join(' ')} in ${dir} (environment: ${Object.keys(own).sort().join(', ')})`);
      const proc = startOrExplain({
        name, command, args, cwd: dir, env: childEnvironment(ctx.env, own),
        onLine: (line) => ctx.stdout(prefix(name, line)),
        onExit: ({ code, signal, stopping: asked }) => {
          exits.set(name, code);
          if (!asked) {
            const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
            const others = o.processes.filter((p) => p !== name && !exits.has(p));
            ctx.log.warn(`${name} ${how}${others.length ? `; ${others.join(', ')} keep${others.length === 1 ? 's' : ''} running` : ''} (Ctrl-C stops helfy dev)`);
          }
          if (exits.size === o.processes.length) allExited();
        },
      });
      procs.push(proc);
      const url = name === 'api' ? `http://${host}:${cfg.ports.api}/health` : name === 'web' ? `http://${host}:${cfg.ports.web}/health` : `http://${host}:${workerHealthPort}/health`;
      void announceWhenUp(ctx, name, url, proc, stopAll.signal, name === 'web' ? url.replace(/\/health$/, '/') : undefined);
    }
    ctx.log.info(`helfy dev: ${o.processes.join(', ')} running from ${[...new Set([...apps.values()])].join(', ')}; edits reload live. Ctrl-C stops them (the data stores keep running).`);

    const aborted = new Promise<void>((r) => {
      if (ctx.signal.aborted) r();
      else ctx.signal.addEventListener('abort', () => r(), { once: true });
    });
    await Promise.race([aborted, allGone]);
    stopping = true;
    stopAll.abort();
    const interruptedByUser = ctx.signal.aborted;
    if (interruptedByUser) ctx.log.info(`stopping ${o.processes.join(', ')}...`);
    const stops = await Promise.all(procs.map(async (p) => ({ p, r: await p.stop(STOP_GRACE_MS) })));
    for (const s of stops) if (s.r.forced) ctx.log.warn(`${s.p.name} did not stop within ${STOP_GRACE_MS / 1000}s of SIGTERM: killed`);
    const result: DevResult = {
      processes: stops.map((s) => ({ name: s.p.name as DevProcessName, pid: s.p.pid, exitCode: exits.get(s.p.name as DevProcessName) ?? null, forced: s.r.forced })),
      installed, stoppedContainers,
    };
    if (interruptedByUser) throw interrupted();
    throw new HelfyError('OPERATION_FAILED', `every dev process exited (${o.processes.map((p) => `${p}: ${exits.get(p)}`).join(', ')})`, {
      hint: 'Their output is above. Fix the cause and run helfy dev again.', data: { result },
    });
  } finally {
    stopping = true;
    for (const p of procs) if (!p.exited) p.killNow();
    process.removeListener('SIGINT', onSecondSignal);
    process.removeListener('SIGTERM', onSecondSignal);
    process.removeListener('exit', onExit);
  }
}
