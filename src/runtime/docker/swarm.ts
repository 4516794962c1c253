/**
 * The Docker adapter of the SwarmPort (src/deploy/port.ts): dockerode for the engine's swarm
 * state, services, tasks, container health and what a stack leaves; the docker CLI for what only
 * it does (`docker stack deploy` reads a compose file, `docker stack rm`, `docker service logs`);
 * compose for the app images, built exactly as `helfy up` builds them (same file, same content-hash
 * tags, skipped when the tag is already there).
 */
import type { HelfyConfig } from '../../config/load.js';
import type { CliRun, ContainerHealth, StackLeftovers, SwarmPort, SwarmService, SwarmTask } from '../../deploy/port.js';
import { builder, service } from '../../stack/catalog.js';
import { COMPOSE_FILE } from '../../stack/compose-file.js';
import { composeEnv } from '../../stack/env.js';
import type { ServiceName } from '../../stack/types.js';
import { detectCompose, runCompose } from './compose.js';
import { dockerClient, pingEngine } from './engine.js';
import { missingImages } from './containers.js';
import { runStreaming } from '../process/stream.js';

const NAMESPACE = 'com.docker.stack.namespace';

/** Runs the docker CLI with the context's environment (DOCKER_HOST included); never throws for a non-zero exit. */
async function dockerCli(env: NodeJS.ProcessEnv, args: string[], opts: { onLine?: (l: string) => void; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<CliRun> {
  const r = await runStreaming('docker', args, { env, ...opts });
  return { exitCode: r.exitCode, output: r.output };
}

type Mode = SwarmService['mode'];
function modeOf(spec: { Mode?: Record<string, { Replicas?: number; TotalCompletions?: number; MaxConcurrent?: number } | undefined> }): { mode: Mode; desired: number } {
  const m = spec.Mode ?? {};
  if (m.ReplicatedJob) return { mode: 'replicated-job', desired: m.ReplicatedJob.TotalCompletions ?? 1 };
  if (m.GlobalJob) return { mode: 'global-job', desired: 1 };
  if (m.Global) return { mode: 'global', desired: 1 };
  return { mode: 'replicated', desired: m.Replicated?.Replicas ?? 1 };
}

export function swarmAdapter(o: { env: NodeJS.ProcessEnv; cfg: HelfyConfig }): SwarmPort {
  const client = async () => (await dockerClient(o.env, 30_000)).docker;
  const ghosts = new Set<string>();
  return {
    async info() {
      const engine = await pingEngine(o.env, 5000);
      const docker = await client();
      const i = (await docker.info()) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
      return { state: i.Swarm?.LocalNodeState || 'inactive', manager: Boolean(i.Swarm?.ControlAvailable), engineVersion: engine.version, target: engine.target };
    },

    async buildApps(onLine, signal) {
      const env = composeEnv(o.cfg);
      const apps = [...new Set((['api', 'worker', 'web'] as ServiceName[]).map((n) => builder(service(n))!.name))];
      const images = Object.fromEntries(apps.map((n) => [n, `helfy-local/${n}:${env.buildTags[n] ?? 'dev'}`]));
      const missing = await missingImages(o.env, Object.values(images));
      const toBuild = apps.filter((n) => missing.includes(images[n]!));
      const t0 = Date.now();
      if (!toBuild.length) return { images, run: { exitCode: 0, output: [] }, durationMs: 0 };
      const cmd = await detectCompose(o.env);
      const r = await runCompose(cmd, { file: COMPOSE_FILE, project: o.cfg.projectName }, ['build', ...toBuild], { env: { ...o.env, ...env.vars }, signal, onLine });
      return { images, run: { exitCode: r.exitCode, output: r.output }, durationMs: Date.now() - t0 };
    },

    async tag(source, target) {
      const docker = await client();
      const i = target.lastIndexOf(':');
      await docker.getImage(source).tag({ repo: target.slice(0, i), tag: target.slice(i + 1) });
    },

    deploy(file, stack, onLine, signal) {
      // --resolve-image never: the images are local (single node, no registry); asking a registry
      // for their digests would fail. --prune removes services a newer stack file dropped.
      return dockerCli(o.env, ['stack', 'deploy', '--prune', '--resolve-image', 'never', '-c', file, stack], { onLine, signal });
    },

    async services(stack) {
      const docker = await client();
      const list = (await docker.listServices({ filters: { label: [`${NAMESPACE}=${stack}`] } } as never)) as unknown as { ID: string; Spec: { Name: string; Mode?: never } }[];
      const tasks = (await docker.listTasks({ filters: { label: [`${NAMESPACE}=${stack}`] } } as never)) as unknown as {
        ID: string; ServiceID: string; DesiredState?: string; UpdatedAt?: string;
        Status?: { State?: string; Err?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
      }[];
      return list.map((s) => {
        const { mode, desired } = modeOf(s.Spec as never);
        const own: SwarmTask[] = tasks.filter((t) => t.ServiceID === s.ID).map((t) => ({
          id: t.ID,
          state: t.Status?.State ?? 'unknown',
          desiredState: t.DesiredState ?? 'unknown',
          error: t.Status?.Err || undefined,
          exitCode: t.Status?.ContainerStatus?.ExitCode,
          containerId: t.Status?.ContainerStatus?.ContainerID || undefined,
          updatedAt: Date.parse(t.UpdatedAt ?? '') || 0,
        })).sort((a, b) => b.updatedAt - a.updatedAt);
        return { name: s.Spec.Name.startsWith(`${stack}_`) ? s.Spec.Name.slice(stack.length + 1) : s.Spec.Name, fullName: s.Spec.Name, mode, desired, tasks: own };
      }).sort((a, b) => a.name.localeCompare(b.name));
    },

    async health(containerId): Promise<ContainerHealth> {
      const docker = await client();
      try {
        const i = await docker.getContainer(containerId).inspect();
        const h = (i.State as { Health?: { Status?: string } }).Health?.Status;
        return h === 'healthy' || h === 'unhealthy' || h === 'starting' ? h : 'none';
      } catch {
        return 'gone';
      }
    },

    async logs(fullName, tail) {
      const r = await dockerCli(o.env, ['service', 'logs', '--raw', '--no-trunc', '--tail', String(tail), fullName], { timeoutMs: 30_000 });
      return r.output.filter((l) => l.trim()).slice(-tail);
    },

    remove(stack, onLine) {
      return dockerCli(o.env, ['stack', 'rm', stack], { onLine });
    },

    async leftovers(stack): Promise<StackLeftovers> {
      const docker = await client();
      const label = { label: [`${NAMESPACE}=${stack}`] };
      const names = <T>(xs: T[], f: (x: T) => string | undefined) => xs.map(f).filter((x): x is string => Boolean(x)).sort();
      const [services, networks, configs, secrets, containers, volumes] = await Promise.all([
        docker.listServices({ filters: label } as never) as unknown as Promise<{ Spec: { Name: string } }[]>,
        docker.listNetworks({ filters: label }),
        docker.listConfigs({ filters: label } as never) as unknown as Promise<{ Spec: { Name: string } }[]>,
        docker.listSecrets({ filters: label } as never) as unknown as Promise<{ Spec: { Name: string } }[]>,
        docker.listContainers({ all: true, filters: label }),
        docker.listVolumes({ filters: label }),
      ]);
      return {
        services: names(services, (s) => s.Spec.Name),
        networks: names(networks, (n) => n.Name).filter((n) => !ghosts.has(n)),
        configs: names(configs, (c) => c.Spec.Name),
        secrets: names(secrets, (s) => s.Spec.Name),
        containers: names(containers, (c) => (c.Names?.[0] ?? c.Id).replace(/^\//, '')),
        volumes: names(volumes.Volumes ?? [], (v) => v.Name),
      };
    },

    async removeContainers(names) {
      const docker = await client();
      for (const n of names) await docker.getContainer(n).remove({ force: true, v: false }).catch(() => undefined);
    },

    async removeNetworks(names) {
      const docker = await client();
      for (const n of names) {
        await docker.getNetwork(n).remove().catch((e: { statusCode?: number }) => {
          // Seen on Docker 20.10: after `stack rm` the node still lists the overlay network (its
          // load-balancer endpoint) while the manager answers "network not found" to a removal.
          // The swarm object is gone; the local ghost goes with the swarm. It counts as removed.
          if (e.statusCode === 404 || /not found/i.test(String((e as { message?: string }).message))) ghosts.add(n);
        });
      }
    },

    async removeVolumes(names) {
      const docker = await client();
      const removed: string[] = [];
      for (const n of names) {
        try {
          await docker.getVolume(n).remove();
          removed.push(n);
        } catch {
          /* still in use (a container being removed): the caller retries */
        }
      }
      return removed;
    },
  };
}
