/**
 * The native runtime at command level: the built CLI (`node bin/helfy.js`) with
 * HELFY_RUNTIME=native (and once with auto and no reachable Docker engine) on a workspace made
 * by `helfy init --yes` on free ports. Real PostgreSQL, Neo4j and Temporal processes, started and
 * stopped by helfy itself under .helfy/ — no Docker anywhere.
 *
 * The stores and Temporal only (`up neo4j temporal`): the apps' builds are covered by e2e.test.ts.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, type Workspace } from '../stack/e2e-support.js';

const NATIVE_ENV = { HELFY_RUNTIME: 'native', DOCKER_HOST: 'unix:///nonexistent', HELFY_TIMESCALE: 'optional' };
const STARTED = ['postgres', 'neo4j', 'temporal-schema', 'temporal'];

interface RunState { pid: number; labels: Record<string, string> }

function runState(ws: Workspace, name: string): RunState | undefined {
  const f = join(ws.dir, '.helfy/run', `${name}.json`);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as RunState) : undefined;
}

/** The process exists and is not a zombie (PID 1 of a container may never reap). */
function alive(pid: number): boolean {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return raw.slice(raw.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Live pids of process group `pgid` (from /proc). */
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

async function cypher(ws: Workspace, statement: string, parameters: Record<string, unknown> = {}): Promise<unknown[][]> {
  const auth = Buffer.from(`neo4j:${ws.dotenv().HELFY_NEO4J_PASSWORD}`).toString('base64');
  const res = await fetch(`http://127.0.0.1:${ws.ports.neo4jHttp}/db/neo4j/tx/commit`, {
    method: 'POST', headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ statements: [{ statement, parameters }] }),
  });
  const body = (await res.json()) as { results: { data: { row: unknown[] }[] }[]; errors: { message: string }[] };
  if (body.errors.length) throw new Error(body.errors[0]!.message);
  return body.results[0]!.data.map((d) => d.row);
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port }, () => resolve(s));
  });
}

