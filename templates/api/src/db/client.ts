/** The PostgreSQL pool (node-postgres) and its drizzle handle, with timeouts on every call. */
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema.js';

export type Db = NodePgDatabase<typeof schema>;

export interface PgOptions {
  url: string;
  max?: number;
  /** Connect, statement and query timeout (ms). */
  timeoutMs?: number;
  applicationName?: string;
}

export function createPool(o: PgOptions): pg.Pool {
  const timeout = o.timeoutMs ?? 3000;
  const pool = new pg.Pool({
    connectionString: o.url,
    max: o.max ?? 10,
    connectionTimeoutMillis: timeout,
    idleTimeoutMillis: 30_000,
    // Server-side: a statement running longer is cancelled; client-side: a dead server is noticed.
    statement_timeout: Math.max(timeout * 4, 10_000),
    query_timeout: Math.max(timeout * 4, 10_000) + 1000,
    application_name: o.applicationName ?? 'helfy-api',
    keepAlive: true,
  });
  // An idle client losing its server must not crash the process.
  pool.on('error', () => {});
  return pool;
}

export function createDb(pool: pg.Pool): Db {
  return drizzle(pool, { schema });
}

/** Is the timescaledb extension installed in this database? Detected once at start. */
export async function detectTimescale(pool: pg.Pool): Promise<boolean> {
  const r = await pool.query(`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`);
  return (r.rowCount ?? 0) > 0;
}

/** Runs fn in one transaction on one pooled client; rolls back on any error. */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}
