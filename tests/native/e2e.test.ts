/**
 * The whole Helfy stack on the native runtime, end to end through the built CLI: `helfy up`
 * (PostgreSQL, Neo4j, Temporal and the workspace's api/worker/web built and run as local
 * processes) → migrate → seed → backup → restore → smoke → down --volumes. No Docker: HELFY_RUNTIME=native
 * and DOCKER_HOST pointing nowhere.
 */
import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, type Workspace } from '../stack/e2e-support.js';

const NATIVE_ENV = { HELFY_RUNTIME: 'native', DOCKER_HOST: 'unix:///nonexistent', HELFY_TIMESCALE: 'optional' };
const ALL = ['postgres', 'neo4j', 'temporal-schema', 'temporal', 'api', 'worker', 'web'];

function groupPids(pgid: number): number[] {
  const out: number[] = [];
  for (const n of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const raw = readFileSync(`/proc/${n}/stat`, 'utf8');
      const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z') out.push(Number(n));
    } catch {
      /* gone */
    }
  }
  return out;
}

async function cypher(ws: Workspace, statement: string): Promise<unknown[][]> {
  const auth = Buffer.from(`neo4j:${ws.dotenv().HELFY_NEO4J_PASSWORD}`).toString('base64');
  const res = await fetch(`http://127.0.0.1:${ws.ports.neo4jHttp}/db/neo4j/tx/commit`, {
    method: 'POST', headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ statements: [{ statement }] }),
  });
  const body = (await res.json()) as { results: { data: { row: unknown[] }[] }[]; errors: { message: string }[] };
  if (body.errors.length) throw new Error(body.errors[0]!.message);
  return body.results[0]!.data.map((d) => d.row);
}

function pidOf(ws: Workspace, name: string): number | undefined {
  const f = join(ws.dir, '.helfy/run', `${name}.json`);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { pid: number }).pid : undefined;
}

describe('the Helfy stack on the native runtime: up → migrate → seed → backup → restore → smoke → down', () => {
  let ws: Workspace;
  const groups = new Set<number>();

  beforeAll(async () => {
    ws = await makeWorkspace(`nate${Date.now().toString(36)}`, NATIVE_ENV);
    // mkdtemp makes it 0700; as root PostgreSQL runs as `postgres`, which must get through (a home folder would need the same).
    chmodSync(ws.dir, 0o755);
  }, 120_000);

  afterAll(async () => {
    if (!ws) return;
    await ws.run(['down', '--volumes', '--yes']);
    for (const g of groups) for (const p of groupPids(g)) process.kill(p, 'SIGKILL');
  }, 120_000);

  it('up builds the apps and brings the whole stack up healthy', async () => {
    const r = await ws.run(['up', '--json'], { timeoutMs: 1_500_000 });
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    expect(r.json.runtime.kind).toBe('native');
    expect(r.json.status).toBe('started');
    expect(Object.fromEntries(r.json.services.map((s: { name: string; state: string }) => [s.name, s.state]))).toEqual({
      postgres: 'healthy', neo4j: 'healthy', 'temporal-schema': 'completed', temporal: 'healthy', api: 'healthy', worker: 'healthy', web: 'healthy',
    });
    expect(r.json.built.services).toEqual(['api', 'web']);
    for (const n of ALL) groups.add(pidOf(ws, n)!);
    // The apps run from their build output in the workspace copies.
    expect(existsSync(join(ws.dir, 'apps/api/dist/server.js'))).toBe(true);
    const api = await fetch(`http://127.0.0.1:${ws.ports.api}/health/ready`);
    expect(api.status).toBe(200);
  }, 1_560_000);

  it('status: every service healthy, runtime native, exit 0', async () => {
    const r = await ws.run(['status', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.healthy).toBe(true);
    expect(r.json.runtime.kind).toBe('native');
    expect(r.json.services.filter((s: { healthy: boolean }) => !s.healthy)).toEqual([]);
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
  }, 320_000);

  it('down --volumes --yes stops every process and deletes the data', async () => {
    const r = await ws.run(['down', '--volumes', '--yes', '--json'], { timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(0);
    expect([...r.json.removedContainers].sort()).toEqual([...ALL].sort());
    for (const g of groups) expect([g, groupPids(g)]).toEqual([g, []]);
    expect(existsSync(join(ws.dir, '.helfy/data/postgres'))).toBe(false);
  }, 200_000);
});
