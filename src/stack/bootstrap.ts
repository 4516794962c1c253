/**
 * The hooks `helfy up` calls around starting the stack.
 *
 *  1. `bootstrapDatabases` runs once PostgreSQL is healthy and before anything else starts:
 *     it creates the roles and databases the other services need (Temporal's schema job connects
 *     as `helfy_temporal` to `helfy_temporal` / `helfy_temporal_visibility`). Idempotent.
 *  2. `afterHealthy` runs once every requested service is healthy: the Temporal namespace and
 *     the PostgreSQL and Neo4j migrations.
 */
import type { HelfyConfig } from '../config/load.js';
import type { Context, Logger } from '../core/context.js';
import type { ServiceName } from './types.js';

export interface DatabaseBootstrapResult {
  changed: boolean;
  /** One line per change ("role helfy_api: created"). */
  changes: string[];
  durationMs: number;
}

/**
 * PostgreSQL bootstrap (roles, databases, extension) through src/db/postgres/bootstrap.ts.
 * `log` receives the progress lines (up routes them away from the task list while it renders).
 */
export async function bootstrapDatabases(_ctx: Context, cfg: HelfyConfig, log: Logger): Promise<DatabaseBootstrapResult> {
  const t0 = performance.now();
  const { bootstrapPostgres } = await import('../db/postgres/bootstrap.js');
  const report = await bootstrapPostgres(cfg, log);
  return { changed: report.changed, changes: report.changes.map((c) => `${c.object}: ${c.action}`), durationMs: Math.round(performance.now() - t0) };
}

export interface AfterHealthyInfo {
  /** The services that are up and healthy. */
  services: ServiceName[];
  /** True when `up` found the stack already up and changed nothing. */
  alreadyUp: boolean;
}

/**
 * Called by `helfy up` once every requested service is healthy (also when the stack was already
 * up: everything here is idempotent and a no-op when nothing changed, so an interrupted earlier
 * `up` is completed by the next one). For the services that were asked for:
 *  - postgres: the role/database bootstrap (again, when `up` skipped it because the stack was up),
 *    then the helfy_app migrations;
 *  - temporal: the namespace;
 *  - neo4j: the Neo4j migrations.
 * Independent stores run in parallel. Throws a HelfyError to fail `up`.
 */
export async function afterHealthy(ctx: Context, cfg: HelfyConfig, info: AfterHealthyInfo): Promise<void> {
  const has = (s: ServiceName) => info.services.includes(s);
  const log = ctx.log;
  const { migrateStores, ensureTemporalNamespace, migrateNeo4jWhenReady, asUserError } = await import('../db/orchestrate.js');
  const postgres = has('postgres')
    ? (async () => {
        if (info.alreadyUp) await bootstrapDatabases(ctx, cfg, log);
        const applied = (await migrateStores(cfg, log, { stores: ['postgres'] })).postgres?.applied ?? [];
        if (applied.length) log.success(`PostgreSQL: applied ${applied.map((a) => a.tag).join(', ')}`);
      })()
    : Promise.resolve();
  const neo4j = has('neo4j')
    ? migrateNeo4jWhenReady(cfg, log, { signal: ctx.signal }).then((r) => {
        if (r.applied.length) log.success(`Neo4j: applied ${r.applied.map((a) => a.file).join(', ')}`);
      })
    : Promise.resolve();
  const temporal = has('temporal')
    ? ensureTemporalNamespace(cfg, log).then((r) => {
        if (r.created) log.success(`Temporal: registered namespace ${cfg.temporal.namespace} (retention ${r.retentionHours} h)`);
      })
    : Promise.resolve();
  const results = await Promise.allSettled([postgres, neo4j, temporal]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw asUserError(failed.reason);
}

/**
 * The Temporal namespace, as soon as Temporal serves (`up`'s onReady hook): the worker polls a
 * task queue of that namespace and cannot become healthy before it exists. afterHealthy checks it
 * again (idempotent: one describeNamespace).
 */
export async function registerNamespaceEarly(cfg: HelfyConfig, log: Logger): Promise<void> {
  const { ensureTemporalNamespace, asUserError } = await import('../db/orchestrate.js');
  try {
    const r = await ensureTemporalNamespace(cfg, log);
    if (r.created) log.success(`Temporal: registered namespace ${cfg.temporal.namespace} (retention ${r.retentionHours} h)`);
  } catch (e) {
    throw asUserError(e);
  }
}
