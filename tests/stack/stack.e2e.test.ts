/**
 * helfy up / status / logs / down through the built binary against a real Docker engine.
 * One stack is brought up once and reused across the scenarios (vfs storage, 2 cores): keep it lean.
 * Skipped (reported as skipped) only with HELFY_SKIP_DOCKER=1, for machines without Docker.
 */
import { execa } from 'execa';
import neo4j from 'neo4j-driver';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, baseEnv } from '../helpers/cli.js';
import { COMPOSE_V2_CONFIG, hasComposeV2, makeWorkspace, neverHealthyImage, prepareDocker, projectContainers, projectVolumes, releaseDocker, type Workspace } from './e2e-support.js';

const SKIP = process.env.HELFY_SKIP_DOCKER === '1';

// Stops the engine only if this test run started it.
afterAll(() => releaseDocker(), 120_000);
// `up api worker`: the API and its worker with everything they need (the web app has its own tests).
const STACK = ['api', 'worker'];
const STACK_SERVICES = ['postgres', 'neo4j', 'temporal-schema', 'temporal', 'api', 'worker'];

/** Exit codes of the containers of `project` that died since `since` (unix seconds), by service. */
async function exitCodesSince(project: string, since: number): Promise<Record<string, string[]>> {
  const r = await execa('docker', ['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'event=die',
    '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{index .Actor.Attributes "com.docker.compose.service"}} {{.Actor.Attributes.exitCode}}']);
  const out: Record<string, string[]> = {};
  for (const l of String(r.stdout).split('\n').filter(Boolean)) {
    const [svc, code] = l.split(' ');
    (out[svc!] ??= []).push(code!);
  }
  return out;
}

