/**
 * The StackRuntime port: the small interface the stack logic (up/down/status/logs, dev, backup)
 * uses to talk to whatever runs the services, with its own types. Two adapters implement it:
 * Docker (compose on an engine, src/runtime/docker/stack.ts) and native (local processes,
 * src/runtime/native/stack.ts); only src/stack/open.ts chooses one. Unit tests pass a fake.
 */
import type { BackupRuntime } from '../backup/runtime.js';
import type { ContainerSnapshot } from './health.js';
import type { ProbeResult } from './probes.js';
import type { ServiceDef, ServiceName } from './types.js';

export type RuntimeKind = 'docker' | 'native';

/** Which runtime runs the stack, for humans and `--json` (`runtime: { kind, detail }`). */
export interface RuntimeInfo {
  kind: RuntimeKind;
  /** e.g. "Docker 27.3.1 at /var/run/docker.sock, compose v2 2.29.7" or "native (PostgreSQL 15.8 …)". */
  detail: string;
}

/** What runs `up` and `build`, for messages and `up --json` (Docker: compose, detected on first use). */
export interface RuntimeDriver {
  /** e.g. "docker compose up" or "starting the native services". */
  upCommand: string;
  /** e.g. "docker compose build" or "npm run build". */
  buildCommand: string;
  /** e.g. "docker compose down" or "stopping the native services". */
  downCommand: string;
  /** Prefix of the driver's output lines in --verbose ("compose", "native"). */
  logPrefix: string;
  /** Docker only: the compose found. */
  compose?: { flavor: 'v1' | 'v2'; version: string; command: string };
}

/** The result of running up / build / down / stop: never thrown for a non-zero exit (the caller decides). */
export interface RunResult {
  exitCode: number;
  /** stdout and stderr interleaved, as lines. */
  output: string[];
  /** True when the run was stopped by the signal. */
  cancelled: boolean;
  durationMs: number;
}

export interface UpArgsOptions {
  build?: boolean;
  /** Image pull policy: compose v2 (>= 2.9) takes `--pull`; v1 has no such flag (helfy checks `never` itself). */
  pull?: 'missing' | 'never';
}

export interface StackUpOptions extends UpArgsOptions {
  signal?: AbortSignal;
  onLine?: (l: string) => void;
  /** Expected dev.helfy.config-hash per service (the native runtime labels its processes with it). */
  hashes?: Partial<Record<ServiceName, string>>;
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface LogOptions {
  tail?: number;
  /** Unix seconds. */
  since?: number;
  timestamps?: boolean;
}

export interface VolumeInfo {
  name: string;
  /** Bytes, or -1 when it was not computed. */
  size: number;
  labels: Record<string, string>;
}

/** Who holds a host port helfy wants. */
export type PortHolder =
  | { kind: 'project-container'; container: string; service?: string }
  | { kind: 'container'; container: string; project?: string }
  | { kind: 'process'; pid: number; command: string }
  | { kind: 'unknown' };

export function describeHolder(h: PortHolder): string {
  switch (h.kind) {
    case 'project-container': return `this project's container ${h.container}`;
    case 'container': return `container ${h.container}${h.project ? ` (compose project ${h.project})` : ''}`;
    case 'process': return `process ${h.command} (pid ${h.pid})`;
    case 'unknown': return 'an unknown process';
  }
}

export interface StackRuntime {
  readonly project: string;
  readonly kind: RuntimeKind;
  /** The runtime in one line (Docker: engine and, once detected, compose; native: the servers found). */
  describe(): Promise<RuntimeInfo>;
  /** What runs up and build; Docker detects compose here (a missing compose fails with exit 3). */
  driver(): Promise<RuntimeDriver>;
  containers(): Promise<ContainerSnapshot[]>;
  /**
   * Before anything starts (native only): locate the servers `services` need and install what is
   * missing on first use (one progress line per step); refuses what cannot run (a missing Java, a
   * data folder of another PostgreSQL major) with a typed error.
   */
  prepare?(services: ServiceName[], opts: { signal?: AbortSignal; onProgress: (line: string) => void }): Promise<void>;
  up(services: ServiceName[], opts: StackUpOptions): Promise<RunResult>;
  /** Builds the apps of services with a build section (Docker: `compose build`; native: `npm run build`). */
  build(services: ServiceName[], opts: { signal?: AbortSignal; onLine?: (l: string) => void }): Promise<RunResult>;
  /** Stops these services (dependents first for native) and keeps the rest running (`helfy dev` frees the app ports). */
  stop(services: ServiceName[], opts: { signal?: AbortSignal; onLine?: (l: string) => void }): Promise<RunResult>;
  down(opts: { volumes: boolean; signal?: AbortSignal; onLine?: (l: string) => void }): Promise<RunResult>;
  logs(containerId: string, opts: LogOptions): Promise<LogLine[]>;
  followLogs(containerId: string, opts: LogOptions, onLine: (l: LogLine) => void, signal: AbortSignal): Promise<void>;
  startTimes(ids: string[]): Promise<Record<string, number>>;
  volumes(): Promise<VolumeInfo[]>;
  missingImages(refs: string[]): Promise<string[]>;
  probe(def: ServiceDef, timeoutMs: number): Promise<ProbeResult | undefined>;
  /** Host ports of `ports` that cannot be bound, each with its holder. */
  busyPorts(ports: number[]): Promise<{ port: number; holder: PortHolder }[]>;
  /** The BackupRuntime of `helfy backup` / `restore` on the same services (src/backup/runtime.ts). */
  backupRuntime(): Promise<BackupRuntime>;
}
