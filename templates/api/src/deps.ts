/** Everything the app needs from the outside, built from the config; injected into createApp. */
import type { Driver } from 'neo4j-driver';
import type pg from 'pg';
import type { Config } from './config.js';
import { createDb, createPool, detectTimescale, type Db } from './db/client.js';
import { createNeo4jDriver, neo4jPoolStats } from './library/driver.js';
import type { Logger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createTemporal, type TemporalDeps } from './temporal/client.js';

export interface Deps {
  config: Config;
  log: Logger;
  pool: pg.Pool;
  db: Db;
  neo4j: Driver;
  temporal: TemporalDeps;
  metrics: Metrics;
  /** Whether helfy_app has the timescaledb extension (time_bucket), else date_bin. */
  timescale: boolean | undefined;
  /** Whether the continuous aggregates of migration 0004 are readable (detected on first use). */
  aggregates?: boolean;
}

/** Registers the pool gauges on metrics (pg pool: total/idle/waiting; Neo4j: in use/idle). */
export function registerPoolMetrics(metrics: Metrics, pool: pg.Pool, neo4j: Driver): void {
  metrics.addCollector('helfy_pg_pool_connections', 'PostgreSQL pool connections by state', ['state'], () => [
    [{ state: 'total' }, pool.totalCount],
    [{ state: 'idle' }, pool.idleCount],
    [{ state: 'waiting' }, pool.waitingCount],
  ]);
  metrics.addCollector('helfy_neo4j_pool_connections', 'Neo4j driver pool connections by state', ['state'], () => {
    const s = neo4jPoolStats(neo4j);
    return [
      [{ state: 'in_use' }, s.inUse ?? Number.NaN],
      [{ state: 'idle' }, s.idle ?? Number.NaN],
    ];
  });
}

export async function createDeps(config: Config, log: Logger): Promise<Deps> {
  const pool = createPool({ url: config.DATABASE_URL, max: config.PG_POOL_MAX, timeoutMs: config.DEPENDENCY_TIMEOUT_MS });
  const neo4j = createNeo4jDriver({
    url: config.NEO4J_URL,
    user: config.NEO4J_USER,
    password: config.NEO4J_PASSWORD,
    timeoutMs: config.DEPENDENCY_TIMEOUT_MS,
  });
  const temporal = createTemporal({
    address: config.TEMPORAL_ADDRESS,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    timeoutMs: config.DEPENDENCY_TIMEOUT_MS,
  });
  const metrics = createMetrics();
  registerPoolMetrics(metrics, pool, neo4j);
  let timescale: boolean | undefined;
  try {
    timescale = await detectTimescale(pool);
    // Least privilege: the API is meant to connect as helfy_api (data only).
    const r = await pool.query(`SELECT current_user AS u, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user`);
    const role = r.rows[0];
    if (role && (role.rolsuper || role.rolcreaterole || role.rolcreatedb)) {
      log.warn('connected to PostgreSQL with a privileged role; the API should use helfy_api (data privileges only)', { role: role.u });
    }
  } catch (e) {
    // PostgreSQL not up yet: readiness reports it; the range query re-detects on first use.
    log.warn('could not detect timescaledb yet', { error: e instanceof Error ? e.message : String(e) });
  }
  return { config, log, pool, db: createDb(pool), neo4j, temporal, metrics, timescale };
}

export async function closeDeps(d: Pick<Deps, 'pool' | 'neo4j' | 'temporal'>): Promise<void> {
  await Promise.allSettled([d.pool.end(), d.neo4j.close(), d.temporal.close()]);
}
