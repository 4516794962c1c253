/**
 * Continuous aggregates against raw rows, on real TimescaleDB (startStack: bootstrapped and
 * migrated by helfy, migration 0004's aggregates and policies in place):
 *  1. load BENCH_USERS users × one biometric reading per minute ending now, BENCH_ROWS rows in all
 *     (default 20 × 500,000 = 10,000,000: about 347 days each), with COPY in time order, several
 *     clients at once; materialize the aggregates; compress the chunks older than 30 days (what the
 *     compression policy does) and read the ratio from hypertable_compression_stats;
 *  2. one user's series through the built API (node dist/server.js, HTTP, bearer token): a year of
 *     daily buckets (answered by biometrics_daily) and a week of hourly buckets (biometrics_hourly),
 *     against the same question asked of the raw hypertable (time_bucket over biometrics, straight
 *     through pg); sequential samples, the two alternating by round; p50/p99 and raw/API ratio;
 *     every answer checked against the raw one (bucket starts and counts);
 *  3. ingest: POST /api/biometrics with 10,000-point batches, with the aggregates and their
 *     policies in place, then without them (the aggregates dropped), points per second.
 * Scale: BENCH_ROWS (total rows), BENCH_USERS, BENCH_SAMPLES (per query kind and source),
 * BENCH_BATCHES (10,000-point batches per ingest phase), BENCH_COPY_CLIENTS; BENCH_EXPLAIN=1 prints
 * the plans (EXPLAIN ANALYZE, BUFFERS) of the two aggregate queries before timing them.
 * Run: (cd templates/api && npm run build) && BENCH_ROWS=10000000 npx tsx bench/api-cagg.ts
 */
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { freePort } from '../tests/support/services/index.js';
import { buildApp, newUser, startStack, withClient } from '../tests/api/harness.js';
import { AGGREGATE_SERIES_SQL, HOURLY_SERIES_SQL, querySeries, querySeriesFrom, splitRange } from '../templates/api/src/data/series.js';
import { median, pct, spawnNode, stop, TEMPLATE, waitHttp } from './api-common.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);
const USERS = Number(process.env.BENCH_USERS ?? 20);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 100);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 10);
const COPY_CLIENTS = Number(process.env.BENCH_COPY_CLIENTS ?? 4);
const MIN = 60_000;
const DAY = 86_400_000;
const perUser = Math.floor(ROWS / USERS);
const now = Math.floor(Date.now() / MIN) * MIN;
const first = now - (perUser - 1) * MIN;
const round1 = (x: number) => Number(x.toFixed(1));
const log = (msg: string) => console.error(`[api-cagg] ${msg}`);

/** CSV rows of minutes [a, b) for every user, in time order (COPY routes them to chunks as they come). */
function csv(userIds: string[], a: number, b: number): Readable {
  let t = a;
  return new Readable({
    read() {
      const lines: string[] = [];
      for (let k = 0; k < 2000 && t < b; k++, t += MIN) {
        const iso = new Date(t).toISOString();
        const m = t / MIN;
        // A resting-ish heart rate with a daily rhythm and some noise, one decimal.
        const v = 62 + 12 * Math.sin((2 * Math.PI * (t % DAY)) / DAY) + ((m * 7919) % 97) / 10;
        for (const [i, u] of userIds.entries()) lines.push(`${iso},${u},heart_rate,${(v + i).toFixed(1)},bpm,bench`);
      }
      this.push(lines.length ? lines.join('\n') + '\n' : null);
    },
  });
}

async function load(owner: pg.ClientConfig, userIds: string[]): Promise<number> {
  const t0 = performance.now();
  const slice = Math.ceil(perUser / COPY_CLIENTS) * MIN;
  await Promise.all(
    Array.from({ length: COPY_CLIENTS }, (_, k) =>
      withClient(owner, async (c) => {
        const a = first + k * slice;
        const b = Math.min(now + MIN, a + slice);
        if (a >= b) return;
        await pipeline(csv(userIds, a, b), c.query(copyFrom(`COPY biometrics (time, user_id, metric, value, unit, source) FROM STDIN WITH (FORMAT csv)`)));
      }),
    ),
  );
  return (performance.now() - t0) / 1000;
}

