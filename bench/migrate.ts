/**
 * Migration benchmarks (run: npm run build && npx tsx bench/migrate.ts [rounds]), on real servers
 * started by the test helpers (PostgreSQL 15, Neo4j 5.26):
 *  1. no-op `helfy migrate up` (both stores up to date) against `helfy --version`; target ≤ 4×.
 *  2. `helfy migrate up` applying 200 small generated migrations against one `psql -f` run of the
 *     same files (fresh database for each run); target ≤ 2×.
 * Variants alternate within each round so machine noise hits both alike; medians are compared.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { startNeo4j, startPostgres } from '../tests/support/services/index.js';

const rounds = Number(process.argv[2] ?? 10);
const bin = resolve(import.meta.dirname, '../bin/helfy.js');
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

const pgs = await startPostgres();
const neo = await startNeo4j();
try {
  const ws = mkdtempSync(join(tmpdir(), 'helfy-bench-mig-'));
  const base = { ...process.env, NO_COLOR: '1' };
  spawnSync(process.execPath, [bin, 'init', '--yes', '--cwd', ws], { env: base, stdio: 'ignore' });
  const env = {
    ...base, HELFY_POSTGRES_PORT: String(pgs.port), HELFY_POSTGRES_USER: pgs.user, HELFY_POSTGRES_PASSWORD: pgs.password,
    HELFY_NEO4J_BOLT_PORT: String(neo.boltPort), HELFY_NEO4J_HTTP_PORT: String(neo.httpPort), HELFY_NEO4J_PASSWORD: neo.password, HELFY_TIMESCALE: 'optional',
  };
  // PostgreSQL roles and databases through the library (no Temporal server needed here).
  const { bootstrapPostgres } = await import('../src/db/postgres/bootstrap.js');
  const { loadConfig } = await import('../src/config/load.js');
  const quiet = { info() {}, success() {}, warn() {}, error() {}, debug() {}, raw() {} };
  await bootstrapPostgres(loadConfig({ cwd: ws, env }), quiet);
  timed(process.execPath, [bin, 'migrate', 'up'], env, ws);

  // 1. no-op migrate vs --version
  const noop: number[] = [];
  const version: number[] = [];
  for (let r = 0; r < rounds + 1; r++) {
    const a = timed(process.execPath, [bin, '--version'], env, ws);
    const b = timed(process.execPath, [bin, 'migrate', 'up'], env, ws);
    if (r > 0) { version.push(a); noop.push(b); }
  }

  // 2. 200 generated migrations: helfy vs psql -f
  const dir = mkdtempSync(join(tmpdir(), 'helfy-bench-200-'));
  mkdirSync(join(dir, 'postgres', 'meta'), { recursive: true });
  mkdirSync(join(dir, 'neo4j'));
  const tags = Array.from({ length: 200 }, (_, i) => `${String(i).padStart(4, '0')}_t${i}`);
  tags.forEach((tag, i) => writeFileSync(join(dir, 'postgres', `${tag}.sql`),
    `CREATE TABLE t${i} (id bigint PRIMARY KEY, v text NOT NULL);\n--> statement-breakpoint\nCREATE INDEX t${i}_v ON t${i} (v);\n--> statement-breakpoint\nINSERT INTO t${i} VALUES (1, 'x');`));
  writeFileSync(join(dir, 'postgres', 'meta', '_journal.json'), JSON.stringify({ version: '7', dialect: 'postgresql', entries: tags.map((tag, idx) => ({ idx, version: '7', when: 1_700_000_000_000 + idx, tag, breakpoints: true })) }));
  const files = tags.map((t) => join(dir, 'postgres', `${t}.sql`));
  const su = new pg.Client({ host: pgs.host, port: pgs.port, user: pgs.user, password: pgs.password, database: 'postgres' });
  await su.connect();
  const fresh = async (db: string, owner: string) => {
    await su.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await su.query(`CREATE DATABASE ${db} OWNER ${owner}`);
  };
  const psqlBin = join(pgs.binDir, 'psql');
  const helfy200: number[] = [];
  const psql200: number[] = [];
  for (let r = 0; r < Math.max(3, Math.ceil(rounds / 2)); r++) {
    await fresh('helfy_app', 'helfy_owner');
    await su.query('GRANT CONNECT ON DATABASE helfy_app TO helfy_owner');
    helfy200.push(timed(process.execPath, [bin, 'migrate', 'up', '--store', 'postgres'], { ...env, HELFY_MIGRATIONS_DIR: dir }, ws));
    await fresh('bench_psql', pgs.user);
    psql200.push(timed(psqlBin, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', pgs.host, '-p', String(pgs.port), '-U', pgs.user, '-d', 'bench_psql', ...files.flatMap((f) => ['-f', f])], { ...env, PGPASSWORD: pgs.password }, ws));
  }
  await su.end();

  const rows = [
    { benchmark: 'helfy --version', median_ms: median(version).toFixed(0), ratio: '1.00', target: '' },
    { benchmark: 'helfy migrate up (no-op, both stores)', median_ms: median(noop).toFixed(0), ratio: (median(noop) / median(version)).toFixed(2), target: '≤ 4×' },
    { benchmark: 'psql -f × 200 files (one process)', median_ms: median(psql200).toFixed(0), ratio: '1.00', target: '' },
    { benchmark: 'helfy migrate up, 200 files', median_ms: median(helfy200).toFixed(0), ratio: (median(helfy200) / median(psql200)).toFixed(2), target: '≤ 2×' },
  ];
  console.log(`migration benchmark: ${rounds} rounds (no-op), ${helfy200.length} rounds (200 files)`);
  console.table(rows);
} finally {
  await neo.stop();
  await pgs.stop();
}
