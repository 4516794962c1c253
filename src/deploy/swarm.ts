/**
 * `helfy deploy swarm`: the workspace's stack on the engine's swarm, through the SwarmPort
 * (src/runtime/docker/swarm.ts):
 *  1. the engine must be a swarm manager (else exit 3 with `docker swarm init`);
 *  2. the app images are built as `helfy up` builds them (content-hash tags, skipped when present)
 *     and tagged with one deploy tag derived from both, so the same sources deploy the same tag
 *     and a redeploy without changes restarts nothing;
 *  3. `helfy export swarm` writes the stack file into the workspace (.helfy/deploy/swarm/, kept:
 *     it is what `docker stack` sees, and the next deploy replaces it);
 *  4. `docker stack deploy` (it creates the secrets and configs from the files beside the stack
 *     file), then the one-off steps are followed to completion in their order and every service
 *     until its tasks run healthy — the image builds do not count against --timeout;
 *  5. the URLs of the API and the web app (host-mode ports on the swarm's node).
 * A failure after `docker stack deploy` started leaves the stack deployed, and the error says so
 * (and how to take it down): a half-started stack is easier to inspect than to rebuild.
 *
 * `--remove`: `docker stack rm`, then waits until its services, task containers, networks,
 * configs and secrets are gone. Volumes (the data) stay unless `--volumes` (asked; --yes), like
 * `helfy down --volumes`: taking a deployment down must not lose its data by default.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { loadConfig, type HelfyConfig } from '../config/load.js';
import type { Context } from '../core/context.js';
import { HelfyError } from '../core/errors.js';
import { exportStack } from '../export/run.js';
import { STACK_FILE } from '../export/swarm.js';
import { formatDuration } from '../stack/duration.js';
import type { SwarmDeployOptions } from './options.js';
import type { ContainerHealth, StackLeftovers, SwarmPort } from './port.js';
import { assess, culprit, settled, SETTLE_ORDER, type ServiceProgress } from './progress.js';
import { deployUrls, type DeployUrl } from './urls.js';

/** Lines of a service's output shown when it is named. */
export const LOG_TAIL = 20;
const POLL_MS = 2000;

export interface SwarmDeployResult {
  action: 'deployed';
  stack: string;
  /** The stack file `docker stack deploy` read (in the workspace). */
  stackFile: string;
  images: Record<string, string>;
  /** Images built by this run (empty when their tags were there). */
  built: string[];
  services: { name: string; job: boolean; state: string }[];
  urls: DeployUrl[];
  durationMs: number;
}

export interface SwarmRemoveResult {
  action: 'removed' | 'nothing-to-do' | 'cancelled';
  stack: string;
  removed: StackLeftovers;
  /** Volumes left in place (without --volumes). */
  keptVolumes: string[];
  durationMs: number;
}

export type SwarmResult = SwarmDeployResult | SwarmRemoveResult;

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((res) => {
  const done = () => { clearTimeout(t); signal?.removeEventListener('abort', done); res(); };
  const t = setTimeout(done, ms);
  signal?.addEventListener('abort', done, { once: true });
});

function interrupted(ctx: Context, what: string): void {
  if (ctx.signal.aborted) throw new HelfyError('INTERRUPTED', `interrupted ${what}`, { hint: 'What was deployed so far stays; `helfy deploy swarm --remove` takes it down.' });
}

/** Refuses an engine that cannot deploy a stack (exit 3 with the command that fixes it). */
async function requireManager(port: SwarmPort): Promise<{ state: string; target: string }> {
  const info = await port.info();
  if (info.state !== 'active') {
    throw new HelfyError('SWARM_INACTIVE', `the Docker engine at ${info.target} is not part of a swarm (swarm state: ${info.state})`, {
      hint: 'Run `docker swarm init` (a single-node swarm on this engine; `docker swarm leave --force` undoes it), then deploy again.',
    });
  }
  if (!info.manager) {
    throw new HelfyError('SWARM_INACTIVE', `the Docker engine at ${info.target} is a swarm worker: only a manager deploys stacks`, {
      hint: 'Point DOCKER_HOST at a manager node of the swarm (`docker node ls` on one lists them).',
    });
  }
  return info;
}

export async function openSwarm(ctx: Context, cfg: HelfyConfig): Promise<SwarmPort> {
  const { swarmAdapter } = await import('../runtime/docker/swarm.js');
  return swarmAdapter({ env: ctx.env, cfg });
}

export async function swarmDeploy(ctx: Context, opts: SwarmDeployOptions, port?: SwarmPort): Promise<SwarmResult> {
  const cfg = loadConfig({ cwd: ctx.options.cwd, env: ctx.env, requireSecrets: !opts.remove });
  const p = port ?? (await openSwarm(ctx, cfg));
  return opts.remove ? removeStack(ctx, cfg, p, opts) : deployStack(ctx, cfg, p, opts);
}

