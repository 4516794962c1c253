/**
 * `helfy db bootstrap` and `helfy migrate` through the built binary, against real servers:
 * Debian's PostgreSQL 15, Neo4j 5.26 community and a Temporal server on that PostgreSQL.
 * This file is the CLI's explicit test of HELFY_TIMESCALE=optional: Debian's own PostgreSQL without
 * the extension (startPostgres({ timescale: false })); the hypertable migrations run on real
 * TimescaleDB in tests/db/postgres and everywhere else.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import neo4j from 'neo4j-driver';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_MIGRATIONS } from '../../src/config/paths.js';
import { helfy, tempDir } from '../helpers/cli.js';
import { startNeo4j, startPostgres, startTemporal, type Neo4jServer, type PostgresServer, type TemporalServer } from '../support/services/index.js';

let pgs: PostgresServer;
let neo: Neo4jServer;
let tmp: TemporalServer;
let ws: string;
let env: Record<string, string>;

const run = (args: string[], extra: Record<string, string> = {}) => helfy(args, { cwd: ws, env: { ...env, ...extra }, timeoutMs: 180_000 });
const bundledPg = JSON.parse(readFileSync(join(BUNDLED_MIGRATIONS, 'postgres/meta/_journal.json'), 'utf8')).entries.map((e: { tag: string }) => e.tag) as string[];
const bundledNeo = readdirSync(join(BUNDLED_MIGRATIONS, 'neo4j')).filter((f) => f.endsWith('.cypher')).sort();

beforeAll(async () => {
  pgs = await startPostgres({ timescale: false });
  [neo, tmp] = await Promise.all([startNeo4j(), startTemporal({ postgres: pgs })]);
  ws = tempDir('helfy-dbcli-');
  const init = await helfy(['init', '--yes', '--name', 'dbcli'], { cwd: ws });
  expect(init.code).toBe(0);
  const [, temporalPort] = tmp.address.split(':');
  env = {
    HELFY_POSTGRES_PORT: String(pgs.port),
    HELFY_POSTGRES_USER: pgs.user,
    HELFY_POSTGRES_PASSWORD: pgs.password,
    HELFY_NEO4J_BOLT_PORT: String(neo.boltPort),
    HELFY_NEO4J_HTTP_PORT: String(neo.httpPort),
    HELFY_NEO4J_PASSWORD: neo.password,
    HELFY_TEMPORAL_PORT: temporalPort!,
    // The running Temporal server connects with this password; bootstrap keeps it in sync.
    HELFY_TEMPORAL_DB_PASSWORD: tmp.db.password,
    HELFY_TIMESCALE: 'optional',
  };
}, 300_000);

afterAll(async () => {
  await tmp?.stop();
  await Promise.all([neo?.stop(), pgs?.stop()]);
});

describe('helfy db bootstrap (real PostgreSQL, Neo4j, Temporal)', () => {
  it('with timescale required on plain PostgreSQL: exit 3 naming the image, nothing else done', async () => {
    const r = await run(['db', 'bootstrap', '--json'], { HELFY_TIMESCALE: 'required', HELFY_POSTGRES_IMAGE: 'example/plain-postgres:15' });
    expect(r.code).toBe(3);
    expect(r.json.error.code).toBe('TIMESCALE_MISSING');
    expect(r.json.error.message).toContain('example/plain-postgres:15');
  });

  it('bootstraps everything, and a second run changes nothing', async () => {
    const first = await run(['db', 'bootstrap', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.postgres.changed).toBe(true);
    expect(first.json.postgres.timescale.present).toBe(false);
    expect(first.json.namespace).toMatchObject({ created: true, retentionHours: 72 });
    expect(first.json.neo4jMigrations.applied.map((a: any) => a.file)).toEqual(bundledNeo);
    // One warning about the missing extension, on stderr only.
    expect(first.stderr.match(/warning:.*timescale/gi) ?? []).toHaveLength(1);

    const second = await run(['db', 'bootstrap', '--json']);
    expect(second.code).toBe(0);
    expect(second.json.postgres).toMatchObject({ changed: false, changes: [] });
    expect(second.json.namespace.created).toBe(false);
    expect(second.json.neo4jMigrations.applied).toEqual([]);

    // The roles exist and can log in with the workspace's passwords; the secrets never show up.
    const envText = readFileSync(join(ws, '.env'), 'utf8');
    const ownerPw = /HELFY_APP_OWNER_PASSWORD=(.+)/.exec(envText)![1]!;
    expect(first.stdout + first.stderr).not.toContain(ownerPw);
    const c = new pg.Client({ host: pgs.host, port: pgs.port, user: 'helfy_owner', password: ownerPw, database: 'helfy_app' });
    await c.connect();
    expect((await c.query('select current_user')).rows[0].current_user).toBe('helfy_owner');
    await c.end();
  });

  it('migrate status lists every PostgreSQL migration as pending, Neo4j as applied', async () => {
    const r = await run(['migrate', 'status', '--json']);
    expect(r.code).toBe(0);
    expect(r.json.postgres.map((e: any) => [e.tag, e.state])).toEqual(bundledPg.map((t) => [t, 'pending']));
    expect(r.json.neo4j.map((e: any) => e.state)).toEqual(bundledNeo.map(() => 'applied'));
  });

  it('six concurrent `helfy migrate up` processes apply each migration exactly once, all exit 0', async () => {
    // Neo4j's migrations were applied by the bootstrap: start its graph from empty again so both
    // stores have everything pending when the six processes start.
    const d = neo4j.driver(neo.boltUrl, neo4j.auth.basic('neo4j', neo.password));
    try {
      await d.executeQuery('MATCH (n) DETACH DELETE n');
      for (const r of (await d.executeQuery('SHOW CONSTRAINTS YIELD name')).records) await d.executeQuery(`DROP CONSTRAINT ${r.get('name')}`);
      for (const r of (await d.executeQuery("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP'")).records) await d.executeQuery(`DROP INDEX ${r.get('name')}`);
    } finally {
      await d.close();
    }
    const results = await Promise.all(Array.from({ length: 6 }, () => run(['migrate', 'up', '--json'])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const appliedPg = results.flatMap((r) => r.json.postgres.applied.map((a: any) => a.tag));
    expect(appliedPg.sort()).toEqual([...bundledPg].sort());
    const appliedNeo = results.flatMap((r) => r.json.neo4j.applied.map((a: any) => a.file));
    expect(appliedNeo.sort()).toEqual(bundledNeo);
    const d2 = neo4j.driver(neo.boltUrl, neo4j.auth.basic('neo4j', neo.password));
    const history = await d2.executeQuery('MATCH (m:__HelfyMigration) RETURN m.version AS v ORDER BY v');
    await d2.close();
    expect(history.records.map((r) => Number(r.get('v')))).toEqual(bundledNeo.map((_, i) => i + 1));
    const c = new pg.Client({ host: pgs.host, port: pgs.port, user: pgs.user, password: pgs.password, database: 'helfy_app' });
    await c.connect();
    const rows = (await c.query('select hash, count(*)::int as n from drizzle.__drizzle_migrations group by hash')).rows;
    await c.end();
    expect(rows).toHaveLength(bundledPg.length);
    for (const row of rows) expect(row.n).toBe(1);
    const status = await run(['migrate', 'status', '--json']);
    expect(status.json.postgres.every((e: any) => e.state === 'applied')).toBe(true);
    // A no-op run says so.
    const again = await run(['migrate', 'up']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('postgres: up to date');
    expect(again.stdout).toContain('neo4j: up to date');
  });

  it('the API role reads and writes data but cannot create tables; Temporal cannot reach helfy_app', async () => {
    const envText = readFileSync(join(ws, '.env'), 'utf8');
    const apiPw = /HELFY_APP_PASSWORD=(.+)/.exec(envText)![1]!;
    const api = new pg.Client({ host: pgs.host, port: pgs.port, user: 'helfy_api', password: apiPw, database: 'helfy_app' });
    await api.connect();
    const u = await api.query("insert into users (email, display_name) values ('a@example.com', 'A') returning id");
    expect(u.rows[0].id).toMatch(/^[0-9a-f-]{36}$/);
    await expect(api.query('create table nope (x int)')).rejects.toThrow(/permission denied/);
    await api.end();
    const t = new pg.Client({ host: pgs.host, port: pgs.port, user: 'helfy_temporal', password: tmp.db.password, database: 'helfy_app' });
    await expect(t.connect()).rejects.toThrow(/permission denied for database "helfy_app"/);
  });

  it('the status probes show timescaledb absent on plain PostgreSQL and the registered namespace', async () => {
    const { loadConfig } = await import('../../src/config/load.js');
    const { probePostgres, probeTemporal, probeNeo4j } = await import('../../src/db/probes.js');
    const cfg = loadConfig({ cwd: ws, env: { ...process.env, ...env } });
    const [p, t, n] = await Promise.all([probePostgres(cfg, 5000), probeTemporal(cfg, 5000), probeNeo4j(cfg, 5000)]);
    expect(p.ok).toBe(true);
    expect(p.detail).toMatch(/^PostgreSQL 15\.\d+; timescaledb: absent \(plain tables\)$/);
    expect((p.info!.databases as any[]).map((d) => [d.name, d.exists, d.timescaledb])).toEqual([
      ['helfy_app', true, null], ['helfy_temporal', true, null], ['helfy_temporal_visibility', true, null],
    ]);
    expect(t.ok).toBe(true);
    expect(t.info!.namespace).toEqual({ name: 'helfy', state: 'REGISTERED', retentionHours: 72 });
    expect(t.detail).toContain('namespace helfy registered (retention 72 h)');
    expect(n).toMatchObject({ ok: true, info: { edition: 'community', library: { exercises: 0, foods: 0, routines: 0, loaded: false } } });
    expect(n.detail).toMatch(/^Neo4j Kernel 5\.26\.\d+ community; library: not seeded \(helfy seed\)$/);
  });

  it('db stats on plain PostgreSQL (HELFY_TIMESCALE=optional): one line saying there is nothing of TimescaleDB, exit 0', async () => {
    const human = await run(['db', 'stats']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toBe('');
    expect(human.stderr.trim()).toBe('helfy_app: no TimescaleDB (HELFY_TIMESCALE=optional): plain tables, nothing to report');
    const json = await run(['db', 'stats', '--json']);
    expect(json.code).toBe(0);
    expect(json.json).toEqual({ database: 'helfy_app', timescale: null, hypertables: [], continuousAggregates: [] });
  });

  it('verify reports a Neo4j constraint changed by hand, exit 1', async () => {
    const clean = await run(['migrate', 'verify', '--json']);
    expect(clean.code, JSON.stringify(clean.json)).toBe(0);
    expect(clean.json.ok).toBe(true);
    const d = neo4j.driver(neo.boltUrl, neo4j.auth.basic('neo4j', neo.password));
    try {
      await d.executeQuery('DROP CONSTRAINT helfy_food_id');
      await d.executeQuery('CREATE CONSTRAINT helfy_food_id IF NOT EXISTS FOR (f:Food) REQUIRE f.barcode IS UNIQUE');
      const r = await run(['migrate', 'verify', '--json']);
      expect(r.code).toBe(1);
      expect(r.json.ok).toBe(false);
      expect(r.json.problems.some((p: string) => p.startsWith('neo4j:') && p.includes('helfy_food_id'))).toBe(true);
      const human = await run(['migrate', 'verify']);
      expect(human.stdout).toMatch(/^drift: neo4j: .*helfy_food_id/m);
    } finally {
      await d.executeQuery('DROP CONSTRAINT helfy_food_id');
      await d.executeQuery('CREATE CONSTRAINT helfy_food_id IF NOT EXISTS FOR (f:Food) REQUIRE f.id IS UNIQUE');
      await d.close();
    }
  });
});

describe('helfy migrate status with a deleted Neo4j file (real Neo4j)', () => {
  it('lists the applied migration whose file is gone as missing-file, exit 2', async () => {
    const mig = tempDir('helfy-neo-missing-');
    cpSync(join(BUNDLED_MIGRATIONS, 'neo4j'), join(mig, 'neo4j'), { recursive: true });
    // The newest applied file (a gap in the middle is refused as MIGRATION_ORDER before any status).
    rmSync(join(mig, 'neo4j', bundledNeo.at(-1)!));
    const r = await run(['migrate', 'status', '--store', 'neo4j', '--json'], { HELFY_MIGRATIONS_DIR: mig });
    expect(r.code).toBe(2);
    expect(r.json.neo4j?.map((e: any) => [e.version, e.state]), JSON.stringify(r.json)).toEqual(bundledNeo.map((_, i) => [i + 1, i === bundledNeo.length - 1 ? 'missing-file' : 'applied']));
  });
});

describe('helfy migrate failure handling (real PostgreSQL)', () => {
  let server: PostgresServer;
  let dir: string;
  let mig: string;
  const envFor = () => ({
    HELFY_POSTGRES_PORT: String(server.port), HELFY_POSTGRES_USER: server.user, HELFY_POSTGRES_PASSWORD: server.password,
    HELFY_TIMESCALE: 'optional', HELFY_MIGRATIONS_DIR: mig,
  });
  const journal = (tags: string[]) => JSON.stringify({ version: '7', dialect: 'postgresql', entries: tags.map((tag, idx) => ({ idx, version: '7', when: 1_700_000_000_000 + idx * 1000, tag, breakpoints: true })) }, null, 2);

  beforeAll(async () => {
    server = await startPostgres({ timescale: false });
    dir = tempDir('helfy-migfail-');
    await helfy(['init', '--yes'], { cwd: dir });
    mig = join(dir, 'migrations');
    mkdirSync(join(mig, 'postgres', 'meta'), { recursive: true });
    cpSync(join(BUNDLED_MIGRATIONS, 'neo4j'), join(mig, 'neo4j'), { recursive: true });
    const tags = ['0000_a', '0001_b', '0002_c', '0003_d', '0004_e'];
    writeFileSync(join(mig, 'postgres', 'meta', '_journal.json'), journal(tags));
    writeFileSync(join(mig, 'postgres', '0000_a.sql'), 'CREATE TABLE a (id int);');
    writeFileSync(join(mig, 'postgres', '0001_b.sql'), 'CREATE TABLE b (id int);');
    writeFileSync(join(mig, 'postgres', '0002_c.sql'), 'CREATE TABLE c (id int);\n--> statement-breakpoint\nINSERT INTO c VALUES (1);\n--> statement-breakpoint\nSELECT *\n  FROM no_such_table;');
    writeFileSync(join(mig, 'postgres', '0003_d.sql'), 'CREATE TABLE d (id int);');
    writeFileSync(join(mig, 'postgres', '0004_e.sql'), 'CREATE TABLE e (id int);');
    // No Neo4j/Temporal in this describe: bootstrap only the PostgreSQL part, through the library.
    const { bootstrapPostgres } = await import('../../src/db/postgres/bootstrap.js');
    const { loadConfig } = await import('../../src/config/load.js');
    await bootstrapPostgres(loadConfig({ cwd: dir, env: envFor() }), { info() {}, success() {}, warn() {}, error() {}, debug() {}, raw() {} });
  }, 120_000);
  afterAll(async () => server?.stop());

  it('an error in file 3 of 5: files 1-2 applied, 3 rolled back, exit 1 naming file and line; fixed → rerun completes', async () => {
    const r = await helfy(['migrate', 'up', '--store', 'postgres'], { cwd: dir, env: envFor() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/0002_c\.sql:6/);
    expect(r.stderr).toContain('no_such_table');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const st = await helfy(['migrate', 'status', '--store', 'postgres', '--json'], { cwd: dir, env: envFor() });
    expect(st.json.postgres.map((e: any) => e.state)).toEqual(['applied', 'applied', 'pending', 'pending', 'pending']);
    const c = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: 'helfy_app' });
    await c.connect();
    expect((await c.query("select to_regclass('public.c') as t")).rows[0].t).toBeNull();

    writeFileSync(join(mig, 'postgres', '0002_c.sql'), 'CREATE TABLE c (id int);\n--> statement-breakpoint\nINSERT INTO c VALUES (1);');
    const again = await helfy(['migrate', 'up', '--store', 'postgres', '--json'], { cwd: dir, env: envFor() });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.postgres.applied.map((a: any) => a.tag)).toEqual(['0002_c', '0003_d', '0004_e']);
    expect((await c.query('select count(*)::int as n from c')).rows[0].n).toBe(1);
    await c.end();
  });

  it('an applied file that was edited is refused with exit 2 naming it', async () => {
    writeFileSync(join(mig, 'postgres', '0001_b.sql'), 'CREATE TABLE b (id bigint);');
    const r = await helfy(['migrate', 'up', '--store', 'postgres', '--json'], { cwd: dir, env: envFor() });
    expect(r.code).toBe(2);
    expect(r.json.error.code).toBe('MIGRATION_CHECKSUM');
    expect(r.json.error.message).toContain('0001_b');
    const st = await helfy(['migrate', 'status', '--store', 'postgres'], { cwd: dir, env: envFor() });
    expect(st.code).toBe(2);
    expect(st.stdout).toMatch(/changed\s+0001_b/);
    // verify lists the difference instead of stopping at it.
    const v = await helfy(['migrate', 'verify', '--store', 'postgres', '--json'], { cwd: dir, env: envFor() });
    expect(v.code).toBe(1);
    expect(v.json.ok).toBe(false);
    expect(v.json.problems).toEqual([expect.stringMatching(/^postgres: .*0001_b/)]);
  });
});
