/**
 * The small interface the stack logic (up/down/status/logs) uses to talk to the runtime — Docker
 * (compose on an engine, implemented here over src/runtime/docker) or native (local processes,
 * src/runtime/native/stack.ts). Unit tests pass a fake instead.
 */
import type { HelfyConfig } from '../config/load.js';
import type { ComposeCommand, ComposeRunResult, UpArgsOptions } from '../runtime/docker/compose.js';
import type { LogLine, LogOptions, VolumeInfo } from '../runtime/docker/containers.js';
import type { PortHolder } from '../runtime/ports.js';
import { allProfiles, profilesFor } from './catalog.js';
import { COMPOSE_FILE } from './compose-file.js';
import type { ContainerSnapshot } from './health.js';
import { runProbe, type ProbeResult } from './probes.js';
import type { ServiceDef, ServiceName } from './types.js';

export type RuntimeKind = 'docker' | 'native';

/** Which runtime runs the stack, for humans and `--json` (`runtime: { kind, detail }`). */
export interface RuntimeInfo {
  kind: RuntimeKind;
  /** e.g. "Docker 27.3.1 at /var/run/docker.sock, compose v2 2.29.7" or "native (PostgreSQL 15.8 …)". */
  detail: string;
}

export interface StackUpOptions extends UpArgsOptions {
  signal?: AbortSignal;
  onLine?: (l: string) => void;
  /** Expected dev.helfy.config-hash per service (the native runtime labels its processes with it). */
  hashes?: Partial<Record<ServiceName, string>>;
}

export interface StackRuntime {
  readonly project: string;
  readonly kind: RuntimeKind;
  /** The runtime in one line (Docker: engine and, once detected, compose; native: the servers found). */
  describe(): Promise<RuntimeInfo>;
  /** Compose, detected once on first use (status and logs never need it). Docker only: native rejects. */
  compose(): Promise<ComposeCommand>;
  containers(): Promise<ContainerSnapshot[]>;
  /**
   * Before anything starts (native only): locate the servers `services` need and install what is
   * missing on first use (one progress line per step); refuses what cannot run (a missing Java, a
   * data folder of another PostgreSQL major) with a typed error.
   */
  prepare?(services: ServiceName[], opts: { signal?: AbortSignal; onProgress: (line: string) => void }): Promise<void>;
  up(services: ServiceName[], opts: StackUpOptions): Promise<ComposeRunResult>;
  /** `compose build <services>` (the images of services with a build section). */
  build(services: ServiceName[], opts: { signal?: AbortSignal; onLine?: (l: string) => void }): Promise<ComposeRunResult>;
  down(opts: { volumes: boolean; signal?: AbortSignal; onLine?: (l: string) => void }): Promise<ComposeRunResult>;
  logs(containerId: string, opts: LogOptions): Promise<LogLine[]>;
  followLogs(containerId: string, opts: LogOptions, onLine: (l: LogLine) => void, signal: AbortSignal): Promise<void>;
  startTimes(ids: string[]): Promise<Record<string, number>>;
  volumes(): Promise<VolumeInfo[]>;
  missingImages(refs: string[]): Promise<string[]>;
  probe(def: ServiceDef, timeoutMs: number): Promise<ProbeResult | undefined>;
  /** Host ports of `ports` that cannot be bound, each with its holder. */
  busyPorts(ports: number[]): Promise<{ port: number; holder: PortHolder }[]>;
}

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
  const containersMod = () => import('../runtime/docker/containers.js');
  const composeMod = () => import('../runtime/docker/compose.js');
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
    compose,
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
      const { isPortFree, findPortHolder } = await import('../runtime/ports.js');
      const free = await Promise.all(ports.map((p) => isPortFree(o.cfg.bindAddress, p)));
      const busy = ports.filter((_, i) => !free[i]);
      if (!busy.length) return [];
      const { publishedPorts } = await containersMod();
      const published = await publishedPorts(o.env);
      return Promise.all(busy.map(async (port) => ({ port, holder: await findPortHolder(port, project, published) })));
    },
  };
}
