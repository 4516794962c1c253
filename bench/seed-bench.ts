/**
 * `helfy seed` benchmarks (run: npm run build && npx tsx bench/seed-bench.ts [pg|neo4j|big|all] [rounds]),
 * on PostgreSQL 15 and Neo4j 5.26 started by the test helpers. Variants alternate within each round
 * so machine noise hits both alike; medians are compared.
 *  pg     rows/s of `helfy seed --only demo` (built CLI, its own demo timing) against one psql process
 *         running `\copy ... from file` of the same rows as CSV (the COPY limit); target ≥ 0.8×.
 *         Also helfy with --concurrency 1 and 3, to show whether parallel COPY streams pay.
 *  neo4j  items/s of the library load (UNWIND batches) against one transaction per node/relationship
 *         (measured on a sample, it is slow); target ≥ 50×.
 *  big    `helfy seed --only demo --users 100 --days 365`: wall time, rows/s and peak RSS
 *         (/usr/bin/time -v); target RSS < 300 MB.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import neo4j from 'neo4j-driver';
import pg from 'pg';
import { startNeo4j, startPostgres } from '../tests/support/services/index.js';

const what = process.argv[2] ?? 'all';
const rounds = Number(process.argv[3] ?? 3);
const bin = resolve(import.meta.dirname, '../bin/helfy.js');
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const quiet = { info() {}, success() {}, warn() {}, error() {}, debug() {}, raw() {} };

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): { ms: number; stdout: string; stderr: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { ms, stdout: r.stdout, stderr: r.stderr };
}

const pgs = await startPostgres();
const neo = await startNeo4j({ heap: '1g', pageCache: '256m' });
try {
  const ws = mkdtempSync(join(tmpdir(), 'helfy-bench-seed-'));
  const base = { ...process.env, NO_COLOR: '1', CI: '1' };
  sh(process.execPath, [bin, 'init', '--yes', '--cwd', ws], base);
  const env = {
    ...base, HELFY_POSTGRES_PORT: String(pgs.port), HELFY_POSTGRES_USER: pgs.user, HELFY_POSTGRES_PASSWORD: pgs.password,
    HELFY_NEO4J_BOLT_PORT: String(neo.boltPort), HELFY_NEO4J_HTTP_PORT: String(neo.httpPort), HELFY_NEO4J_PASSWORD: neo.password, HELFY_TIMESCALE: 'optional',
  };
  const { bootstrapPostgres } = await import('../src/db/postgres/bootstrap.js');
  const { loadConfig } = await import('../src/config/load.js');
  const cfg = loadConfig({ cwd: ws, env });
  await bootstrapPostgres(cfg, quiet);
  sh(process.execPath, [bin, 'migrate', 'up'], env, ws);
  const seed = (args: string[]) => JSON.parse(sh(process.execPath, [bin, 'seed', '--json', ...args], env, ws).stdout);
  seed(['--only', 'exercises,foods,routines']);
  const owner = { host: pgs.host, port: pgs.port, user: 'helfy_owner', password: cfg.postgres.appOwnerPassword, database: 'helfy_app' };
  const truncate = async () => {
    const c = new pg.Client(owner);
    c.on('error', () => {});
    await c.connect();
    await c.query('TRUNCATE users, biometrics, workouts, workout_sets, nutrition, demo_seeds, daily_summaries, refresh_tokens, audit_log');
    await c.query('CHECKPOINT').catch(() => {});
    await c.end();
  };

  if (what === 'pg' || what === 'all') {
    const users = 8, days = 60, s = 3;
    const args = ['--only', 'demo', '--users', String(users), '--days', String(days), '--seed', String(s), '--last-day', '2026-11-20'];
    // The same rows as CSV files, from the same generator: what psql loads.
    const { demoProfile, demoTables } = await import('../src/db/seed/demo.js');
    const dir = mkdtempSync(join(tmpdir(), 'helfy-bench-csv-'));
    const params = { seed: s, days, lastDay: '2026-11-20' };
    const files: Record<string, string[]> = { users: [], biometrics: [], workouts: [], workout_sets: [], nutrition: [] };
    let rows = 0;
    const cols: Record<string, string[]> = {};
    for (let i = 1; i <= users; i++) {
      const u = demoProfile(params, i);
      files.users!.push(`${u.id},${u.email},${u.displayName},${u.birthDate},${u.sex},${u.heightCm},${u.createdAt},${u.createdAt}\n`);
      for (const t of demoTables(params, u)) {
        cols[t.table] = t.columns;
        for (const chunk of t.chunks()) files[t.table]!.push(chunk);
        rows += t.count();
      }
    }
    cols.users = ['id', 'email', 'display_name', 'birth_date', 'sex', 'height_cm', 'created_at', 'updated_at'];
    for (const [t, parts] of Object.entries(files)) writeFileSync(join(dir, `${t}.csv`), parts.join(''));
    const psqlArgs = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', pgs.host, '-p', String(pgs.port), '-U', 'helfy_owner', '-d', 'helfy_app'];
    for (const t of ['users', 'biometrics', 'workouts', 'workout_sets', 'nutrition']) psqlArgs.push('-c', `\\copy ${t} (${cols[t]!.join(', ')}) from '${join(dir, `${t}.csv`)}' with (format csv)`);
    const psqlRate: number[] = [], helfyRate: Record<number, number[]> = { 1: [], 2: [], 3: [] }, copyRate: Record<number, number[]> = { 1: [], 2: [], 3: [] };
    for (let r = 0; r < rounds; r++) {
      for (const conc of [2, 1, 3]) {
        await truncate();
        const out = seed([...args, '--concurrency', String(conc)]);
        helfyRate[conc]!.push(Object.values(out.demo.rows as Record<string, number>).reduce((a, b) => a + b, 0) / (out.timings.demo / 1000));
        copyRate[conc]!.push(out.demo.rowsPerSecond);
      }
      await truncate();
      const p = sh(join(pgs.binDir, 'psql'), psqlArgs, { ...process.env, PGPASSWORD: cfg.postgres.appOwnerPassword });
      psqlRate.push(rows / (p.ms / 1000));
    }
    const base = median(psqlRate);
    console.log(`\nPostgreSQL load, ${users} users × ${days} days = ${fmt(rows)} rows, ${rounds} rounds (medians):`);
    console.log(`| psql \\copy of the same rows from CSV files (baseline) | ${fmt(base)} rows/s | 1.00 |`);
    for (const conc of [1, 2, 3]) {
      console.log(`| helfy seed --only demo --concurrency ${conc}: whole demo part (checks, hashing, plan, load) | ${fmt(median(helfyRate[conc]!))} rows/s | ${(median(helfyRate[conc]!) / base).toFixed(2)} |`);
      console.log(`| helfy seed --only demo --concurrency ${conc}: the load (first COPY to last commit) | ${fmt(median(copyRate[conc]!))} rows/s | ${(median(copyRate[conc]!) / base).toFixed(2)} |`);
    }
  }

  if (what === 'neo4j' || what === 'all') {
    const driver = neo4j.driver(neo.boltUrl, neo4j.auth.basic('neo4j', neo.password), { disableLosslessIntegers: true });
    const { loadLibraryPart, resetLibrary, foodsPlan } = await import('../src/db/neo4j/seed.js');
    const bulk: number[] = [], single: number[] = [];
    const plan = foodsPlan();
    const foods = (plan.steps.find((s) => s.name === 'foods')!.rows as Record<string, unknown>[]);
    const sample = 1500;
    for (let r = 0; r < rounds; r++) {
      await resetLibrary(driver);
      let items = 0, ms = 0;
      for (const part of ['exercises', 'foods', 'routines'] as const) {
        const x = await loadLibraryPart(driver, part);
        items += x.items;
        ms += x.ms;
      }
      bulk.push(items / (ms / 1000));
      // Baseline: one managed transaction per node, on a sample of the foods.
      await driver.executeQuery("MATCH (f:Food) WITH f LIMIT 5000 DETACH DELETE f");
      const session = driver.session();
      const t0 = performance.now();
      for (const row of foods.slice(0, sample)) {
        await session.executeWrite((tx) => tx.run('MERGE (n:Food {id: $r.id}) SET n = $r', { r: row }));
      }
      single.push(sample / ((performance.now() - t0) / 1000));
      await session.close();
    }
    await driver.close();
    console.log(`\nNeo4j library load, ${rounds} rounds (medians):`);
    console.log(`| one transaction per node (baseline, ${sample} foods) | ${fmt(median(single))} items/s | 1.00 |`);
    console.log(`| helfy seed library (UNWIND batches; every node and relationship) | ${fmt(median(bulk))} items/s | ${(median(bulk) / median(single)).toFixed(0)} |`);
    seed(['--only', 'exercises,foods,routines']);
  }

  if (what === 'big' || what === 'all') {
    await truncate();
    const r = spawnSync('/usr/bin/time', ['-v', process.execPath, bin, 'seed', '--json', '--only', 'demo', '--users', '100', '--days', '365', '--seed', '1', '--last-day', '2026-11-20'], { env, cwd: ws, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`big seed failed: ${r.stdout}\n${r.stderr}`);
    const out = JSON.parse(r.stdout);
    console.log(JSON.stringify({ timings: out.timings, rows: out.demo.rows, rowsPerSecond: out.demo.rowsPerSecond }));
    console.log(r.stderr.split('\n').filter((l) => /Maximum resident|Elapsed|User time|System time/.test(l)).join('\n'));
    const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024;
    const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)/.exec(r.stderr)?.[1] ?? '?';
    const total = Object.values(out.demo.rows as Record<string, number>).reduce((a, b) => a + b, 0);
    console.log(`\n100 users × 365 days: ${fmt(total)} rows (${JSON.stringify(out.demo.rows)})`);
    console.log(`| wall ${wall} | demo part ${(out.timings.demo / 1000).toFixed(1)} s | ${fmt(out.demo.rowsPerSecond)} rows/s | peak RSS ${rss.toFixed(0)} MB |`);
  }
} catch (e) {
  // Printed before the servers stop: a client left open would otherwise crash on the shutdown first.
  console.error('bench failed:', e);
  process.exitCode = 1;
} finally {
  await Promise.all([neo.stop(), pgs.stop()]);
}
