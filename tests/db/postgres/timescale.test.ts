/**
 * The project's migration set on the TimescaleDB build (PGlite PostgreSQL 17 + TimescaleDB over
 * pglite-socket). That server takes ONE connection at a time and has a single database, so:
 * the runner is called with `singleConnection: true` (the advisory lock is held on the migration
 * connection, no second lock connection), every check here opens its connection only after the
 * previous one is closed, and bootstrap (roles, three databases) is tested on PostgreSQL 15 instead.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratePostgres, postgresMigrationStatus } from '../../../src/db/postgres/migrate.js';
import { recordingLogger, withPg } from './fixtures.js';
import { startTimescale } from './servers.js';

const MIGRATIONS = resolve(import.meta.dirname, '../../../migrations/postgres');

type Server = Awaited<ReturnType<typeof startTimescale>>;
let server: Server;
let conn: { host: string; port: number; user: string; password: string; database: string; ssl: false };

beforeAll(async () => {
  server = await startTimescale();
  conn = { host: server.host, port: server.port, user: server.user, password: server.password, database: server.database, ssl: false };
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('migrations on TimescaleDB', () => {
  it("applies the full set with timescale 'required', without warnings", async () => {
    const log = recordingLogger();
    const res = await migratePostgres({ connection: conn, dir: MIGRATIONS, log, singleConnection: true, timescale: 'required' });
    expect(res.applied.map((a) => a.tag)).toEqual(['0000_init', '0001_timescale', '0002_api_worker_seed', '0003_login_limit_indexes']);
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
      c.query(`SELECT hypertable_name, column_name, time_interval::text AS every FROM timescaledb_information.dimensions ORDER BY 1`),
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
           FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL ORDER BY 1, 2`,
      ),
    );
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
      const u = await c.query(`INSERT INTO users (email, display_name) VALUES ('grace@example.com', 'Grace') RETURNING id`);
      const id = u.rows[0].id as string;
      await c.query(
        `INSERT INTO biometrics (time, user_id, metric, value, unit)
         SELECT now() - g * interval '1 hour', $1, 'heart_rate', 60 + g % 10, 'bpm' FROM generate_series(0, 24 * 60) g`,
        [id],
      );
      const w = await c.query(`INSERT INTO workouts (time, user_id, name, status) VALUES (now(), $1, 'Legs', 'completed') RETURNING id, time`, [id]);
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
    ]);
    const again = await migratePostgres({ connection: conn, dir: MIGRATIONS, log: recordingLogger(), singleConnection: true });
    expect(again.applied).toEqual([]);
  });
});
