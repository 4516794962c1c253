/**
 * Bolt connection helpers for Neo4j. The only place (with the rest of src/db/neo4j) that
 * imports neo4j-driver.
 */
import neo4j, { type Driver } from 'neo4j-driver';
import { HelfyError } from '../../core/errors.js';

/** Where Neo4j listens: a bolt URL, or host + bolt port (the shape of `HelfyConfig['neo4j']`). */
export interface Neo4jConnectionInfo {
  /** e.g. `bolt://127.0.0.1:7687`; wins over host/boltPort. */
  url?: string;
  host?: string;
  boltPort?: number;
  user: string;
  password: string;
  /** Database name; the server's default database when absent. */
  database?: string;
}

export function boltUrl(info: Neo4jConnectionInfo): string {
  if (info.url) return info.url;
  if (!info.host || !info.boltPort) {
    throw new HelfyError('CONFIG_INVALID', 'Neo4j connection needs a bolt url or host and bolt port', {
      hint: 'Set HELFY_NEO4J_HOST and HELFY_NEO4J_BOLT_PORT.',
    });
  }
  const host = info.host.includes(':') && !info.host.startsWith('[') ? `[${info.host}]` : info.host;
  return `bolt://${host}:${info.boltPort}`;
}

/**
 * A driver for one single-instance server (bolt://, no routing). Creating a driver does not
 * connect; use waitForBolt() or run a query to find out whether the server is there.
 */
export function connectNeo4j(info: Neo4jConnectionInfo, opts: { connectionTimeoutMs?: number } = {}): Driver {
  return neo4j.driver(boltUrl(info), neo4j.auth.basic(info.user, info.password), {
    connectionTimeout: opts.connectionTimeoutMs ?? 5_000,
    // Our queries are few and short; keep the retry window for transient errors modest.
    maxTransactionRetryTime: 15_000,
    disableLosslessIntegers: true,
    userAgent: 'helfy',
  });
}

/** Either an open driver (left open) or connection info (a driver is made and closed). */
export type Neo4jTarget = { driver: Driver; database?: string } | { connection: Neo4jConnectionInfo };

/** Runs fn with a driver for the target, closing it afterwards when we made it. */
export async function withNeo4j<T>(target: Neo4jTarget, fn: (driver: Driver, database: string | undefined) => Promise<T>): Promise<T> {
  if ('driver' in target) return fn(target.driver, target.database);
  const driver = connectNeo4j(target.connection);
  try {
    return await fn(driver, target.connection.database);
  } finally {
    await driver.close();
  }
}

function errCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
}

export function isAuthError(e: unknown): boolean {
  return errCode(e).startsWith('Neo.ClientError.Security.');
}

export interface BoltServerInfo {
  address: string;
  /** e.g. `Neo4j/5.26.0`. */
  agent: string;
  /** Bolt protocol version, e.g. `5.8`. */
  protocolVersion: string;
  /** From dbms.components(): e.g. `5.26.30`. */
  version: string;
  /** `community` or `enterprise`. */
  edition: string;
}

/**
 * Polls until the server accepts bolt connections and the database answers a query, or the
 * timeout passes. Wrong credentials fail at once (waiting would not help).
 */
export async function waitForBolt(info: Neo4jConnectionInfo, timeoutMs: number, opts: { signal?: AbortSignal; intervalMs?: number } = {}): Promise<BoltServerInfo> {
  const url = boltUrl(info);
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let attempt = 0;
  for (;;) {
    if (opts.signal?.aborted) throw new HelfyError('INTERRUPTED', `interrupted while waiting for Neo4j at ${url}`);
    const driver = connectNeo4j(info, { connectionTimeoutMs: Math.max(1_000, Math.min(5_000, deadline - Date.now())) });
    try {
      const server = await driver.getServerInfo({ database: info.database });
      const res = await driver.executeQuery('CALL dbms.components() YIELD versions, edition RETURN versions[0] AS version, edition', {}, { database: info.database });
      const rec = res.records[0];
      return {
        address: server.address ?? url,
        agent: server.agent ?? '',
        protocolVersion: server.protocolVersion ? String(server.protocolVersion) : '',
        version: String(rec?.get('version') ?? ''),
        edition: String(rec?.get('edition') ?? ''),
      };
    } catch (e) {
      last = e;
      if (isAuthError(e)) {
        throw new HelfyError('CONNECTION_FAILED', `Neo4j at ${url} refused the credentials for user ${info.user}: ${(e as Error).message}`, {
          hint: 'Check HELFY_NEO4J_PASSWORD; it must match the password the server was first started with.',
          cause: e,
        });
      }
    } finally {
      await driver.close();
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    attempt++;
    await sleep(Math.min(left, opts.intervalMs ?? Math.min(2_000, 200 * attempt)));
  }
  throw new HelfyError('CONNECTION_FAILED', `Neo4j did not answer on ${url} within ${Math.round(timeoutMs / 1000)}s: ${(last as Error)?.message ?? 'no answer'}`, {
    hint: 'Is Neo4j running? `helfy status` shows the stack; `helfy logs neo4j` shows why it did not start.',
    cause: last,
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
