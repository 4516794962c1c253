/**
 * The migration runner against a real PostgreSQL 15 (no TimescaleDB): the project's own migration
 * set after bootstrap (as helfy_owner), and the runner's guarantees on temp migration folders,
 * each in a fresh database.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate as drizzleMigrate } from 'drizzle-orm/node-postgres/migrator';
import { readMigrationFiles as drizzleReadMigrationFiles } from 'drizzle-orm/migrator';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HelfyError } from '../../../src/core/errors.js';
import { bootstrapPostgres } from '../../../src/db/postgres/bootstrap.js';
import { pgConnectionFor } from '../../../src/db/postgres/connection.js';
import {
  buildPlan,
  errorLine,
  migratePostgres,
  planPostgres,
  postgresMigrationStatus,
  readMigrationFiles,
  splitStatements,
  verifyPostgres,
  drizzleKitGenerateArgv,
  migrationName,
} from '../../../src/db/postgres/migrate.js';
import { freshDatabase, makeConfig, recordingLogger, tempDir, trySql, withPg, writeMigrations } from './fixtures.js';
import { startPostgres } from './servers.js';

const MIGRATIONS = resolve(import.meta.dirname, '../../../migrations/postgres');
/** Every committed migration, in journal order. */
const TAGS = readMigrationFiles(MIGRATIONS).map((f) => f.tag);

type Server = Awaited<ReturnType<typeof startPostgres>>;
let server: Server;
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  // Debian's own server without TimescaleDB: the runner and the plain path of the project migrations
  // (their hypertables on real TimescaleDB: timescale.test.ts).
  server = await startPostgres({ timescale: false });
}, 120_000);

afterAll(async () => {
  for (const c of cleanups) c();
  await server?.stop();
});

async function errorOf(p: Promise<unknown>): Promise<HelfyError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(HelfyError);
  return e as HelfyError;
}

function folder(files: { tag: string; sql: string; when?: number }[]): string {
  const t = tempDir('mig');
  cleanups.push(t.cleanup);
  writeMigrations(t.dir, files);
  return t.dir;
}

describe('pure helpers', () => {
  it('splits on drizzle breakpoints, keeps offsets and maps error positions to file lines', () => {
    const text = 'CREATE TABLE a (x int);\n--> statement-breakpoint\n-- comment\nCREATE TABLE b (\n  y intt\n);';
    const stmts = splitStatements(text);
    expect(stmts).toHaveLength(2);
    expect(text.slice(stmts[1]!.offset, stmts[1]!.offset + stmts[1]!.sql.length)).toBe(stmts[1]!.sql);
    const pos = stmts[1]!.sql.indexOf('intt') + 1;
    expect(errorLine(text, stmts[1]!, { position: String(pos) })).toBe(5);
    expect(errorLine(text, stmts[1]!, {})).toBe(4); // first line of code, after the comment
  });

  it('plans: changed, pending-before-applied and missing files are problems', () => {
    const files = [0, 1, 2].map((i) => ({ idx: i, tag: `000${i}_m`, when: 1000 + i, path: `/x/000${i}_m.sql`, content: 'x', hash: `h${i}`, noTransaction: false }));
    const row = (i: number, hash = `h${i}`) => ({ id: i, hash, created_at: String(1000 + i), tag: `000${i}_m`, applied_at: null, duration_ms: null, applied_by: null });
    expect(buildPlan('/x', files, [row(0), row(1)]).problems).toEqual([]);
    expect(buildPlan('/x', files, [row(0), row(1, 'other')]).problems.map((p) => p.code)).toEqual(['MIGRATION_CHECKSUM']);
    expect(buildPlan('/x', files, [row(0), row(2)]).problems.map((p) => [p.code, p.tag])).toEqual([['MIGRATION_ORDER', '0001_m']]);
    expect(buildPlan('/x', files.slice(0, 1), [row(0), row(1)]).problems.map((p) => [p.code, p.tag])).toEqual([['MIGRATION_DRIFT', '0001_m']]);
    const t = buildPlan('/x', files, [row(0)], '0001');
    expect([t.toApply.map((e) => e.tag), t.skipped.map((e) => e.tag)]).toEqual([['0001_m'], ['0002_m']]);
  });

  it('hashes files exactly like drizzle-orm', () => {
    const ours = readMigrationFiles(MIGRATIONS).map((f) => [f.when, f.hash]);
    const theirs = drizzleReadMigrationFiles({ migrationsFolder: MIGRATIONS }).map((m) => [m.folderMillis, m.hash]);
    expect(ours).toEqual(theirs);
  });

  it('builds the drizzle-kit generate command line', () => {
    expect(migrationName('Add Goals!')).toBe('add_goals');
    expect(() => migrationName('  !! ')).toThrow(HelfyError);
    const argv = drizzleKitGenerateArgv({ projectDir: '/p', name: 'add goals', custom: true });
    expect(argv).toEqual(['/p/node_modules/.bin/drizzle-kit', 'generate', '--config', 'drizzle.config.ts', '--name', 'add_goals', '--custom']);
  });
});

