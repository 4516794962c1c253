/**
 * What every part of the native BackupRuntime works with: its options, the folders they imply
 * and the two answers it remembers (the PostgreSQL installation, the checked tool versions).
 * Built once per runtime by nativeBackupContext; each part takes it (or the few fields it needs)
 * as a parameter instead of capturing it.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { baseEnv as nativeBaseEnv } from '../services/common.js';
import type { Neo4jInstall, PostgresInstall, Supervisor } from '../types.js';

export interface NativeBackupOptions {
  /** The workspace folder (`.helfy/` lives in it). */
  root: string;
  project: string;
  supervisor: Supervisor;
  /** Starts one service from its spec again (what `helfy up <name>` would do). */
  startService(name: string): Promise<void>;
  /** The PostgreSQL the stack runs on, as helfy connects to it (the superuser). */
  pg: { host: string; port: number; user: string; password: string };
  /**
   * The PostgreSQL client tools to use. `wantMajor` is the data folder's major (PG_VERSION) when
   * known, so a locator can prefer the matching installation.
   */
  postgres(o: { wantMajor?: number }): Promise<PostgresInstall>;
  /** The Neo4j jars and the Java to run neo4j-admin with. */
  neo4j(): Promise<Neo4jInstall>;
  /** Default `<supervisor data>/neo4j` = `<root>/.helfy/data/neo4j` (conf/neo4j.conf inside). */
  neo4jHome?: string;
  /** Default `<root>/.helfy/data/postgres/pgdata` (only PG_VERSION is read). */
  pgData?: string;
  /** PATH / HOME / LANG for the tools (default process.env). Nothing else of it is passed on. */
  env?: NodeJS.ProcessEnv;
}

export interface NativeBackupContext {
  o: NativeBackupOptions;
  project: string;
  /** Where PATH / HOME / LANG (and LD_LIBRARY_PATH) of the tools come from. */
  env: NodeJS.ProcessEnv;
  /** The workspace's Neo4j home (services/neo4j.ts). */
  neo4jHome: string;
  /** The workspace's PostgreSQL data folder (services/postgres.ts postgresDataDir). */
  pgData: string;
  /** nativeBackupTmp(root): the markers and temp homes. */
  tmpRoot: string;
  /** `<host>:<pid>` of this helfy process, written into every marker. */
  owner: string;
  /** Asked once per runtime: the installation for good, the versions again after a failure. */
  cache: {
    install?: Promise<PostgresInstall>;
    versions?: Promise<{ pgDump: string; server: string }>;
  };
}

export function nativeBackupContext(o: NativeBackupOptions): NativeBackupContext {
  const env = o.env ?? process.env;
  // The service definitions' folders (services/neo4j.ts, services/postgres.ts postgresDataDir).
  const neo4jHome = o.neo4jHome ?? join(o.supervisor.dirs.data, 'neo4j');
  const pgData = o.pgData ?? join(o.supervisor.dirs.data, 'postgres', 'pgdata');
  const tmpRoot = nativeBackupTmp(o.root);
  const owner = `${hostname()}:${process.pid}`;
  return { o, project: o.project, env, neo4jHome, pgData, tmpRoot, owner, cache: {} };
}

/** PATH / HOME / LANG of the context's environment: the base of every tool's environment. */
export function toolBaseEnv(ctx: Pick<NativeBackupContext, 'env'>): Record<string, string> {
  return nativeBaseEnv(ctx.env);
}

/** `<root>/.helfy/tmp/backup`: where the native backup runtime keeps its markers and temp homes. */
export function nativeBackupTmp(root: string): string {
  return join(root, '.helfy', 'tmp', 'backup');
}
