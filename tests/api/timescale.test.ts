/**
 * The series query on real TimescaleDB (PostgreSQL 15 + TimescaleDB 2.28.3 built from the shipped
 * source). The API connects as the server's superuser here (no bootstrap of roles: that is tested
 * in harness.ts's suites), so it warns that its role is privileged. time_bucket and the date_bin
 * fallback must give the same buckets and values.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratePostgres } from '../../src/db/postgres/migrate.js';
import { querySeries } from '../../templates/api/src/data/series.js';
import { createApp } from '../../templates/api/src/app.js';
import { loadConfig } from '../../templates/api/src/config.js';
import { closeDeps, createDeps, type Deps } from '../../templates/api/src/deps.js';
import { memoryLogger } from '../../templates/api/src/log.js';
import { recordingLogger, withPg } from '../db/postgres/fixtures.js';
import { startPostgres, type PostgresServer } from '../support/services/index.js';
import { call, newUser } from './harness.js';

let server: PostgresServer;
let deps: Deps;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  server = await startPostgres();
  const conn = { host: server.host, port: server.port, user: server.user, password: server.password, database: server.database, ssl: false as const };
  await withPg(conn, (c) => c.query('CREATE EXTENSION timescaledb'));
  await migratePostgres({ connection: conn, dir: resolve(import.meta.dirname, '../../migrations/postgres'), log: recordingLogger(), timescale: 'required' });
  const config = loadConfig({
    DATABASE_URL: server.url,
    NEO4J_URL: 'bolt://127.0.0.1:1',
    NEO4J_PASSWORD: 'unused-password',
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    JWT_SECRET: 'test-jwt-secret-0123456789abcdef',
    DEPENDENCY_TIMEOUT_MS: '10000',
  });
  deps = await createDeps(config, memoryLogger());
  app = createApp(deps);
}, 180_000);

afterAll(async () => {
  if (deps) await closeDeps(deps);
  await server?.stop();
});

describe('time_bucket (TimescaleDB) and date_bin (fallback) agree', () => {
  it('detects the extension at start and answers the series route with time_bucket', async () => {
    expect(deps.timescale).toBe(true);
    // Connected as the superuser: the API says it runs with a privileged role.
    expect((deps.log as any).lines.filter((l: any) => l.level === 'warn').map((l: any) => [l.msg, l.role])).toEqual([
      ['connected to PostgreSQL with a privileged role; the API should use helfy_api (data privileges only)', 'postgres'],
    ]);
    const u = await newUser(app, 'ts');
    // Irregular times over ~5 weeks, crossing week and day boundaries, into a hypertable.
    const start = Date.UTC(2026, 7, 27, 22, 13); // a Thursday evening
    const points = Array.from({ length: 3000 }, (_, i) => ({
      time: new Date(start + i * 1_013_000 + ((i * 7919) % 600) * 1000).toISOString(),
      metric: 'heart_rate',
      value: 40 + ((i * 53) % 1200) / 10,
    }));
    // 250-point requests, each routed into the hypertable's chunks (the 10,000-point batch is
    // tested in data.test.ts).
    for (let i = 0; i < points.length; i += 250) {
      const ins = await call(app, 'POST', '/api/biometrics', { token: u.token, body: { points: points.slice(i, i + 250) } });
      expect(ins.body, JSON.stringify((deps.log as any).lines.filter((l: any) => l.level !== 'info'))).toEqual({ inserted: 250, updated: 0, duplicates: 0 });
    }
    const from = new Date(start - 86_400_000).toISOString();
    const to = new Date(start + 40 * 86_400_000).toISOString();
    const r = await call(app, 'GET', `/api/biometrics/series?metric=heart_rate&from=${from}&to=${to}&bucket=1d`, { token: u.token });
    expect(r.status).toBe(200);
    expect(r.body.engine).toBe('time_bucket');
    expect(r.body.buckets.reduce((a: number, b: { count: number }) => a + b.count, 0)).toBe(3000);

    for (const bucket of ['15 minutes', '1 hour', '6 hours', '1 day', '7 days']) {
      const q = { userId: u.id, metric: 'heart_rate', from: new Date(from), to: new Date(to), bucket };
      const tb = await querySeries(deps.pool, true, q);
      const db = await querySeries(deps.pool, false, q);
      expect(tb.length, bucket).toBeGreaterThan(0);
      expect(db.map((b) => [b.bucket, b.count, b.min, b.max]), bucket).toEqual(tb.map((b) => [b.bucket, b.count, b.min, b.max]));
      for (const [i, b] of tb.entries()) expect(db[i]!.avg).toBeCloseTo(b.avg, 9);
    }
    // Weekly buckets start on Monday 00:00 UTC in both.
    const weeks = await querySeries(deps.pool, true, { userId: u.id, metric: 'heart_rate', from: new Date(from), to: new Date(to), bucket: '7 days' });
    expect(new Set(weeks.map((w) => `${new Date(w.bucket).getUTCDay()} ${w.bucket.slice(11)}`))).toEqual(new Set(['1 00:00:00.000Z']));
  });
});