describe.skipIf(SKIP)('the Helfy stack on a real Docker engine (compose v1)', () => {
  let images: Record<string, string> = {};
  let ws: Workspace;

  beforeAll(async () => {
    images = await prepareDocker();
    ws = await makeWorkspace(`e2e${Date.now().toString(36)}`, images);
  }, 3_600_000);

  afterAll(async () => {
    if (!ws) return;
    await ws.run(['down', '--volumes', '--yes']);
    rmSync(ws.dir, { recursive: true, force: true });
  }, 120_000);

  it('DOCKER_HOST pointing at a dead socket: exit 3 within 3 s, with a hint', async () => {
    const r = await ws.run(['up'], { env: { DOCKER_HOST: `unix://${ws.dir}/dead.sock` } });
    expect(r.code).toBe(3);
    expect(r.durationMs).toBeLessThan(3000);
    expect(r.stderr).toContain(`error: Docker engine unreachable at ${ws.dir}/dead.sock`);
    expect(r.stderr).toMatch(/hint: .*DOCKER_HOST/);
  });

  it('a host port held by a real listener: exit 3 before any container starts, naming the port and its holder', async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: ws.ports.api }, r));
    try {
      const r = await ws.run(['up']);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`error: port ${ws.ports.api} (api, HELFY_API_PORT) on 127.0.0.1 is in use by process`);
      expect(r.stderr).toContain(`pid ${process.pid}`);
      expect(r.stderr).toMatch(/hint: Nothing was started/);
      expect(await projectContainers(ws.name)).toEqual([]);
      expect(await projectVolumes(ws.name)).toEqual([]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('empty → up builds the api image (api + worker) → every service healthy → status --json reports it', async () => {
    // The first up builds the api image (npm ci from the registry inside the build) and the web
    // image, unless an earlier run left them (their tags are content hashes); that does not count
    // against --timeout.
    const up = await ws.run(['up', ...STACK, '--json', '--timeout', '240s'], { timeoutMs: 1_500_000 });
    expect(up.code, up.stderr + up.stdout).toBe(0);
    expect(up.json.status).toBe('started');
    expect(up.json.compose.flavor).toBe('v1');
    expect(up.json.services.map((s: { name: string }) => s.name)).toEqual(STACK_SERVICES);
    for (const s of up.json.services) expect(['healthy', 'completed'], s.name).toContain(s.state);
    expect(up.json.services.find((s: { name: string }) => s.name === 'api').detail).toMatch(/^running \(api 0\.1\.0: ready \(postgres \d+ ms, neo4j \d+ ms, temporal \d+ ms\)\)$/);
    expect(up.json.bootstrap.changed).toBe(true);
    if (up.json.built) process.stderr.write(`e2e: built ${up.json.built.images.join(', ')} in ${(up.json.built.durationMs / 1000).toFixed(1)} s\n`);

    const st = await ws.run(['status', '--json']);
    expect(st.code, st.stdout).toBe(4); // web is not running
    expect(st.json.running).toBe(true);
    for (const n of STACK_SERVICES) expect(st.json.services.find((s: { name: string }) => s.name === n).healthy, n).toBe(true);
    const byName = Object.fromEntries(st.json.services.map((s: { name: string }) => [s.name, s]));
    // status covers every service of the catalog; web was not asked for.
    expect(Object.keys(byName)).toEqual([...STACK_SERVICES, 'web']);
    expect(byName.web).toMatchObject({ state: 'missing', healthy: false });
    expect(byName.postgres.probe).toMatchObject({ ok: true });
    expect(byName.postgres.probe.detail).toMatch(/^PostgreSQL \d+/);
    expect(byName.neo4j.probe.detail).toMatch(/5\.26/);
    expect(byName.temporal.probe.detail).toMatch(/^WorkflowService SERVING, server \d+\.\d+/);
    expect(byName.api.probe.detail).toMatch(/^api 0\.1\.0: ready \(postgres \d+ ms, neo4j \d+ ms, temporal \d+ ms\)$/);
    expect(byName.api.probe.info.checks.map((c: { name: string; ok: boolean }) => `${c.name}:${c.ok}`)).toEqual(['postgres:true', 'neo4j:true', 'temporal:true']);
    // The worker: no published port; its Docker healthcheck is its /health (200 only while polling Temporal).
    expect(byName.worker).toMatchObject({ state: 'healthy', healthy: true, detail: 'running (healthy)', ports: [] });
    expect(byName.worker.image).toBe(byName.api.image);
    expect(byName['temporal-schema'].state).toBe('completed');
    expect(byName.postgres.ports).toEqual([{ host: '127.0.0.1', hostPort: ws.ports.postgres, containerPort: 5432 }]);
    expect(byName.api.uptimeS).toBeGreaterThanOrEqual(0);

    // /health and /health/ready through the published port.
    const health = await fetch(`http://127.0.0.1:${ws.ports.api}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', service: 'api', version: '0.1.0' });
    const ready = await fetch(`http://127.0.0.1:${ws.ports.api}/health/ready`);
    expect(ready.status).toBe(200);
    const rb = (await ready.json()) as { status: string; checks: Record<string, { status: string; latencyMs: number }> };
    expect(rb.status).toBe('ready');
    expect(Object.entries(rb.checks).map(([k, c]) => `${k}:${c.status}`).sort()).toEqual(['neo4j:ok', 'postgres:ok', 'temporal:ok']);

    // The image: the runtime stage runs as node and holds no dev tooling or other platforms' binaries.
    const img = await execa('docker', ['image', 'inspect', byName.api.image, '--format', '{{.Config.User}}']);
    expect(String(img.stdout).trim()).toBe('node');
    const ls = await execa('docker', ['run', '--rm', '--entrypoint', 'sh', byName.api.image, '-c',
      'id -un; ls /app; ls /app/node_modules/@temporalio/core-bridge/releases; ls /app/node_modules/typescript /app/node_modules/esbuild 2>&1 | head -2; test -w /app/dist && echo writable || echo read-only']);
    expect(String(ls.stdout).trim().split('\n')).toEqual([
      'node', 'dist', 'node_modules', 'package.json', `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-unknown-linux-gnu`,
      "ls: cannot access '/app/node_modules/typescript': No such file or directory", "ls: cannot access '/app/node_modules/esbuild': No such file or directory", 'read-only',
    ]);
    // Labels on everything helfy creates.
    const labels = await execa('docker', ['ps', '-a', '--filter', `label=com.docker.compose.project=${ws.name}`, '--format', '{{.Label "dev.helfy.project"}}']);
    expect(new Set(String(labels.stdout).split('\n'))).toEqual(new Set([ws.name]));
    expect(await projectVolumes(ws.name)).toEqual([`${ws.name}_neo4j-data`, `${ws.name}_neo4j-logs`, `${ws.name}_pgdata`]);
    // Temporal's dynamic config is mounted from the workspace, not from helfy's install folder.
    const mounts = await execa('docker', ['inspect', `${ws.name}_temporal_1`, '--format', '{{range .Mounts}}{{.Source}} {{end}}']);
    expect(String(mounts.stdout).trim()).toBe(`${ws.dir}/.helfy/temporal/dynamicconfig`);
  }, 1_600_000);

  it('up --seed seeds the running stack; the API serves the library and a demo user logs in with HELFY_DEMO_PASSWORD', async () => {
    const r = await ws.run(['up', ...STACK, '--seed', '--json'], { timeoutMs: 600_000 });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.json.status).toBe('already-up');
    expect(r.json.seed.library.map((p: { part: string }) => p.part)).toEqual(['exercises', 'foods', 'routines']);
    expect(r.json.seed.demo.users.map((u: { action: string }) => u.action)).toEqual(['create', 'create', 'create']);

    const st = await ws.run(['status', '--json']);
    const neo = st.json.services.find((s: { name: string }) => s.name === 'neo4j');
    expect(neo.probe.info.library).toEqual({ exercises: 873, foods: 8790, routines: 5, loaded: true });

    // The seeded data through the API, as the seeded demo user (the seed's hash format, the API's log-in).
    const api = `http://127.0.0.1:${ws.ports.api}`;
    const login = await fetch(`${api}/api/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'demo-001@helfy.test', password: ws.dotenv().HELFY_DEMO_PASSWORD }),
    });
    expect(login.status).toBe(200);
    const auth = { authorization: `Bearer ${((await login.json()) as { accessToken: string }).accessToken}` };
    const found = (await (await fetch(`${api}/api/library/exercises?q=squat&equipment=barbell`, { headers: auth })).json()) as { items: { id: string; name: string }[] };
    expect(found.items.length).toBeGreaterThan(0);
    expect(found.items.every((e) => /squat/i.test(e.name))).toBe(true);
    const to = new Date();
    const from = new Date(to.getTime() - 7 * 86_400_000);
    const series = await fetch(`${api}/api/biometrics/series?metric=heart_rate&bucket=1d&from=${from.toISOString()}&to=${to.toISOString()}`, { headers: auth });
    expect(series.status).toBe(200);
    const body = (await series.json()) as { buckets: { count: number; avg: number }[] };
    expect(body.buckets.length).toBeGreaterThanOrEqual(6);
    for (const b of body.buckets) expect(b.avg).toBeGreaterThan(40);

    // A second --seed finds everything up to date.
    const again = await ws.run(['up', ...STACK, '--seed', '--json'], { timeoutMs: 600_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.seed.library.every((p: { upToDate: boolean }) => p.upToDate)).toBe(true);
    expect(again.json.seed.demo.users.map((u: { action: string }) => u.action)).toEqual(['up-to-date', 'up-to-date', 'up-to-date']);
  }, 700_000);

  it('up on a stack that is already up is a quick no-op that says so', async () => {
    const r = await ws.run(['up', ...STACK]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`stack ${ws.name} is already up (6 services healthy); nothing to do`);
    expect(r.stdout).toContain(`http://127.0.0.1:${ws.ports.api}`);
    expect(r.durationMs).toBeLessThan(5000);
  });

  it('logs prints each service\'s output with its prefix; --tail limits it; the worker is covered', async () => {
    const r = await ws.run(['logs', 'temporal-schema', 'worker', '--tail', '2']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('temporal-schema | ')), r.stdout + r.stderr).toHaveLength(2);
    expect(lines, r.stdout).toContain('temporal-schema | temporal-schema: done');
    const worker = lines.filter((l) => l.startsWith('worker          | '));
    expect(worker.length, r.stdout).toBeGreaterThan(0);
    expect(worker.length).toBeLessThanOrEqual(2);
    const all = await ws.run(['logs', 'worker']);
    // The worker loads the workflows bundled at build time (no webpack at start).
    expect(all.stdout, all.stdout).toMatch(/^worker \| \{.*"msg":"worker running".*"prebundled":true/m);
  });

  it('data survives down + up; Ctrl-C during up exits 130 and the next up continues', async () => {
    const env = ws.dotenv();
    const pgc = new pg.Client({ host: '127.0.0.1', port: ws.ports.postgres, user: 'postgres', password: env.HELFY_POSTGRES_PASSWORD, database: 'postgres' });
    await pgc.connect();
    await pgc.query('create table if not exists e2e_keep (id int primary key, note text)');
    await pgc.query(`insert into e2e_keep values (1, 'kept') on conflict do nothing`);
    await pgc.end();
    const driver = neo4j.driver(`bolt://127.0.0.1:${ws.ports.neo4jBolt}`, neo4j.auth.basic('neo4j', env.HELFY_NEO4J_PASSWORD!));
    await driver.executeQuery(`MERGE (:E2eKeep {note: 'kept'})`);
    await driver.close();

    const since = Math.floor(Date.now() / 1000) - 1;
    const down = await ws.run(['down']);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stderr).toContain('data kept in 3 volume(s)');
    // The api and the worker drain on SIGTERM and exit 0 inside their 10 s grace period (a SIGKILL would be 137).
    const codes = await exitCodesSince(ws.name, since);
    expect(codes.api, JSON.stringify(codes)).toEqual(['0']);
    expect(codes.worker, JSON.stringify(codes)).toEqual(['0']);
    expect(await projectContainers(ws.name)).toEqual([]);
    expect(await projectVolumes(ws.name)).toHaveLength(3);

    // Ctrl-C while waiting: stop waiting, leave the containers, exit 130 with a hint.
    const child = execa('node', [BIN, 'up', ...STACK], { cwd: ws.dir, env: baseEnv(ws.env), extendEnv: false, reject: false });
    // Interrupt once up is waiting on created containers (how long preflight takes depends on load).
    for (let i = 0; i < 240 && (await projectContainers(ws.name)).length === 0; i++) await new Promise((r) => setTimeout(r, 250));
    await new Promise((r) => setTimeout(r, 1000));
    child.kill('SIGINT');
    const interrupted = await child;
    expect(interrupted.exitCode).toBe(130);
    expect(interrupted.stderr).toContain('error: interrupted: stopped waiting for the stack');
    expect(interrupted.stderr).toContain('Run `helfy up` again to continue');
    expect((await projectContainers(ws.name)).length).toBeGreaterThan(0);
    // On vfs the engine copies the whole image to create a container, which takes seconds under
    // load: a create that the killed compose had asked for may still be running in the engine.
    // A compose started meanwhile does not see it yet and fails on its name (compose v1: "Conflict.
    // The container name ... is already in use"), so wait until the engine has settled, as a person
    // reading the message above would before typing `helfy up` again.
    // The first compose call creates postgres and neo4j: wait until both exist, then for a quiet 3 s.
    let seen = '';
    for (let stableSince = Date.now(), t0 = Date.now(); Date.now() - t0 < 90_000;) {
      await new Promise((r) => setTimeout(r, 500));
      const list = await projectContainers(ws.name);
      const now = JSON.stringify(list);
      if (now !== seen) [seen, stableSince] = [now, Date.now()];
      const both = ['postgres', 'neo4j'].every((svc) => list.some((c) => c.service === svc));
      if (both && Date.now() - stableSince >= 3000) break;
    }

    const up = await ws.run(['up', ...STACK, '--json', '--timeout', '240s']);
    expect(up.code, up.stderr + up.stdout).toBe(0);
    expect(up.json.bootstrap.changed).toBe(false);
    expect(up.json.built).toBeUndefined(); // the image is there: no second build

    const pgc2 = new pg.Client({ host: '127.0.0.1', port: ws.ports.postgres, user: 'postgres', password: env.HELFY_POSTGRES_PASSWORD, database: 'postgres' });
    await pgc2.connect();
    expect((await pgc2.query('select note from e2e_keep where id = 1')).rows).toEqual([{ note: 'kept' }]);
    await pgc2.end();
    const d2 = neo4j.driver(`bolt://127.0.0.1:${ws.ports.neo4jBolt}`, neo4j.auth.basic('neo4j', env.HELFY_NEO4J_PASSWORD!));
    const res = await d2.executeQuery('MATCH (n:E2eKeep) RETURN n.note AS note');
    await d2.close();
    expect(res.records.map((r) => r.get('note'))).toEqual(['kept']);
  }, 400_000);

  it('a service that never becomes healthy: exit 4 naming it, with its last log lines, within timeout + 5 s', async () => {
    const image = await neverHealthyImage(images.HELFY_NODE_IMAGE ?? 'node:22-bookworm-slim');
    const r = await ws.run(['up', 'neo4j', '--timeout', '15s'], { env: { HELFY_NEO4J_IMAGE: image } });
    expect(r.code, r.stderr).toBe(4);
    expect(r.durationMs).toBeLessThan(20_000);
    expect(r.stderr).toContain('error: neo4j did not become healthy within 15s');
    expect(r.stderr).toMatch(/Last \d+ log lines of neo4j:/);
    expect(r.stderr).toMatch(/ {2}neo4j \| never-healthy: still not listening, try \d+/);
    expect(r.stderr).toContain('`helfy logs neo4j`');
    // Left in place for inspection.
    expect((await projectContainers(ws.name)).find((c) => c.service === 'neo4j')?.state).toBe('running');
  }, 60_000);

  it('down --volumes refuses without a terminal or --yes; with --yes the data is gone', async () => {
    const refused = await ws.run(['down', '--volumes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/cannot ask "Delete 3 data volumes of .*_neo4j-data \(.*\), .*_pgdata \(.*\)\?"/);
    expect(refused.stderr).toContain('Pass --yes');
    expect(await projectVolumes(ws.name)).toHaveLength(3);

    const r = await ws.run(['down', '--volumes', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.removedVolumes.map((v: { name: string }) => v.name)).toEqual([`${ws.name}_neo4j-data`, `${ws.name}_neo4j-logs`, `${ws.name}_pgdata`]);
    expect(r.json.removedVolumes.find((v: { name: string }) => v.name.endsWith('_pgdata')).size).toBeGreaterThan(1_000_000);
    expect(await projectContainers(ws.name)).toEqual([]);
    expect(await projectVolumes(ws.name)).toEqual([]);
    const st = await ws.run(['status']);
    expect(st.code).toBe(4);
    expect(st.stdout.trim()).toBe(`stack ${ws.name} is not running (run \`helfy up\`)`);
  }, 120_000);
});

describe.skipIf(SKIP)('compose v2 (plugin built from github.com/docker/compose/v2)', () => {
  let ws: Workspace;
  const v2 = { DOCKER_CONFIG: COMPOSE_V2_CONFIG, HELFY_COMPOSE: 'v2' };

  beforeAll(async () => {
    // Not a skip: a missing plugin is a provisioning failure (infra/docker/compose-v2.sh builds it).
    expect(hasComposeV2, `compose v2 plugin missing under ${COMPOSE_V2_CONFIG}: run infra/docker/compose-v2.sh`).toBe(true);
    ws = await makeWorkspace(`e2ev2${Date.now().toString(36)}`, await prepareDocker());
  }, 3_600_000);

  afterAll(async () => {
    if (!ws) return;
    await ws.run(['down', '--volumes', '--yes'], { env: v2 });
    rmSync(ws.dir, { recursive: true, force: true });
  }, 120_000);

  it('up worker (postgres, temporal-schema, temporal, worker) → healthy → down --volumes, through `docker compose`', async () => {
    const up = await ws.run(['up', 'worker', '--json', '--timeout', '240s'], { env: v2, timeoutMs: 1_500_000 });
    expect(up.code, up.stderr + up.stdout).toBe(0);
    expect(up.json.compose).toMatchObject({ flavor: 'v2', command: 'docker compose' });
    expect(up.json.services.map((s: { name: string; state: string }) => `${s.name}:${s.state}`)).toEqual(['postgres:healthy', 'temporal-schema:completed', 'temporal:healthy', 'worker:healthy']);
    const names = (await projectContainers(ws.name)).map((c) => c.name).sort();
    expect(names).toEqual([`${ws.name}-postgres-1`, `${ws.name}-temporal-1`, `${ws.name}-temporal-schema-1`, `${ws.name}-worker-1`]);
    const since = Math.floor(Date.now() / 1000) - 1;
    const down = await ws.run(['down', '--volumes', '--yes'], { env: v2 });
    expect(down.code, down.stderr).toBe(0);
    expect((await exitCodesSince(ws.name, since)).worker).toEqual(['0']);
    expect(await projectContainers(ws.name)).toEqual([]);
    expect(await projectVolumes(ws.name)).toEqual([]);
  }, 1_600_000);
});
