/**
 * One command-level test file for both runtimes (issue: "Both runtimes pass the same
 * command-level test file (parametrised), so behaviour cannot drift").
 *
 * Per runtime: a workspace made by `helfy init --yes` on free ports, HELFY_RUNTIME=<kind>, and the
 * SAME assertions through the built CLI (`node bin/helfy.js`). Docker runs the stand-in images on
 * the local engine (tests/support/docker, as the stack e2e does); native runs real local
 * processes with no reachable Docker engine (DOCKER_HOST at a dead socket).
 *
 * `up postgres neo4j temporal`: the stores, and Temporal because `db bootstrap` registers the
 * Temporal namespace. The apps (api/worker/web: image builds of minutes on vfs) are covered by
 * tests/stack/stack.e2e.test.ts and tests/native/e2e.test.ts.
 */
import { chmodSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, prepareDocker, projectContainers, projectVolumes, releaseDocker, type Workspace } from './stack/e2e-support.js';

type Kind = 'docker' | 'native';
const KINDS: Kind[] = ['docker', 'native'];
const UP = ['up', 'postgres', 'neo4j', 'temporal'];
const DAEMONS = ['postgres', 'neo4j', 'temporal'];
const STARTED = ['postgres', 'neo4j', 'temporal-schema', 'temporal'];

/** Shapes seen per runtime, compared by the last test. */
const shapes: Partial<Record<Kind, { status: string[]; service: string[]; up: string[]; down: string[]; error: string[] }>> = {};

afterAll(() => releaseDocker(), 120_000);

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port }, () => resolve(s));
  });
}

/** What the runtime has started for a workspace: compose containers, or supervisor state files. */
async function startedThings(kind: Kind, ws: Workspace): Promise<string[]> {
  if (kind === 'docker') return (await projectContainers(ws.name)).map((c) => c.service).sort();
  const run = join(ws.dir, '.helfy/run');
  return existsSync(run) ? readdirSync(run).filter((f) => f.endsWith('.json')).sort() : [];
}

/** The workspace's data: Docker volumes, or the native data folders. */
async function dataOf(kind: Kind, ws: Workspace): Promise<string[]> {
  if (kind === 'docker') return projectVolumes(ws.name);
  const d = join(ws.dir, '.helfy/data');
  return existsSync(d) ? readdirSync(d).filter((n) => n === 'postgres' || n === 'neo4j').sort() : [];
}

const keys = (o: object) => Object.keys(o).sort();

