/**
 * An authenticated biometrics range query with daily buckets over 1,000,000 rows: the built API
 * (node dist/server.js, over HTTP with a bearer token) against the same SQL sent straight through
 * pg (one pooled client, same process as the load generator). Sequential requests, rounds
 * alternate the two, p50/p99 over all samples. Target: API p99 ≤ 1.5× pg p99.
 * Run: (cd templates/api && npm run build) && npx tsx bench/api-series.ts [rounds] [perRound]
 */
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../tests/support/services/index.js';
import { buildApp, call, newUser, startStack, withClient } from '../tests/api/harness.js';
import { seriesSql } from '../templates/api/src/data/series.js';
import { median, pct, spawnNode, stop, TEMPLATE, waitHttp } from './api-common.js';

const rounds = Number(process.argv[2] ?? 5);
const perRound = Number(process.argv[3] ?? 20);
const ROWS = 1_000_000;

const stack = await startStack();
const t = await buildApp(stack);
const u = await newUser(t.app, 'bench');
await t.close();
const now = Date.now();
const stepS = 30;
const t0 = performance.now();
await withClient(stack.owner, async (c) => {
  await c.query(
    `INSERT INTO biometrics (time, user_id, metric, value, unit)
     SELECT to_timestamp($2::float8 / 1000) - g * make_interval(secs => $3), $1, 'heart_rate', 55 + (g % 70) + (g % 7) / 10.0, 'bpm'
       FROM generate_series(1, $4) g`,
    [u.id, now, stepS, ROWS],
  );
  // A second user's rows, so the query has to use the per-user index.
  const other = await c.query(`INSERT INTO users (email, display_name) VALUES ('other-bench@example.com', 'Other') RETURNING id`);
  await c.query(
    `INSERT INTO biometrics (time, user_id, metric, value, unit)
     SELECT to_timestamp($2::float8 / 1000) - g * interval '1 minute', $1, 'heart_rate', 70, 'bpm' FROM generate_series(1, 200000) g`,
    [other.rows[0].id, now],
  );
  await c.query('VACUUM ANALYZE biometrics');
});
const loadS = (performance.now() - t0) / 1000;
const from = new Date(now - 365 * 86_400_000).toISOString();
const to = new Date(now + 60_000).toISOString();

const port = await freePort();
const api = spawnNode(join(TEMPLATE, 'dist/server.js'), { ...stack.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', DEPENDENCY_TIMEOUT_MS: '10000' });
const pool = new pg.Pool({ connectionString: stack.apiUrl, max: 1 });
try {
  await waitHttp(`http://127.0.0.1:${port}/health`);
  const url = `http://127.0.0.1:${port}/api/biometrics/series?metric=heart_rate&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&bucket=1d`;
  const headers = { authorization: `Bearer ${u.token}` };
  let apiBuckets = 0;
  const viaApi = async () => {
    const s = performance.now();
    const r = await fetch(url, { headers });
    const body = (await r.json()) as { buckets: { count: number }[] };
    const ms = performance.now() - s;
    if (r.status !== 200) throw new Error(`API ${r.status}`);
    apiBuckets = body.buckets.length;
    const n = body.buckets.reduce((a, b) => a + b.count, 0);
    if (n !== ROWS) throw new Error(`API counted ${n} rows`);
    return ms;
  };
  const sql = seriesSql(false);
  const viaPg = async () => {
    const s = performance.now();
    const r = await pool.query({ text: sql, values: [u.id, 'heart_rate', new Date(from), '1 day', new Date(to)], rowMode: 'array' });
    const ms = performance.now() - s;
    if (r.rows.length !== apiBuckets && apiBuckets) throw new Error('bucket count differs');
    return ms;
  };
  for (let i = 0; i < 3; i++) await viaApi(), await viaPg(); // warm-up: caches, JIT
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const first = i % 2 === 0 ? [viaApi, a] : [viaPg, b];
    const second = i % 2 === 0 ? [viaPg, b] : [viaApi, a];
    for (const [fn, into] of [first, second] as [() => Promise<number>, number[]][]) for (let j = 0; j < perRound; j++) into.push(await fn());
    console.error(`round ${i + 1}: api p50 ${median(a.slice(-perRound)).toFixed(1)} ms, pg p50 ${median(b.slice(-perRound)).toFixed(1)} ms`);
  }
  const out = {
    bench: 'series 1d buckets over 1,000,000 rows',
    rows: ROWS,
    buckets: apiBuckets,
    loadSeconds: Number(loadS.toFixed(1)),
    samples: a.length,
    api: { p50: Number(median(a).toFixed(1)), p99: Number(pct(a, 99).toFixed(1)) },
    pg: { p50: Number(median(b).toFixed(1)), p99: Number(pct(b, 99).toFixed(1)) },
    p99Ratio: Number((pct(a, 99) / pct(b, 99)).toFixed(2)),
    target: 'p99 <= 1.5x',
  };
  console.log(JSON.stringify({ ...out, pass: out.p99Ratio <= 1.5 }));
} finally {
  await pool.end();
  await stop(api);
  await stack.stop();
}