describe('helfy up / status / logs / down with HELFY_RUNTIME=native', () => {
  let ws: Workspace;
  const seenPids = new Set<number>();

  beforeAll(async () => {
    ws = await makeWorkspace(`nat${Date.now().toString(36)}`, NATIVE_ENV);
    // mkdtemp makes it 0700; as root PostgreSQL runs as `postgres`, which must get through (a home folder would need the same).
    chmodSync(ws.dir, 0o755);
  }, 120_000);

  afterAll(async () => {
    if (!ws) return;
    await ws.run(['down', '--volumes', '--yes']);
    // Safety net: nothing this file started may outlive it.
    for (const pid of seenPids) for (const p of groupPids(pid)) process.kill(p, 'SIGKILL');
  }, 120_000);

  it('a port held by a foreign listener: PORT_IN_USE naming the holder process, nothing started', async () => {
    const blocker = await listen(ws.ports.neo4jBolt);
    try {
      const r = await ws.run(['up', 'neo4j', 'temporal']);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(`error: port ${ws.ports.neo4jBolt} (neo4j, HELFY_NEO4J_BOLT_PORT) on 127.0.0.1 is in use by process `);
      // The holder is this test process (its name may be vitest's worker title).
      expect(r.stderr).toContain(`(pid ${process.pid})`);
      expect(r.stderr).toContain('Nothing was started');
      const run = join(ws.dir, '.helfy/run');
      expect(existsSync(run) ? readdirSync(run).filter((f) => f.endsWith('.json')) : []).toEqual([]);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  }, 120_000);

  it('up temporal-ui: a usage error (no native build of the UI), nothing started', async () => {
    const r = await ws.run(['up', 'temporal-ui']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('error: temporal-ui has no native build: the native runtime cannot run it');
    expect(r.stderr).toContain('HELFY_RUNTIME=docker');
    const run = join(ws.dir, '.helfy/run');
    expect(existsSync(run) ? readdirSync(run).filter((f) => f.endsWith('.json')) : []).toEqual([]);
  }, 60_000);

  it('up starts the stores and Temporal as local processes and waits until they are healthy', async () => {
    const r = await ws.run(['up', 'neo4j', 'temporal', '--json'], { timeoutMs: 600_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.status).toBe('started');
    expect(r.json.runtime.kind).toBe('native');
    expect(r.json.runtime.detail).toMatch(/^native \(PostgreSQL \d+\.\d+ .*, Neo4j 5\.26\.\d+ \S+, Temporal 1\.\d+\.\d+ \S+\)$/);
    expect(r.json.compose).toBeUndefined();
    expect(Object.fromEntries(r.json.services.map((s: { name: string; state: string }) => [s.name, s.state]))).toEqual({
      postgres: 'healthy', neo4j: 'healthy', 'temporal-schema': 'completed', temporal: 'healthy',
    });
    for (const n of STARTED) {
      const st = runState(ws, n)!;
      expect(st.pid, n).toBeGreaterThan(1);
      seenPids.add(st.pid);
      expect(statSync(join(ws.dir, '.helfy/logs', `${n}.log`)).size, `${n}.log`).toBeGreaterThan(0);
    }
    // Data under .helfy/data/<service>.
    expect(readFileSync(join(ws.dir, '.helfy/data/postgres/pgdata/PG_VERSION'), 'utf8').trim()).toMatch(/^\d+$/);
    expect(existsSync(join(ws.dir, '.helfy/data/neo4j'))).toBe(true);
    // The processes are detached: the helfy that started them is gone, they still run.
    for (const n of ['postgres', 'neo4j', 'temporal']) expect(alive(runState(ws, n)!.pid), n).toBe(true);
  }, 660_000);

  it('status (auto, no Docker engine): falls back to native in one line, names the runtime and each service healthy', async () => {
    const r = await ws.run(['status', '--json'], { env: { HELFY_RUNTIME: undefined } });
    // api, worker and web were not asked for: the stack as a whole is not healthy (exit 4).
    expect(r.code, r.stderr).toBe(4);
    expect(r.json.runtime.kind).toBe('native');
    const by = Object.fromEntries(r.json.services.map((s: { name: string }) => [s.name, s]));
    for (const n of ['postgres', 'neo4j', 'temporal']) expect([n, by[n].state, by[n].healthy]).toEqual([n, 'healthy', true]);
    expect(by['temporal-schema'].state).toBe('completed');
    for (const n of ['api', 'worker', 'web']) expect([n, by[n].state]).toEqual([n, 'missing']);
    expect(by.postgres.ports).toEqual([{ host: '127.0.0.1', hostPort: ws.ports.postgres, containerPort: ws.ports.postgres }]);
    expect(by.postgres.image).toMatch(/^native: \/.*postgres /);
    expect(by.postgres.probe.ok).toBe(true);

    const human = await ws.run(['status'], { env: { HELFY_RUNTIME: undefined } });
    expect(human.stderr).toContain('runtime: native (no Docker engine at /nonexistent: ENOENT); set HELFY_RUNTIME=docker to require one');
    expect(human.stdout).toMatch(/^stack \S+, runtime: native \(PostgreSQL /);
    expect(human.stdout).toMatch(/SERVICE\s+PROCESS\s+HEALTH/);
  }, 120_000);

  it('a second up is already-up and starts nothing', async () => {
    const before = STARTED.map((n) => runState(ws, n)!.pid);
    const r = await ws.run(['up', 'neo4j', 'temporal', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.status).toBe('already-up');
    expect(r.json.runtime.kind).toBe('native');
    expect(STARTED.map((n) => runState(ws, n)!.pid)).toEqual(before);
  }, 120_000);

  it('logs reads the service log files', async () => {
    const r = await ws.run(['logs', 'postgres', '--tail', '50', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.services).toEqual(['postgres']);
    expect(r.json.lines.some((l: { text: string }) => /database system is ready to accept connections/.test(l.text))).toBe(true);
    const since = await ws.run(['logs', 'postgres', '--since', '5m']);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('--since is not available with the native runtime');
  }, 60_000);

  it('kill -9 of Neo4j: status names it failed (exit 4); up restarts only it; its data is still there', async () => {
    const id = `n${Date.now()}`;
    expect(await cypher(ws, 'CREATE (n:NativeTest {id: $id}) RETURN n.id', { id })).toEqual([[id]]);
    const neo = runState(ws, 'neo4j')!;
    const java = groupPids(neo.pid).filter((p) => p !== neo.pid);
    expect(java.length).toBeGreaterThan(0);
    for (const p of java) process.kill(p, 'SIGKILL');
    await expect.poll(() => alive(neo.pid), { timeout: 15_000 }).toBe(false);

    const st = await ws.run(['status', '--json']);
    expect(st.code).toBe(4);
    const n4 = st.json.services.find((s: { name: string }) => s.name === 'neo4j');
    expect(n4.state).toBe('failed');
    expect(n4.detail).toBe('exited with code 137');
    expect(n4.healthy).toBe(false);

    const others = ['postgres', 'temporal-schema', 'temporal'].map((n) => [n, runState(ws, n)!.pid]);
    const up = await ws.run(['up', 'neo4j', 'temporal', '--json'], { timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    expect(up.json.status).toBe('started');
    const neo2 = runState(ws, 'neo4j')!;
    seenPids.add(neo2.pid);
    expect(neo2.pid).not.toBe(neo.pid);
    expect(others.map(([n]) => [n, runState(ws, n as string)!.pid])).toEqual(others);
    expect(await cypher(ws, 'MATCH (n:NativeTest {id: $id}) RETURN n.id', { id })).toEqual([[id]]);
  }, 360_000);

  it('down stops every process (none left) and keeps the data; down --volumes --yes deletes .helfy/data', async () => {
    const groups = STARTED.map((n) => runState(ws, n)!.pid);
    const r = await ws.run(['down', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.status).toBe('removed');
    expect(r.json.runtime).toBe('native');
    expect([...r.json.removedContainers].sort()).toEqual([...STARTED].sort());
    expect(r.json.keptVolumes).toEqual(expect.arrayContaining(['.helfy/data/neo4j', '.helfy/data/postgres']));
    for (const g of groups) expect([g, groupPids(g)]).toEqual([g, []]);
    expect(readdirSync(join(ws.dir, '.helfy/run')).filter((f) => f.endsWith('.json'))).toEqual([]);
    expect(existsSync(join(ws.dir, '.helfy/data/postgres/pgdata/PG_VERSION'))).toBe(true);

    const st = await ws.run(['status']);
    expect(st.code).toBe(4);
    expect(st.stdout).toMatch(/is not running \(run `helfy up`\); runtime: native/);

    const v = await ws.run(['down', '--volumes', '--yes', '--json']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.json.removedVolumes.map((x: { name: string }) => x.name)).toEqual(expect.arrayContaining(['.helfy/data/neo4j', '.helfy/data/postgres']));
    expect(v.json.removedVolumes.find((x: { name: string }) => x.name === '.helfy/data/postgres').size).toBeGreaterThan(1_000_000);
    expect(existsSync(join(ws.dir, '.helfy/data/postgres'))).toBe(false);
    expect(existsSync(join(ws.dir, '.helfy/data/neo4j'))).toBe(false);
  }, 180_000);
});
