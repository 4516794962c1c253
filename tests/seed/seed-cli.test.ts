/**
 * `helfy seed` through the built binary against real PostgreSQL 15 and Neo4j 5.26: exit codes,
 * .env handling, idempotence, and kill -9 at several points (Neo4j and PostgreSQL phases) then a
 * rerun, compared from outside (psql, the Neo4j HTTP API) with an uninterrupted run.
 */
import { execa } from 'execa';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { bootstrapPostgres } from '../../src/db/postgres/bootstrap.js';
import { BIN, baseEnv, helfy, tempDir } from '../helpers/cli.js';
import { freePort, startNeo4j, startPostgres, type Neo4jServer, type PostgresServer } from '../support/services/index.js';
import { recordingLogger } from '../db/postgres/fixtures.js';
import { checksumQuery, GRAPH_NODES_CYPHER, GRAPH_RELS_CYPHER, hashRows, TABLE_CHECKSUM_SQL, type ChecksumTable } from './helpers.js';

let pgs: PostgresServer;
let neo: Neo4jServer;
let ws: string;
let env: Record<string, string>;
let ownerPassword: string;

const ARGS = ['seed', '--users', '3', '--days', '12', '--seed', '5', '--last-day', '2026-11-20', '--concurrency', '1'];
const run = (args: string[], extra: Record<string, string> = {}) => helfy(args, { cwd: ws, env: { ...env, ...extra }, timeoutMs: 240_000 });

/** One query through psql (PostgreSQL's own client), as helfy_owner; the unaligned result. */
async function psql(sql: string): Promise<string> {
  const r = await execa(join(pgs.binDir, 'psql'), ['-X', '-At', '-h', pgs.host, '-p', String(pgs.port), '-U', 'helfy_owner', '-d', 'helfy_app', '-c', sql], {
    env: { PGPASSWORD: ownerPassword },
  });
  return r.stdout.trim();
}

/** Ordered-row md5 per table, computed by psql. */
async function psqlChecksums(): Promise<Record<ChecksumTable, string>> {
  const out = {} as Record<ChecksumTable, string>;
  for (const t of Object.keys(TABLE_CHECKSUM_SQL) as ChecksumTable[]) out[t] = await psql(checksumQuery(t));
  return out;
}

