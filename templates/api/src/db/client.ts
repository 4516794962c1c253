/** The PostgreSQL pool (node-postgres) and its drizzle handle, with timeouts on every call. */
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema.js';

export type Db = NodePgDatabase<typeof schema>;

export interface PgOptions {
  url: string;
  max?: number;
  /** Connect timeout (ms); statements are bounded by statementTimeoutMs. */
  timeoutMs?: number;
  /**
   * Server-side statement_timeout (ms), default 2 × timeoutMs; the client-side query_timeout (a
   * hung server or a dropped network: no answer at all) is 1 s longer.
   */
  statementTimeoutMs?: number;
  applicationName?: string;
}

export function createPool(o: PgOptions): pg.Pool {
  const timeout = o.timeoutMs ?? 3000;
  const statement = o.statementTimeoutMs ?? 2 * timeout;
  const pool = new pg.Pool({
    connectionString: o.url,
    max: o.max ?? 10,
    connectionTimeoutMillis: timeout,
    idleTimeoutMillis: 30_000,
    // Server-side: a statement running longer is cancelled (57014 → 503); client-side: a hung
    // server (paused, network gone: no answer, no refusal) is noticed ("Query read timeout" → 503).
    statement_timeout: statement,
    query_timeout: statement + 1000,
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

/**
 * True when a query failed on the client side (timeout, reset, closed), not with an answer from
 * the server: the connection may still be busy with the hung query and must not go back to the
 * pool, and a ROLLBACK on it would only wait behind that query for another query_timeout.
 */
export function connectionBroken(e: unknown): boolean {
  if (e instanceof pg.DatabaseError) return false; // the server answered: the connection works
  const name = (e as { name?: string })?.name;
  return !(name === 'ApiError' || name === 'DependencyError' || name === 'ZodError');
}

/** The catch of a hand-written transaction: ROLLBACK on a working connection, skip it on a broken one. */
export async function rollbackUnlessBroken(c: pg.PoolClient, e: unknown): Promise<void> {
  if (!connectionBroken(e)) await c.query('ROLLBACK').catch(() => {});
}

/** The finally: a broken connection is destroyed (release(err)), a working one goes back to the pool. */
export function releaseClient(c: pg.PoolClient, failure: unknown): void {
  c.release(failure !== undefined && connectionBroken(failure) ? (failure as Error) : undefined);
}

/** Runs fn in one transaction on one pooled client; rolls back on any error. */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  let failure: unknown;
  try {
    await c.query('BEGIN');
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (e) {
    failure = e;
    await rollbackUnlessBroken(c, e);
    throw e;
  } finally {
    releaseClient(c, failure);
  }
}