describe.each(KINDS)('HELFY_RUNTIME=%s', (kind) => {
  let ws: Workspace;
  let other: Workspace;
  const wsEnv: Record<string, string> = {};

  beforeAll(async () => {
    const tag = `${kind === 'docker' ? 'rtd' : 'rtn'}${Date.now().toString(36)}`;
    if (kind === 'docker') Object.assign(wsEnv, await prepareDocker(), { HELFY_RUNTIME: 'docker' });
    // Native: no Docker engine reachable at all; TimescaleDB from helfy's cache (built on first use).
    else Object.assign(wsEnv, { HELFY_RUNTIME: 'native', DOCKER_HOST: 'unix:///nonexistent' });
    ws = await makeWorkspace(tag, wsEnv);
    other = await makeWorkspace(`${tag}b`, wsEnv);
    // mkdtemp makes 0700 folders; as root the native PostgreSQL runs as `postgres`, which must get in.
    for (const w of [ws, other]) chmodSync(w.dir, 0o755);
  }, 1_800_000);

  afterAll(async () => {
    for (const w of [ws, other]) {
      if (!w) continue;
      await w.run(['down', '--volumes', '--yes'], { timeoutMs: 180_000 });
      rmSync(w.dir, { recursive: true, force: true });
    }
  }, 400_000);

  it('a port held by a foreign listener: exit 3 PORT_IN_USE naming the holder, nothing started', async () => {
    const blocker = await listen(other.ports.postgres);
    try {
      const r = await other.run([...UP, '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(3);
      expect(r.json.error.code).toBe('PORT_IN_USE');
      expect(r.json.error.message).toBe(`port ${other.ports.postgres} (postgres, HELFY_POSTGRES_PORT) on 127.0.0.1 is in use by process ${r.json.error.ports[0].holder.command} (pid ${process.pid})`);
      expect(r.json.error.ports).toEqual([{ port: other.ports.postgres, holder: expect.objectContaining({ kind: 'process', pid: process.pid }) }]);
      expect(r.json.error.hint).toMatch(/^Nothing was started\./);
      shapes[kind] = { ...shapes[kind]!, error: keys(r.json.error) };
      const human = await other.run(UP);
      expect(human.code).toBe(3);
      expect(human.stderr).toContain(`error: port ${other.ports.postgres} (postgres, HELFY_POSTGRES_PORT) on 127.0.0.1 is in use by process `);
      expect(human.stderr).toContain(`(pid ${process.pid})`);
      expect(await startedThings(kind, other)).toEqual([]);
      expect(await dataOf(kind, other)).toEqual([]);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  }, 120_000);

  it('up the stores and Temporal: exit 0, every service healthy', async () => {
    const r = await ws.run([...UP, '--json', '--timeout', '300s'], { timeoutMs: 600_000 });
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(r.json.status).toBe('started');
    expect(r.json.runtime.kind).toBe(kind);
    expect(Object.fromEntries(r.json.services.map((s: { name: string; state: string }) => [s.name, s.state]))).toEqual({
      postgres: 'healthy', neo4j: 'healthy', 'temporal-schema': 'completed', temporal: 'healthy',
    });
    expect(await startedThings(kind, ws)).toEqual(kind === 'docker' ? [...STARTED].sort() : STARTED.map((n) => `${n}.json`).sort());
    shapes[kind] = { ...shapes[kind]!, up: keys(r.json) };
  }, 620_000);

  it('status --json names the runtime, each store healthy on the configured port', async () => {
    const r = await ws.run(['status', '--json']);
    // api, worker and web were not asked for: the stack as a whole is not healthy (exit 4).
    expect(r.code, r.stderr).toBe(4);
    expect(r.json.runtime.kind).toBe(kind);
    const by = Object.fromEntries(r.json.services.map((s: { name: string }) => [s.name, s]));
    for (const n of DAEMONS) expect([n, by[n].state, by[n].healthy, by[n].probe.ok]).toEqual([n, 'healthy', true, true]);
    expect(by['temporal-schema'].state).toBe('completed');
    for (const n of ['api', 'worker', 'web']) expect([n, by[n].state]).toEqual([n, 'missing']);
    const hostPorts = (n: string) => by[n].ports.map((p: { host: string; hostPort: number }) => `${p.host}:${p.hostPort}`).sort();
    expect(hostPorts('postgres')).toEqual([`127.0.0.1:${ws.ports.postgres}`]);
    expect(hostPorts('neo4j')).toEqual([`127.0.0.1:${ws.ports.neo4jBolt}`, `127.0.0.1:${ws.ports.neo4jHttp}`].sort());
    expect(hostPorts('temporal')).toEqual([`127.0.0.1:${ws.ports.temporal}`]);
    expect(by.postgres.probe.detail).toMatch(/^PostgreSQL \d+/);
    expect(by.neo4j.probe.detail).toMatch(/5\.26/);
    shapes[kind] = { ...shapes[kind]!, status: keys(r.json), service: keys(by.postgres) };
    const human = await ws.run(['status']);
    expect(human.stdout).toMatch(new RegExp(`^stack ${ws.name}, runtime: ${kind === 'docker' ? 'Docker' : 'native'} `));
  }, 120_000);

  it('migrate up: every PostgreSQL and Neo4j migration applied', async () => {
    const up = await ws.run(['migrate', 'up', '--json'], { timeoutMs: 180_000 });
    expect(up.code, up.stderr.slice(-3000)).toBe(0);
    const st = await ws.run(['migrate', 'status', '--json']);
    expect(st.code, st.stderr).toBe(0);
    expect(st.json.postgres.length).toBeGreaterThan(0);
    expect(st.json.neo4j.length).toBeGreaterThan(0);
    expect(st.json.postgres.filter((e: { state: string }) => e.state !== 'applied')).toEqual([]);
    expect(st.json.neo4j.filter((e: { state: string }) => e.state !== 'applied')).toEqual([]);
    // Nothing left for a second run.
    const again = await ws.run(['migrate', 'up', '--json'], { timeoutMs: 180_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.postgres.applied).toEqual([]);
    expect(again.json.neo4j.applied).toEqual([]);
  }, 400_000);

  it('db bootstrap is idempotent: roles, databases, namespace already in place', async () => {
    const r = await ws.run(['db', 'bootstrap', '--json'], { timeoutMs: 180_000 });
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(r.json.postgres.changed).toBe(false);
    expect(r.json.namespace.created).toBe(false);
    expect(r.json.neo4jMigrations.applied).toEqual([]);
    const human = await ws.run(['db', 'bootstrap'], { timeoutMs: 180_000 });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('postgres: roles and databases already in place');
    expect(human.stdout).toContain('temporal: namespace already registered');
  }, 400_000);

  it('logs postgres --tail 5: at most 5 lines, each prefixed by the service', async () => {
    const r = await ws.run(['logs', 'postgres', '--tail', '5']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(5);
    for (const l of lines) expect(l).toMatch(/^postgres \| /);
  }, 60_000);

  it('a second up is already-up and starts nothing', async () => {
    const r = await ws.run([...UP, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.status).toBe('already-up');
    expect(r.json.runtime.kind).toBe(kind);
    const human = await ws.run(UP);
    expect(human.code).toBe(0);
    expect(human.stderr).toMatch(new RegExp(`stack ${ws.name} is already up \\(4 services healthy\\); nothing to do`));
  }, 120_000);

  it('down stops everything and keeps the data; status says not running', async () => {
    const r = await ws.run(['down', '--json'], { timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.status).toBe('removed');
    shapes[kind] = { ...shapes[kind]!, down: keys(r.json) };
    expect(await startedThings(kind, ws)).toEqual([]);
    expect(await dataOf(kind, ws)).not.toEqual([]);
    const st = await ws.run(['status']);
    expect(st.code).toBe(4);
    expect(st.stdout).toMatch(new RegExp(`^stack ${ws.name} is not running \\(run \`helfy up\`\\); runtime: `));
  }, 200_000);

  it('down --volumes: without --yes and no terminal exit 2 naming --yes, data kept; with --yes the data is gone', async () => {
    const before = await dataOf(kind, ws);
    expect(before.length).toBeGreaterThan(0);
    const refused = await ws.run(['down', '--volumes']);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('Pass --yes');
    expect(await dataOf(kind, ws)).toEqual(before);

    const r = await ws.run(['down', '--volumes', '--yes', '--json'], { timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.removedVolumes.length).toBeGreaterThan(0);
    expect(await dataOf(kind, ws)).toEqual([]);
    expect(await startedThings(kind, ws)).toEqual([]);
  }, 200_000);
});

describe('docker and native answer with the same JSON shapes', () => {
  it('status, each status service, up, down and the PORT_IN_USE error have the same keys', () => {
    expect(Object.keys(shapes).sort()).toEqual(['docker', 'native']);
    const d = shapes.docker!;
    const n = shapes.native!;
    // Only Docker has a compose section in status/up (which compose CLI answered).
    const noCompose = (k: string[]) => k.filter((x) => x !== 'compose');
    expect(noCompose(n.status)).toEqual(noCompose(d.status));
    expect(n.service).toEqual(d.service);
    expect(noCompose(n.up)).toEqual(noCompose(d.up));
    expect(n.down).toEqual(d.down);
    expect(n.error).toEqual(d.error);
    for (const k of ['runtime', 'services']) expect(d.status, k).toContain(k);
  });
});
