/**
 * The series query on real TimescaleDB (PostgreSQL 15 + TimescaleDB 2.28.3 built from the shipped
 * source). The API connects as the server's superuser here (no bootstrap of roles: that is tested
 * in harness.ts's suites), so it warns that its role is privileged. time_bucket and the date_bin
 * fallback must give the same buckets and values.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratePostgres } from '../../src/db/postgres/migrate.js';
import { chooseSource, querySeries, type SeriesRow } from '../../templates/api/src/data/series.js';
import { BUCKETS } from '../../templates/api/src/data/metrics-catalog.js';
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

    for (const timezone of ['UTC', 'Asia/Tokyo', 'America/Los_Angeles', 'Asia/Kolkata']) {
      for (const bucket of ['15 minutes', '1 hour', '6 hours', '1 day', '7 days']) {
        const q = { userId: u.id, metric: 'heart_rate', from: new Date(from), to: new Date(to), bucket, timezone };
        const tb = await querySeries(deps.pool, true, q);
        const db = await querySeries(deps.pool, false, q);
        expect(tb.length, bucket).toBeGreaterThan(0);
        expect(db.map((b) => [b.bucket, b.count, b.min, b.max]), `${timezone} ${bucket}`).toEqual(tb.map((b) => [b.bucket, b.count, b.min, b.max]));
        for (const [i, b] of tb.entries()) expect(db[i]!.avg).toBeCloseTo(b.avg, 9);
      }
    }
    // Weekly buckets start on Monday 00:00 UTC in both.
    const weeks = await querySeries(deps.pool, true, { userId: u.id, metric: 'heart_rate', from: new Date(from), to: new Date(to), bucket: '7 days' });
    expect(new Set(weeks.map((w) => `${new Date(w.bucket).getUTCDay()} ${w.bucket.slice(11)}`))).toEqual(new Set(['1 00:00:00.000Z']));
  });
});

// ---------------------------------------------------------------------------------------------
// Continuous aggregates (migration 0004): the series route answers from biometrics_daily /
// biometrics_hourly and must equal this test's own computation over the raw rows.
// ---------------------------------------------------------------------------------------------

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ORIGIN = Date.UTC(2000, 0, 3); // TimescaleDB's default origin, a Monday
type Width = keyof typeof BUCKETS;
const WIDTH_MS: Record<Width, number> = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '1h': HOUR, '6h': 6 * HOUR, '1d': DAY, '7d': 7 * DAY };

/** The zone's offset at t (ms), from Intl (independent of the API's helpers). */
function zoneOffset(tz: string, t: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(t));
  const g = (k: string) => Number(parts.find((p) => p.type === k)!.value);
  return Date.UTC(g('year'), g('month') - 1, g('day'), g('hour'), g('minute'), g('second')) - Math.floor(t / 1000) * 1000;
}
/** The start (a UTC instant) of the local bucket holding t. */
function localBucket(t: number, w: number, tz: string): number {
  const local = t + zoneOffset(tz, t);
  const bl = ORIGIN + Math.floor((local - ORIGIN) / w) * w;
  let u = bl - zoneOffset(tz, t);
  u = bl - zoneOffset(tz, u);
  return u;
}
function localClock(t: number, tz: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: tz, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' }).format(new Date(t));
}

interface Raw {
  t: number;
  v: number;
}
/** avg/min/max/count/sum per bucket, computed here from the raw rows. */
function expectedBuckets(rows: Raw[], from: number, to: number, w: number, tz: string): SeriesRow[] {
  const m = new Map<number, { n: number; s: number; lo: number; hi: number }>();
  for (const r of rows) {
    if (r.t < from || r.t >= to) continue;
    const b = localBucket(r.t, w, tz);
    const e = m.get(b) ?? { n: 0, s: 0, lo: Infinity, hi: -Infinity };
    e.n++;
    e.s += r.v;
    e.lo = Math.min(e.lo, r.v);
    e.hi = Math.max(e.hi, r.v);
    m.set(b, e);
  }
  return [...m.entries()].sort((a, b) => a[0] - b[0]).map(([b, e]) => ({ bucket: new Date(b).toISOString(), avg: e.s / e.n, min: e.lo, max: e.hi, count: e.n, sum: e.s }));
}
function expectSameBuckets(got: SeriesRow[], want: SeriesRow[], label: string): void {
  expect(want.length, label).toBeGreaterThan(0);
  expect(got.map((b) => [b.bucket, b.count, b.min, b.max]), label).toEqual(want.map((b) => [b.bucket, b.count, b.min, b.max]));
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1);
  for (const [i, b] of got.entries()) {
    expect(rel(b.avg, want[i]!.avg), `${label} avg ${b.bucket}`).toBeLessThanOrEqual(1e-9);
    expect(rel(b.sum, want[i]!.sum), `${label} sum ${b.bucket}`).toBeLessThanOrEqual(1e-9);
  }
}

