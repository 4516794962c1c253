// Starts each real server used by the test suite, checks it really works, and
// stops it again (port closed, temp dir gone). Slow on purpose: first run
// installs/builds the servers (Temporal is compiled from source).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { execa } from 'execa';
import neo4j from 'neo4j-driver';
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import {
  isPortOpen,
  runningServerCount,
  startNeo4j,
  startPostgres,
  startTemporal,
} from './index.js';

const MIN = 60_000;

function timed<T>(label: string, p: Promise<T>): Promise<T> {
  const t0 = Date.now();
  return p.then((v) => {
    console.log(`${label}: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return v;
  });
}

describe('postgres (Debian postgresql-15)', () => {
  test('starts, answers as PostgreSQL 15 with password auth, stops', async () => {
    const s = await timed('startPostgres', startPostgres());
    try {
      expect(s.host).toBe('127.0.0.1');
      expect(s.database).toBe('postgres');
      const c = new pg.Client({ connectionString: s.url });
      await c.connect();
      const { rows } = await c.query<{ version: string; server_version_num: string }>(
        "select version(), current_setting('server_version_num') as server_version_num",
      );
      await c.end();
      expect(rows[0]!.version).toMatch(/^PostgreSQL 15\./);
      expect(Number(rows[0]!.server_version_num)).toBeGreaterThanOrEqual(150000);

      const bad = new pg.Client({ host: s.host, port: s.port, user: s.user, password: 'wrong-password', database: 'postgres' });
      await expect(bad.connect()).rejects.toThrow(/password authentication failed/);
      await bad.end().catch(() => {});

      // Client tools of the same major sit next to the server.
      for (const tool of ['psql', 'pg_dump', 'pg_restore']) {
        const v = await execa(join(s.binDir, tool), ['--version']);
        expect(v.stdout).toMatch(/ 15\.\d+/);
      }
    } finally {
      await s.stop();
    }
    expect(await isPortOpen(s.port)).toBe(false);
    expect(existsSync(s.dir)).toBe(false);
  }, 5 * MIN);
});

describe('neo4j 5.26 community', () => {
  test('starts with auth on, reports 5.26, refuses a wrong password, stops', async () => {
    const s = await timed('startNeo4j', startNeo4j());
    try {
      expect(s.user).toBe('neo4j');
      const driver = neo4j.driver(s.boltUrl, neo4j.auth.basic(s.user, s.password));
      try {
        const r = await driver.executeQuery('CALL dbms.components() YIELD name, versions, edition RETURN name, versions, edition');
        const comp = r.records[0]!.toObject() as { name: string; versions: string[]; edition: string };
        expect(comp.versions[0]).toMatch(/^5\.26\./);
        expect(comp.edition).toBe('community');
        await driver.executeQuery('CREATE (n:HelfyProbe {id: 1}) RETURN n');
        const n = await driver.executeQuery('MATCH (n:HelfyProbe) RETURN count(n) AS c');
        expect(n.records[0]!.get('c').toNumber()).toBe(1);
      } finally {
        await driver.close();
      }

      const bad = neo4j.driver(s.boltUrl, neo4j.auth.basic('neo4j', 'definitely-wrong'));
      try {
        await expect(bad.executeQuery('RETURN 1')).rejects.toThrow(/unauthorized|authentication/i);
      } finally {
        await bad.close();
      }

      const res = await fetch(s.httpUrl);
      expect(res.ok).toBe(true);
      expect(((await res.json()) as { neo4j_version: string }).neo4j_version).toMatch(/^5\.26\./);
    } finally {
      await timed('neo4j stop', s.stop());
    }
    expect(await isPortOpen(s.boltPort)).toBe(false);
    expect(await isPortOpen(s.httpPort)).toBe(false);
    expect(existsSync(s.dir)).toBe(false);
  }, 10 * MIN);
});

describe('temporal (SQL persistence on postgres12)', () => {
  // The first run compiles Temporal (10+ minutes on 2 cores); later runs are cached.
  test('starts on a fresh PostgreSQL, gRPC health SERVING, getSystemInfo works, stops', async () => {
    const p = await startPostgres();
    try {
      const t = await timed('startTemporal', startTemporal({ postgres: p }));
      const port = Number(t.address.split(':')[1]);
      try {
        expect(t.address).toMatch(/^127\.0\.0\.1:\d+$/);
        const conn = await Connection.connect({ address: t.address });
        try {
          const h = await conn.healthService.check({ service: 'temporal.api.workflowservice.v1.WorkflowService' });
          expect(h.status).toBe(1); // SERVING
          const info = await conn.workflowService.getSystemInfo({});
          expect(info.serverVersion).toMatch(/^1\.\d+\.\d+/);
          expect(info.capabilities).toBeTruthy();
          // No namespace is pre-created for the CLI under test (only the system one).
          const ns = await conn.workflowService.listNamespaces({ pageSize: 100 });
          const names = ns.namespaces.map((n) => n.namespaceInfo?.name);
          expect(names).toContain('temporal-system');
          expect(names).not.toContain('default');

          // End-to-end: frontend -> history -> matching with a namespace of our own.
          type Retention = NonNullable<
            Parameters<typeof conn.workflowService.registerNamespace>[0]['workflowExecutionRetentionPeriod']
          >;
          await conn.workflowService.registerNamespace({
            namespace: 'helfy-probe',
            // protobufjs accepts a plain number where the typings say Long.
            workflowExecutionRetentionPeriod: { seconds: 86_400 } as unknown as Retention,
          });
          const client = new Client({ connection: conn, namespace: 'helfy-probe' });
          const t0 = Date.now();
          let handle;
          for (;;) {
            try {
              handle = await client.workflow.start('probeWorkflow', { taskQueue: 'probe', workflowId: 'probe-1' });
              break;
            } catch (e) {
              // The namespace registry may lag a freshly registered namespace briefly.
              if (Date.now() - t0 > 30_000 || !/not found/i.test(String(e))) throw e;
              await new Promise((r) => setTimeout(r, 250));
            }
          }
          console.log(`namespace usable after ${Date.now() - t0} ms`);
          expect((await handle.describe()).status.name).toBe('RUNNING');
          await handle.terminate('probe done');
          expect((await handle.describe()).status.name).toBe('TERMINATED');
        } finally {
          await conn.close();
        }

        // Both databases are owned by the dedicated role and carry the schema.
        const c = new pg.Client({ connectionString: p.url });
        await c.connect();
        const dbs = await c.query<{ datname: string; owner: string }>(
          "select datname, pg_get_userbyid(datdba) as owner from pg_database where datname like 'helfy_temporal%' order by 1",
        );
        await c.end();
        expect(dbs.rows).toEqual([
          { datname: 'helfy_temporal', owner: 'helfy_temporal' },
          { datname: 'helfy_temporal_visibility', owner: 'helfy_temporal' },
        ]);
      } finally {
        await timed('temporal stop', t.stop());
      }
      expect(await isPortOpen(port)).toBe(false);
      expect(existsSync(t.dir)).toBe(false);
    } finally {
      await p.stop();
    }
  }, 45 * MIN);
});

describe('postgres with TimescaleDB (built from the shipped source) and without it', () => {
  test('the plain server (PG_PLAIN) has no TimescaleDB to create', async () => {
    const s = await timed('startPostgres (plain)', startPostgres({ timescale: false }));
    try {
      expect(s.binDir).toBe('/usr/lib/postgresql/15/bin');
      const c = new pg.Client({ connectionString: s.url });
      await c.connect();
      try {
        const avail = await c.query(`SELECT count(*)::int AS n FROM pg_available_extensions WHERE name = 'timescaledb'`);
        expect(avail.rows[0].n).toBe(0);
      } finally {
        await c.end();
      }
    } finally {
      await s.stop();
    }
  }, 5 * MIN);

  test('hypertable, retention + columnstore policies, time_bucket', async () => {
    const s = await timed('startPostgres (timescaledb)', startPostgres());
    try {
      expect(s.timescale).toBe(true);
      // The cached copy of the server, not the system's: <cache>/postgres-15.x-…-timescaledb-2.28.3
      // (as root: its hard-link mirror, the same name plus the build's hash).
      expect(s.binDir).toMatch(/\/postgres-15\.\d+-[0-9a-f]{8}-timescaledb-2\.28\.3(-[0-9a-f]{8})?\/lib\/postgresql\/15\/bin$/);
      const c = new pg.Client({ connectionString: s.url });
      await c.connect();
      try {
        await c.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
        const ext = await c.query<{ extversion: string }>("select extversion from pg_extension where extname = 'timescaledb'");
        expect(ext.rows[0]?.extversion).toBe('2.28.3');
        // Quiet by default: no telemetry to Timescale's servers.
        expect((await c.query(`SELECT current_setting('timescaledb.telemetry_level') AS t`)).rows[0].t).toBe('off');

        await c.query(`CREATE TABLE metrics (
          time timestamptz NOT NULL, user_id text NOT NULL, kind text NOT NULL, value double precision)`);
        await c.query("SELECT create_hypertable('metrics', by_range('time', INTERVAL '1 day'))");
        await c.query(`INSERT INTO metrics
          SELECT t, 'u' || (i % 3), 'steps', i
          FROM generate_series(now() - INTERVAL '10 days', now(), INTERVAL '1 hour') WITH ORDINALITY AS g(t, i)`);

        await c.query("SELECT add_retention_policy('metrics', drop_after => INTERVAL '90 days')");
        await c.query("ALTER TABLE metrics SET (timescaledb.compress, timescaledb.compress_segmentby = 'user_id')");
        await c.query("SELECT add_compression_policy('metrics', compress_after => INTERVAL '7 days')");

        // The newer columnstore API (a procedure) on a second hypertable.
        await c.query(`CREATE TABLE readings (time timestamptz NOT NULL, device text NOT NULL, v double precision)`);
        await c.query("SELECT create_hypertable('readings', by_range('time'))");
        await c.query("ALTER TABLE readings SET (timescaledb.enable_columnstore, timescaledb.segmentby = 'device')");
        await c.query("CALL add_columnstore_policy('readings', after => INTERVAL '1 day')");

        const jobs = await c.query<{ proc_name: string; hypertable_name: string }>(
          "select proc_name, hypertable_name from timescaledb_information.jobs where hypertable_name is not null order by 2, 1",
        );
        expect(jobs.rows).toEqual([
          { proc_name: 'policy_compression', hypertable_name: 'metrics' },
          { proc_name: 'policy_retention', hypertable_name: 'metrics' },
          { proc_name: 'policy_compression', hypertable_name: 'readings' },
        ]);

        const hts = await c.query<{ hypertable_name: string }>(
          'select hypertable_name from timescaledb_information.hypertables order by 1',
        );
        expect(hts.rows.map((r) => r.hypertable_name)).toEqual(['metrics', 'readings']);

        const buckets = await c.query<{ bucket: Date; n: string; total: number }>(
          `SELECT time_bucket('1 day', time) AS bucket, count(*) AS n, sum(value) AS total
           FROM metrics GROUP BY bucket ORDER BY bucket`,
        );
        expect(buckets.rows.length).toBeGreaterThanOrEqual(10);
        expect(buckets.rows.reduce((a, r) => a + Number(r.n), 0)).toBe(241);
      } finally {
        await c.end();
      }
    } finally {
      await s.stop();
    }
    expect(await isPortOpen(s.port)).toBe(false);
  }, 5 * MIN);
});

test('no server left running', () => {
  expect(runningServerCount()).toBe(0);
});