/** Sequential samples of two functions, alternating by round; the answers are checked by `check`. */
async function compare(label: string, viaApi: () => Promise<number>, viaRaw: () => Promise<number>) {
  for (let i = 0; i < 3; i++) await viaApi(), await viaRaw(); // warm-up
  const a: number[] = [];
  const r: number[] = [];
  const per = Math.max(1, Math.floor(SAMPLES / 5));
  for (let i = 0; a.length < SAMPLES; i++) {
    const order: [() => Promise<number>, number[]][] = i % 2 ? [[viaRaw, r], [viaApi, a]] : [[viaApi, a], [viaRaw, r]];
    for (const [fn, into] of order) for (let j = 0; j < per && into.length < SAMPLES; j++) into.push(await fn());
  }
  const out = {
    samples: a.length,
    api: { p50: round1(median(a)), p99: round1(pct(a, 99)) },
    raw: { p50: round1(median(r)), p99: round1(pct(r, 99)) },
    p50Ratio: round1(median(r) / median(a)),
  };
  log(`${label}: api p50 ${out.api.p50} ms p99 ${out.api.p99} ms; raw p50 ${out.raw.p50} ms p99 ${out.raw.p99} ms; raw/api ${out.p50Ratio}x`);
  return out;
}

const stack = await startStack();
const t = await buildApp(stack);
const u = await newUser(t.app, 'bench-cagg');
await t.close();
const userIds = [u.id];
await withClient(stack.owner, async (c) => {
  const r = await c.query(`INSERT INTO users (email, display_name) SELECT 'bench-' || g || '@example.com', 'B' || g FROM generate_series(2, $1) g RETURNING id`, [USERS]);
  userIds.push(...r.rows.map((x) => x.id as string));
  // The policies' jobs would start during the load; the bench runs the same steps itself.
  await c.query(`SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL`);
});
const port = await freePort();
const api = spawnNode(join(TEMPLATE, 'dist/server.js'), { ...stack.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DEPENDENCY_TIMEOUT_MS: '30000' });
const pool = new pg.Pool({ connectionString: stack.apiUrl, max: 1 });
try {
  log(`loading ${perUser * USERS} rows (${USERS} users × ${perUser} minutes, ${((perUser * MIN) / DAY).toFixed(1)} days) with ${COPY_CLIENTS} COPY clients`);
  const loadS = await load(stack.owner, userIds);
  const figures = await withClient(stack.owner, async (c) => {
    await c.query('VACUUM ANALYZE biometrics');
    let s = performance.now();
    await c.query(`CALL refresh_continuous_aggregate('biometrics_hourly', NULL, now() - interval '1 hour')`);
    await c.query(`CALL refresh_continuous_aggregate('biometrics_daily', NULL, now() - interval '1 day')`);
    const refreshS = (performance.now() - s) / 1000;
    s = performance.now();
    const chunks = await c.query(`SELECT compress_chunk(ch, if_not_compressed => true) FROM show_chunks('biometrics', older_than => interval '30 days') ch`);
    const compressS = (performance.now() - s) / 1000;
    await c.query('ANALYZE');
    const st = (await c.query(`SELECT sum(before_compression_total_bytes)::bigint AS b, sum(after_compression_total_bytes)::bigint AS a FROM hypertable_compression_stats('biometrics')`)).rows[0];
    const n = (await c.query(`SELECT count(*)::bigint AS n FROM biometrics`)).rows[0].n;
    return { rows: Number(n), refreshS, compressS, compressedChunks: chunks.rowCount ?? 0, before: Number(st.b), after: Number(st.a) };
  });
  log(`loaded in ${loadS.toFixed(1)} s; aggregates refreshed in ${figures.refreshS.toFixed(1)} s; ${figures.compressedChunks} chunks compressed in ${figures.compressS.toFixed(1)} s, ratio ${(figures.before / figures.after).toFixed(1)}x`);

  await waitHttp(`http://127.0.0.1:${port}/health`);
  const headers = { authorization: `Bearer ${u.token}` };
  const question = (bucket: '1d' | '1h', from: number, to: number) => {
    const url = `http://127.0.0.1:${port}/api/biometrics/series?metric=heart_rate&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&bucket=${bucket}`;
    const q = { userId: u.id, metric: 'heart_rate', from: new Date(from), to: new Date(to), bucket: bucket === '1d' ? '1 day' : '1 hour', timezone: 'UTC' };
    let expected = '';
    let source = '';
    const viaRaw = async () => {
      const s = performance.now();
      const rows = await querySeries(pool, true, q);
      const ms = performance.now() - s;
      expected = JSON.stringify(rows.map((b) => [b.bucket, b.count]));
      return ms;
    };
    const viaApi = async () => {
      const s = performance.now();
      const r = await fetch(url, { headers });
      const body = (await r.json()) as { source: string; buckets: { bucket: string; count: number }[] };
      const ms = performance.now() - s;
      if (r.status !== 200) throw new Error(`API ${r.status}: ${JSON.stringify(body)}`);
      source = body.source;
      const got = JSON.stringify(body.buckets.map((b) => [b.bucket, b.count]));
      if (expected && got !== expected) throw new Error(`${bucket}: the API's buckets differ from the raw ones`);
      return ms;
    };
    return { viaApi, viaRaw, source: () => source };
  };
  if (process.env.BENCH_EXPLAIN) {
    for (const [bucket, from, daily] of [['1 day', now - 365 * DAY, true], ['1 hour', now - 7 * DAY, false]] as const) {
      const { fh, th, fd, td } = splitRange(new Date(from), new Date(now + MIN), daily);
      const explain = () =>
        pool.query({
          text: `EXPLAIN (ANALYZE, BUFFERS) ${daily ? AGGREGATE_SERIES_SQL : HOURLY_SERIES_SQL}`,
          values: [u.id, 'heart_rate', bucket, 'UTC', new Date(from), new Date(now + MIN), fh, th, fd, td],
        });
      for (let i = 0; i < 3; i++) await explain(); // the plan of a warm connection, as the API's are
      const plan = await explain();
      log(`plan of ${bucket} buckets:\n${plan.rows.map((x) => x['QUERY PLAN']).join('\n')}`);
    }
  }
  if (process.env.BENCH_EXPLAIN) {
    // The API's own query function straight through pg (no HTTP, no auth): what the route adds on top.
    const q = { userId: u.id, metric: 'heart_rate', from: new Date(now - 365 * DAY), to: new Date(now + MIN), bucket: '1 day', timezone: 'UTC' };
    const ms: number[] = [];
    for (let i = 0; i < 50; i++) {
      const s = performance.now();
      await querySeriesFrom(pool, 'biometrics_daily', true, q);
      ms.push(performance.now() - s);
    }
    log(`a year of days, querySeriesFrom straight through pg: p50 ${round1(median(ms))} ms p99 ${round1(pct(ms, 99))} ms`);
  }
  const yearQ = question('1d', now - 365 * DAY, now + MIN);
  const year = await compare('a year of daily buckets', yearQ.viaApi, yearQ.viaRaw);
  const weekQ = question('1h', now - 7 * DAY, now + MIN);
  const week = await compare('a week of hourly buckets', weekQ.viaApi, weekQ.viaRaw);

  // Ingest: fresh users' readings of the last days (above the aggregates' watermark), 10,000 per request.
  const ingestUser = async (name: string) => {
    const b = await buildApp(stack);
    const x = await newUser(b.app, name);
    await b.close();
    return x.token;
  };
  const ingest = async (label: string) => {
    const token = await ingestUser(`bench-ingest-${label}`);
    const ms: number[] = [];
    for (let k = 0; k < BATCHES + 1; k++) {
      const points = Array.from({ length: 10_000 }, (_, i) => ({ time: new Date(now - (k * 10_000 + i) * 7_000).toISOString(), metric: 'steps', value: (i * 31) % 200, source: 'bench' }));
      const s = performance.now();
      const r = await fetch(`http://127.0.0.1:${port}/api/biometrics`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ points }) });
      const took = performance.now() - s;
      if (r.status !== 201) throw new Error(`ingest ${r.status}: ${await r.text()}`);
      if (k > 0) ms.push(took); // the first batch is the warm-up
    }
    const rate = (10_000 * ms.length) / (ms.reduce((a, b) => a + b, 0) / 1000);
    log(`ingest ${label}: ${Math.round(rate)} points/s (batch p50 ${round1(median(ms))} ms)`);
    return { pointsPerSecond: Math.round(rate), batchP50: round1(median(ms)), batches: ms.length };
  };
  const withAggregates = await ingest('with');
  await withClient(stack.owner, (c) => c.query(`DROP MATERIALIZED VIEW biometrics_daily; DROP MATERIALIZED VIEW biometrics_hourly`));
  const withoutAggregates = await ingest('without');

  const out = {
    bench: `continuous aggregates vs raw rows over ${figures.rows.toLocaleString('en-US')} biometric rows`,
    rows: figures.rows,
    users: USERS,
    days: round1((perUser * MIN) / DAY),
    loadSeconds: round1(loadS),
    loadRowsPerSecond: Math.round(figures.rows / loadS),
    refreshSeconds: round1(figures.refreshS),
    compression: { chunks: figures.compressedChunks, seconds: round1(figures.compressS), bytesBefore: figures.before, bytesAfter: figures.after, ratio: round1(figures.before / figures.after) },
    yearOfDays: { source: yearQ.source(), ...year },
    weekOfHours: { source: weekQ.source(), ...week },
    ingest: { withAggregates, withoutAggregates, ratio: Number((withAggregates.pointsPerSecond / withoutAggregates.pointsPerSecond).toFixed(2)) },
    targets: 'year of days p99 <= 20 ms; raw/api p50 >= 20x; ingest with/without >= 0.8; compression >= 5x',
  };
  const pass = out.yearOfDays.api.p99 <= 20 && out.yearOfDays.p50Ratio >= 20 && out.ingest.ratio >= 0.8 && out.compression.ratio >= 5;
  console.log(JSON.stringify({ ...out, pass }));
} finally {
  await pool.end();
  await stop(api);
  await stack.stop();
}
