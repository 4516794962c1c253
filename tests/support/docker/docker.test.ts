/**
 * Proves that each Helfy stand-in image (infra/docker/images.sh) honours the contract of the
 * production image it replaces: env vars, data paths, uids, ports, health commands.
 *
 *   npx vitest run tests/support/docker
 *
 * Needs root (or a running Docker engine). The first run on a new machine builds the images
 * (minutes); later runs reuse them. HELFY_SKIP_DOCKER=1 skips it (reported as skipped), for machines without Docker.
 * Every container/volume/network is labelled dev.helfy.test=1 plus a per-run label and is
 * removed in afterAll; a dockerd started here is stopped again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import neo4j from 'neo4j-driver';
import { Connection } from '@temporalio/client';
import {
  docker,
  ensureDockerEngine,
  ensureStandinImages,
  labelArgs,
  newRunLabel,
  publishedPort,
  removeTestResources,
  waitFor,
  type DockerEngineHandle,
  type StandinImages,
} from './index.js';

const skip = process.env.HELFY_SKIP_DOCKER === '1';
const run = newRunLabel();
const name = (s: string) => `helfy-test-${run}-${s}`;

const PG_PASSWORD = 'pg-Secret-1';
const NEO4J_PASSWORD = 'neo4j-Secret-1';
const TEMPORAL_ROLE = 'helfy_temporal';
const TEMPORAL_PASSWORD = 'temporal-Secret-1';
const WORKFLOW_SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';

let engine: DockerEngineHandle | undefined;
let images: StandinImages;
let network: string;

/** Exit code of a command run inside a container (no throw). */
async function execCode(container: string, cmd: string[], env: Record<string, string> = {}) {
  const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const r = await docker(['exec', ...envArgs, container, ...cmd], { reject: false });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout ?? '').trim(), stderr: String(r.stderr ?? '').trim() };
}

async function logsOf(container: string): Promise<string> {
  const r = await docker(['logs', container], { reject: false, all: true });
  return String(r.all ?? '');
}

