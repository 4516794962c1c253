/**
 * Connections to the stack's PostgreSQL: names of the databases and roles, client configs built
 * from HelfyConfig, and a connect() that turns driver errors into HelfyErrors.
 */
import pg from 'pg';
import type { HelfyConfig } from '../../config/load.js';
import { HelfyError } from '../../core/errors.js';

import { APP_DB, ROLE_API, ROLE_OWNER, ROLE_TEMPORAL, TEMPORAL_DB, TEMPORAL_DBS, TEMPORAL_VISIBILITY_DB } from './names.js';

export { APP_DB, ROLE_API, ROLE_OWNER, ROLE_TEMPORAL, TEMPORAL_DB, TEMPORAL_DBS, TEMPORAL_VISIBILITY_DB };

/** A connection string (postgres://...) or a node-postgres client config. */
export type PgConnection = string | pg.ClientConfig;

export type PgRole = 'superuser' | 'owner' | 'api' | 'temporal';

/**
 * Client config for one of the stack's roles. Defaults: the role's own database (helfy_app for
 * owner/api, helfy_temporal for temporal, postgres for the superuser).
 */
export function pgConnectionFor(cfg: HelfyConfig, role: PgRole, database?: string): pg.ClientConfig {
  const p = cfg.postgres;
  const base = { host: p.host, port: p.port, connectionTimeoutMillis: 10_000, application_name: 'helfy' };
  switch (role) {
    case 'superuser':
      return { ...base, user: p.superuser, password: p.superuserPassword, database: database ?? 'postgres' };
    case 'owner':
      return { ...base, user: ROLE_OWNER, password: p.appOwnerPassword, database: database ?? APP_DB };
    case 'api':
      return { ...base, user: ROLE_API, password: p.appPassword, database: database ?? APP_DB };
    case 'temporal':
      return { ...base, user: ROLE_TEMPORAL, password: p.temporalPassword, database: database ?? TEMPORAL_DB };
  }
}

/** Same connection, another database. */
export function withDatabase(conn: PgConnection, database: string): pg.ClientConfig {
  return typeof conn === 'string' ? { connectionString: conn, database } : { ...conn, database };
}

/** "user@host:port/db" for messages (never the password). */
export function describeConnection(conn: PgConnection): string {
  if (typeof conn === 'string') {
    try {
      const u = new URL(conn);
      return `${decodeURIComponent(u.username) || '?'}@${u.hostname}:${u.port || 5432}${u.pathname || '/'}`;
    } catch {
      return '<connection string>';
    }
  }
  if (conn.connectionString) return describeConnection(conn.connectionString);
  return `${conn.user ?? '?'}@${conn.host ?? 'localhost'}:${conn.port ?? 5432}/${conn.database ?? ''}`;
}

/** Opens a client; connection failures become HelfyError('CONNECTION_FAILED') with a hint. */
export async function connect(conn: PgConnection): Promise<pg.Client> {
  const client = new pg.Client(typeof conn === 'string' ? { connectionString: conn } : conn);
  // An idle client whose server goes away emits 'error'; without a listener that kills the process.
  client.on('error', () => {});
  try {
    await client.connect();
    return client;
  } catch (e) {
    await client.end().catch(() => {});
    throw connectionError(conn, e);
  }
}

export function connectionError(conn: PgConnection, e: unknown): HelfyError {
  const err = e as { code?: string; message?: string };
  const where = describeConnection(conn);
  let hint = 'Is the stack running? `helfy status` shows the services; `helfy up` starts them.';
  if (err.code === '28P01' || err.code === '28000') hint = 'The password in .env does not match the server; `helfy db bootstrap` syncs the role passwords.';
  else if (err.code === '3D000') hint = 'The database does not exist yet; `helfy db bootstrap` creates it.';
  return new HelfyError('CONNECTION_FAILED', `cannot connect to PostgreSQL ${where}: ${err.message ?? String(e)}`, {
    hint,
    cause: e,
    data: { pgCode: err.code },
  });
}

/** Runs fn with a fresh client and always closes it. */
export async function withClient<T>(conn: PgConnection, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = await connect(conn);
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A string literal; standard_conforming_strings is on (default since 9.1), so only ' is doubled. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
