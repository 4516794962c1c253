#!/usr/bin/env node
// Server-side rendering cost of the dashboard, and the JavaScript it ships.
//
// Same run, alternating rounds, medians of the rounds' percentiles: GET /dashboard from the built
// web server (node dist/server/index.mjs: session cookie → the API calls the page makes → React
// SSR → HTML) against the same data fetched straight from the API (the page's own API calls, in
// parallel as the page makes them, with the bearer token). One request at a time, so these are
// latencies, not throughput. Real servers: PostgreSQL 15 + Neo4j 5 (tests/support/services) and
// the API template's createApp over HTTP, with 30 days of biometrics for the user.
// Then: JavaScript (and CSS) the dashboard page loads, gzip -9 per file, summed.
//
// Usage: node bench/web-ssr.mjs [requests=200] [rounds=10]
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { register } from 'tsx/esm/api';

register();
const { buildWeb, startStack, startWeb, Browserless, WEB_DIR } = await import('../tests/web/harness.ts');

const total = Number(process.argv[2] ?? 200);
const rounds = Number(process.argv[3] ?? 10);
const perRound = Math.ceil(total / rounds);
const DAY = 86_400_000;

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const median = (xs) => pct(xs, 50);
const fmt = (ms) => `${ms.toFixed(2)} ms`;

buildWeb();
const stack = await startStack();
const web = await startWeb(stack.api.url);
try {
  const b = new Browserless(web.url);
  const su = await b.request('/signup', { method: 'POST', form: { displayName: 'Bench User', email: 'bench@example.com', password: 'bench password 123' } });
  if (su.status !== 303) throw new Error(`sign-up failed: ${su.status}`);
  const token = b.cookies.get('helfy_at');
  const today = Math.floor(Date.now() / DAY) * DAY;
  const points = [];
  for (let d = 29; d >= 1; d--) {
    for (let h = 0; h < 24; h += 4) points.push({ time: new Date(today - d * DAY + h * 3600_000).toISOString(), metric: 'weight', value: 75 + Math.sin(d + h) , unit: 'kg' });
    points.push({ time: new Date(today - d * DAY + 3600_000).toISOString(), metric: 'resting_heart_rate', value: 58, unit: 'bpm' });
    points.push({ time: new Date(today - d * DAY + 7200_000).toISOString(), metric: 'steps', value: 8000 + d * 10, unit: 'count' });
    points.push({ time: new Date(today - d * DAY + 3 * 3600_000).toISOString(), metric: 'sleep', value: 420, unit: 'min' });
  }
  const ins = await fetch(`${stack.api.url}/api/biometrics`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ points }) });
  if (ins.status !== 201) throw new Error(`seeding failed: ${ins.status} ${await ins.text()}`);

  // The same API calls the dashboard's +data makes (pages/dashboard/+data.ts).
  const api = stack.api.url;
  const auth = { authorization: `Bearer ${token}` };
  const day = new Date(today).toISOString().slice(0, 10);
  const urls = [
    `${api}/api/me`,
    // Tiles and chart: one call for the chart's metric (weight) and the tiles' (the daily aggregate).
    `${api}/api/biometrics/daily?metrics=weight,resting_heart_rate,steps,sleep`,
    `${api}/api/nutrition/daily?from=${day}&to=${day}`,
    `${api}/api/workouts?from=${new Date(today).toISOString()}&limit=20`,
  ];
  const cookie = [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const variants = [
    {
      name: 'API only: the 4 calls, in parallel',
      run: async () => {
        const rs = await Promise.all(urls.map((u) => fetch(u, { headers: auth })));
        for (const r of rs) {
          if (!r.ok) throw new Error(`${r.url}: ${r.status}`);
          await r.arrayBuffer();
        }
      },
    },
    {
      name: 'GET /dashboard (SSR)',
      run: async () => {
        const r = await fetch(`${web.url}/dashboard`, { headers: { cookie }, redirect: 'manual' });
        const html = await r.text();
        if (r.status !== 200 || !html.includes('data-points="29"')) throw new Error(`dashboard: ${r.status}`);
      },
    },
  ];
  const samples = variants.map(() => ({ p50: [], p99: [], all: [] }));
  for (const v of variants) for (let i = 0; i < 100; i++) await v.run(); // warm-up (JIT, connection pools)
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...variants.keys()].reverse() : [...variants.keys()];
    for (const i of order) {
      const ms = [];
      for (let k = 0; k < perRound; k++) {
        const t0 = process.hrtime.bigint();
        await variants[i].run();
        ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      samples[i].p50.push(pct(ms, 50));
      samples[i].p99.push(pct(ms, 99));
      samples[i].all.push(...ms);
    }
  }
  console.log(`dashboard SSR vs the same data from the API — ${rounds} alternating rounds × ${perRound} requests each (${rounds * perRound} per variant), one at a time`);
  const base = samples[0];
  variants.forEach((v, i) => {
    const s = samples[i];
    const ratio = i === 0 ? '' : `  (p50 ${(median(s.p50) / median(base.p50)).toFixed(2)}×, p99 ${(pct(s.all, 99) / pct(base.all, 99)).toFixed(2)}× the API)`;
    console.log(`  ${v.name.padEnd(36)} p50 ${fmt(median(s.p50))}  p99 ${fmt(pct(s.all, 99))}${ratio}`);
  });

  // What the dashboard page loads: its <script src>, modulepreload and stylesheet links.
  const html = await (await fetch(`${web.url}/dashboard`, { headers: { cookie } })).text();
  const assets = [...html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*\bhref)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  let js = 0, jsRaw = 0, css = 0;
  for (const a of new Set(assets)) {
    const buf = readFileSync(resolve(WEB_DIR, 'dist/client', '.' + a));
    const gz = gzipSync(buf, { level: 9 }).length;
    if (a.endsWith('.js')) { js += gz; jsRaw += buf.length; } else if (a.endsWith('.css')) css += gz;
  }
  console.log(`dashboard assets: JavaScript ${(js / 1024).toFixed(1)} kB gzip (${(jsRaw / 1024).toFixed(1)} kB raw, ${assets.filter((a) => a.endsWith('.js')).length} files), CSS ${(css / 1024).toFixed(1)} kB gzip`);
  console.log(`dashboard HTML: ${(Buffer.byteLength(html) / 1024).toFixed(1)} kB (${(gzipSync(html, { level: 9 }).length / 1024).toFixed(1)} kB gzip)`);
} finally {
  await web.stop();
  await stack.stop();
}
process.exit(0);
