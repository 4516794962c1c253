/**
 * Bootstrap and migrations across the stores, as `helfy up`, `helfy db bootstrap` and
 * `helfy migrate` use them. Independent stores are handled in parallel; the first failure
 * (PostgreSQL's first) is what is reported, after every store has finished.
 */
import type { Logger } from '../core/context.js';
import { HelfyError } from '../core/errors.js';
import type { HelfyConfig } from '../config/load.js';
import { migrationDirs } from '../config/paths.js';

export type Store = 'postgres' | 'neo4j';
export const STORES: readonly Store[] = ['postgres', 'neo4j'];

function neo4jTarget(cfg: HelfyConfig, dir: string, log?: Logger) {
  return { connection: { host: cfg.neo4j.host, boltPort: cfg.neo4j.boltPort, user: cfg.neo4j.user, password: cfg.neo4j.password }, dir, ...(log ? { log } : {}) };
}

/**
 * A server error that escaped a store module (e.g. permission denied on a history table) becomes a
 * user error naming the server and its code, instead of an "internal error" report.
 */
export function asUserError(e: unknown): unknown {
  if (e instanceof HelfyError) return e;
  const err = e as { code?: unknown; severity?: unknown; message?: unknown };
  const message = String(err?.message ?? e);
  const code = typeof err?.code === 'string' ? err.code : '';
  if (code && typeof err.severity === 'string') {
    return new HelfyError('OPERATION_FAILED', `PostgreSQL: ${message} (SQLSTATE ${code})`, { hint: '`helfy db bootstrap` repairs roles and privileges; then try again.', cause: e });
  }
  if (code.startsWith('Neo.')) return new HelfyError('OPERATION_FAILED', `Neo4j: ${message} (${code})`, { hint: 'Check the Neo4j log (`helfy logs neo4j`), then try again.', cause: e });
  if (['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ServiceUnavailable', 'SessionExpired'].includes(code)) {
    return new HelfyError('CONNECTION_FAILED', `lost the connection to a server: ${message}`, { hint: 'Is the stack running? `helfy status` shows the services.', cause: e });
  }
  return e;
}