/** One tag for both app images, from their content-hash tags: the same sources, the same tag. */
export function deployTag(images: Record<string, string>): string {
  const h = createHash('sha256').update(Object.entries(images).sort().map(([k, v]) => `${k}=${v}`).join('\n')).digest('hex').slice(0, 12);
  return `deploy-${h}`;
}

async function deployStack(ctx: Context, cfg: HelfyConfig, port: SwarmPort, opts: SwarmDeployOptions): Promise<SwarmDeployResult> {
  const t0 = Date.now();
  const stack = cfg.projectName;
  await requireManager(port);

  ctx.log.info('building the app images (as `helfy up` does; skipped when their tags exist)');
  const build = await port.buildApps((l) => ctx.log.debug(`build: ${l}`), ctx.signal);
  interrupted(ctx, 'while building the app images; nothing was deployed');
  if (build.run.exitCode !== 0) {
    throw new HelfyError('BUILD_FAILED', `building the app images failed (exit ${build.run.exitCode}); nothing was deployed`, {
      details: build.run.output.filter((l) => l.trim()).slice(-LOG_TAIL),
      hint: 'Fix the build (the lines above are its end), then deploy again; --verbose shows all of it.',
    });
  }
  const built = build.durationMs ? Object.values(build.images) : [];
  if (built.length) ctx.log.info(`built ${built.join(', ')} in ${formatDuration(build.durationMs)}`);
  const tag = deployTag(build.images);
  const images: Record<string, string> = {};
  for (const [app, ref] of Object.entries(build.images)) {
    images[app] = `helfy-local/${app}:${tag}`;
    await port.tag(ref, images[app]);
  }

  const out = join(cfg.root, '.helfy', 'deploy', 'swarm');
  await exportStack(ctx, { target: 'swarm', out, registry: 'helfy-local', tag, secrets: 'embed', force: true });
  const stackFile = join(out, STACK_FILE);
  ctx.log.info(`stack file written to ${stackFile}; deploying stack ${stack}`);

  const deployed = await port.deploy(stackFile, stack, (l) => ctx.log.debug(`stack deploy: ${l}`), ctx.signal);
  if (deployed.exitCode !== 0) {
    const left = await port.leftovers(stack).catch(() => undefined);
    const created = left ? [...left.services, ...left.networks, ...left.configs, ...left.secrets] : [];
    const cause = deployed.output.map((l) => l.trim()).filter(Boolean).reverse().find((l) => /error|failed|invalid/i.test(l)) ?? deployed.output.filter((l) => l.trim()).at(-1) ?? `exit ${deployed.exitCode}`;
    throw new HelfyError('OPERATION_FAILED', `docker stack deploy ${stack} failed: ${cause}`, {
      details: created.length ? [`left deployed: ${created.length} object(s) of stack ${stack} (${created.slice(0, 6).join(', ')}${created.length > 6 ? ', …' : ''})`] : [],
      hint: created.length ? 'Take what was created down with `helfy deploy swarm --remove`, fix the cause, and deploy again.' : 'Nothing was created; fix the cause and deploy again.',
    });
  }

  const services = await waitSettled(ctx, port, stack, opts.timeoutMs);
  const urls = deployUrls(cfg, ctx.env);
  return { action: 'deployed', stack, stackFile, images, built, services: services.map((s) => ({ name: s.name, job: s.job, state: s.detail })), urls, durationMs: Date.now() - t0 };
}

/** Polls the stack until every service settled; at --timeout names the one that did not (exit 4). */
async function waitSettled(ctx: Context, port: SwarmPort, stack: string, timeoutMs: number): Promise<ServiceProgress[]> {
  const deadline = Date.now() + timeoutMs;
  const said = new Map<string, string>();
  let last: ServiceProgress[] = [];
  for (;;) {
    interrupted(ctx, `while waiting for stack ${stack}; it stays deployed`);
    const services = await port.services(stack);
    const health = new Map<string, ContainerHealth>();
    await Promise.all(services.flatMap((s) => s.tasks.filter((t) => t.state === 'running' && t.containerId).map(async (t) => health.set(t.containerId!, await port.health(t.containerId!)))));
    last = services.map((s) => assess(s, (id) => health.get(id)));
    // The one-off steps in their order, then the services: one line each time one changes phase.
    const order = (p: ServiceProgress) => (SETTLE_ORDER.indexOf(p.name) + 1 || 99);
    for (const p of [...last].sort((a, b) => order(a) - order(b))) {
      const key = `${p.phase}:${p.phase === 'failing' ? p.failures : ''}`;
      if (said.get(p.name) === key) continue;
      said.set(p.name, key);
      if (p.phase === 'done') ctx.log.success(`${p.name}: completed`);
      else if (p.phase === 'ready') ctx.log.success(`${p.name}: ${p.detail}`);
      else if (p.phase === 'failing') ctx.log.warn(`${p.name}: ${p.detail}; Swarm retries it`);
    }
    if (last.length && last.every(settled)) return last;
    if (Date.now() >= deadline) break;
    await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())), ctx.signal);
  }
  const c = culprit(last);
  const name = c?.name ?? 'the stack';
  const logs = c ? await port.logs(`${stack}_${c.name}`, LOG_TAIL).catch(() => []) : [];
  const open = last.filter((p) => !settled(p)).map((p) => p.name);
  throw new HelfyError('STACK_UNHEALTHY', `${name} did not become ${c?.job ? 'complete' : 'healthy'} within ${formatDuration(timeoutMs)}${c ? ` (${c.detail})` : ''}`, {
    details: [...(logs.length ? [`last ${logs.length} lines of ${stack}_${name}:`, ...logs.map((l) => `  ${l}`)] : [`${stack}_${name} printed nothing`]), `not settled: ${open.join(', ') || 'no service listed'}`],
    hint: `Stack ${stack} stays deployed (\`docker service ps ${stack}_${name} --no-trunc\` shows its tasks); take it down with \`helfy deploy swarm --remove\`.`,
    data: { service: name, stack, notSettled: open },
  });
}

