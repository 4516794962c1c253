/**
 * The Docker adapter of the StackRuntime port (src/stack/runtime.ts): compose on an engine for
 * up / build / stop / down, dockerode (containers.ts) for state, logs and volumes.
 */
import type { HelfyConfig } from '../../config/load.js';
import { allProfiles, profilesFor } from '../../stack/catalog.js';
import { COMPOSE_FILE } from '../../stack/compose-file.js';
import { runProbe } from '../../stack/probes.js';
import type { StackRuntime } from '../../stack/runtime.js';
import type { ComposeCommand } from './compose.js';

export interface DockerRuntimeOptions {
  env: NodeJS.ProcessEnv;
  cfg: HelfyConfig;
  compose: () => Promise<ComposeCommand>;
  /** Variables for compose interpolation (see env.ts). */
  composeVars: Record<string, string>;
  file?: string;
  /** The engine that answered the ping (for describe()). */
  engine?: { version: string; target: string };
}

export function dockerRuntime(o: DockerRuntimeOptions): StackRuntime {
  const project = o.cfg.projectName;
  const env = { ...o.env, ...o.composeVars };
  const file = o.file ?? COMPOSE_FILE;
  const containersMod = () => import('./containers.js');
  const composeMod = () => import('./compose.js');
  let detected: ComposeCommand | undefined;
  const compose = () => o.compose().then((c) => (detected = c));
  return {
    project,
    kind: 'docker',
    async describe() {
      const parts = [o.engine ? `Docker ${o.engine.version} at ${o.engine.target}` : 'Docker'];
      if (detected) parts.push(`compose ${detected.flavor} ${detected.version}`);
      return { kind: 'docker', detail: parts.join(', ') };
    },
    async driver() {
      const c = await compose();
      const command = c.argv.join(' ');
      return { upCommand: `${command} up`, buildCommand: `${command} build`, downCommand: `${command} down`, logPrefix: 'compose', compose: { flavor: c.flavor, version: c.version, command } };
    },
    async containers() {
      return (await containersMod()).listProjectContainers(o.env, project);
    },
    async up(services, opts) {
      const { runCompose, composeUpArgs } = await composeMod();
      const cmd = await compose();
      return runCompose(cmd, { file, project, profiles: profilesFor(services) }, composeUpArgs(cmd, services, opts), { env, signal: opts.signal, onLine: opts.onLine });
    },
    async build(services, opts) {
      const { runCompose } = await composeMod();
      const cmd = await compose();
      return runCompose(cmd, { file, project, profiles: profilesFor(services) }, ['build', ...services], { env, signal: opts.signal, onLine: opts.onLine });
    },
    async stop(services, opts) {
      const { runCompose } = await composeMod();
      const cmd = await compose();
      return runCompose(cmd, { file, project }, ['stop', ...services], { env, signal: opts.signal, onLine: opts.onLine });
    },
    async down(opts) {
      const { runCompose, composeDownArgs } = await composeMod();
      const cmd = await compose();
      return runCompose(cmd, { file, project, profiles: allProfiles() }, composeDownArgs(cmd, { volumes: opts.volumes }), { env, signal: opts.signal, onLine: opts.onLine });
    },
    async logs(id, opts) {
      return (await containersMod()).containerLogs(o.env, id, opts);
    },
    async followLogs(id, opts, onLine, signal) {
      return (await containersMod()).followLogs(o.env, id, opts, onLine, signal);
    },
    async startTimes(ids) {
      return (await containersMod()).containerStartTimes(o.env, ids);
    },
    async volumes() {
      return (await containersMod()).listProjectVolumes(o.env, project);
    },
    async missingImages(refs) {
      return (await containersMod()).missingImages(o.env, refs);
    },
    probe(def, timeoutMs) {
      return runProbe(def, o.cfg, timeoutMs);
    },
    async busyPorts(ports) {
      const { isPortFree, findPortHolder } = await import('../ports.js');
      const free = await Promise.all(ports.map((p) => isPortFree(o.cfg.bindAddress, p)));
      const busy = ports.filter((_, i) => !free[i]);
      if (!busy.length) return [];
      const { publishedPorts } = await containersMod();
      const published = await publishedPorts(o.env);
      return Promise.all(busy.map(async (port) => ({ port, holder: await findPortHolder(port, project, published) })));
    },
    async backupRuntime() {
      const { dockerBackupRuntime } = await import('./backup.js');
      return dockerBackupRuntime({ env: o.env, project, pgUser: o.cfg.postgres.superuser, pgPassword: o.cfg.postgres.superuserPassword });
    },
  };
}
