/**
 * The project's migration set on real TimescaleDB (PostgreSQL 15 + TimescaleDB 2.28.3 built from
 * the shipped source by native/timescaledb/install.sh), and the policies it creates run by
 * TimescaleDB's own background workers. Bootstrap (roles, three databases) is tested in
 * bootstrap.test.ts; here the extension is created by hand in the server's own database.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratePostgres, postgresMigrationStatus } from '../../../src/db/postgres/migrate.js';
import { retryOnDeadlock } from '../../../src/db/postgres/seed.js';
import pg from 'pg';
import { recordingLogger, withPg } from './fixtures.js';
import { startPostgres, type PostgresServer } from './servers.js';

const MIGRATIONS = resolve(import.meta.dirname, '../../../migrations/postgres');

let server: PostgresServer;
let conn: { host: string; port: number; user: string; password: string; database: string; ssl: false };

beforeAll(async () => {
  server = await startPostgres();
  conn = { host: server.host, port: server.port, user: server.user, password: server.password, database: server.database, ssl: false };
  await withPg(conn, (c) => c.query('CREATE EXTENSION timescaledb'));
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('migrations on TimescaleDB', () => {
  it("applies the full set with timescale 'required', without warnings", async () => {
    const log = recordingLogger();
    const res = await migratePostgres({ connection: conn, dir: MIGRATIONS, log, timescale: 'required' });
    expect(res.applied.map((a) => a.tag)).toEqual(['0000_init', '0001_timescale', '0002_api_worker_seed', '0003_login_limit_indexes', '0004_continuous_aggregates']);
    expect(res.timescale.present).toBe(true);
    expect(res.timescale.version).toMatch(/^2\./);
    expect(log.of('warn')).toEqual([]);
  });

  it('timescaledb_information.hypertables lists the time-series tables', async () => {
    const r = await withPg(conn, (c) =>
      c.query(`SELECT hypertable_name, num_dimensions, compression_enabled FROM timescaledb_information.hypertables ORDER BY 1`),
    );
    expect(r.rows).toEqual(
      ['biometrics', 'nutrition', 'workout_sets', 'workouts'].map((hypertable_name) => ({ hypertable_name, num_dimensions: 1, compression_enabled: true })),
    );
    const dims = await withPg(conn, (c) =>
      // The continuous aggregates' own materialization hypertables are TimescaleDB's, not ours.
      c.query(`SELECT hypertable_name, column_name, time_interval::text AS every FROM timescaledb_information.dimensions WHERE hypertable_name NOT LIKE '\\_materialized%' ORDER BY 1`),
    );
    expect(dims.rows).toEqual([
      { hypertable_name: 'biometrics', column_name: 'time', every: '7 days' },
      { hypertable_name: 'nutrition', column_name: 'time', every: '30 days' },
      { hypertable_name: 'workout_sets', column_name: 'time', every: '30 days' },
      { hypertable_name: 'workouts', column_name: 'time', every: '30 days' },
    ]);
  });

  it('timescaledb_information.jobs shows retention and compression policies', async () => {
    const r = await withPg(conn, (c) =>
      c.query(
        `SELECT hypertable_name, proc_name, coalesce(config->>'drop_after', config->>'compress_after') AS after
           FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL AND proc_name <> 'policy_refresh_continuous_aggregate' ORDER BY 1, 2`,
      ),
    );
    const refresh = await withPg(conn, (c) =>
      c.query(`SELECT ca.view_name FROM timescaledb_information.jobs j
                 JOIN _timescaledb_catalog.hypertable h ON h.id = (j.config->>'mat_hypertable_id')::int
                 JOIN timescaledb_information.continuous_aggregates ca ON ca.materialization_hypertable_name = h.table_name
                WHERE j.proc_name = 'policy_refresh_continuous_aggregate' ORDER BY 1`),
    );
    expect(refresh.rows.map((r) => r.view_name)).toEqual(['biometrics_daily', 'biometrics_hourly']);
    expect(r.rows).toEqual([
      { hypertable_name: 'biometrics', proc_name: 'policy_compression', after: '30 days' },
      { hypertable_name: 'biometrics', proc_name: 'policy_retention', after: '2 years' },
      { hypertable_name: 'nutrition', proc_name: 'policy_compression', after: '90 days' },
      { hypertable_name: 'workout_sets', proc_name: 'policy_compression', after: '90 days' },
      { hypertable_name: 'workouts', proc_name: 'policy_compression', after: '90 days' },
    ]);
  });

  it('the hypertables take data, keep their constraints and compress', async () => {
    await withPg(conn, async (c) => {
      // The policies' background jobs would compress the same chunks meanwhile ("already
      // compressed"): held while this test compresses by hand; the next test runs them.
      await c.query(`SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL`);
      const u = await c.query(`INSERT INTO users (email, display_name) VALUES ('grace@example.com', 'Grace') RETURNING id`);
      const id = u.rows[0].id as string;
      await c.query(
        `INSERT INTO biometrics (time, user_id, metric, value, unit)
         SELECT now() - g * interval '1 hour', $1, 'heart_rate', 60 + g % 10, 'bpm' FROM generate_series(0, 24 * 60) g`,
        [id],
      );
      // Millisecond precision, as the API stores (a JS Date, which carries the time back, holds no more).
      const w = await c.query(`INSERT INTO workouts (time, user_id, name, status) VALUES (date_trunc('milliseconds', now()), $1, 'Legs', 'completed') RETURNING id, time`, [id]);
      await c.query(`INSERT INTO workout_sets (time, user_id, workout_id, set_number, exercise_id, reps, weight_kg, rpe) VALUES ($1, $2, $3, 1, 'Barbell_Squat', 5, 100, 8)`, [w.rows[0].time, id, w.rows[0].id]);
      await c.query(`INSERT INTO nutrition (time, user_id, food_id, meal, quantity_g, energy_kcal) VALUES (now(), $1, 'food:oats', 'breakfast', 80, 300)`, [id]);
      // The by-value reference: the join on (workout_id, time) finds the set.
      const j = await c.query(`SELECT s.reps FROM workouts w JOIN workout_sets s ON s.workout_id = w.id AND s.time = w.time`);
      expect(j.rows).toEqual([{ reps: 5 }]);
      await expect(c.query(`INSERT INTO workout_sets (time, user_id, workout_id, set_number, exercise_id, rpe) VALUES (now(), $1, gen_random_uuid(), 1, 'Barbell_Squat', 11)`, [id])).rejects.toMatchObject({ code: '23514' });
      const chunks = await c.query(`SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE hypertable_name = 'biometrics'`);
      expect(chunks.rows[0].n).toBeGreaterThan(4);
      const compressed = await c.query(
        `SELECT count(compress_chunk(ch, if_not_compressed => true))::int AS n FROM show_chunks('biometrics', older_than => interval '30 days') ch`,
      );
      expect(compressed.rows[0].n).toBeGreaterThan(0);
      expect((await c.query(`SELECT count(*)::int AS n FROM biometrics WHERE user_id = $1`, [id])).rows[0].n).toBe(24 * 60 + 1);
      // ON DELETE CASCADE from users reaches every hypertable.
      await c.query('DELETE FROM users WHERE id = $1', [id]);
      const left = await c.query(`SELECT (SELECT count(*) FROM biometrics)::int + (SELECT count(*) FROM workouts)::int + (SELECT count(*) FROM workout_sets)::int + (SELECT count(*) FROM nutrition)::int AS n`);
      expect(left.rows[0].n).toBe(0);
    });
  });

  it('status shows every file applied; a rerun applies nothing', async () => {
    const st = await postgresMigrationStatus({ connection: conn, dir: MIGRATIONS });
    expect(st.map((e) => [e.tag, e.state])).toEqual([
      ['0000_init', 'applied'],
      ['0001_timescale', 'applied'],
      ['0002_api_worker_seed', 'applied'],
      ['0003_login_limit_indexes', 'applied'],
      ['0004_continuous_aggregates', 'applied'],
    ]);
    const again = await migratePostgres({ connection: conn, dir: MIGRATIONS, log: recordingLogger() });
    expect(again.applied).toEqual([]);
  });

  it("the background workers run the migrations' compression and retention policies: old chunks compressed, expired ones dropped", async () => {
    await withPg(conn, async (c) => {
      const u = await c.query(`INSERT INTO users (email, display_name) VALUES ('ada@example.com', 'Ada') RETURNING id`);
      const id = u.rows[0].id as string;
      // Hourly readings over the last 100 days (compress_after is 30 days) plus one reading
      // 3 years back (drop_after is 2 years).
      await c.query(
        `INSERT INTO biometrics (time, user_id, metric, value, unit)
         SELECT now() - g * interval '1 hour', $1, 'heart_rate', 60 + g % 10, 'bpm' FROM generate_series(0, 24 * 100) g`,
        [id],
      );
      await c.query(`INSERT INTO biometrics (time, user_id, metric, value, unit) VALUES (now() - interval '3 years', $1, 'heart_rate', 61, 'bpm')`, [id]);
      const chunks = async (q: string) => (await c.query(q)).rows[0].n as number;
      const oldChunks = await chunks(`SELECT count(*)::int AS n FROM show_chunks('biometrics', older_than => interval '30 days')`);
      expect(oldChunks).toBeGreaterThan(5);
      expect(await chunks(`SELECT count(*)::int AS n FROM show_chunks('biometrics', older_than => interval '2 years')`)).toBe(1);
      const jobs = (await c.query<{ job_id: number; proc_name: string }>(
        `SELECT job_id, proc_name FROM timescaledb_information.jobs WHERE hypertable_name = 'biometrics' ORDER BY proc_name`,
      )).rows;
      expect(jobs.map((j) => j.proc_name)).toEqual(['policy_compression', 'policy_retention']);
      // Due now: the scheduler's background workers pick them up (nothing is run by hand). The
      // jobs may have run once already (right after the migration): wait for a run that started
      // after this moment and has finished.
      const since = (await c.query<{ t: Date }>('SELECT now() AS t')).rows[0]!.t;
      for (const j of jobs) await c.query(`SELECT alter_job($1, scheduled => true, next_start => now())`, [j.job_id]);
      const deadline = Date.now() + 90_000;
      let stats: { job_id: number; last_run_status: string | null; total_successes: number; total_failures: number; fresh: boolean }[] = [];
      while (Date.now() < deadline) {
        stats = (await c.query(
          `SELECT job_id, last_run_status, total_successes::int, total_failures::int,
                  (last_run_started_at >= $2 AND job_status <> 'Running' AND last_run_status IS NOT NULL) AS fresh
             FROM timescaledb_information.job_stats WHERE job_id = ANY($1)`,
          [jobs.map((j) => j.job_id), since],
        )).rows;
        if (stats.length === jobs.length && stats.every((s) => s.fresh)) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(stats.map((s) => s.fresh)).toEqual([true, true]);
      const errors = (await c.query(`SELECT job_id, err_message FROM timescaledb_information.job_errors WHERE job_id = ANY($1)`, [jobs.map((j) => j.job_id)])).rows;
      expect(errors).toEqual([]);
      expect(stats.map((s) => [s.last_run_status, s.total_failures]).sort()).toEqual([['Success', 0], ['Success', 0]]);
      // Retention dropped the 3-year-old chunk; compression compressed every chunk past 30 days.
      expect(await chunks(`SELECT count(*)::int AS n FROM show_chunks('biometrics', older_than => interval '2 years')`)).toBe(0);
      const compressed = await chunks(
        `SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE hypertable_name = 'biometrics' AND is_compressed AND range_end < now() - interval '30 days'`,
      );
      expect(compressed).toBe(oldChunks - 1);
      // Compressed rows still read back whole.
      expect((await c.query(`SELECT count(*)::int AS n FROM biometrics WHERE user_id = $1`, [id])).rows[0].n).toBe(24 * 100 + 1);
    });
  }, 180_000);

  it('two transactions creating hypertable chunks while each holds its new users row deadlock; the victim, run again, lands (retryOnDeadlock, as the demo seed loads)', async () => {
    const a = new pg.Client(conn);
    const b = new pg.Client(conn);
    await Promise.all([a.connect(), b.connect()]);
    try {
      // A chunk of a hypertable with a foreign key to users is created with that key, which locks
      // users in SHARE ROW EXCLUSIVE mode: it waits for every open transaction that wrote users.
      const load = async (c: pg.Client, email: string, day: string) => {
        await c.query('BEGIN');
        try {
          const u = await c.query(`INSERT INTO users (email, display_name) VALUES ($1, 'x') RETURNING id`, [email]);
          await c.query('SELECT pg_sleep(0.3)'); // both users rows are written before either chunk
          await c.query(`INSERT INTO biometrics (time, user_id, metric, value, unit) VALUES ($1, $2, 'heart_rate', 60, 'bpm')`, [day, u.rows[0].id]);
          await c.query('COMMIT');
        } catch (e) {
          await c.query('ROLLBACK').catch(() => {});
          throw e;
        }
      };
      const raw = await Promise.allSettled([load(a, 'dl-a@example.com', '2001-01-10'), load(b, 'dl-b@example.com', '2001-03-10')]);
      expect(raw.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect((raw.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason.code).toBe('40P01');
      await withPg(conn, (c) => c.query(`DELETE FROM users WHERE email IN ('dl-a@example.com', 'dl-b@example.com')`));

      const retries: string[] = [];
      await Promise.all([
        retryOnDeadlock(() => load(a, 'dl-a@example.com', '2001-05-10'), () => retries.push('a')),
        retryOnDeadlock(() => load(b, 'dl-b@example.com', '2001-07-10'), () => retries.push('b')),
      ]);
      expect(retries).toHaveLength(1);
      const n = await withPg(conn, (c) => c.query(`SELECT count(*)::int AS n FROM biometrics b JOIN users u ON u.id = b.user_id WHERE u.email LIKE 'dl-%'`));
      expect(n.rows[0].n).toBe(2);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  }, 60_000);
});
