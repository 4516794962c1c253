/**
 * `helfy status`'s PostgreSQL probe on real TimescaleDB: the extension's version on helfy_app and
 * its background jobs, with a job whose last run failed named as a warning (a TimescaleDB whose
 * jobs cannot run, like 2.28.3 unpatched on PostgreSQL 15.20, must not look healthy and silent).
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probePostgres } from '../../../src/db/probes.js';
import { bootstrapPostgres } from '../../../src/db/postgres/bootstrap.js';
import { pgConnectionFor } from '../../../src/db/postgres/connection.js';
import { migratePostgres } from '../../../src/db/postgres/migrate.js';
import { makeConfig, recordingLogger, withPg } from './fixtures.js';
import { startPostgres, type PostgresServer } from './servers.js';

let server: PostgresServer;
let cfg: ReturnType<typeof makeConfig>;

beforeAll(async () => {
  server = await startPostgres();
  cfg = makeConfig(server, { timescale: 'required' });
  await bootstrapPostgres(cfg, recordingLogger());
  await migratePostgres({ connection: pgConnectionFor(cfg, 'owner'), dir: resolve(import.meta.dirname, '../../../migrations/postgres'), log: recordingLogger(), timescale: 'required' });
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('the status probe and TimescaleDB background jobs', () => {
  it('names the version, lists the jobs and warns about none while none failed', async () => {
    const p = await probePostgres(cfg, 5000);
    expect(p.ok).toBe(true);
    expect(p.detail).toMatch(/^PostgreSQL 15\.\d+; timescaledb 2\.28\.3 on helfy_app$/);
    const jobs = p.info!.jobs as { id: number; name: string; lastRunStatus: string | null }[];
    // The five policies of the migrations plus TimescaleDB's own (telemetry, job history retention).
    expect(jobs.filter((j) => /^(Compression|Columnstore|Retention) Policy \[\d+\]$/.test(j.name))).toHaveLength(5);
    expect(jobs.filter((j) => j.lastRunStatus === 'Failed')).toEqual([]);
    expect(p.info!.warnings).toBeUndefined();
  });

  it('a job whose last run failed is a warning naming it, with its error', async () => {
    const app = pgConnectionFor(cfg, 'superuser', 'helfy_app');
    const id = await withPg(app, async (c) => {
      await c.query(`CREATE PROCEDURE helfy_test_failing_job(job_id int, config jsonb) LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'helfy test: this job always fails'; END $$`);
      return (await c.query(`SELECT add_job('helfy_test_failing_job', '1 hour', initial_start => now()) AS id`)).rows[0].id as number;
    });
    try {
      // Run by the scheduler's background worker, not by hand.
      const deadline = Date.now() + 60_000;
      let p = await probePostgres(cfg, 5000);
      while (!(p.info?.warnings as string[] | undefined)?.length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        p = await probePostgres(cfg, 5000);
      }
      expect(p.ok).toBe(true);
      expect(p.detail).toMatch(new RegExp(`; 1 of \\d+ background jobs failing \\(User-Defined Action \\[${id}\\]\\)$`));
      expect(p.info!.warnings).toEqual([`TimescaleDB job User-Defined Action [${id}] failed its last run: helfy test: this job always fails`]);
    } finally {
      await withPg(app, (c) => c.query('SELECT delete_job($1)', [id]));
    }
  }, 90_000);
});