const EMPTY: StackLeftovers = { services: [], networks: [], configs: [], secrets: [], containers: [], volumes: [] };
const pending = (l: StackLeftovers) => [...l.services, ...l.containers, ...l.networks, ...l.configs, ...l.secrets];

async function removeStack(ctx: Context, cfg: HelfyConfig, port: SwarmPort, opts: SwarmDeployOptions): Promise<SwarmRemoveResult> {
  const t0 = Date.now();
  const stack = cfg.projectName;
  const info = await port.info();
  const before = info.state === 'active' ? await port.leftovers(stack) : { ...EMPTY, volumes: (await port.leftovers(stack).catch(() => EMPTY)).volumes };
  const base = { stack, durationMs: 0 };
  if (!pending(before).length && !(opts.volumes && before.volumes.length)) {
    return { ...base, action: 'nothing-to-do', removed: EMPTY, keptVolumes: before.volumes, durationMs: Date.now() - t0 };
  }
  if (opts.volumes && before.volumes.length) {
    const yes = await ctx.prompt.confirm({ message: `Delete ${before.volumes.length} volume(s) of stack ${stack} for good: ${before.volumes.join(', ')}?`, flag: '--yes' });
    if (!yes) return { ...base, action: 'cancelled', removed: EMPTY, keptVolumes: before.volumes, durationMs: Date.now() - t0 };
  }
  if (pending(before).length) {
    ctx.log.info(`removing stack ${stack}: ${before.services.length} service(s), ${before.networks.length} network(s), ${before.configs.length} config(s), ${before.secrets.length} secret(s)`);
    const r = await port.remove(stack, (l) => ctx.log.debug(`stack rm: ${l}`));
    // A partial failure (an object already gone, a network still in use) is not the end: the
    // wait below removes what is left and fails, naming it, only if something stays.
    if (r.exitCode !== 0) ctx.log.debug(`docker stack rm ${stack} exited ${r.exitCode}: ${r.output.filter((l) => l.trim()).at(-1) ?? ''}`);
  }
  // docker stack rm returns before the engine has stopped the tasks: networks and the task
  // containers go after, and a volume can only go once no container holds it.
  const deadline = Date.now() + opts.timeoutMs;
  let left = await port.leftovers(stack);
  let removedVolumes: string[] = [];
  for (;;) {
    // The engine (20.10 at least) keeps the containers of finished job tasks after `stack rm`:
    // once the services are gone, what is left of their containers is removed here.
    if (!left.services.length && left.containers.length) await port.removeContainers(left.containers);
    else if (!left.services.length && left.networks.length) await port.removeNetworks(left.networks);
    if (opts.volumes && !left.containers.length && left.volumes.length) removedVolumes = [...removedVolumes, ...(await port.removeVolumes(left.volumes))];
    if (!pending(left).length && !(opts.volumes && left.volumes.length)) break;
    if (Date.now() >= deadline || ctx.signal.aborted) {
      const still = [...pending(left), ...(opts.volumes ? left.volumes : [])];
      throw new HelfyError('STACK_UNHEALTHY', `stack ${stack} was not gone within ${formatDuration(opts.timeoutMs)}: ${still.length} object(s) remain (${still.slice(0, 5).join(', ')}${still.length > 5 ? ', …' : ''})`, {
        hint: 'The engine is still removing them: run `helfy deploy swarm --remove` again in a moment, or look with `docker stack ps`.',
        data: { remaining: still },
      });
    }
    await sleep(1000, ctx.signal);
    left = await port.leftovers(stack);
  }
  const removed: StackLeftovers = { ...before, volumes: removedVolumes };
  return { ...base, action: 'removed', removed, keptVolumes: opts.volumes ? [] : left.volumes, durationMs: Date.now() - t0 };
}