describe('the project migrations on plain PostgreSQL (timescale optional), as helfy_owner', () => {
  let cfg: ReturnType<typeof makeConfig>;
  beforeAll(async () => {
    cfg = makeConfig(server, { timescale: 'optional' });
    await bootstrapPostgres(cfg, recordingLogger());
  });
  const owner = () => pgConnectionFor(cfg, 'owner');

  it('lists every migration as pending on an empty database; a dry run applies nothing', async () => {
    const st = await postgresMigrationStatus({ connection: owner(), dir: MIGRATIONS });
    expect(st.map((e) => [e.tag, e.state])).toEqual(TAGS.map((t) => [t, 'pending']));
    const dry = await migratePostgres({ connection: owner(), dir: MIGRATIONS, log: recordingLogger(), dryRun: true });
    expect(dry.pending).toEqual(TAGS);
    expect(dry.applied).toEqual([]);
    const tables = await withPg(owner(), (c) => c.query(`SELECT to_regclass('public.users') AS t, to_regnamespace('drizzle') AS s`));
    expect(tables.rows[0]).toEqual({ t: null, s: null });
  });

  it("'required' refuses plain PostgreSQL with TIMESCALE_MISSING", async () => {
    const e = await errorOf(migratePostgres({ connection: owner(), dir: MIGRATIONS, log: recordingLogger(), timescale: 'required', image: 'postgres:16' }));
    expect(e.code).toBe('TIMESCALE_MISSING');
    expect(e.message).toContain('helfy_app');
    expect(e.hint).toMatch(/HELFY_TIMESCALE=optional/);
  });

  it('applies everything, warning exactly once that the tables stay plain', async () => {
    const log = recordingLogger();
    const res = await migratePostgres({ connection: owner(), dir: MIGRATIONS, log, timescale: 'optional' });
    expect(res.applied.map((a) => a.tag)).toEqual(TAGS);
    expect(res.pending).toEqual([]);
    expect(res.timescale).toEqual({ present: false });
    expect(log.of('warn')).toHaveLength(1);
    expect(log.of('warn')[0]).toMatch(/^0001_timescale: the timescaledb extension is not installed in database helfy_app; biometrics, workouts, workout_sets, nutrition stay plain/);
    const tables = await withPg(owner(), (c) =>
      c.query(`SELECT c.relname, c.relkind FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r','p') ORDER BY 1`),
    );
    expect(tables.rows.map((r) => r.relname)).toEqual(['audit_log', 'biometrics', 'daily_summaries', 'demo_seeds', 'nutrition', 'refresh_tokens', 'users', 'workout_sets', 'workouts']);
  });

  it('status lists each as applied with applied_at; history is in drizzle\'s table as drizzle-orm writes it', async () => {
    const st = await postgresMigrationStatus({ connection: owner(), dir: MIGRATIONS });
    expect(st.map((e) => [e.tag, e.state])).toEqual(TAGS.map((t) => [t, 'applied']));
    for (const e of st) {
      expect(e.appliedAt).toBeInstanceOf(Date);
      expect(e.appliedBy).toMatch(/helfy pid/);
    }
    const journal = JSON.parse(readFileSync(join(MIGRATIONS, 'meta/_journal.json'), 'utf8')) as { entries: { when: number }[] };
    const rows = await withPg(owner(), (c) => c.query(`SELECT hash, created_at::text AS created_at FROM drizzle.__drizzle_migrations ORDER BY id`));
    expect(rows.rows).toEqual(drizzleReadMigrationFiles({ migrationsFolder: MIGRATIONS }).map((m) => ({ hash: m.hash, created_at: String(m.folderMillis) })));
    expect(rows.rows.map((r) => Number(r.created_at))).toEqual(journal.entries.map((e) => e.when));
    // drizzle-orm's own migrator reads that history and has nothing to do.
    const client = new pg.Client(owner());
    await client.connect();
    try {
      await drizzleMigrate(drizzle(client), { migrationsFolder: MIGRATIONS });
      expect((await client.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')).rows[0].n).toBe(TAGS.length);
    } finally {
      await client.end();
    }
  });

  it('a rerun applies nothing; verify passes', async () => {
    const res = await migratePostgres({ connection: owner(), dir: MIGRATIONS, log: recordingLogger() });
    expect(res.applied).toEqual([]);
    expect(res.alreadyApplied).toEqual(TAGS);
    expect(await verifyPostgres({ connection: owner(), dir: MIGRATIONS })).toMatchObject({ applied: TAGS.length, pending: 0 });
  });

  it('helfy_api can use the migrated tables (default privileges) but not change the schema', async () => {
    await withPg(pgConnectionFor(cfg, 'api'), async (c) => {
      const u = await c.query(`INSERT INTO users (email, display_name) VALUES ('Ada@Example.com', 'Ada') RETURNING id`);
      const id = u.rows[0].id as string;
      expect(await trySql(c, `INSERT INTO users (email, display_name) VALUES ('ada@example.COM', 'Dup')`)).toBe('23505'); // case-insensitive unique
      await c.query(`INSERT INTO biometrics (time, user_id, metric, value, unit) VALUES (now(), $1, 'heart_rate', 61, 'bpm')`, [id]);
      await c.query(`INSERT INTO audit_log (user_id, action, metadata) VALUES ($1, 'user.created', '{"via":"test"}')`, [id]);
      expect((await c.query(`SELECT count(*)::int AS n FROM audit_log WHERE metadata @> '{"via":"test"}'`)).rows[0].n).toBe(1);
      await c.query(`DELETE FROM users WHERE id = $1`, [id]);
      expect((await c.query('SELECT count(*)::int AS n FROM biometrics')).rows[0].n).toBe(0); // ON DELETE CASCADE
      expect((await c.query('SELECT user_id FROM audit_log')).rows).toEqual([{ user_id: null }]); // ON DELETE SET NULL
      expect(await trySql(c, 'DROP TABLE biometrics')).toBe('42501');
      expect(await trySql(c, 'SELECT * FROM drizzle.__drizzle_migrations')).toBe('42501');
    });
  });
});

describe('runner guarantees (temp migration folders, fresh databases)', () => {
  const five = (third: string) => [
    { tag: '0000_a', sql: 'CREATE TABLE a (id int PRIMARY KEY);' },
    { tag: '0001_b', sql: 'CREATE TABLE b (id int PRIMARY KEY);\n--> statement-breakpoint\nINSERT INTO b VALUES (1);' },
    { tag: '0002_c', sql: third },
    { tag: '0003_d', sql: 'CREATE TABLE d (id int);' },
    { tag: '0004_e', sql: 'CREATE TABLE e (id int);' },
  ];
  const badThird = 'CREATE TABLE c (id int PRIMARY KEY);\n--> statement-breakpoint\nINSERT INTO c VALUES (1);\n--> statement-breakpoint\n-- the next statement is wrong\nINSERT INTO c\n  SELECT id FROM no_such_table;\n';

  it('a failing statement rolls back only its file, names file and line; fixing it lets the rerun complete', async () => {
    const conn = await freshDatabase(server);
    const dir = folder(five(badThird));
    const e = await errorOf(migratePostgres({ connection: conn, dir, log: recordingLogger() }));
    expect(e.code).toBe('MIGRATION_FAILED');
    expect(e.exitCode).toBe(1);
    expect(e.message).toMatch(/0002_c\.sql:7 failed: relation "no_such_table" does not exist/);
    expect(e.data).toMatchObject({ tag: '0002_c', line: 7, pgCode: '42P01', transactional: true });
    expect(e.hint).toMatch(/rolled back/);
    const st = await postgresMigrationStatus({ connection: conn, dir });
    expect(st.map((x) => x.state)).toEqual(['applied', 'applied', 'pending', 'pending', 'pending']);
    expect(await withPg(conn, (c) => c.query(`SELECT to_regclass('c') AS c, to_regclass('b') AS b`)).then((r) => r.rows[0])).toEqual({ c: null, b: 'b' });

    writeFileSync(join(dir, '0002_c.sql'), badThird.replace('SELECT id FROM no_such_table', 'SELECT id + 1 FROM b'));
    const res = await migratePostgres({ connection: conn, dir, log: recordingLogger() });
    expect(res.applied.map((a) => a.tag)).toEqual(['0002_c', '0003_d', '0004_e']);
    expect(res.alreadyApplied).toEqual(['0000_a', '0001_b']);
    expect((await withPg(conn, (c) => c.query('SELECT id FROM c ORDER BY id'))).rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('an error inside a DO block is reported at its line in the file', async () => {
    const conn = await freshDatabase(server);
    const dir = folder([{ tag: '0000_do', sql: '-- header\nDO $$\nBEGIN\n  PERFORM 1;\n  PERFORM no_such_function();\nEND\n$$;\n' }]);
    const e = await errorOf(migratePostgres({ connection: conn, dir, log: recordingLogger() }));
    expect(e.message).toMatch(/0000_do\.sql:5 failed/);
  });

  it('refuses an applied file whose content changed (MIGRATION_CHECKSUM, exit 2)', async () => {
    const conn = await freshDatabase(server);
    const dir = folder(five('CREATE TABLE c (id int);'));
    await migratePostgres({ connection: conn, dir, log: recordingLogger() });
    writeFileSync(join(dir, '0001_b.sql'), 'CREATE TABLE b (id bigint PRIMARY KEY);');
    writeFileSync(join(dir, 'meta/_journal.json'), readFileSync(join(dir, 'meta/_journal.json'), 'utf8'));
    const e = await errorOf(migratePostgres({ connection: conn, dir, log: recordingLogger() }));
    expect(e.code).toBe('MIGRATION_CHECKSUM');
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('0001_b.sql');
    expect(e.hint).toMatch(/new migration/);
    expect((await postgresMigrationStatus({ connection: conn, dir })).map((x) => x.state)).toEqual(['applied', 'changed', 'applied', 'applied', 'applied']);
    await expect(verifyPostgres({ connection: conn, dir })).rejects.toMatchObject({ code: 'MIGRATION_CHECKSUM' });
  });

  it('refuses a pending file that sorts before an applied one (MIGRATION_ORDER)', async () => {
    const conn = await freshDatabase(server);
    const files = [
      { tag: '0000_a', sql: 'CREATE TABLE a (id int);', when: 1000 },
      { tag: '0002_c', sql: 'CREATE TABLE c (id int);', when: 3000 },
    ];
    const dir = folder(files);
    await migratePostgres({ connection: conn, dir, log: recordingLogger() });
    // A merge brings in 0001_b, generated earlier on another branch.
    writeMigrations(dir, [files[0]!, { tag: '0001_b', sql: 'CREATE TABLE b (id int);', when: 2000 }, files[1]!]);
    const e = await errorOf(migratePostgres({ connection: conn, dir, log: recordingLogger() }));
    expect(e.code).toBe('MIGRATION_ORDER');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/0001_b is pending but sorts before 0002_c, which is already applied/);
    expect(await withPg(conn, (c) => c.query(`SELECT to_regclass('b') AS b`)).then((r) => r.rows[0].b)).toBeNull();
  });

  it('refuses when an applied migration has no file any more (MIGRATION_DRIFT) and shows it in status', async () => {
    const conn = await freshDatabase(server);
    const dir = folder([
      { tag: '0000_a', sql: 'CREATE TABLE a (id int);' },
      { tag: '0001_b', sql: 'CREATE TABLE b (id int);' },
    ]);
    await migratePostgres({ connection: conn, dir, log: recordingLogger() });
    writeMigrations(dir, [{ tag: '0000_a', sql: 'CREATE TABLE a (id int);' }]);
    const st = await postgresMigrationStatus({ connection: conn, dir });
    expect(st.map((x) => [x.tag, x.state])).toEqual([
      ['0000_a', 'applied'],
      ['0001_b', 'missing-file'],
    ]);
    expect((await errorOf(migratePostgres({ connection: conn, dir, log: recordingLogger() }))).code).toBe('MIGRATION_DRIFT');
  });

  it('`-- helfy:no-transaction` runs CREATE INDEX CONCURRENTLY; a target stops early', async () => {
    const conn = await freshDatabase(server);
    const dir = folder([
      { tag: '0000_t', sql: 'CREATE TABLE t (id int, v text);\n--> statement-breakpoint\nINSERT INTO t SELECT g, g::text FROM generate_series(1, 1000) g;' },
      { tag: '0001_idx', sql: '-- helfy:no-transaction\nCREATE INDEX CONCURRENTLY t_v_idx ON t (v);\n--> statement-breakpoint\nCREATE UNIQUE INDEX CONCURRENTLY t_id_uq ON t (id);' },
      { tag: '0002_more', sql: 'CREATE TABLE more (id int);' },
    ]);
    const plan = await planPostgres({ connection: conn, dir, target: '0001' });
    expect(plan.toApply.map((e) => [e.tag, e.noTransaction])).toEqual([
      ['0000_t', false],
      ['0001_idx', true],
    ]);
    const res = await migratePostgres({ connection: conn, dir, log: recordingLogger(), target: '0001_idx' });
    expect(res.applied.map((a) => [a.tag, a.transactional])).toEqual([
      ['0000_t', true],
      ['0001_idx', false],
    ]);
    expect(res.skipped).toEqual(['0002_more']);
    const idx = await withPg(conn, (c) => c.query(`SELECT indexrelid::regclass::text AS name, indisvalid FROM pg_index WHERE indrelid = 't'::regclass ORDER BY 1`));
    expect(idx.rows).toEqual([
      { name: 't_id_uq', indisvalid: true },
      { name: 't_v_idx', indisvalid: true },
    ]);
    // Without the marker the same statement fails inside the file's transaction.
    const conn2 = await freshDatabase(server);
    const dir2 = folder([{ tag: '0000_x', sql: 'CREATE TABLE t (id int);\n--> statement-breakpoint\nCREATE INDEX CONCURRENTLY t_idx ON t (id);' }]);
    const e = await errorOf(migratePostgres({ connection: conn2, dir: dir2, log: recordingLogger() }));
    expect(e.message).toMatch(/0000_x\.sql:3 failed: CREATE INDEX CONCURRENTLY cannot run inside a transaction block/);
    expect((await errorOf(migratePostgres({ connection: conn, dir, log: recordingLogger(), target: 'nope' }))).code).toBe('USAGE');
  });

  it('6 concurrent runners on separate connections: each migration applied exactly once, all succeed', async () => {
    const conn = await freshDatabase(server);
    const dir = folder([
      { tag: '0000_log', sql: 'CREATE TABLE applied_log (tag text NOT NULL, at timestamptz DEFAULT clock_timestamp());\n--> statement-breakpoint\nINSERT INTO applied_log (tag) VALUES (\'0000\');' },
      { tag: '0001_slow', sql: "SELECT pg_sleep(0.4);\n--> statement-breakpoint\nINSERT INTO applied_log (tag) VALUES ('0001');" },
      { tag: '0002_data', sql: "CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 20000) g;\n--> statement-breakpoint\nINSERT INTO applied_log (tag) VALUES ('0002');" },
      // CIC waits for older snapshots: a runner blocked inside pg_advisory_lock() would deadlock with it.
      { tag: '0003_cic', sql: "-- helfy:no-transaction\nCREATE INDEX CONCURRENTLY big_id_idx ON big (id);\n--> statement-breakpoint\nINSERT INTO applied_log (tag) VALUES ('0003');" },
      { tag: '0004_last', sql: "SELECT pg_sleep(0.2);\n--> statement-breakpoint\nINSERT INTO applied_log (tag) VALUES ('0004');" },
    ]);
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 6 }, () => migratePostgres({ connection: conn, dir, log: recordingLogger() })));
    const elapsed = Date.now() - t0;
    const appliedTags = results.flatMap((r) => r.applied.map((a) => a.tag)).sort();
    expect(appliedTags).toEqual(['0000_log', '0001_slow', '0002_data', '0003_cic', '0004_last']);
    expect(results.filter((r) => r.applied.length > 0)).toHaveLength(1);
    expect(results.filter((r) => r.lockWaitMs > 0).length).toBeGreaterThanOrEqual(1);
    const rows = await withPg(conn, async (c) => ({
      log: (await c.query('SELECT tag, count(*)::int AS n FROM applied_log GROUP BY tag ORDER BY tag')).rows,
      history: (await c.query('SELECT count(*)::int AS n, count(DISTINCT created_at)::int AS d FROM drizzle.__drizzle_migrations')).rows[0],
    }));
    expect(rows.log).toEqual(['0000', '0001', '0002', '0003', '0004'].map((tag) => ({ tag, n: 1 })));
    expect(rows.history).toEqual({ n: 5, d: 5 });
    expect(elapsed).toBeLessThan(30_000);
  });
});
