/**
 * What `helfy backup` records about the stores and `helfy restore` compares afterwards: versions
 * (server, extensions, Temporal schema, migration heads) and figures (exact rows per table of
 * helfy_app, hypertable chunks, nodes per label and relationships per type, Temporal namespaces
 * and their closed workflows). Read-only queries as the PostgreSQL superuser and the neo4j user.
 */
import type { HelfyConfig } from '../../config/load.js';
import type { Figures } from '../../backup/manifest.js';
import { APP_DB, pgConnectionFor, quoteIdent, TEMPORAL_DB, TEMPORAL_VISIBILITY_DB, withClient, type PgConnection } from '../postgres/connection.js';

export interface PgFacts {
  serverVersion: string;
  serverVersionNum: number;
  /** Versions of timescaledb this server can install. */
  timescaledbAvailable: string[];
  databases: Record<string, { exists: boolean; extensions: Record<string, string> }>;
  migrationHead: string | null;
  temporalSchema: { main: string | null; visibility: string | null };
  historyShards: number | null;
}

const PG_DBS = [APP_DB, TEMPORAL_DB, TEMPORAL_VISIBILITY_DB];

async function tableExists(c: import('pg').Client, qualified: string): Promise<boolean> {
  const r = await c.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [qualified]);
  return Boolean(r.rows[0]?.ok);
}

export async function postgresFacts(cfg: HelfyConfig, conn: PgConnection = pgConnectionFor(cfg, 'superuser')): Promise<PgFacts> {
  const base = typeof conn === 'string' ? { connectionString: conn } : conn;
  const top = await withClient(base, async (c) => {
    const v = await c.query<{ v: string; n: string }>("SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n");
    const ts = await c.query<{ version: string }>("SELECT version FROM pg_available_extension_versions WHERE name = 'timescaledb' ORDER BY version");
    const dbs = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = ANY($1)', [PG_DBS]);
    return { serverVersion: v.rows[0]!.v, serverVersionNum: Number(v.rows[0]!.n), available: ts.rows.map((r) => r.version), present: new Set(dbs.rows.map((r) => r.datname)) };
  });
  const databases: PgFacts['databases'] = {};
  let migrationHead: string | null = null;
  const temporalSchema: PgFacts['temporalSchema'] = { main: null, visibility: null };
  let historyShards: number | null = null;
  for (const db of PG_DBS) {
    if (!top.present.has(db)) {
      databases[db] = { exists: false, extensions: {} };
      continue;
    }
    await withClient({ ...base, database: db }, async (c) => {
      const ext = await c.query<{ extname: string; extversion: string }>("SELECT extname, extversion FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY extname");
      databases[db] = { exists: true, extensions: Object.fromEntries(ext.rows.map((r) => [r.extname, r.extversion])) };
      if (db === APP_DB && (await tableExists(c, 'drizzle.helfy_migrations'))) {
        const r = await c.query<{ tag: string }>('SELECT tag FROM drizzle.helfy_migrations ORDER BY created_at DESC NULLS LAST LIMIT 1');
        migrationHead = r.rows[0]?.tag ?? null;
      }
      if (db !== APP_DB && (await tableExists(c, 'public.schema_version'))) {
        const r = await c.query<{ v: string }>('SELECT curr_version AS v FROM schema_version LIMIT 1');
        temporalSchema[db === TEMPORAL_DB ? 'main' : 'visibility'] = r.rows[0]?.v ?? null;
      }
      if (db === TEMPORAL_DB && (await tableExists(c, 'public.shards'))) {
        historyShards = Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM shards')).rows[0]!.n);
      }
    });
  }
  return { serverVersion: top.serverVersion, serverVersionNum: top.serverVersionNum, timescaledbAvailable: top.available, databases, migrationHead, temporalSchema, historyShards };
}

/**
 * Figures of the PostgreSQL side. `dbs` maps the logical databases to the ones to read (a
 * restore test reads scratch copies).
 */
