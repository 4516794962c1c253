/**
 * `helfy db stats` through the built binary against real PostgreSQL 15 + TimescaleDB (bootstrapped
 * and migrated by helfy's own code): a year of biometrics for two users, the older chunks
 * compressed, the aggregates' refresh policies run by TimescaleDB's scheduler. Every figure must
 * equal what this test reads with its own SQL (other functions than the command's where there are
 * any: chunk_compression_stats per chunk against the command's hypertable_compression_stats).
 * The plain-PostgreSQL answer (HELFY_TIMESCALE=optional) is tested in db-cli.test.ts.
 */
import { resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapPostgres } from '../../src/db/postgres/bootstrap.js';
import { pgConnectionFor } from '../../src/db/postgres/connection.js';
import { migratePostgres } from '../../src/db/postgres/migrate.js';
import { makeConfig, recordingLogger } from '../db/postgres/fixtures.js';
import { helfy, REPO, tempDir } from '../helpers/cli.js';
import { startPostgres, type PostgresServer } from '../support/services/index.js';

let server: PostgresServer;
let sql: pg.Client;
let ws: string;
let env: Record<string, string>;

const run = (args: string[]) => helfy(args, { cwd: ws, env, timeoutMs: 120_000 });

beforeAll(async () => {
  server = await startPostgres();
  const cfg = makeConfig(server, { timescale: 'required' });
  await bootstrapPostgres(cfg, recordingLogger());
  await migratePostgres({ connection: pgConnectionFor(cfg, 'owner'), dir: resolve(REPO, 'migrations/postgres'), log: recordingLogger(), timescale: 'required' });
  sql = new pg.Client(pgConnectionFor(cfg, 'superuser', 'helfy_app'));
  await sql.connect();
  // Two users, a year at one reading every 10 minutes (~105,000 rows), then the chunks older than
  // 30 days compressed (what the compression policy does).
  await sql.query(`INSERT INTO users (email, display_name) VALUES ('s1@example.com', 'S1'), ('s2@example.com', 'S2')`);
  await sql.query(
    `INSERT INTO biometrics (time, user_id, metric, value, unit)
     SELECT t, u.id, 'heart_rate', 50 + (extract(epoch FROM t)::bigint / 600 % 70), 'bpm'
       FROM users u, generate_series(date_trunc('minute', now()) - interval '365 days', now(), interval '10 minutes') t`,
  );
  await sql.query(`SELECT compress_chunk(c) FROM show_chunks('biometrics', older_than => interval '30 days') c`);
  await sql.query(`ANALYZE`);
  // The refresh policies, run now by the scheduler (their first run is otherwise 10 minutes away):
  // hourly first, then daily, which is computed from it.
  for (const view of ['biometrics_hourly', 'biometrics_daily']) {
    await sql.query(`SELECT alter_job(job_id, next_start => now()) FROM timescaledb_information.jobs WHERE proc_name = 'policy_refresh_continuous_aggregate' AND hypertable_name = $1`, [view]);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await sql.query(`SELECT s.total_runs, s.job_status FROM timescaledb_information.job_stats s JOIN timescaledb_information.jobs j USING (job_id) WHERE j.proc_name = 'policy_refresh_continuous_aggregate' AND j.hypertable_name = $1`, [view]);
      if (Number(r.rows[0]?.total_runs) > 0 && r.rows[0].job_status !== 'Running') break;
      if (Date.now() > deadline) throw new Error(`the refresh policy of ${view} did not run within 60 s`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  await sql.query(`ANALYZE`);
  ws = tempDir('helfy-dbstats-');
  const init = await helfy(['init', '--yes', '--name', 'dbstats'], { cwd: ws });
  expect(init.code).toBe(0);
  env = { HELFY_POSTGRES_PORT: String(server.port), HELFY_POSTGRES_USER: server.user, HELFY_POSTGRES_PASSWORD: server.password, HELFY_TIMESCALE: 'required' };
}, 300_000);

afterAll(async () => {
  await sql?.end();
  await server?.stop();
});

describe('helfy db stats (real TimescaleDB)', () => {
  it('--json: per hypertable rows, chunks, compressed chunks, sizes before/after and ratio; the aggregates and their last refresh', async () => {
    const r = await run(['db', 'stats', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const ext = (await sql.query(`SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'`)).rows[0].extversion;
    expect([r.json.database, r.json.timescale]).toEqual(['helfy_app', ext]);
    expect(r.json.hypertables.map((h: { name: string }) => h.name)).toEqual(['biometrics', 'nutrition', 'workout_sets', 'workouts']);

    const bio = r.json.hypertables[0];
    const exact = (await sql.query(`SELECT count(*)::int AS n FROM biometrics`)).rows[0].n;
    const approx = Number((await sql.query(`SELECT approximate_row_count('biometrics') AS n`)).rows[0].n);
    expect(bio.approximateRows).toBe(approx);
    expect(Math.abs(approx - exact) / exact).toBeLessThan(0.02); // after ANALYZE: (nearly) the count
    const chunks = (await sql.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE is_compressed)::int AS c FROM timescaledb_information.chunks WHERE hypertable_name = 'biometrics'`)).rows[0];
    expect(chunks.c).toBeGreaterThan(40);
    expect([bio.chunks, bio.compressedChunks]).toEqual([chunks.n, chunks.c]);
    const sizes = (await sql.query(`SELECT sum(before_compression_total_bytes)::bigint AS b, sum(after_compression_total_bytes)::bigint AS a FROM chunk_compression_stats('biometrics') WHERE compression_status = 'Compressed'`)).rows[0];
    expect([bio.bytesBeforeCompression, bio.bytesAfterCompression]).toEqual([Number(sizes.b), Number(sizes.a)]);
    expect(bio.compressionRatio).toBeCloseTo(Number(sizes.b) / Number(sizes.a), 9);
    expect(bio.compressionRatio).toBeGreaterThan(5);
    expect(bio.totalBytes).toBe(Number((await sql.query(`SELECT hypertable_size('biometrics') AS n`)).rows[0].n));
    // Nothing compressed in the empty hypertables: no sizes, no ratio.
    expect(r.json.hypertables[1]).toMatchObject({ name: 'nutrition', approximateRows: 0, chunks: 0, compressedChunks: 0, bytesBeforeCompression: null, bytesAfterCompression: null, compressionRatio: null });

    const stats = await sql.query(
      `SELECT j.hypertable_name AS name, j.job_id, s.last_run_started_at, s.last_run_status, s.last_successful_finish, s.total_runs, s.total_failures
         FROM timescaledb_information.jobs j JOIN timescaledb_information.job_stats s USING (job_id)
        WHERE j.proc_name = 'policy_refresh_continuous_aggregate' ORDER BY 1`,
    );
    expect(r.json.continuousAggregates.map((a: any) => [a.name, a.source, a.materializedOnly])).toEqual([
      ['biometrics_daily', 'biometrics_hourly', false],
      ['biometrics_hourly', 'biometrics', false],
    ]);
    for (const [i, a] of (r.json.continuousAggregates as any[]).entries()) {
      const s = stats.rows[i];
      expect(a.name).toBe(s.name);
      expect(a.refresh).toMatchObject({
        jobId: s.job_id,
        scheduleInterval: '00:15:00',
        lastRunStartedAt: s.last_run_started_at.toISOString(),
        lastRunStatus: 'Success',
        lastSuccessfulFinish: s.last_successful_finish.toISOString(),
        totalRuns: Number(s.total_runs),
        totalFailures: 0,
      });
      const mat = (await sql.query(`SELECT format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name) AS m FROM timescaledb_information.continuous_aggregates WHERE view_name = $1`, [a.name])).rows[0].m;
      expect(a.approximateRows, a.name).toBe(Number((await sql.query(`SELECT approximate_row_count($1::regclass) AS n`, [mat])).rows[0].n));
      expect(a.totalBytes, a.name).toBe(Number((await sql.query(`SELECT hypertable_size($1::regclass) AS n`, [mat])).rows[0].n));
    }
    // The refresh materialized the year: one row per user and hour, and per user and day.
    expect(r.json.continuousAggregates[1].approximateRows).toBeGreaterThan(2 * 364 * 24 * 0.98);
    expect(r.json.continuousAggregates[0].approximateRows).toBeGreaterThan(2 * 363 * 0.98);
  });

  it('the human report goes to stderr, fits 100 columns and shows the same figures', async () => {
    const r = await run(['db', 'stats']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(100);
    const j = (await run(['db', 'stats', '--json'])).json;
    const bio = j.hypertables[0];
    const row = lines.find((l) => l.startsWith('biometrics '))!.split(/\s{2,}/);
    expect(row.slice(0, 4)).toEqual(['biometrics', bio.approximateRows.toLocaleString('en-US'), String(bio.chunks), String(bio.compressedChunks)]);
    expect(row[6]).toBe(`${bio.compressionRatio.toFixed(1)}x`);
    expect(lines.find((l) => l.startsWith('biometrics_hourly'))).toMatch(/biometrics_hourly\s+biometrics\s+[\d,]+\s+\S+ \S+\s+every 15 min\s+(just now|\d+ min ago), Success$/);
    expect(lines[0]).toBe(`helfy_app: TimescaleDB ${j.timescale}`);
  });
});
