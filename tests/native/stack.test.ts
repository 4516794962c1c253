/**
 * The native runtime at command level: the built CLI (`node bin/helfy.js`) with
 * HELFY_RUNTIME=native (and once with auto and no reachable Docker engine) on a workspace made
 * by `helfy init --yes` on free ports. Real PostgreSQL, Neo4j and Temporal processes, started and
 * stopped by helfy itself under .helfy/ — no Docker anywhere.
 *
 * The stores and Temporal only (`up neo4j temporal`): the apps' builds are covered by e2e.test.ts.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, type Workspace } from '../stack/e2e-support.js';
import { GroupSet, groupPids } from '../helpers/proc.js';

const NATIVE_ENV = { HELFY_RUNTIME: 'native', DOCKER_HOST: 'unix:///nonexistent' };
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
  const seenPids = new GroupSet();

  beforeAll(async () => {
    ws = await makeWorkspace(`nat${Date.now().toString(36)}`, NATIVE_ENV);
    // mkdtemp makes it 0700; as root PostgreSQL runs as `postgres`, which must get through (a home folder would need the same).
    chmodSync(ws.dir, 0o755);
  }, 120_000);

  afterAll(async () => {
    if (!ws) return;
    await ws.run(['down', '--volumes', '--yes']);
    // Safety net: nothing this file started may outlive it.
    seenPids.killAll();
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
    // Neo4j's store, logs (query.log, security.log) and neo4j.conf are closed to other users, like pgdata.
    for (const d of ['', '/conf', '/data', '/logs', '/run']) expect([d, statSync(join(ws.dir, '.helfy/data/neo4j', d)).mode & 0o777]).toEqual([d, 0o700]);
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
    // Native processes of this workspace run: that decides before any engine ping (the no-engine line is checked after down).
    expect(human.stderr).toContain('runtime: native (native processes of this workspace run: neo4j, postgres, temporal); `helfy down` stops them, HELFY_RUNTIME=docker requires Docker');
    expect(human.stdout).toMatch(/^stack \S+, runtime: native \(PostgreSQL /);
    expect(human.stdout).toMatch(/SERVICE\s+PROCESS\s+HEALTH/);
  }, 120_000);

  it('status never installs: with an empty HELFY_CACHE_DIR the cache stays empty and every service still reads healthy', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'helfy-empty-cache-'));
    try {
      const r = await ws.run(['status', '--json'], { env: { HELFY_CACHE_DIR: cache } });
      expect(r.code, r.stderr).toBe(4);
      const by = Object.fromEntries(r.json.services.map((s: { name: string; state: string }) => [s.name, s.state]));
      expect([by.postgres, by.neo4j, by.temporal]).toEqual(['healthy', 'healthy', 'healthy']);
      // The servers are named from the state labels, not located again.
      expect(r.json.runtime.detail).toMatch(/Neo4j 5\.26\.\d+ .*Temporal 1\.\d+\.\d+/);
      expect(readdirSync(cache)).toEqual([]);
      expect(r.stderr).not.toMatch(/download|install|maven/i);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  }, 120_000);

  it('auto with a Docker engine that answers: native processes of this workspace run, so auto picks native and says why', async () => {
    // The real engine of the test machine (DOCKER_HOST unset: the default socket).
    const engine = { HELFY_RUNTIME: undefined, DOCKER_HOST: undefined };
    const r = await ws.run(['status', '--json'], { env: engine });
    expect(r.code, r.stderr).toBe(4);
    expect(r.json.runtime.kind).toBe('native');
    const by = Object.fromEntries(r.json.services.map((s: { name: string; state: string }) => [s.name, s.state]));
    expect([by.postgres, by.neo4j, by.temporal]).toEqual(['healthy', 'healthy', 'healthy']);
    const human = await ws.run(['status'], { env: engine });
    expect(human.stderr).toContain('runtime: native (native processes of this workspace run: neo4j, postgres, temporal); `helfy down` stops them, HELFY_RUNTIME=docker requires Docker');
    expect(human.stdout).toMatch(/^stack \S+, runtime: native \(PostgreSQL /);
    // up is already-up on the native stack (not a second stack under Docker refused on the ports).
    const up = await ws.run(['up', 'neo4j', 'temporal', '--json'], { env: engine });
    expect(up.code, up.stderr).toBe(0);
    expect(up.json.status).toBe('already-up');
    expect(up.json.runtime.kind).toBe('native');
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
    // Nothing native runs any more: auto pings the engine again, and without one says so in one line.
    const auto = await ws.run(['status'], { env: { HELFY_RUNTIME: undefined } });
    expect(auto.stderr).toContain('runtime: native (no Docker engine at /nonexistent: ENOENT); set HELFY_RUNTIME=docker to require one');

    const v = await ws.run(['down', '--volumes', '--yes', '--json']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.json.removedVolumes.map((x: { name: string }) => x.name)).toEqual(expect.arrayContaining(['.helfy/data/neo4j', '.helfy/data/postgres']));
    expect(v.json.removedVolumes.find((x: { name: string }) => x.name === '.helfy/data/postgres').size).toBeGreaterThan(1_000_000);
    expect(existsSync(join(ws.dir, '.helfy/data/postgres'))).toBe(false);
    expect(existsSync(join(ws.dir, '.helfy/data/neo4j'))).toBe(false);
  }, 180_000);
});

/** pids of PostgreSQL postmasters serving `pgdata` (the wrapper's and children's command lines do not match). */
function postmasters(pgdata: string): number[] {
  const out: number[] = [];
  for (const n of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const argv = readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0');
      const d = argv.indexOf('-D');
      if (/(^|\/)postgres$/.test(argv[0] ?? '') && d > 0 && argv[d + 1] === pgdata && alive(Number(n))) out.push(Number(n));
    } catch {
      /* gone */
    }
  }
  return out;
}