/** The seeded graph through Neo4j's HTTP API (not helfy's driver): counts and property hashes. */
async function httpGraph(): Promise<{ nodes: number; rels: number; nodeHash: string; relHash: string }> {
  const res = await fetch(`http://127.0.0.1:${neo.httpPort}/db/neo4j/tx/commit`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`neo4j:${neo.password}`).toString('base64')}` },
    body: JSON.stringify({ statements: [{ statement: GRAPH_NODES_CYPHER }, { statement: GRAPH_RELS_CYPHER }] }),
  });
  const body = (await res.json()) as { results: { data: { row: unknown[] }[] }[]; errors: unknown[] };
  expect(body.errors).toEqual([]);
  const [nodes, rels] = body.results.map((r) => r.data.map((d) => d.row));
  return { nodes: nodes!.length, rels: rels!.length, nodeHash: hashRows(nodes!), relHash: hashRows(rels!) };
}

const snapshot = async () => ({ pg: await psqlChecksums(), graph: await httpGraph() });

/** Starts the seed, SIGKILLs it when `when` says so, and returns what it printed. */
async function killDuring(when: { line?: RegExp; afterMs?: number }): Promise<{ killed: boolean; stderr: string }> {
  const child = execa('node', [BIN, ...ARGS], { cwd: ws, env: baseEnv(env), extendEnv: false, reject: false, stdin: 'ignore' });
  let stderr = '';
  let killed = false;
  const kill = () => {
    if (!killed && child.exitCode === null) {
      killed = child.kill('SIGKILL');
    }
  };
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (when.line?.test(stderr)) kill();
  });
  const timer = when.afterMs !== undefined ? setTimeout(kill, when.afterMs) : undefined;
  const r = await child;
  clearTimeout(timer);
  return { killed: killed && r.signal === 'SIGKILL', stderr };
}

beforeAll(async () => {
  [pgs, neo] = await Promise.all([startPostgres(), startNeo4j()]);
  ws = tempDir('helfy-seedcli-');
  const init = await helfy(['init', '--yes', '--name', 'seedcli'], { cwd: ws });
  expect(init.code, init.stderr).toBe(0);
  env = {
    HELFY_POSTGRES_PORT: String(pgs.port), HELFY_POSTGRES_USER: pgs.user, HELFY_POSTGRES_PASSWORD: pgs.password,
    HELFY_NEO4J_BOLT_PORT: String(neo.boltPort), HELFY_NEO4J_HTTP_PORT: String(neo.httpPort), HELFY_NEO4J_PASSWORD: neo.password,
    CI: '1',
  };
  const cfg = loadConfig({ cwd: ws, env });
  ownerPassword = cfg.postgres.appOwnerPassword;
  await bootstrapPostgres(cfg, recordingLogger());
}, 300_000);

afterAll(async () => {
  await Promise.all([neo?.stop(), pgs?.stop()]);
});

describe('usage errors name the flag (exit 2)', () => {
  it.each([
    [['--days', '0'], '--days'],
    [['--users', '-1'], '--users'],
    [['--only', 'nonsense'], '--only'],
    [['--seed', 'abc'], '--seed'],
    [['--last-day', '2026-02-30'], '--last-day'],
  ])('%j', async (flags, name) => {
    const r = await run(['seed', ...flags, '--json']);
    expect(r.code).toBe(2);
    expect(r.json.error.code).toBe('USAGE');
    expect(r.json.error.message).toContain(name);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('refusals', () => {
  it('the stack is not up: exit 4 with the hint `helfy up`', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const r = await run(['seed', '--json'], { HELFY_POSTGRES_PORT: String(p1), HELFY_NEO4J_BOLT_PORT: String(p2) });
    expect(r.code).toBe(4);
    expect(r.json.error.code).toBe('STACK_NOT_RUNNING');
    expect(r.json.error.hint).toContain('helfy up');
  });

  it('pending migrations: exit 2 naming `helfy migrate up`', async () => {
    const r = await run(['seed']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('helfy migrate up');
    const m = await run(['migrate', 'up', '--json']);
    expect(m.code, m.stderr).toBe(0);
  });
});

describe('a clean run, idempotence, kill -9 and rerun', () => {
  let clean: Awaited<ReturnType<typeof snapshot>>;

  it('seeds everything; the summary lists counts per label and table; the password is never printed', async () => {
    const r = await run([...ARGS, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.library.map((p: any) => [p.part, p.upToDate])).toEqual([['exercises', false], ['foods', false], ['routines', false]]);
    expect(r.json.library[0].nodes.Exercise).toBe(873);
    expect(r.json.library[1].nodes.Food).toBe(8790);
    expect(r.json.demo.users.map((u: any) => u.action)).toEqual(['create', 'create', 'create']);
    expect(Object.keys(r.json.timings)).toEqual(['exercises', 'foods', 'routines', 'demo']);
    expect(r.stderr).toBe(''); // --json: silent progress
    const password = /^HELFY_DEMO_PASSWORD=(.+)$/m.exec(readFileSync(join(ws, '.env'), 'utf8'))![1]!;
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect(r.stdout).not.toContain(password);
    clean = await snapshot();
    expect(Number(clean.pg.users!.split('|')[0])).toBe(3);
    expect(clean.graph.nodes).toBe(873 + 17 + 12 + 7 + 6 + 8790 + 26 + 13315 + 5);
  });

  it('a second identical run says "up to date" and changes nothing', async () => {
    const r = await run(ARGS);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^exercises +up to date/m);
    expect(r.stdout).toMatch(/^foods +up to date/m);
    expect(r.stdout).toMatch(/^demo +3 up to date in/m);
    expect(r.stdout).toContain('HELFY_DEMO_PASSWORD');
    expect(await snapshot()).toEqual(clean);
  });

  it('an older workspace without HELFY_DEMO_PASSWORD gets one in .env (0600), never printed', async () => {
    const file = join(ws, '.env');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^HELFY_DEMO_PASSWORD=.*\n/m, ''), { mode: 0o600 });
    const r = await run([...ARGS, '--only', 'demo', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const added = /^HELFY_DEMO_PASSWORD=(.+)$/m.exec(readFileSync(file, 'utf8'))?.[1];
    expect(added).toBeTruthy();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(r.stdout + r.stderr).not.toContain(added);
    expect(r.json.demo.passwordsUpdated).toBe(3);
    const cfg = await run(['config', '--json']);
    expect(JSON.stringify(cfg.json)).not.toContain(added);
    expect(await snapshot()).toEqual(clean);
  });

  const points: [string, { line?: RegExp; afterMs?: number }][] = [
    ['during the exercises load (Neo4j)', { line: /exercises: exercises \d+\/873/ }],
    ['during the foods load (Neo4j)', { line: /foods: foods 5000\/8790/ }],
    ['during the portions load (Neo4j)', { line: /foods: portions 2500\// }],
    ['after the first demo user committed (PostgreSQL)', { line: /demo: created demo-001/ }],
    ['after 1.2 s', { afterMs: 1200 }],
    ['at a random moment', { afterMs: 400 + Math.floor(Math.random() * 4000) }],
  ];
  it.each(points)('kill -9 %s, then rerun: identical to the clean run', async (_name, when) => {
    const reset = await run(['seed', '--reset']);
    expect(reset.code, reset.stderr).toBe(0);
    const k = await killDuring(when);
    if (when.line) expect(k.killed, k.stderr).toBe(true);
    // No half user after the kill: every users row has its marker, and each marked user has
    // exactly the rows its marker counted.
    expect(await psql(`SELECT count(*) FROM users u LEFT JOIN demo_seeds d ON d.user_id = u.id WHERE d.user_id IS NULL`)).toBe('0');
    expect(await psql(`SELECT count(*) FROM demo_seeds d WHERE (d.row_counts->>'biometrics')::int <> (SELECT count(*) FROM biometrics b WHERE b.user_id = d.user_id)
      OR (d.row_counts->>'workout_sets')::int <> (SELECT count(*) FROM workout_sets s WHERE s.user_id = d.user_id)
      OR (d.row_counts->>'nutrition')::int <> (SELECT count(*) FROM nutrition n WHERE n.user_id = d.user_id)`)).toBe('0');
    expect(await psql(`SELECT count(*) FROM biometrics b WHERE NOT EXISTS (SELECT 1 FROM demo_seeds d WHERE d.user_id = b.user_id)`)).toBe('0');
    const rerun = await run([...ARGS, '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await snapshot()).toEqual(clean);
  }, 240_000);

  it('plain progress lines with rows/s in CI; --reset then leaves no seeded rows or nodes', async () => {
    const reset = await run(['seed', '--reset']);
    const r = await run(ARGS);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/library: foods/);
    expect(r.stderr).toMatch(/rows\/s/);
    expect(reset.stdout).toMatch(/removed \d+ demo user/);
    const again = await run(['seed', '--reset', '--json']);
    expect(again.json.removed).toEqual({ demoUsers: 3, libraryNodes: clean.graph.nodes });
    const after = await snapshot();
    expect(after.graph.nodes).toBe(0);
    expect(Number(after.pg.biometrics!.split('|')[0])).toBe(0);
  }, 240_000);
});