describe.skipIf(skip)('stand-in images honour the production contracts', () => {
  beforeAll(async () => {
    engine = await ensureDockerEngine();
    images = await ensureStandinImages({ onLog: (l) => process.stderr.write(`${l}\n`) });
    network = name('net');
    await docker(['network', 'create', ...labelArgs(run), network]);
  }, 60 * 60_000);

  afterAll(async () => {
    await removeTestResources(run);
    await engine?.stop();
  }, 120_000);

  describe('node (HELFY_NODE_IMAGE, like node:20)', () => {
    it('runs `node -e` with the host Node version, via the entrypoint too', async () => {
      const img = images.HELFY_NODE_IMAGE;
      const a = await docker(['run', '--rm', ...labelArgs(run), img, 'node', '-e', 'console.log(process.version)']);
      expect(String(a.stdout).trim()).toBe(process.version);
      // Official entrypoint semantics: an option as first argument runs node.
      const b = await docker(['run', '--rm', ...labelArgs(run), img, '-e', 'console.log(6 * 7)']);
      expect(String(b.stdout).trim()).toBe('42');
      // The registry from a container on the default bridge network, as in an image build's `npm ci`:
      // reachable and trusted (the machine's CA, when it adds one, comes with the image).
      const registry = `fetch('https://registry.npmjs.org/-/ping').then((r) => console.log('registry', r.status), (e) => console.log('registry', e.cause?.code ?? e.message))`;
      const c = await docker(['run', '--rm', ...labelArgs(run), img, 'sh', '-c', `id -u node; npm --version; command -v node; node -e "${registry}"`]);
      const [uid, npmVersion, nodePath, reach] = String(c.stdout).trim().split('\n');
      expect(uid).toBe('1000');
      expect(npmVersion).toMatch(/^\d+\.\d+\.\d+$/);
      expect(nodePath).toBe('/usr/local/bin/node');
      expect(reach).toBe('registry 200');
    });
  });

  describe('postgres (HELFY_POSTGRES_IMAGE, like timescale/timescaledb-ha:pg16)', () => {
    const container = name('postgres');
    const volume = name('pgdata');
    let port: number;

    beforeAll(async () => {
      await docker(['volume', 'create', ...labelArgs(run), volume]);
      await docker([
        'run', '-d', '--name', container, ...labelArgs(run),
        '--network', network, '--network-alias', 'postgres',
        '-e', `POSTGRES_PASSWORD=${PG_PASSWORD}`,
        '-v', `${volume}:/home/postgres/pgdata`,
        '-p', '127.0.0.1::5432',
        images.HELFY_POSTGRES_IMAGE,
      ]);
      // The compose healthcheck: pg_isready inside the container.
      await waitFor('pg_isready', async () => (await execCode(container, ['pg_isready', '-U', 'postgres'])).code === 0, {
        timeoutMs: 120_000,
      });
      port = await publishedPort(container, 5432);
    }, 180_000);

    it('declares no VOLUME, keeps PGDATA under the /home/postgres/pgdata mount, runs as uid 1000', async () => {
      const inspect = await docker(['image', 'inspect', '-f', '{{json .Config.Volumes}} {{.Config.User}} {{json .Config.Env}}', images.HELFY_POSTGRES_IMAGE]);
      const [volumes, user, envJson] = String(inspect.stdout).trim().split(' ');
      expect(volumes).toBe('null');
      expect(user).toBe('postgres');
      expect(JSON.parse(envJson!)).toContain('PGDATA=/home/postgres/pgdata/data');
      expect((await execCode(container, ['id', '-u'])).stdout).toBe('1000');
      // The server process itself (pid 1 after the entrypoint's exec) runs as 1000.
      expect((await execCode(container, ['stat', '-c', '%u', '/proc/1'])).stdout).toBe('1000');
      expect((await execCode(container, ['stat', '-c', '%u %a', '/home/postgres/pgdata/data'])).stdout).toBe('1000 700');
      expect((await execCode(container, ['test', '-s', '/home/postgres/pgdata/data/PG_VERSION'])).code).toBe(0);
    });

    it('accepts POSTGRES_PASSWORD over TCP with scram-sha-256 and rejects a wrong one', async () => {
      const ok = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: PG_PASSWORD, database: 'postgres' });
      await ok.connect();
      try {
        const r = await ok.query<{ dir: string; enc: string; listen: string }>(
          "SELECT current_setting('data_directory') AS dir, current_setting('password_encryption') AS enc, current_setting('listen_addresses') AS listen",
        );
        expect(r.rows[0]).toEqual({ dir: '/home/postgres/pgdata/data', enc: 'scram-sha-256', listen: '*' });
      } finally {
        await ok.end();
      }
      const bad = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: 'wrong-password', database: 'postgres' });
      await expect(bad.connect()).rejects.toThrow(/password authentication failed/);
      await bad.end().catch(() => {});
      // psql inside the container over TCP with the password (what a compose job would do).
      const psql = await execCode(container, ['psql', '-h', 'postgres', '-U', 'postgres', '-tAc', 'select 41 + 1'], {
        PGPASSWORD: PG_PASSWORD,
      });
      expect(psql).toMatchObject({ code: 0, stdout: '42' });
    });

    it('keeps its data across a restart (no second initdb)', async () => {
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: PG_PASSWORD, database: 'postgres' });
      await c.connect();
      await c.query('CREATE TABLE IF NOT EXISTS helfy_restart_probe (v int); INSERT INTO helfy_restart_probe VALUES (7)');
      await c.end();
      await docker(['restart', '-t', '20', container]);
      await waitFor('pg_isready after restart', async () => (await execCode(container, ['pg_isready', '-U', 'postgres'])).code === 0);
      port = await publishedPort(container, 5432);
      const d = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: PG_PASSWORD, database: 'postgres' });
      await waitFor('postgres accepting TCP after restart', async () => {
        try {
          await d.connect();
          return true;
        } catch {
          return false;
        }
      }, { timeoutMs: 30_000 });
      const r = await d.query<{ v: number }>('SELECT v FROM helfy_restart_probe');
      await d.end();
      expect(r.rows).toEqual([{ v: 7 }]);
      expect(await logsOf(container)).toContain('Skipping initialization');
    }, 90_000);
  });

  describe('neo4j (HELFY_NEO4J_IMAGE, like neo4j:5.26-community)', () => {
    const withAuth = name('neo4j');
    const noAuth = name('neo4j-noauth');
    const memory = [
      '-e', 'NEO4J_server_memory_heap_initial__size=256m',
      '-e', 'NEO4J_server_memory_heap_max__size=512m',
      '-e', 'NEO4J_server_memory_pagecache_size=128m',
    ];
    const healthy = (c: string) => async () =>
      (await execCode(c, ['wget', '-q', '--spider', 'http://localhost:7474'])).code === 0;

    beforeAll(async () => {
      for (const v of ['neo4j-data', 'neo4j-logs']) await docker(['volume', 'create', ...labelArgs(run), name(v)]);
      await docker([
        'run', '-d', '--name', withAuth, ...labelArgs(run), '--network', network,
        '-e', `NEO4J_AUTH=neo4j/${NEO4J_PASSWORD}`, ...memory,
        '-v', `${name('neo4j-data')}:/data`, '-v', `${name('neo4j-logs')}:/logs`,
        '-p', '127.0.0.1::7474', '-p', '127.0.0.1::7687',
        images.HELFY_NEO4J_IMAGE,
      ]);
      await docker([
        'run', '-d', '--name', noAuth, ...labelArgs(run), '--network', network,
        '-e', 'NEO4J_AUTH=none', ...memory, '-p', '127.0.0.1::7687',
        images.HELFY_NEO4J_IMAGE,
      ]);
      await Promise.all([
        waitFor('neo4j wget healthcheck', healthy(withAuth), { timeoutMs: 240_000, intervalMs: 1000 }),
        waitFor('neo4j (auth none) wget healthcheck', healthy(noAuth), { timeoutMs: 240_000, intervalMs: 1000 }),
      ]);
    }, 300_000);

    // Two JVMs are heavy on a small machine: stop them before the Temporal tests.
    afterAll(async () => {
      await docker(['rm', '-f', '-v', withAuth, noAuth], { reject: false });
    }, 60_000);

    it('serves /data and /logs, listens on 0.0.0.0 and runs as neo4j (7474)', async () => {
      const inspect = await docker(['image', 'inspect', '-f', '{{json .Config.Volumes}} {{json .Config.ExposedPorts}}', images.HELFY_NEO4J_IMAGE]);
      expect(String(inspect.stdout)).toContain('"/data"');
      expect(String(inspect.stdout)).toContain('"/logs"');
      expect(String(inspect.stdout)).toContain('"7687/tcp"');
      expect((await execCode(withAuth, ['test', '-d', '/data/databases/neo4j'])).code).toBe(0);
      expect((await execCode(withAuth, ['sh', '-c', 'ls /logs | grep -c .'])).code).toBe(0);
      const conf = (await execCode(withAuth, ['cat', '/var/lib/neo4j/conf/neo4j.conf'])).stdout;
      expect(conf).toContain('server.default_listen_address=0.0.0.0');
      expect(conf).toContain('server.memory.heap.max_size=512m');
      const java = await execCode(withAuth, ['sh', '-c', 'ps -o user= -C java | sort -u']);
      expect(java.stdout).toBe('neo4j');
      expect((await execCode(withAuth, ['id', '-u', 'neo4j'])).stdout).toBe('7474');
    });

    it('accepts NEO4J_AUTH=neo4j/<password> over Bolt and rejects a wrong password', async () => {
      const port = await publishedPort(withAuth, 7687);
      const good = neo4j.driver(`bolt://127.0.0.1:${port}`, neo4j.auth.basic('neo4j', NEO4J_PASSWORD));
      try {
        const r = await good.executeQuery('RETURN 40 + 2 AS answer');
        expect(r.records[0]?.get('answer').toNumber()).toBe(42);
      } finally {
        await good.close();
      }
      const bad = neo4j.driver(`bolt://127.0.0.1:${port}`, neo4j.auth.basic('neo4j', 'wrong-password'));
      try {
        await expect(bad.executeQuery('RETURN 1')).rejects.toMatchObject({ code: 'Neo.ClientError.Security.Unauthorized' });
      } finally {
        await bad.close();
      }
      // HTTP also published and answering.
      const http = await fetch(`http://127.0.0.1:${await publishedPort(withAuth, 7474)}/`);
      expect(http.ok).toBe(true);
    });

    it('has cypher-shell, as the real image does: a statement file runs, a wrong password is refused', async () => {
      await execCode(withAuth, ['sh', '-c', "printf 'RETURN 40 + 2 AS answer;\\n' > /tmp/q.cypher"]);
      const ok = await execCode(withAuth, ['cypher-shell', '-a', 'bolt://127.0.0.1:7687', '-u', 'neo4j', '-p', NEO4J_PASSWORD, '--format', 'plain', '-f', '/tmp/q.cypher']);
      expect([ok.code, ok.stdout.trim().split('\n')]).toEqual([0, ['answer', '42']]);
      const bad = await execCode(withAuth, ['cypher-shell', '-a', 'bolt://127.0.0.1:7687', '-u', 'neo4j', '-p', 'wrong-password', 'RETURN 1']);
      expect(bad.code).not.toBe(0);
    });

    it('with NEO4J_AUTH=none needs no credentials', async () => {
      const port = await publishedPort(noAuth, 7687);
      const d = neo4j.driver(`bolt://127.0.0.1:${port}`);
      try {
        const r = await d.executeQuery('RETURN 1 AS one');
        expect(r.records[0]?.get('one').toNumber()).toBe(1);
      } finally {
        await d.close();
      }
    });

    it('the healthcheck command fails while nothing listens', async () => {
      // -t 1: containers here have no IPv6 loopback, and wget retries "Cannot assign requested
      // address" for ::1 (20 tries, ~2.5 min) before giving up; a compose healthcheck ends at
      // its own timeout instead.
      const r = await execCode(withAuth, ['wget', '-q', '--spider', '-t', '1', 'http://localhost:7475']);
      expect(r.code).not.toBe(0);
    });
  });

  describe('temporal (HELFY_TEMPORAL_IMAGE + HELFY_TEMPORAL_ADMIN_TOOLS_IMAGE)', () => {
    const server = name('temporal');
    const db = 'helfy_temporal';
    const visibilityDb = 'helfy_temporal_visibility';

    // The schema job exactly as compose/docker-compose.yml runs it (with $ instead of $$).
    const schemaScript = [
      'set -eu',
      'base="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema}/postgresql/v12"',
      'for pair in "$DBNAME:temporal" "$VISIBILITY_DBNAME:visibility"; do',
      '  db="${pair%%:*}"; kind="${pair##*:}"',
      '  echo "temporal-schema: $db ($kind)"',
      '  temporal-sql-tool --db "$db" setup-schema -v 0.0',
      '  temporal-sql-tool --db "$db" update-schema -d "$base/$kind/versioned"',
      'done',
      'echo "temporal-schema: done"',
    ].join('\n');

    const runSchemaJob = () =>
      docker([
        'run', '--rm', ...labelArgs(run), '--network', network,
        '-e', 'SQL_PLUGIN=postgres12', '-e', 'SQL_HOST=postgres', '-e', 'SQL_PORT=5432',
        '-e', `SQL_USER=${TEMPORAL_ROLE}`, '-e', `SQL_PASSWORD=${TEMPORAL_PASSWORD}`,
        '-e', `DBNAME=${db}`, '-e', `VISIBILITY_DBNAME=${visibilityDb}`,
        '--entrypoint', '/bin/sh',
        images.HELFY_TEMPORAL_ADMIN_TOOLS_IMAGE, '-c', schemaScript,
      ], { reject: false, all: true });

    beforeAll(async () => {
      // What helfy's PostgreSQL bootstrap does: a role owning the two databases.
      const port = await publishedPort(name('postgres'), 5432);
      const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: PG_PASSWORD, database: 'postgres' });
      await c.connect();
      await c.query(`CREATE ROLE ${TEMPORAL_ROLE} LOGIN PASSWORD '${TEMPORAL_PASSWORD}'`);
      await c.query(`CREATE DATABASE ${db} OWNER ${TEMPORAL_ROLE}`);
      await c.query(`CREATE DATABASE ${visibilityDb} OWNER ${TEMPORAL_ROLE}`);
      await c.end();
    }, 60_000);

    it('admin-tools has temporal-sql-tool and the schema at the real image paths, as uid 1000', async () => {
      const r = await docker([
        'run', '--rm', ...labelArgs(run), images.HELFY_TEMPORAL_ADMIN_TOOLS_IMAGE, 'sh', '-c',
        'id -u; command -v temporal-sql-tool; ls /etc/temporal/schema/postgresql/v12/temporal/versioned /etc/temporal/schema/postgresql/v12/visibility/versioned | grep -c "^v"',
      ]);
      const [uid, tool, versions] = String(r.stdout).trim().split('\n');
      expect(uid).toBe('1000');
      expect(tool).toBe('/usr/local/bin/temporal-sql-tool');
      expect(Number(versions)).toBeGreaterThan(2);
    });

    it('admin-tools sets up both schemas in the postgres container, idempotently', async () => {
      const first = await runSchemaJob();
      expect(first.exitCode, String(first.all)).toBe(0);
      expect(String(first.all)).toContain('temporal-schema: done');
      const again = await runSchemaJob();
      expect(again.exitCode, String(again.all)).toBe(0);
      const port = await publishedPort(name('postgres'), 5432);
      const c = new pg.Client({ host: '127.0.0.1', port, user: TEMPORAL_ROLE, password: TEMPORAL_PASSWORD, database: db });
      await c.connect();
      const r = await c.query<{ n: string }>("SELECT count(*) AS n FROM information_schema.tables WHERE table_name IN ('executions', 'namespaces', 'schema_version')");
      await c.end();
      expect(Number(r.rows[0]?.n)).toBe(3);
    }, 240_000);

    it('temporal server renders its config from env and its WorkflowService becomes SERVING', async () => {
      await docker([
        'run', '-d', '--name', server, ...labelArgs(run), '--network', network, '--network-alias', 'temporal',
        '-e', 'DB=postgres12', '-e', 'DB_PORT=5432', '-e', `DBNAME=${db}`, '-e', `VISIBILITY_DBNAME=${visibilityDb}`,
        '-e', 'POSTGRES_SEEDS=postgres', '-e', `POSTGRES_USER=${TEMPORAL_ROLE}`, '-e', `POSTGRES_PWD=${TEMPORAL_PASSWORD}`,
        '-e', 'BIND_ON_IP=0.0.0.0',
        '-p', '127.0.0.1::7233',
        images.HELFY_TEMPORAL_IMAGE,
      ]);
      const port = await publishedPort(server, 7233);
      // From the host through the published port, like helfy's readiness probe.
      const status = await waitFor(
        'WorkflowService SERVING',
        async () => {
          const state = (await docker(['inspect', '-f', '{{.State.Status}}', server])).stdout;
          if (String(state).trim() !== 'running') throw new Error(`server container ${String(state).trim()}:\n${(await logsOf(server)).slice(-3000)}`);
          const conn = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: 2_000 });
          try {
            const r = await conn.healthService.check({ service: WORKFLOW_SERVICE });
            return r.status === 1 /* SERVING */ ? 'SERVING' : undefined;
          } finally {
            await conn.close();
          }
        },
        { timeoutMs: 240_000, intervalMs: 2_000 },
      );
      expect(status).toBe('SERVING');
      expect((await execCode(server, ['id', '-u'])).stdout).toBe('1000');
      // The probe shipped in both stand-ins checks the same gRPC health, not an open port.
      expect(await execCode(server, ['grpc-health-probe'])).toMatchObject({ code: 0, stdout: `${WORKFLOW_SERVICE}: SERVING` });
      const fromTools = await docker([
        'run', '--rm', ...labelArgs(run), '--network', network, images.HELFY_TEMPORAL_ADMIN_TOOLS_IMAGE,
        'grpc-health-probe', '-addr', 'temporal:7233',
      ], { reject: false });
      expect(fromTools.exitCode).toBe(0);
      const wrongService = await execCode(server, ['grpc-health-probe', '-service', 'no.such.Service']);
      expect(wrongService.code).not.toBe(0);
    }, 300_000);

    it('admin-tools `temporal operator cluster health` reports SERVING', async () => {
      const has = await docker(['run', '--rm', ...labelArgs(run), images.HELFY_TEMPORAL_ADMIN_TOOLS_IMAGE, 'sh', '-c', 'command -v temporal'], { reject: false, all: true });
      expect(has.exitCode, `the temporal CLI is part of the admin-tools stand-in: ${String(has.all)}`).toBe(0);
      const r = await docker([
        'run', '--rm', ...labelArgs(run), '--network', network, images.HELFY_TEMPORAL_ADMIN_TOOLS_IMAGE,
        'temporal', 'operator', 'cluster', 'health', '--address', 'temporal:7233',
      ], { reject: false, all: true });
      expect(r.exitCode, String(r.all)).toBe(0);
      expect(String(r.stdout)).toMatch(/SERVING/);
    }, 60_000);
  });
});
