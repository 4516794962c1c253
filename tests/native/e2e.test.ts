/**
 * The README's set-up, as written, on a machine without a Docker engine, then the whole Helfy
 * stack on the native runtime end to end — in ONE stack start:
 *   a fresh `git clone` of HEAD → the README's "Setup in two commands" block run line by line
 *   through `bash -c` in the clone (npm ci from the warm npm cache; `helfy init --yes && helfy up`
 *   with DOCKER_HOST pointing nowhere and no HELFY_RUNTIME, so `auto` falls back to native and
 *   says so) → status healthy (runtime native) → migrate → seed → backup → a change → restore
 *   → smoke → down --volumes --yes, all through the clone's own CLI, every process gone at the end.
 * The warm caches (npm's, and helfy's for the Neo4j jars, Temporal binaries and the copy of
 * PostgreSQL 15 with TimescaleDB) are the machine's own; ports are free ones exported as
 * HELFY_*_PORT (see readme-setup.ts). No HELFY_TIMESCALE: the default `required` holds, so
 * helfy_app has the timescaledb extension (the server run is that cached copy).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneRepo, readmeSetupCommands, type Clone } from './readme-setup.js';
import { GroupSet, groupPids } from '../helpers/proc.js';

const ALL = ['postgres', 'neo4j', 'temporal-schema', 'temporal', 'api', 'worker', 'web'];

async function cypher(ws: Clone, statement: string): Promise<unknown[][]> {
  const auth = Buffer.from(`neo4j:${ws.dotenv().HELFY_NEO4J_PASSWORD}`).toString('base64');
  const res = await fetch(`http://127.0.0.1:${ws.ports.neo4jHttp}/db/neo4j/tx/commit`, {
    method: 'POST', headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ statements: [{ statement }] }),
  });
  const body = (await res.json()) as { results: { data: { row: unknown[] }[] }[]; errors: { message: string }[] };
  if (body.errors.length) throw new Error(body.errors[0]!.message);
  return body.results[0]!.data.map((d) => d.row);
}

function pidOf(ws: Clone, name: string): number | undefined {
  const f = join(ws.dir, '.helfy/run', `${name}.json`);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { pid: number }).pid : undefined;
}

describe('the README set-up on a machine without Docker, then the native stack: up → migrate → seed → backup → restore → smoke → down', () => {
  let ws: Clone;
  let commands: string[];
  const groups = new GroupSet();
  const t0 = performance.now();

  beforeAll(async () => {
    ws = await cloneRepo();
    commands = readmeSetupCommands(readFileSync(join(ws.dir, 'README.md'), 'utf8'));
  }, 180_000);

  afterAll(async () => {
    if (!ws) return;
    if (existsSync(join(ws.dir, 'bin/helfy.js')) && existsSync(join(ws.dir, 'dist'))) await ws.run(['down', '--volumes', '--yes'], { timeoutMs: 180_000 });
    groups.killAll();
    rmSync(dirname(ws.dir), { recursive: true, force: true });
    process.stderr.write(`native e2e (README set-up in a fresh clone → down): ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  }, 240_000);

  it('the README block is the two commands: npm ci, then init --yes && up', () => {
    expect(commands).toEqual(['npm ci', 'node bin/helfy.js init --yes && node bin/helfy.js up']);
  });

  it('npm ci in the fresh clone installs and builds helfy (from the warm npm cache)', async () => {
    const r = await ws.sh(commands[0]!, 900_000);
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    expect(existsSync(join(ws.dir, 'dist'))).toBe(true);
    const v = await ws.run(['--version']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe(JSON.parse(readFileSync(join(ws.dir, 'package.json'), 'utf8')).version);
    process.stderr.write(`npm ci in the fresh clone: ${(r.durationMs / 1000).toFixed(1)} s\n`);
  }, 920_000);

  it('init --yes && up, as written: auto falls back to native in one line, builds the apps, brings the stack up healthy', async () => {
    const r = await ws.sh(commands[1]!, 1_500_000);
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    const fallback = r.stderr.split('\n').filter((l) => l.includes('runtime: native (no Docker engine'));
    expect(fallback).toHaveLength(1);
    expect(fallback[0]).toMatch(/runtime: native \(no Docker engine at \/nonexistent: .+\); set HELFY_RUNTIME=docker to require one$/);
    expect(r.stderr).toMatch(/built api app \(npm run build\), web app \(npm run build\) in \d/);
    expect(r.stderr).toMatch(/stack \S+ is up and healthy in \d/);
    // HELFY_TIMESCALE is the default `required`: the server run has TimescaleDB, so no plain-tables warning.
    expect(r.stderr).not.toContain('plain tables');
    expect(r.stderr).not.toContain('has no TimescaleDB');
    // init wrote the workspace into the clone; the ports are the exported ones.
    expect(existsSync(join(ws.dir, 'helfy.config.json'))).toBe(true);
    expect(ws.dotenv().HELFY_NEO4J_PASSWORD).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{20,}$/);
    for (const n of ALL) groups.add(pidOf(ws, n)!);
    expect([...groups].every((g) => Number.isInteger(g) && g > 1)).toBe(true);
    // The apps run from their build output in the workspace copies.
    expect(existsSync(join(ws.dir, 'apps/api/dist/server.js'))).toBe(true);
    const api = await fetch(`http://127.0.0.1:${ws.ports.api}/health/ready`);
    expect(api.status).toBe(200);
    const web = await fetch(`http://127.0.0.1:${ws.ports.web}/`);
    expect(web.status).toBeLessThan(400);
    process.stderr.write(`init --yes && up (apps built, stack healthy): ${(r.durationMs / 1000).toFixed(1)} s\n`);
  }, 1_560_000);

  it('status: every service healthy, runtime native, exit 0', async () => {
    const r = await ws.run(['status', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.healthy).toBe(true);
    expect(r.json.runtime.kind).toBe('native');
    expect(r.json.services.filter((s: { healthy: boolean }) => !s.healthy)).toEqual([]);
    expect(Object.fromEntries(r.json.services.map((s: { name: string; state: string }) => [s.name, s.state]))).toMatchObject({
      postgres: 'healthy', neo4j: 'healthy', 'temporal-schema': 'completed', temporal: 'healthy', api: 'healthy', worker: 'healthy', web: 'healthy',
    });
    // The PostgreSQL run is the cached copy with TimescaleDB: the extension is on helfy_app.
    const pg = r.json.services.find((s: { name: string }) => s.name === 'postgres');
    expect(pg.probe.detail).toMatch(/^PostgreSQL 15\.\d+; timescaledb 2\.28\.3 on helfy_app$/);
  }, 60_000);

  it('migrate: everything was applied by up already', async () => {
    const r = await ws.run(['migrate', 'up', '--json'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const st = await ws.run(['migrate', 'status', '--json'], { timeoutMs: 120_000 });
    expect(st.code, st.stderr).toBe(0);
    const text = JSON.stringify(st.json);
    expect(text).toContain('"applied"');
    expect(text).not.toMatch(/"(pending|changed|missing-file)"/);
  }, 150_000);

  it('seed loads the library into Neo4j and the reference data into PostgreSQL', async () => {
    const r = await ws.run(['seed', '--json'], { timeoutMs: 300_000 });
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const again = await ws.run(['seed', '--json'], { timeoutMs: 300_000 });
    expect(again.code, again.stderr.slice(-3000)).toBe(0);
  }, 620_000);

  it('backup → a change → restore: the change is gone, the backed-up data is back, the stack healthy again', async () => {
    const before = await cypher(ws, 'MATCH (n) RETURN count(n)');
    expect(Number(before[0]![0])).toBeGreaterThan(10);
    const b = await ws.run(['backup', '--name', 'native', '--json'], { timeoutMs: 600_000 });
    expect(b.code, b.stderr.slice(-3000)).toBe(0);
    expect(b.json.id).toMatch(/-native$/);
    expect(existsSync(join(ws.dir, 'backups', b.json.id))).toBe(true);
    // The writers and Neo4j (stopped for its offline dump) run again; Neo4j's JVM takes a while to answer.
    for (const n of ALL.filter((x) => x !== 'temporal-schema')) expect([n, groupPids(pidOf(ws, n)!).length > 0]).toEqual([n, true]);
    await expect.poll(async () => (await ws.run(['status', '--json'])).json.healthy, { timeout: 240_000, interval: 3_000 }).toBe(true);

    await cypher(ws, 'CREATE (:AfterBackup {at: timestamp()})');
    expect(await cypher(ws, 'MATCH (n:AfterBackup) RETURN count(n)')).toEqual([[1]]);
    const r = await ws.run(['restore', b.json.id, '--yes', '--json'], { timeoutMs: 900_000 });
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    await expect.poll(async () => (await ws.run(['status', '--json'])).json.healthy, { timeout: 240_000, interval: 3_000 }).toBe(true);
    expect(await cypher(ws, 'MATCH (n:AfterBackup) RETURN count(n)')).toEqual([[0]]);
    expect(await cypher(ws, 'MATCH (n) RETURN count(n)')).toEqual(before);
    for (const n of ALL) groups.add(pidOf(ws, n)!);
  }, 1_560_000);

  it('smoke passes against the native stack', async () => {
    const r = await ws.run(['smoke', '--json'], { timeoutMs: 300_000 });
    expect(r.json?.checks?.filter((c: { status: string }) => c.status === 'failed') ?? r.stderr).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.json.ok).toBe(true);
    expect(r.json.passed).toBeGreaterThan(5);
    expect(r.json.checks.find((c: { id: string }) => c.id === 'postgres.timescaledb')).toMatchObject({ status: 'passed', message: 'timescaledb 2.28.3' });
  }, 320_000);

  it('down --volumes --yes stops every process and deletes the data', async () => {
    const r = await ws.run(['down', '--volumes', '--yes', '--json'], { timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(0);
    expect([...r.json.removedContainers].sort()).toEqual([...ALL].sort());
    for (const g of groups) expect([g, groupPids(g)]).toEqual([g, []]);
    expect(existsSync(join(ws.dir, '.helfy/data/postgres'))).toBe(false);
  }, 200_000);
});