/** Runs the given tasks in parallel and rethrows the first failure in task order once all ended. */
async function settleAll<T extends readonly unknown[]>(tasks: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw asUserError((failed as PromiseRejectedResult).reason);
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

export interface MigrateStoresOptions {
  stores: readonly Store[];
  /** PostgreSQL: a tag or tag prefix; Neo4j: a version number. Only with a single store. */
  target?: string;
  dryRun?: boolean;
}

export async function migrateStores(cfg: HelfyConfig, log: Logger, opts: MigrateStoresOptions) {
  const dirs = migrationDirs(cfg.root, cfg.migrationsDir);
  // Each store imports its driver and starts talking to its server on its own, so PostgreSQL's
  // connection handshake is under way while neo4j-driver is still being loaded.
  const pg = opts.stores.includes('postgres')
    ? (async () => {
        const [{ migratePostgres }, { pgConnectionFor }] = await Promise.all([import('./postgres/migrate.js'), import('./postgres/connection.js')]);
        return migratePostgres({
          connection: pgConnectionFor(cfg, 'owner'), dir: dirs.postgres, log, dryRun: opts.dryRun,
          timescale: cfg.timescale, image: cfg.images.postgres, ...(opts.target !== undefined ? { target: opts.target } : {}),
        });
      })()
    : Promise.resolve(undefined);
  const neo = opts.stores.includes('neo4j')
    ? (async () => {
        const { migrateNeo4j } = await import('./neo4j/migrate.js');
        return migrateNeo4j({ ...neo4jTarget(cfg, dirs.neo4j, log), dryRun: opts.dryRun, ...(opts.target !== undefined ? { target: Number(opts.target) } : {}) });
      })()
    : Promise.resolve(undefined);
  const [postgres, neo4j] = await settleAll([pg, neo] as const);
  return { postgres, neo4j };
}

/** Removes a stale Neo4j migration lock (a runner that was killed); returns what was removed. */
export async function forceUnlockNeo4jFor(cfg: HelfyConfig, log: Logger) {
  const { forceUnlockNeo4j } = await import('./neo4j/migrate.js');
  return forceUnlockNeo4j({ connection: neo4jTarget(cfg, '').connection, log });
}

export async function migrationStatus(cfg: HelfyConfig, stores: readonly Store[]) {
  const dirs = migrationDirs(cfg.root, cfg.migrationsDir);
  const [{ postgresMigrationStatus }, { pgConnectionFor }, { neo4jMigrationStatus }] = await Promise.all([
    import('./postgres/migrate.js'), import('./postgres/connection.js'), import('./neo4j/migrate.js'),
  ]);
  const [postgres, neo4j] = await settleAll([
    stores.includes('postgres') ? postgresMigrationStatus({ connection: pgConnectionFor(cfg, 'owner'), dir: dirs.postgres }) : Promise.resolve(undefined),
    stores.includes('neo4j') ? neo4jMigrationStatus(neo4jTarget(cfg, dirs.neo4j)) : Promise.resolve(undefined),
  ] as const);
  return { postgres, neo4j };
}

export async function verifyStores(cfg: HelfyConfig, log: Logger, stores: readonly Store[]) {
  const dirs = migrationDirs(cfg.root, cfg.migrationsDir);
  const [{ planPostgres }, { pgConnectionFor }, { verifyNeo4j }] = await Promise.all([
    import('./postgres/migrate.js'), import('./postgres/connection.js'), import('./neo4j/migrate.js'),
  ]);
  // The plan reports problems (edited, missing, out-of-order files) instead of throwing, so every
  // difference of both stores can be listed at once.
  const [postgres, neo4j] = await settleAll([
    stores.includes('postgres') ? planPostgres({ connection: pgConnectionFor(cfg, 'owner'), dir: dirs.postgres, log }) : Promise.resolve(undefined),
    stores.includes('neo4j') ? verifyNeo4j(neo4jTarget(cfg, dirs.neo4j, log)) : Promise.resolve(undefined),
  ] as const);
  return { postgres, neo4j };
}

export interface BootstrapOptions {
  /** How long to wait for Neo4j's Bolt endpoint. */
  neo4jTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * The whole database bootstrap, idempotent: PostgreSQL roles, databases and extension first
 * (Temporal's schema job needs them), then in parallel the Temporal namespace and Neo4j (wait for
 * Bolt, apply its migrations).
 */
export async function bootstrapStack(cfg: HelfyConfig, log: Logger, opts: BootstrapOptions = {}) {
  const { bootstrapPostgres } = await import('./postgres/bootstrap.js');
  const postgres = await bootstrapPostgres(cfg, log).catch((e: unknown) => {
    throw asUserError(e);
  });
  const [namespace, neo4jMigrations] = await settleAll([ensureTemporalNamespace(cfg, log), migrateNeo4jWhenReady(cfg, log, opts)] as const);
  return { postgres, namespace, neo4jMigrations };
}

/** The configured Temporal namespace, registered when missing. */
export async function ensureTemporalNamespace(cfg: HelfyConfig, log: Logger) {
  const { ensureNamespace, temporalAddress } = await import('./temporal/namespace.js');
  return ensureNamespace({ address: temporalAddress(cfg.temporal), namespace: cfg.temporal.namespace, retentionHours: cfg.temporal.retentionHours, log });
}

/** Waits for Neo4j's Bolt endpoint, then applies its migrations. */
export async function migrateNeo4jWhenReady(cfg: HelfyConfig, log: Logger, opts: BootstrapOptions = {}) {
  const { waitForBolt, migrateNeo4j } = await import('./neo4j/migrate.js');
  const info = neo4jTarget(cfg, migrationDirs(cfg.root, cfg.migrationsDir).neo4j, log);
  await waitForBolt(info.connection, opts.neo4jTimeoutMs ?? 120_000, opts.signal ? { signal: opts.signal } : {});
  return migrateNeo4j(info);
}
