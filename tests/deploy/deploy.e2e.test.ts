/**
 * `helfy deploy` through the built binary. Kubernetes: no API server on this machine, so the
 * refusals only (no kubectl on PATH → exit 3; the real kubectl with a cluster it cannot reach →
 * one line, exit 3). Swarm: a real deployment on the test Docker engine (single-node swarm,
 * initialised here when the engine is not in one, left again at the end), with the stand-in images
 * (which keep the production images' contracts, cypher-shell included): every one-off step done,
 * every service healthy, /health/ready 200 through the API's host-mode port, a user registers and
 * logs in, and `--remove --volumes` leaves nothing.
 */
import { execa } from 'execa';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helfy, tempDir } from '../helpers/cli.js';
import { makeWorkspace, prepareDocker, releaseDocker, type Workspace } from '../stack/e2e-support.js';

const SKIP_DOCKER = process.env.HELFY_SKIP_DOCKER === '1';

async function kubeWorkspace(): Promise<string> {
  const dir = join(tempDir('helfy-deploy-k8s-'), 'shop');
  mkdirSync(dir);
  const r = await helfy(['init', '--yes', '--no-apps', '--name', 'shop'], { cwd: dir });
  if (r.code !== 0) throw new Error(r.stderr);
  return dir;
}

describe('helfy deploy kubernetes: refusals', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await kubeWorkspace();
  }, 120_000);

  it('no kubectl on PATH: exit 3 naming kubectl, nothing written', async () => {
    const bin = tempDir('helfy-nokubectl-');
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = await helfy(['deploy', 'kubernetes'], { cwd: dir, env: { PATH: bin } });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/^error: kubectl is not on PATH/m);
    expect(r.stderr).toMatch(/^hint: Install kubectl/m);
  });

  it('the real kubectl with a cluster it cannot reach: one line with the cause (exit 3) and a hint', async () => {
    const kubeconfig = join(tempDir('helfy-kubeconfig-'), 'config');
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:9"}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: c, context: {cluster: nowhere, user: u}}]\ncurrent-context: c\n');
    const r = await helfy(['deploy', 'kubernetes', '--json'], { cwd: dir, env: { KUBECONFIG: kubeconfig } });
    expect(r.code, r.stderr).toBe(3);
    expect(r.json.error.code).toBe('CONNECTION_FAILED');
    expect(r.json.error.message).toMatch(/^kubectl cannot reach a cluster \(kubectl apply -k\): .*127\.0\.0\.1:9/);
    expect(r.json.error.message).not.toContain('\n');
    expect(r.json.error.hint).toContain('kubectl config current-context');
  });
});

async function swarmState(): Promise<string> {
  const r = await execa('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}'], { reject: false });
  return String(r.stdout).trim();
}

async function stackObjects(stack: string): Promise<string[]> {
  const label = `label=com.docker.stack.namespace=${stack}`;
  const q = async (args: string[]) => String((await execa('docker', args, { reject: false })).stdout).split('\n').filter(Boolean);
  return [
    ...(await q(['service', 'ls', '-q', '--filter', label])),
    ...(await q(['ps', '-aq', '--filter', label])),
    ...(await q(['config', 'ls', '-q', '--filter', label])),
    ...(await q(['secret', 'ls', '-q', '--filter', label])),
    ...(await q(['volume', 'ls', '-q', '--filter', label])),
  ];
}

describe.skipIf(SKIP_DOCKER)('helfy deploy swarm on a real engine', () => {
  let ws: Workspace;
  let initialised = false;
  let wasInactive = false;

  beforeAll(async () => {
    const images = await prepareDocker();
    ws = await makeWorkspace(`dep${Date.now().toString(36)}`, images);
    wasInactive = (await swarmState()) === 'inactive';
  }, 3_600_000);

  afterAll(async () => {
    if (ws) await ws.run(['deploy', 'swarm', '--remove', '--volumes', '--yes', '--timeout', '2m'], { timeoutMs: 180_000 });
    if (initialised) await execa('docker', ['swarm', 'leave', '--force'], { reject: false });
    await releaseDocker();
  }, 300_000);

  it('an engine that is not in a swarm: exit 3 with `docker swarm init`, nothing built or deployed', async () => {
    if (!wasInactive) return; // the engine is a swarm already (not ours to leave)
    const r = await ws.run(['deploy', 'swarm']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/^error: the Docker engine at .* is not part of a swarm \(swarm state: inactive\)$/m);
    expect(r.stderr).toMatch(/^hint: Run `docker swarm init`/m);
  });

  it('deploys: builds and tags the images, follows the one-off steps, waits for health, the API answers on its port; --remove leaves nothing', async () => {
    if (wasInactive) {
      const init = await execa('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1'], { reject: false });
      expect(init.exitCode, String(init.stderr)).toBe(0);
      initialised = true;
    }
    const t0 = performance.now();
    const r = await ws.run(['deploy', 'swarm', '--json', '--timeout', '10m'], { timeoutMs: 1_800_000 });
    const took = (performance.now() - t0) / 1000;
    process.stderr.write(`deploy swarm: exit ${r.code} in ${took.toFixed(1)} s\n`);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.json.urls.map((u: { label: string }) => u.label)).toEqual(['api', 'web']);
    // Ready through the published host-mode port: PostgreSQL, Neo4j (its migrations applied by the
    // migrate-neo4j job) and Temporal all answer the API.
    const api = `http://127.0.0.1:${ws.ports.api}`;
    const ready = await fetch(`${api}/health/ready`);
    expect(ready.status, await ready.text()).toBe(200);
    // A user registers and logs in: the bootstrap's roles, the migrations' tables, the JWT secret.
    const user = { email: `swarm-${Date.now()}@example.com`, password: 'a sturdy swarm passphrase', displayName: 'Swarm User' };
    const reg = await fetch(`${api}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(user) });
    expect(reg.status, await reg.clone().text()).toBe(201);
    const login = await fetch(`${api}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: user.email, password: user.password }) });
    expect(login.status).toBe(200);
    const token = ((await login.json()) as { accessToken: string }).accessToken;
    const me = await fetch(`${api}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    expect([me.status, ((await me.json()) as { email: string }).email]).toEqual([200, user.email]);
    const web = await fetch(`http://127.0.0.1:${ws.ports.web}/health`);
    expect(web.status).toBe(200);
    const tags = String((await execa('docker', ['service', 'ls', '--filter', `label=com.docker.stack.namespace=${ws.name}`, '--format', '{{.Name}} {{.Image}}'])).stdout);
    expect(tags).toMatch(new RegExp(`${ws.name}_api helfy-local/api:deploy-[0-9a-f]{12}`));

    const t1 = performance.now();
    const rm = await ws.run(['deploy', 'swarm', '--remove', '--volumes', '--yes', '--json', '--timeout', '2m'], { timeoutMs: 180_000 });
    process.stderr.write(`deploy swarm --remove: exit ${rm.code} in ${((performance.now() - t1) / 1000).toFixed(1)} s\n`);
    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.json.action).toBe('removed');
    expect(rm.json.removed.volumes.length).toBeGreaterThan(0);
    expect(await stackObjects(ws.name)).toEqual([]);
  }, 1_800_000);
});