const METRIC_VALUES: Record<string, (i: number) => number> = {
  heart_rate: (i) => 40 + ((i * 53) % 1200) / 10,
  steps: (i) => (i * 7919) % 2000,
  weight: (i) => 60 + ((i * 31) % 3000) / 100,
};

describe('continuous aggregates behind the series route', () => {
  const now = Date.now();
  let utc: Awaited<ReturnType<typeof newUser>>;

  const rawRows = async (userId: string, metric: string): Promise<Raw[]> =>
    (await deps.pool.query(`SELECT time, value FROM biometrics WHERE user_id = $1 AND metric = $2`, [userId, metric])).rows.map((r) => ({ t: (r.time as Date).getTime(), v: r.value as number }));
  /** What the refresh policies do, called by hand (the test disabled the background jobs). */
  const refresh = async () => {
    await deps.pool.query(`CALL refresh_continuous_aggregate('biometrics_hourly', NULL, now() - interval '1 hour')`);
    await deps.pool.query(`CALL refresh_continuous_aggregate('biometrics_daily', NULL, now() - interval '1 day')`);
  };
  const post = async (token: string, points: { time: string; metric: string; value: number }[]) => {
    for (let i = 0; i < points.length; i += 10_000) {
      const r = await call(app, 'POST', '/api/biometrics', { token, body: { points: points.slice(i, i + 10_000) } });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
  };
  /** ~45 days of irregular readings (every ~13 minutes), ending 3 hours ago. */
  const history = (metrics: string[]) =>
    metrics.flatMap((metric) =>
      Array.from({ length: Math.floor((45 * DAY) / 780_000) }, (_, i) => ({
        time: new Date(now - 45 * DAY + i * 780_000 + ((i * 7919) % 120) * 1000 + 17).toISOString(),
        metric,
        value: METRIC_VALUES[metric]!(i),
      })),
    );
  const rangeFor = (w: Width): [number, number] => {
    const back = w === '1m' ? 6 * DAY : w === '5m' || w === '15m' ? 30 * DAY : 46 * DAY;
    return [now - back + 433_000, now + HOUR]; // deliberately not on an hour
  };
  const series = async (token: string, metric: string, w: Width, from: number, to: number) => {
    const r = await call(app, 'GET', `/api/biometrics/series?metric=${metric}&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&bucket=${w}`, { token });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as { source: string; timezone: string; buckets: SeriesRow[] };
  };

  beforeAll(async () => {
    // The policies' background jobs would refresh and compress meanwhile; the test runs them.
    await deps.pool.query(`SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL`);
    utc = await newUser(app, 'cagg-utc');
    await post(utc.token, history(Object.keys(METRIC_VALUES)));
    await refresh();
    // Rows written a moment ago, above the watermark: the real-time part must include them.
    await post(utc.token, Object.keys(METRIC_VALUES).flatMap((metric) => [10 * 60_000, 60_000, 0].map((ago, i) => ({ time: new Date(now - ago).toISOString(), metric, value: METRIC_VALUES[metric]!(i + 5) }))));
  }, 120_000);

  it('migration 0004 made two real-time aggregates with refresh policies; the refresh materialized them', async () => {
    const c = await deps.pool.query(
      `SELECT view_name, materialized_only, materialization_hypertable_schema || '.' || materialization_hypertable_name AS mat FROM timescaledb_information.continuous_aggregates ORDER BY 1`,
    );
    expect(c.rows.map((r) => [r.view_name, r.materialized_only])).toEqual([['biometrics_daily', false], ['biometrics_hourly', false]]);
    for (const r of c.rows) expect((await deps.pool.query(`SELECT count(*)::int AS n FROM ${r.mat}`)).rows[0].n, r.view_name).toBeGreaterThan(0);
    const jobs = await deps.pool.query(`SELECT hypertable_name, schedule_interval::text AS every FROM timescaledb_information.jobs WHERE proc_name = 'policy_refresh_continuous_aggregate' ORDER BY 1`);
    expect(jobs.rows).toEqual([{ hypertable_name: 'biometrics_daily', every: '00:15:00' }, { hypertable_name: 'biometrics_hourly', every: '00:15:00' }]);
  });

  it('UTC user: every bucket width and metric equals the raw rows (with rows written a moment ago)', async () => {
    for (const metric of Object.keys(METRIC_VALUES)) {
      const raw = await rawRows(utc.id, metric);
      expect(raw.filter((r) => r.t > now - 15 * 60_000)).toHaveLength(3);
      for (const w of Object.keys(BUCKETS) as Width[]) {
        const [from, to] = rangeFor(w);
        const r = await series(utc.token, metric, w, from, to);
        expect([r.source, r.timezone], `${metric} ${w}`).toEqual([WIDTH_MS[w] < HOUR ? 'biometrics' : WIDTH_MS[w] < DAY ? 'biometrics_hourly' : 'biometrics_daily', 'UTC']);
        expectSameBuckets(r.buckets, expectedBuckets(raw, from, to, WIDTH_MS[w], 'UTC'), `${metric} ${w}`);
      }
    }
  }, 120_000);

  it('users in Asia/Tokyo, America/Los_Angeles and Asia/Kolkata get buckets of their local days, equal to the raw rows', async () => {
    for (const tz of ['Asia/Tokyo', 'America/Los_Angeles', 'Asia/Kolkata']) {
      const u = await newUser(app, `cagg-${tz.split('/')[1]!.toLowerCase()}`);
      await deps.pool.query(`UPDATE users SET timezone = $2 WHERE id = $1`, [u.id, tz]);
      await post(u.token, history(['heart_rate', 'steps']));
      await refresh();
      for (const metric of ['heart_rate', 'steps']) {
        const raw = await rawRows(u.id, metric);
        for (const w of ['15m', '1h', '6h', '1d', '7d'] as Width[]) {
          const [from, to] = rangeFor(w);
          const r = await series(u.token, metric, w, from, to);
          const label = `${tz} ${metric} ${w}`;
          expect(r.timezone, label).toBe(tz);
          expect(r.source, label).toBe(chooseSource({ timescale: true, aggregates: true, bucket: BUCKETS[w], timezone: tz, from: new Date(from), to: new Date(to) }));
          expectSameBuckets(r.buckets, expectedBuckets(raw, from, to, WIDTH_MS[w], tz), label);
          // Days (and weeks, on Mondays) start at local midnight.
          if (w === '1d' || w === '7d') expect(new Set(r.buckets.map((b) => localClock(Date.parse(b.bucket), tz))), label).toEqual(new Set(['00:00']));
          if (w === '7d') expect(new Set(r.buckets.map((b) => new Date(Date.parse(b.bucket) + 12 * HOUR).toLocaleDateString('en-US', { timeZone: tz, weekday: 'short' }))), label).toEqual(new Set(['Mon']));
        }
      }
      const tzSources = await Promise.all((['1h', '1d'] as Width[]).map(async (w) => (await series(u.token, 'heart_rate', w, ...rangeFor(w))).source));
      expect(tzSources, tz).toEqual(tz === 'Asia/Kolkata' ? ['biometrics', 'biometrics_hourly'] : ['biometrics_hourly', 'biometrics_hourly']);
    }
  }, 240_000);

  it('a late correction and a late reading 40 days back show in the aggregate-backed answers after the refresh', async () => {
    const day = Math.floor((now - 40 * DAY) / DAY) * DAY;
    const raw0 = await rawRows(utc.id, 'heart_rate');
    const old = raw0.filter((r) => r.t >= day && r.t < day + DAY).sort((a, b) => a.t - b.t)[10]!;
    const [from, to] = [day - 3 * DAY, day + 4 * DAY];
    const before = await series(utc.token, 'heart_rate', '1d', from, to);
    const fix = await call(app, 'POST', '/api/biometrics', {
      token: utc.token,
      body: { points: [{ time: new Date(old.t).toISOString(), metric: 'heart_rate', value: 249.5 }, { time: new Date(day + 13 * HOUR + 1234).toISOString(), metric: 'heart_rate', value: 21 }] },
    });
    expect(fix.body).toEqual({ inserted: 1, updated: 1, duplicates: 0 });
    const raw = await rawRows(utc.id, 'heart_rate');
    // Below the watermark: the materialized day is what it was until the refresh runs.
    expect((await series(utc.token, 'heart_rate', '1d', from, to)).buckets).toEqual(before.buckets);
    await refresh();
    for (const w of ['1h', '6h', '1d', '7d'] as Width[]) {
      const r = await series(utc.token, 'heart_rate', w, from, to);
      expectSameBuckets(r.buckets, expectedBuckets(raw, from, to, WIDTH_MS[w], 'UTC'), `late ${w}`);
    }
    const d = (await series(utc.token, 'heart_rate', '1d', from, to)).buckets.find((b) => b.bucket === new Date(day).toISOString())!;
    expect([d.max, d.min]).toEqual([249.5, 21]);
  }, 120_000);

  it('compressed chunks give the same answers; an upsert into a compressed chunk lands', async () => {
    const answers = async () => {
      const out: Record<string, SeriesRow[]> = {};
      for (const w of Object.keys(BUCKETS) as Width[]) {
        const [from, to] = rangeFor(w);
        out[`api ${w}`] = (await series(utc.token, 'heart_rate', w, from, to)).buckets;
        out[`raw ${w}`] = await querySeries(deps.pool, true, { userId: utc.id, metric: 'heart_rate', from: new Date(from), to: new Date(to), bucket: BUCKETS[w] });
      }
      return out;
    };
    const before = await answers();
    const compressed = await deps.pool.query(`SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('biometrics', older_than => interval '30 days') c`);
    expect(compressed.rowCount).toBeGreaterThan(2);
    const chunkOf = async (t: number) =>
      (await deps.pool.query(`SELECT chunk_name, is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = 'biometrics' AND range_start <= $1 AND range_end > $1`, [new Date(t)])).rows[0];
    const t40 = now - 40 * DAY;
    expect((await chunkOf(t40)).is_compressed).toBe(true);
    // Same buckets, counts, minima and maxima; sums/averages up to float summation order (a
    // compressed chunk is read in another order).
    const after = await answers();
    expect(Object.keys(after)).toEqual(Object.keys(before));
    for (const k of Object.keys(before)) expectSameBuckets(after[k]!, before[k]!, `after compress_chunk: ${k}`);

    // A correction of a compressed reading and a new reading in the compressed chunk.
    const raw0 = await rawRows(utc.id, 'heart_rate');
    const target = raw0.filter((r) => Math.abs(r.t - t40) < DAY).sort((a, b) => a.t - b.t)[3]!;
    const up = await call(app, 'POST', '/api/biometrics', {
      token: utc.token,
      body: { points: [{ time: new Date(target.t).toISOString(), metric: 'heart_rate', value: 201.25 }, { time: new Date(t40 + 777).toISOString(), metric: 'heart_rate', value: 22.5 }] },
    });
    expect(up.body).toEqual({ inserted: 1, updated: 1, duplicates: 0 });
    const stored = await deps.pool.query(`SELECT time, value FROM biometrics WHERE user_id = $1 AND metric = 'heart_rate' AND time = ANY($2::timestamptz[]) ORDER BY time`, [utc.id, [new Date(target.t), new Date(t40 + 777)]]);
    expect(stored.rows.map((r) => r.value).sort()).toEqual([201.25, 22.5].sort());
    expect((await chunkOf(t40)).is_compressed).toBe(true);
    await refresh();
    const raw = await rawRows(utc.id, 'heart_rate');
    for (const w of ['15m', '1h', '1d', '7d'] as Width[]) {
      const [from, to] = rangeFor(w);
      expectSameBuckets((await series(utc.token, 'heart_rate', w, from, to)).buckets, expectedBuckets(raw, from, to, WIDTH_MS[w], 'UTC'), `compressed ${w}`);
    }
  }, 180_000);
});

// ---------------------------------------------------------------------------------------------
// Daily figures: GET /api/biometrics/daily (the dashboard's tiles and chart) and the dailySummary
// workflow's readDayBiometrics activity read the daily aggregate in the user's time zone; both
// must equal this test's own computation over the raw rows, rows written a moment ago included.
// ---------------------------------------------------------------------------------------------

describe('daily figures (dashboard tiles, dailySummary) from the daily aggregate', () => {
  const now = Date.now();
  const metrics = ['heart_rate', 'steps', 'weight'];
  const users: Record<string, Awaited<ReturnType<typeof newUser>>> = {};
  const localDate = (t: number, tz: string) => new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(t));
  const rawRows = async (userId: string, metric: string): Promise<Raw[]> =>
    (await deps.pool.query(`SELECT time, value FROM biometrics WHERE user_id = $1 AND metric = $2`, [userId, metric])).rows.map((r) => ({ t: (r.time as Date).getTime(), v: r.value as number }));
  /** The local midnight starting the local date `day`, found from the raw computation's own bucketing. */
  const midnight = (day: string, tz: string) => localBucket(Date.parse(`${day}T12:00:00Z`) - zoneOffset(tz, Date.parse(`${day}T12:00:00Z`)), DAY, tz);

  beforeAll(async () => {
    await deps.pool.query(`SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL`);
    for (const tz of ['UTC', 'Asia/Tokyo', 'Asia/Kolkata']) {
      const u = (users[tz] = await newUser(app, `daily-${tz.split('/').at(-1)!.toLowerCase()}`));
      await deps.pool.query(`UPDATE users SET timezone = $2 WHERE id = $1`, [u.id, tz]);
      // ~45 days of readings every ~13 minutes up to 2 minutes ago.
      const points = metrics.flatMap((metric) =>
        Array.from({ length: Math.floor((45 * DAY) / 780_000) }, (_, i) => ({
          time: new Date(now - 45 * DAY + i * 780_000 + ((i * 7919) % 120) * 1000 + 17).toISOString(),
          metric,
          value: METRIC_VALUES[metric]!(i),
        })).filter((p) => Date.parse(p.time) < now - 120_000),
      );
      for (let i = 0; i < points.length; i += 10_000) {
        const r = await call(app, 'POST', '/api/biometrics', { token: u.token, body: { points: points.slice(i, i + 10_000) } });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
      }
    }
    await deps.pool.query(`CALL refresh_continuous_aggregate('biometrics_hourly', NULL, now() - interval '1 hour')`);
    await deps.pool.query(`CALL refresh_continuous_aggregate('biometrics_daily', NULL, now() - interval '1 day')`);
    // Written a moment ago, after the refresh: only the real-time part of the aggregates has them.
    for (const u of Object.values(users)) {
      const fresh = metrics.flatMap((metric) => [30_000, 1_000].map((ago, i) => ({ time: new Date(now - ago).toISOString(), metric, value: METRIC_VALUES[metric]!(i + 11) })));
      expect((await call(app, 'POST', '/api/biometrics', { token: u.token, body: { points: fresh } })).status).toBe(201);
    }
  }, 180_000);

  it('GET /api/biometrics/daily: per local day and metric, equal to the raw rows, today included (UTC, Asia/Tokyo, Asia/Kolkata)', async () => {
    for (const [tz, u] of Object.entries(users)) {
      const today = localDate(Date.now(), tz);
      const first = localDate(now - 40 * DAY, tz);
      for (const query of [`metrics=${metrics.join(',')}`, `metrics=${metrics.join(',')}&from=${first}&to=${today}`]) {
        const r = await call(app, 'GET', `/api/biometrics/daily?${query}`, { token: u.token });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect([r.body.timezone, r.body.today, r.body.to, r.body.source], tz).toEqual([tz, today, today, tz === 'UTC' ? 'biometrics_daily' : 'biometrics_hourly']);
        if (!query.includes('from=')) expect(Date.parse(r.body.to) - Date.parse(r.body.from), tz).toBe(29 * DAY);
        const [from, to] = [midnight(r.body.from, tz), localBucket(midnight(today, tz) + 30 * HOUR, DAY, tz)];
        expect([r.body.start, r.body.end], tz).toEqual([new Date(from).toISOString(), new Date(to).toISOString()]);
        for (const metric of metrics) {
          const raw = await rawRows(u.id, metric);
          const got = (r.body.days as { metric: string; day: string; start: string; value: number; count: number }[]).filter((d) => d.metric === metric);
          const want = expectedBuckets(raw, from, to, DAY, tz);
          expectSameBuckets(got.map((d) => ({ ...d, bucket: d.start })) as unknown as SeriesRow[], want, `${tz} ${metric} ${query}`);
          // The days are the user's dates; today's rows written a moment ago are in.
          expect(got.map((d) => d.day)).toEqual(want.map((w) => localDate(Date.parse(w.bucket), tz)));
          expect(got.at(-1)!.day).toBe(today);
          expect(got.at(-1)!.count).toBe(raw.filter((x) => localDate(x.t, tz) === today).length);
          // The figure: the day's total for steps, the day's average otherwise.
          for (const d of got as unknown as (SeriesRow & { value: number })[]) expect(d.value).toBe(metric === 'steps' ? d.sum : d.avg);
        }
      }
    }
  }, 120_000);

  it('the raw fallback (no aggregates, or no TimescaleDB: date_bin) gives the same days', async () => {
    const { queryDays } = await import('../../templates/api/src/data/daily.js');
    for (const tz of ['Asia/Tokyo', 'UTC']) {
      const u = users[tz]!;
      const q = { userId: u.id, metrics, fromDay: localDate(now - 20 * DAY, tz), toDay: localDate(Date.now(), tz), timezone: tz };
      const agg = await queryDays(deps.pool, { timescale: true, aggregates: true }, q);
      for (const o of [{ timescale: true, aggregates: false }, { timescale: false, aggregates: false }]) {
        const raw = await queryDays(deps.pool, o, q);
        expect(raw.source).toBe('biometrics');
        expect(raw.days.map((d) => [d.metric, d.day, d.bucket, d.count, d.min, d.max]), `${tz} ${JSON.stringify(o)}`).toEqual(agg.days.map((d) => [d.metric, d.day, d.bucket, d.count, d.min, d.max]));
        for (const [i, d] of raw.days.entries()) expect(Math.abs(d.sum - agg.days[i]!.sum)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(d.sum)));
      }
    }
  });

  it("dailySummary's readDayBiometrics: the user's local day from the aggregate, equal to the raw rows (today and 20 days back)", async () => {
    const { createActivities } = await import('../../templates/api/src/temporal/activities.js');
    const acts = createActivities({ pool: deps.pool });
    for (const [tz, u] of Object.entries(users)) {
      for (const day of [localDate(Date.now(), tz), localDate(now - 20 * DAY, tz)]) {
        const inDay = async (metric: string) => (await rawRows(u.id, metric)).filter((x) => localDate(x.t, tz) === day).sort((a, b) => a.t - b.t);
        const [hr, steps, weight] = await Promise.all(metrics.map(inDay));
        expect(hr!.length, `${tz} ${day}`).toBeGreaterThan(0);
        const got = await acts.readDayBiometrics(u.id, day);
        const label = `${tz} ${day}`;
        expect(got.steps, label).toBe(Math.round(steps!.reduce((a, x) => a + x.v, 0)));
        expect([got.heartRateMin, got.heartRateMax], label).toEqual([Math.min(...hr!.map((x) => x.v)), Math.max(...hr!.map((x) => x.v))]);
        const avg = hr!.reduce((a, x) => a + x.v, 0) / hr!.length;
        expect(Math.abs(got.heartRateAvg! - avg) / avg, label).toBeLessThanOrEqual(1e-9);
        expect(got.weightKg, label).toBe(weight!.at(-1)!.v);
        expect([got.restingHeartRate, got.hrvAvg, got.sleepMinutes], label).toEqual([null, null, null]);
      }
    }
  });

  it('GET /api/biometrics/daily refuses an unknown metric, a reversed or too long range', async () => {
    const t = users.UTC!.token;
    for (const [query, field] of [
      ['metrics=heart_rate,nope', 'metrics'],
      ['metrics=steps&from=2026-03-10&to=2026-03-01', 'to'],
      ['metrics=steps&from=2024-01-01&to=2025-06-01', 'to'],
    ] as const) {
      const r = await call(app, 'GET', `/api/biometrics/daily?${query}`, { token: t });
      expect([r.status, r.body.error.details?.[0]?.field], query).toEqual([400, field]);
    }
  });
});