describe('two helfy processes on one native workspace; leftovers of a dead wrapper', () => {
  let ws: Workspace;
  let pgdata: string;
  const seenPids = new GroupSet();

  beforeAll(async () => {
    ws = await makeWorkspace(`natl${Date.now().toString(36)}`, NATIVE_ENV);
    chmodSync(ws.dir, 0o755);
    pgdata = join(ws.dir, '.helfy/data/postgres/pgdata');
  }, 120_000);

  afterAll(async () => {
    if (!ws) return;
    await ws.run(['down', '--volumes', '--yes']);
    seenPids.killAll();
    for (const p of postmasters(pgdata)) process.kill(p, 'SIGKILL');
  }, 120_000);

  it('two `helfy up postgres` at once on a fresh workspace: no internal error, one PostgreSQL; a loser names the holder', async () => {
    const [a, b] = await Promise.all([ws.run(['up', 'postgres']), ws.run(['up', 'postgres'])]);
    const st = runState(ws, 'postgres');
    if (st) seenPids.add(st.pid);
    for (const r of [a, b]) {
      expect(r.stderr).not.toMatch(/internal error|ENOTEMPTY/);
      // Either it waited for the other and found PostgreSQL up, or it gave up naming the other helfy.
      if (r.code !== 0) {
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toMatch(/error: another helfy \(pid \d+: helfy up, since [^)]+\) is working on this workspace/);
      }
    }
    expect([a.code, b.code]).toContain(0);
    expect(st!.pid).toBeGreaterThan(1);
    expect(alive(st!.pid)).toBe(true);
    expect(postmasters(pgdata)).toHaveLength(1);
    // No initdb leftovers.
    expect(readdirSync(join(ws.dir, '.helfy/data/postgres')).sort()).toEqual(['pgdata']);
    expect(existsSync(join(ws.dir, '.helfy/run/.lock'))).toBe(false);
  }, 300_000);

  it('kill -9 of the wrapper only (PostgreSQL keeps serving): up stops the leftover and starts one tracked PostgreSQL', async () => {
    const wrapper = runState(ws, 'postgres')!.pid;
    const [old] = postmasters(pgdata);
    expect(old).toBeGreaterThan(1);
    process.kill(wrapper, 'SIGKILL');
    await expect.poll(() => alive(wrapper), { timeout: 15_000 }).toBe(false);
    expect(alive(old!)).toBe(true);

    const r = await ws.run(['up', 'postgres', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.status).toBe('started');
    const st = runState(ws, 'postgres')!;
    seenPids.add(st.pid);
    expect(st.pid).not.toBe(wrapper);
    expect(alive(old!)).toBe(false);
    const now = postmasters(pgdata);
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(old);
    // The new postmaster is in the tracked group.
    expect(groupPids(st.pid)).toContain(now[0]);
    const s = await ws.run(['status', '--json']);
    expect(s.json.services.find((x: { name: string }) => x.name === 'postgres').state).toBe('healthy');
  }, 300_000);

  it('backup/restore hold the lock from stopping a service until it runs again: an up in between fails naming them', async () => {
    const [{ loadConfig }, { composeEnv }, { nativeRuntime }, { baseEnv }, { recordingLogger }] = await Promise.all([
      import('../../src/config/load.js'), import('../../src/stack/env.js'), import('../../src/runtime/native/stack.js'),
      import('../helpers/cli.js'), import('../db/postgres/fixtures.js'),
    ]);
    const env = baseEnv(ws.env) as NodeJS.ProcessEnv;
    const cfg = loadConfig({ cwd: ws.dir, env, requireSecrets: true });
    const ce = composeEnv(cfg);
    const rt = nativeRuntime({ cfg, env, vars: ce.vars, hashes: ce.hashes, log: recordingLogger() });
    const brt = await rt.backupRuntime();
    expect(postmasters(pgdata)).toHaveLength(1);
    expect(await brt.stop(['postgres'])).toEqual(['postgres']);
    expect(postmasters(pgdata)).toEqual([]);
    expect(JSON.parse(readFileSync(join(ws.dir, '.helfy/run/.lock'), 'utf8')).what).toBe('backup/restore (stopping postgres)');
    const up = await ws.run(['up', 'postgres']);
    expect(up.code).toBe(1);
    expect(up.stderr).toContain(`error: another helfy (pid ${process.pid}: backup/restore (stopping postgres), since `);
    expect(postmasters(pgdata)).toEqual([]);
    // Started again under the same hold; then the lock is released.
    await brt.start(['postgres']);
    const st = runState(ws, 'postgres')!;
    seenPids.add(st.pid);
    expect(postmasters(pgdata)).toHaveLength(1);
    expect(existsSync(join(ws.dir, '.helfy/run/.lock'))).toBe(false);
    const again = await ws.run(['up', 'postgres', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.status).toBe('already-up');
  }, 180_000);

  it('a held workspace lock: down fails at once naming the holder, stops nothing', async () => {
    // A live holder: this test process, recorded as the supervisor records itself.
    const { openSupervisor } = await import('../../src/runtime/native/supervisor.js');
    const sup = openSupervisor(ws.dir);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holding = sup.withLock('a test holding the lock', () => (locked(), held));
    await isLocked;
    try {
      const before = runState(ws, 'postgres')!.pid;
      const r = await ws.run(['down']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error: another helfy (pid ${process.pid}: a test holding the lock, since `);
      expect(runState(ws, 'postgres')!.pid).toBe(before);
      expect(alive(before)).toBe(true);
    } finally {
      release();
      await holding;
    }
    const d = await ws.run(['down']);
    expect(d.code, d.stderr).toBe(0);
    expect(postmasters(pgdata)).toEqual([]);
  }, 120_000);
});
