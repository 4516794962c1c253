/**
 * The BackupRuntime port: the steps of `helfy backup` / `helfy restore` that need the running
 * stack (stop and start services, pg_dump / pg_restore / psql against its PostgreSQL, neo4j-admin
 * on its Neo4j store). Everything in src/backup talks to this interface only; the adapters are
 * src/runtime/docker/backup.ts (containers) and src/runtime/native/backup.ts (local processes),
 * and `StackRuntime.backupRuntime()` hands out the one of the runtime the stack runs on.
 *
 * Streams: every dump goes from the tool's stdout straight into a host file, every restore from a
 * host file into the tool's stdin; `onBytes` reports progress. A full disk surfaces as a
 * HelfyError whose data.reason is ENOSPC (src/runtime/tool-run.ts DiskFullError).
 */

export type BackupService = 'postgres' | 'neo4j' | 'temporal' | 'api' | 'worker' | 'web' | 'temporal-ui';

export interface ServiceImage {
  service: string;
  containerId: string;
  running: boolean;
  /** The image reference the container was created from (e.g. timescale/timescaledb-ha:pg16); native: the server. */
  image: string;
  /** The image ID (sha256:...). */
  imageId: string;
  /** Registry digests (empty for locally built images). */
  digests: string[];
}

export interface StreamResult {
  bytes: number;
  durationMs: number;
  /** sha256 (hex) of what was written (dumps) or read (restores), computed while streaming. */
  sha256: string;
}

export interface StreamOpts {
  signal?: AbortSignal;
  onBytes?: (n: number) => void;
  /** Label of one-off containers (`dev.helfy.backup=<tag>`), so a later run can clean up after a kill. */
  tag?: string;
}

export interface BackupRuntime {
  /** Each service of the project with its image (native: its server). */
  services(): Promise<ServiceImage[]>;
  /**
   * Stops the named services that are running (in the given order); returns the ones it stopped.
   * `onStopped` hears of each one as soon as it is stopped, so a failure on the next one still
   * leaves a record of what to start again.
   */
  stop(services: readonly string[], o?: { graceS?: number; onStopped?: (service: string) => void }): Promise<string[]>;
  /** Starts the named services (in the given order) that are not running. */
  start(services: readonly string[]): Promise<void>;
  /** `pg_dump --version` of the tools that dump this stack's PostgreSQL. */
  pgDumpVersion(): Promise<string>;
  /** `pg_dumpall --globals-only` into `file`. */
  dumpGlobals(file: string, o: StreamOpts): Promise<StreamResult>;
  /** `pg_dump -Fc --create <db>` into `file`. */
  dumpDatabase(db: string, file: string, o: StreamOpts): Promise<StreamResult>;
  /** `pg_restore -l` of an archive (its table of contents), read from the host file. */
  archiveList(file: string, o: StreamOpts): Promise<string>;
  /** `pg_restore -C -L <list> -f -`: the SQL of the chosen TOC entries (nothing is restored). */
  archiveSql(file: string, list: string, o: StreamOpts): Promise<string>;
  /** Runs SQL through psql (ON_ERROR_STOP) as the superuser; returns its output. */
  psql(sql: string, db: string, o?: StreamOpts): Promise<string>;
  /** `pg_restore -d <db> --exit-on-error` (one job: -j breaks timescaledb's catalog). */
  restoreDatabase(db: string, file: string, o: StreamOpts & { extraArgs?: string[] }): Promise<StreamResult>;
  /** `neo4j-admin database dump <db> --to-stdout` on the (stopped) Neo4j store. */
  neo4jDump(db: string, file: string, o: StreamOpts): Promise<StreamResult>;
  /** `neo4j-admin database load <db> --from-stdin --overwrite-destination=true` likewise. */
  neo4jLoad(db: string, file: string, o: StreamOpts): Promise<StreamResult>;
  /** `neo4j-admin database check --from-path` on the dump files in `dir` (read-only). */
  neo4jCheck(dir: string, db: string, o: StreamOpts): Promise<{ ok: boolean; output: string }>;
  /**
   * Starts a throw-away Neo4j (fresh store, no auth, Bolt on a free loopback port) with
   * `dumpFile` loaded as its default database, for `verify --restore-test`.
   */
  scratchNeo4j(dumpFile: string, o: StreamOpts): Promise<{ boltPort: number; remove(): Promise<void> }>;
  /** Removes one-off helpers helfy left behind for backup `tag` (after a kill -9). */
  removeOneOffs(tag?: string): Promise<number>;
  /**
   * Removes the leftovers of `backup verify` (check, restore test) of this project whose owner
   * (`<host>:<pid>`) `isGone` says is dead (a kill -9).
   */
  sweepVerifyLeftovers(isGone: (owner: string) => boolean): Promise<{ containers: number; volumes: number }>;
}
