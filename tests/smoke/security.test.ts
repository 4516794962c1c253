/**
 * The security checks of `helfy smoke` on their failing side. The real engine's healthy side is
 * in smoke.e2e.test.ts; here the container listing and logs come from a FAKE runtime (a stand-in
 * for the Docker engine: a container leaking a secret or publishing on every address is what a
 * healthy stack never shows), over a real workspace made by `helfy init` (its real .env secrets).
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, readDotenvFile, type HelfyConfig } from '../../src/config/load.js';
import { smokeChecks } from '../../src/smoke/checks.js';
import { runChecks, type CheckDef } from '../../src/smoke/scheduler.js';
import type { ContainerSnapshot } from '../../src/stack/health.js';
import type { StackRuntime } from '../../src/stack/runtime.js';
import { helfy, tempDir } from '../helpers/cli.js';

let dir: string;
let cfg: HelfyConfig;
let jwt: string;

beforeAll(async () => {
  dir = tempDir('helfy-smoke-sec-');
  const r = await helfy(['init', dir, '--yes', '--name', 'smokesec', '--no-apps']);
  if (r.code !== 0) throw new Error(r.stderr);
  cfg = loadConfig({ cwd: dir, env: {}, requireSecrets: true });
  jwt = readDotenvFile(dir).get('HELFY_JWT_SECRET')!.value;
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function container(service: string, ports: ContainerSnapshot['ports']): ContainerSnapshot {
  return { id: `id-${service}`, name: `smokesec_${service}_1`, service, state: 'running', status: 'Up', image: 'x', labels: {}, ports, createdAt: 0 };
}

/** FAKE runtime: only what the security checks call (containers, logs). */
function fakeRuntime(list: ContainerSnapshot[], logs: Record<string, string[]>): StackRuntime {
  return {
    project: 'smokesec',
    containers: async () => list,
    logs: async (id: string) => (logs[id.replace(/^id-/, '')] ?? []).map((text) => ({ stream: 'stdout' as const, text })),
  } as unknown as StackRuntime;
}

function securityChecks(rt: StackRuntime): CheckDef[] {
  const user = { email: 'x@helfy.test', password: 'p', displayName: 'X', weightKg: 70, day: '2026-12-01', pointTime: '2026-12-01T00:00:00Z' };
  return smokeChecks({ cfg, rt, services: [], status: Promise.reject(new Error('unused')).catch(() => undefined) as never, user, trace: { workflowIds: new Set() }, timeoutMs: 5000, browser: false, chromiumPath: '/nonexistent' })
    .filter((d) => d.group === 'security');
}

describe('security checks', () => {
  it('a secret value in a service log fails the check, naming the key and the service, never the value', async () => {
    const rt = fakeRuntime([container('api', []), container('postgres', [])], {
      api: ['listening on 3000', `config: {"JWT_SECRET":"${jwt}"}`],
      postgres: [`password is ${cfg.postgres.superuserPassword}`],
    });
    const rs = await runChecks(securityChecks(rt), { signal: new AbortController().signal });
    const secrets = rs.find((r) => r.id === 'security.secrets')!;
    expect(secrets.status).toBe('failed');
    expect(secrets.message).toBe('secret value(s) found in logs: HELFY_JWT_SECRET in api, HELFY_POSTGRES_PASSWORD in postgres');
    expect(JSON.stringify(rs)).not.toContain(jwt);
    expect(JSON.stringify(rs)).not.toContain(cfg.postgres.superuserPassword);
  });

  it('clean logs pass, counting the secrets checked', async () => {
    const rt = fakeRuntime([container('api', [])], { api: ['listening on 3000'] });
    const [, secrets] = await runChecks(securityChecks(rt), { signal: new AbortController().signal });
    expect(secrets).toMatchObject({ status: 'passed', message: expect.stringMatching(/^\d+ secret\(s\) checked against the logs of 1 container\(s\)$/) });
  });

  it('a port published on every address (or another one) fails the port check, naming it', async () => {
    const rt = fakeRuntime([
      container('postgres', [{ host: '127.0.0.1', hostPort: 5432, containerPort: 5432 }]),
      container('neo4j', [{ host: '0.0.0.0', hostPort: 7687, containerPort: 7687 }, { host: '::', hostPort: 7687, containerPort: 7687 }]),
    ], {});
    const [ports] = await runChecks(securityChecks(rt), { signal: new AbortController().signal });
    expect(ports).toMatchObject({ status: 'failed', message: 'published beyond 127.0.0.1: neo4j 0.0.0.0:7687->7687, neo4j :::7687->7687' });
    const ok = await runChecks(securityChecks(fakeRuntime([container('postgres', [{ host: '127.0.0.1', hostPort: 5432, containerPort: 5432 }])], {})), { signal: new AbortController().signal });
    expect(ok[0]).toMatchObject({ status: 'passed', message: '1 published port(s), all on 127.0.0.1' });
  });
});
