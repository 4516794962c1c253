/** The one Neo4j driver (built-in pool), with timeouts and retries on transient errors. */
import neo4j, { type Driver } from 'neo4j-driver';

export interface Neo4jOptions {
  url: string;
  user: string;
  password: string;
  timeoutMs?: number;
  maxPoolSize?: number;
}

export function createNeo4jDriver(o: Neo4jOptions): Driver {
  const timeout = o.timeoutMs ?? 3000;
  return neo4j.driver(o.url, neo4j.auth.basic(o.user, o.password), {
    maxConnectionPoolSize: o.maxPoolSize ?? 20,
    connectionAcquisitionTimeout: timeout,
    connectionTimeout: timeout,
    // executeRead/executeWrite retry transient errors (deadlocks, leader switches) for this long.
    maxTransactionRetryTime: timeout,
    disableLosslessIntegers: true,
    logging: { level: 'error', logger: () => {} },
  });
}

/**
 * Connections in use and idle. neo4j-driver has no public API for pool figures; this reads the
 * pool of the pinned driver version (6.3.0) and returns nulls if its shape ever changes.
 */
export function neo4jPoolStats(driver: Driver): { inUse: number | null; idle: number | null } {
  try {
    const pool = (driver as unknown as { _connectionProvider?: { _connectionPool?: { _pools?: Record<string, { _elements?: unknown[]; _elementsInUse?: Set<unknown> }> } } })
      ._connectionProvider?._connectionPool;
    if (!pool) return { inUse: 0, idle: 0 };
    const pools = Object.values(pool._pools ?? {});
    let inUse = 0;
    let idle = 0;
    for (const p of pools) {
      if (!Array.isArray(p._elements) || !(p._elementsInUse instanceof Set)) return { inUse: null, idle: null };
      idle += p._elements.length;
      inUse += p._elementsInUse.size;
    }
    return { inUse, idle };
  } catch {
    return { inUse: null, idle: null };
  }
}
