/**
 * `helfy export swarm` rendered in a fresh workspace: `docker stack config` (the docker CLI,
 * offline: no daemon is asked) validates and interpolates the stack file, then the semantics a
 * schema cannot see are checked against the service catalog.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { proxySecret } from '../../src/apps/env.js';
import { CATALOG, defaultServices } from '../../src/stack/catalog.js';
import { composeModel } from '../../src/stack/compose-file.js';
import { contents, exportCli, filesIn, provisionKubernetesValidate, pythonOf, readYamlDocs, run, workspace } from './harness.js';

let ws: { dir: string; secrets: Record<string, string> };
let out: string;
let result: any;
let stack: any;
let python: string;

/** The docker CLI: on PATH, else the one infra/docker provisions into the helfy cache. */
async function dockerCli(): Promise<string | undefined> {
  const which = await run('sh', ['-c', 'command -v docker']);
  if (which.code === 0 && which.stdout.trim()) return which.stdout.trim();
  const cache = process.env.HELFY_CACHE_DIR ?? join(process.env.HOME ?? '', '.cache', 'helfy');
  const found = await run('find', [cache, '-name', 'docker', '-type', 'f', '-perm', '-u+x']);
  return found.stdout.trim().split('\n').find(Boolean);
}

beforeAll(async () => {
  const p = await provisionKubernetesValidate();
  expect(p.error, 'provisioning the YAML reader (infra/kubernetes-validate.sh) failed').toBeUndefined();
  python = pythonOf(p.bin!);
  ws = await workspace('shop');
  out = join(ws.dir, 'deploy', 'swarm');
  const r = await exportCli(ws.dir, ['swarm', '--out', 'deploy/swarm', '--registry', 'ghcr.io/acme', '--tag', 'v7']);
  expect(r.code, r.stderr).toBe(0);
  result = r.json;
  [stack] = await readYamlDocs(python, [join(out, 'docker-stack.yml')]);
}, 600_000);