export async function postgresFigures(
  cfg: HelfyConfig,
  dbs: { app: string; temporal: string; visibility: string } = { app: APP_DB, temporal: TEMPORAL_DB, visibility: TEMPORAL_VISIBILITY_DB },
): Promise<Pick<Figures, 'postgres' | 'temporal'>> {
  const base = pgConnectionFor(cfg, 'superuser');
  const postgres = await withClient({ ...base, database: dbs.app }, async (c) => {
    const tables = await c.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
          AND n.nspname NOT LIKE '\\_timescaledb%' AND n.nspname NOT LIKE 'timescaledb\\_%' AND n.nspname NOT LIKE 'pg\\_temp%'
        ORDER BY 1, 2`,
    );
    const rows: Record<string, number> = {};
    if (tables.rows.length) {
      // One statement: every count in the same snapshot.
      const sql = tables.rows.map((t, i) => `SELECT ${i} AS i, count(*)::bigint AS n FROM ${quoteIdent(t.schema)}.${quoteIdent(t.name)}`).join(' UNION ALL ');
      for (const r of (await c.query<{ i: number; n: string }>(sql)).rows) {
        const t = tables.rows[r.i]!;
        rows[`${t.schema}.${t.name}`] = Number(r.n);
      }
    }
    let chunks: Record<string, number> | null = null;
    if (await tableExists(c, 'timescaledb_information.chunks')) {
      // Not the continuous aggregates' materialization hypertables: derived data their refresh
      // policies rewrite at any moment (also right after a restore), so no figure of the backup.
      const r = await c.query<{ h: string; n: string }>(
        `SELECT hypertable_schema || '.' || hypertable_name AS h, count(*) AS n FROM timescaledb_information.chunks
          WHERE hypertable_name NOT LIKE '\\_materialized\\_hypertable\\_%' GROUP BY 1 ORDER BY 1`,
      );
      chunks = Object.fromEntries(r.rows.map((x) => [x.h, Number(x.n)]));
    }
    return { rows, chunks };
  });
  const namespaces = await withClient({ ...base, database: dbs.temporal }, async (c) => {
    if (!(await tableExists(c, 'public.namespaces'))) return [] as { name: string; id: string }[];
    return (await c.query<{ name: string; id: string }>("SELECT name, encode(id, 'hex') AS id FROM namespaces ORDER BY name")).rows;
  });
  const closed = await withClient({ ...base, database: dbs.visibility }, async (c) => {
    if (!(await tableExists(c, 'public.executions_visibility'))) return {} as Record<string, number>;
    const r = await c.query<{ id: string; n: string }>("SELECT replace(trim(namespace_id), '-', '') AS id, count(*) AS n FROM executions_visibility WHERE status <> 1 GROUP BY 1");
    return Object.fromEntries(r.rows.map((x) => [x.id, Number(x.n)]));
  });
  const closedWorkflows = Object.fromEntries(namespaces.map((n) => [n.name, closed[n.id] ?? 0]));
  return { postgres, temporal: { namespaces: namespaces.map((n) => n.name), closedWorkflows } };
}

export interface Neo4jFacts {
  version: string;
  edition: string;
  migrationHead: number | null;
}

type Neo4jConn = { host: string; boltPort: number; user: string; password: string };

/** Version, edition and the applied migration head of the default database. */
export async function neo4jFacts(conn: Neo4jConn): Promise<Neo4jFacts> {
  const { connectNeo4j } = await import('../neo4j/connect.js');
  const driver = connectNeo4j(conn);
  try {
    const c = await driver.executeQuery('CALL dbms.components() YIELD versions, edition RETURN versions[0] AS version, edition');
    const h = await driver.executeQuery('MATCH (m:__HelfyMigration) RETURN max(m.version) AS v');
    const v = h.records[0]?.get('v');
    return { version: String(c.records[0]?.get('version') ?? ''), edition: String(c.records[0]?.get('edition') ?? ''), migrationHead: v === null || v === undefined ? null : Number(v) };
  } finally {
    await driver.close();
  }
}

/** Nodes per label and relationships per type (count store: constant time per label/type). */
export async function neo4jFigures(conn: Neo4jConn | { url: string; user: string; password: string }): Promise<NonNullable<Figures['neo4j']>> {
  const { connectNeo4j } = await import('../neo4j/connect.js');
  const driver = connectNeo4j(conn);
  const tick = (s: string) => `\`${s.replace(/`/g, '``')}\``;
  try {
    const labels = (await driver.executeQuery('CALL db.labels() YIELD label RETURN label ORDER BY label')).records.map((r) => String(r.get('label')));
    const types = (await driver.executeQuery('CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType ORDER BY relationshipType')).records.map((r) => String(r.get('relationshipType')));
    const out = { labels: {} as Record<string, number>, relationships: {} as Record<string, number> };
    for (const l of labels) {
      const n = Number((await driver.executeQuery(`MATCH (n:${tick(l)}) RETURN count(n) AS n`)).records[0]?.get('n') ?? 0);
      if (n > 0) out.labels[l] = n;
    }
    for (const t of types) {
      const n = Number((await driver.executeQuery(`MATCH ()-[r:${tick(t)}]->() RETURN count(r) AS n`)).records[0]?.get('n') ?? 0);
      if (n > 0) out.relationships[t] = n;
    }
    return out;
  } finally {
    await driver.close();
  }
}

/** Waits until Neo4j answers Bolt (after a restart or a scratch start). */
export async function waitNeo4j(conn: Neo4jConn, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const { waitForBolt } = await import('../neo4j/connect.js');
  await waitForBolt(conn, timeoutMs, { signal });
}

/** Scratch databases for `verify --restore-test`: created empty from template0, dropped after. */
export async function createScratchDatabases(cfg: HelfyConfig, names: string[]): Promise<void> {
  await withClient(pgConnectionFor(cfg, 'superuser'), async (c) => {
    for (const n of names) await c.query(`CREATE DATABASE ${quoteIdent(n)} TEMPLATE template0`);
  });
}

export async function dropDatabases(cfg: HelfyConfig, names: string[]): Promise<void> {
  await withClient(pgConnectionFor(cfg, 'superuser'), async (c) => {
    for (const n of names) await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(n)} WITH (FORCE)`);
  });
}

/** Drops the `helfy_verify_%` scratch databases `isGone` picks (a killed restore test's); returns their names. */
export async function dropScratchDatabases(cfg: HelfyConfig, isGone: (name: string) => boolean): Promise<string[]> {
  return withClient(pgConnectionFor(cfg, 'superuser'), async (c) => {
    const r = await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'helfy\\_verify\\_%' ORDER BY 1");
    const gone = r.rows.map((x) => x.datname).filter(isGone);
    for (const n of gone) await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(n)} WITH (FORCE)`);
    return gone;
  });
}