describe('helfy export swarm', () => {
  it('docker stack config validates the stack file without a daemon', async () => {
    const docker = await dockerCli();
    expect(docker, 'no docker CLI on PATH or in the helfy cache (infra/docker/engine.sh provisions one)').toBeTruthy();
    const t0 = performance.now();
    const r = await run(docker!, ['stack', 'config', '-c', join(out, 'docker-stack.yml')], { cwd: out });
    expect(r.code, r.stderr).toBe(0);
    console.log(`swarm export: ${Object.keys(stack.services).length} services checked by docker stack config in ${Math.round(performance.now() - t0)} ms`);
    const rendered = join(ws.dir, 'rendered-stack.yml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(rendered, r.stdout);
    const [cfg] = await readYamlDocs(python, [rendered]);
    // Interpolation leaves the wrapper's shell intact ($$ → $).
    expect(cfg.services.api.entrypoint[2]).toContain('export JWT_SECRET="$(cat /run/secrets/helfy_jwt_secret)"');
    expect(Object.keys(cfg.services).sort()).toEqual(Object.keys(stack.services).sort());
  });

  it('services from the catalog, images only, the short depends_on, the catalog healthchecks', () => {
    const model = composeModel(CATALOG.filter((d) => defaultServices().includes(d.name) || d.name === 'temporal-schema'));
    for (const def of CATALOG.filter((d) => d.kind === 'daemon' && !d.profile)) {
      const s = stack.services[def.name];
      expect(s, def.name).toBeTruthy();
      expect(s.build).toBeUndefined();
      expect(s.healthcheck).toEqual(model.services[def.name]!.healthcheck);
      expect(s.depends_on ?? []).toEqual(Object.keys(def.dependsOn));
      expect(s.deploy).toMatchObject({ mode: 'replicated', replicas: 1, endpoint_mode: 'dnsrr' });
      expect(s.volumes ?? []).toEqual(def.volumes.map((v) => `${v.name}:${v.target}`));
    }
    expect(stack.services.api.image).toBe('ghcr.io/acme/api:v7');
    expect(stack.services.worker.image).toBe('ghcr.io/acme/api:v7');
    expect(stack.services.web.image).toBe('ghcr.io/acme/web:v7');
    expect(stack.services.postgres.image).toBe('timescale/timescaledb-ha:pg16');
  });

  it('the one-off steps are replicated-job services that wait for what they need', () => {
    const jobs = Object.entries(stack.services).filter(([, s]: [string, any]) => s.deploy.mode === 'replicated-job').map(([n]) => n);
    expect(jobs.sort()).toEqual(['migrate-neo4j', 'migrate-postgres', 'postgres-bootstrap', 'temporal-namespace', 'temporal-schema']);
    for (const j of jobs) {
      expect(stack.services[j].deploy.restart_policy.condition).toBe('on-failure');
      expect(stack.services[j].deploy.endpoint_mode).toBe('dnsrr');
    }
    expect(stack.services['migrate-postgres'].command.at(-1)).toBe('sh /helfy/scripts/wait-for-bootstrap.sh && sh /helfy/scripts/migrate-postgres.sh');
    expect(stack.services['migrate-postgres'].depends_on).toEqual(['postgres-bootstrap']);
  });

  it('only the apps publish ports, in host mode, on the configured host ports', () => {
    const published = Object.entries(stack.services).filter(([, s]: [string, any]) => s.ports).map(([n]) => n).sort();
    expect(published).toEqual(['api', 'web']);
    expect(stack.services.api.ports).toEqual([{ target: 3000, published: 3000, protocol: 'tcp', mode: 'host' }]);
    expect(stack.services.web.ports).toEqual([{ target: 3000, published: 3001, protocol: 'tcp', mode: 'host' }]);
  });

  it('secrets are Docker secrets: every one referenced is declared and has its file (0600); configs exist', () => {
    const declared = Object.keys(stack.secrets);
    for (const [name, s] of Object.entries(stack.services) as [string, any][]) {
      for (const ref of s.secrets ?? []) expect(declared, `${name} → ${ref.source}`).toContain(ref.source);
      for (const ref of s.configs ?? []) expect(stack.configs[ref.source], `${name} → ${ref.source}`).toBeTruthy();
    }
    for (const [name, def] of Object.entries(stack.secrets) as [string, any][]) {
      const file = join(out, def.file);
      expect(existsSync(file), name).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
    for (const c of Object.values(stack.configs) as any[]) expect(existsSync(join(out, c.file)), c.file).toBe(true);
    expect(declared.sort()).toEqual(result.secretKeys.map((k: string) => k.toLowerCase()).sort());
    expect(stack.services.postgres.environment.POSTGRES_PASSWORD_FILE).toBe('/run/secrets/helfy_postgres_password');
  });

  it('no secret value in the stack file, the scripts or the output: only in secrets/', () => {
    const values = [...Object.values(ws.secrets), proxySecret({ api: { jwtSecret: ws.secrets.HELFY_JWT_SECRET! } })];
    for (const [file, text] of Object.entries(contents(out))) {
      if (file.startsWith('secrets/')) continue;
      for (const v of values) expect(text.includes(v), `${file} holds a secret value`).toBe(false);
    }
    for (const v of values) expect(JSON.stringify(result).includes(v)).toBe(false);
    for (const s of Object.values(stack.services) as any[]) for (const v of Object.values(s.environment ?? {})) expect(String(v)).not.toMatch(/PASSWORD|SECRET/);
  });

  it('--secrets external: external secrets, no secret files, no value anywhere', async () => {
    const r = await exportCli(ws.dir, ['swarm', '--out', 'deploy/swarm-external', '--secrets', 'external']);
    expect(r.code, r.stderr).toBe(0);
    const dir = join(ws.dir, 'deploy', 'swarm-external');
    expect(filesIn(dir).filter((f) => f.startsWith('secrets/'))).toEqual([]);
    const all = Object.values(contents(dir)).join('\n') + r.stdout + r.stderr;
    for (const v of Object.values(ws.secrets)) expect(all.includes(v)).toBe(false);
    const [s] = await readYamlDocs(python, [join(dir, 'docker-stack.yml')]);
    for (const def of Object.values(s.secrets) as any[]) expect(def.external).toBe(true);
  });
});
