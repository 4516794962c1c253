/**
 * The compose file: generated from the catalog, committed, valid for compose v1 and v2.
 * HELFY_WRITE_COMPOSE=1 rewrites compose/docker-compose.yml from the catalog.
 */
import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOG, defaultServices, servicesToBuild, withDependencies } from '../../src/stack/catalog.js';
import { COMPOSE_FILE, composeModel, composeYaml, hashVar, validateComposeModel } from '../../src/stack/compose-file.js';
import { buildTag, composeEnv, dockerignore, proxySubnet, referencedVars, webOrigin } from '../../src/stack/env.js';
import { PACKAGE_ROOT as REPO_ROOT } from '../../src/config/paths.js';
import { toYaml } from '../../src/stack/yaml.js';
import type { HelfyConfig } from '../../src/config/load.js';
import { SETTINGS } from '../../src/config/settings.js';

if (process.env.HELFY_WRITE_COMPOSE === '1') writeFileSync(COMPOSE_FILE, composeYaml());

function fakeConfig(over: Record<string, string> = {}): HelfyConfig {
  const values = SETTINGS.map((s) => ({ key: s.env, raw: over[s.env] ?? ('default' in s ? s.default : `secret-${s.env.toLowerCase()}`), source: { kind: 'default' as const }, secret: Boolean((s as { secret?: boolean }).secret) }));
  const get = (k: string) => values.find((v) => v.key === k)!.raw!;
  return {
    root: '/tmp/x', projectName: get('HELFY_PROJECT_NAME'), bindAddress: get('HELFY_BIND_ADDRESS'), timescale: 'optional',
    ports: { postgres: 5432, neo4jHttp: 7474, neo4jBolt: 7687, temporal: 7233, temporalUi: 8233, api: 3000, web: 3001 },
    postgres: { host: '127.0.0.1', port: 5432, superuser: 'postgres', superuserPassword: 'p', appOwnerPassword: 'o', appPassword: 'a', temporalPassword: 't' },
    neo4j: { host: '127.0.0.1', boltPort: 7687, httpPort: 7474, user: 'neo4j', password: 'n' },
    temporal: { host: '127.0.0.1', port: 7233, namespace: 'helfy', retentionHours: 72 },
    api: { jwtSecret: 'j' },
    images: { postgres: get('HELFY_POSTGRES_IMAGE'), temporal: get('HELFY_TEMPORAL_IMAGE'), temporalAdminTools: get('HELFY_TEMPORAL_ADMIN_TOOLS_IMAGE'), temporalUi: get('HELFY_TEMPORAL_UI_IMAGE'), neo4j: get('HELFY_NEO4J_IMAGE'), node: get('HELFY_NODE_IMAGE') },
    values,
  } as HelfyConfig;
}

describe('compose file generation', () => {
  it('the committed compose/docker-compose.yml is what the catalog generates', () => {
    expect(existsSync(COMPOSE_FILE)).toBe(true);
    expect(readFileSync(COMPOSE_FILE, 'utf8')).toBe(composeYaml());
  });

  it('passes the structural checks (pinned overridable images, bound ports, labels, named volumes)', () => {
    expect(validateComposeModel(composeModel())).toEqual([]);
  });

  it('the checks catch a latest tag, an unbound port, a bind mount and an unknown dependency', () => {
    const m = composeModel();
    m.services.postgres!.image = '${HELFY_POSTGRES_IMAGE:-postgres:latest}';
    m.services.neo4j!.ports = ['7474:7474'];
    m.services.neo4j!.volumes = ['./data:/data'];
    m.services.api!.depends_on = { nope: { condition: 'service_started' } };
    const problems = validateComposeModel(m).join('\n');
    expect(problems).toContain('postgres: image uses latest');
    expect(problems).toContain('neo4j: port 7474:7474 is not bound to HELFY_BIND_ADDRESS');
    expect(problems).toContain('neo4j: bind mount ./data:/data');
    expect(problems).toContain('api: depends on unknown service nope');
  });

  it('encodes the production contracts of each service', () => {
    const s = composeModel().services;
    expect(s.postgres!.volumes).toEqual(['pgdata:/home/postgres/pgdata']);
    expect(JSON.stringify(s.postgres!.healthcheck)).toContain('pg_isready');
    expect(s.neo4j!.volumes).toEqual(['neo4j-data:/data', 'neo4j-logs:/logs']);
    expect((s.neo4j!.healthcheck as { test: string[] }).test.join(' ')).toContain('wget -q -t 1 -T 3 --spider http://localhost:7474');
    expect((s.neo4j!.environment as Record<string, string>).NEO4J_AUTH).toMatch(/^neo4j\/\$\{HELFY_NEO4J_PASSWORD:\?/);
    const t = s.temporal!.environment as Record<string, string>;
    expect(t).toMatchObject({ DB: 'postgres12', DBNAME: 'helfy_temporal', VISIBILITY_DBNAME: 'helfy_temporal_visibility', POSTGRES_SEEDS: 'postgres', POSTGRES_USER: 'helfy_temporal' });
    expect(t.POSTGRES_PWD).toMatch(/^\$\{HELFY_TEMPORAL_DB_PASSWORD:\?/);
    expect(s.temporal!.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, 'temporal-schema': { condition: 'service_completed_successfully' } });
    const job = s['temporal-schema']!;
    expect((job.environment as Record<string, string>).SQL_USER).toBe('helfy_temporal');
    expect(String((job.command as string[])[0])).toMatch(/setup-schema -v 0\.0[\s\S]*update-schema/);
    expect(s['temporal-ui']!.profiles).toEqual(['ui']);
    expect(s.api!.build).toMatchObject({ context: '${HELFY_API_CONTEXT:-../templates/api}', args: { HELFY_NODE_IMAGE: '${HELFY_NODE_IMAGE:-node:22-bookworm-slim}' } });
    for (const [name, svc] of Object.entries(s)) expect((svc.labels as Record<string, string>)['dev.helfy.config-hash'], name).toBe(`\${${hashVar(name as never)}:-none}`);
  });

  it('services start in dependency order and a plain up leaves optional profiles out', () => {
    expect(Object.keys(composeModel().services)).toEqual(['postgres', 'neo4j', 'temporal-schema', 'temporal', 'temporal-ui', 'api', 'worker', 'web']);
    expect(defaultServices()).not.toContain('temporal-ui');
    expect(defaultServices()).toContain('worker');
    expect(withDependencies(['web'])).toEqual(['postgres', 'neo4j', 'temporal-schema', 'temporal', 'api', 'web']);
    expect(withDependencies(['worker'])).toEqual(['postgres', 'temporal-schema', 'temporal', 'worker']);
    expect(withDependencies(['temporal-ui'])).toEqual(['postgres', 'temporal-schema', 'temporal', 'temporal-ui']);
  });

  it('the worker runs the api image with its own entrypoint; one build serves both', () => {
    const s = composeModel().services;
    expect(s.worker!.image).toBe('helfy-local/api:${HELFY_API_IMAGE_TAG:-dev}');
    expect(s.worker!.build).toBeUndefined();
    expect(s.api!.image).toBe(s.worker!.image);
    expect(s.api!.command).toEqual(['node', '/app/dist/server.js']);
    expect(s.worker!.command).toEqual(['node', '/app/dist/worker.js']);
    expect(s.worker!.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, temporal: { condition: 'service_started' } });
    expect(s.api!.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, neo4j: { condition: 'service_started' }, temporal: { condition: 'service_started' } });
    expect(s.worker!.ports).toBeUndefined();
    expect((s.worker!.healthcheck as { test: string[] }).test.join(' ')).toContain('http://127.0.0.1:3100/health');
    expect(s.worker!.stop_grace_period).toBe('10s');
    const we = s.worker!.environment as Record<string, string>;
    expect(we).toMatchObject({ HELFY_SERVICE: 'worker', HEALTH_PORT: '3100', TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: '${HELFY_TEMPORAL_NAMESPACE:-helfy}', TEMPORAL_TASK_QUEUE: 'helfy', NODE_ENV: 'production' });
    expect(we.DATABASE_URL).toMatch(/^postgres:\/\/helfy_api:\$\{HELFY_APP_PASSWORD:\?/);
    // Least privilege: the worker gets no secret it does not use.
    expect(we.JWT_SECRET).toBeUndefined();
    expect(we.NEO4J_PASSWORD).toBeUndefined();
    const ae = s.api!.environment as Record<string, string>;
    expect(ae.JWT_SECRET).toMatch(/^\$\{HELFY_JWT_SECRET:\?/);
    expect(ae).toMatchObject({ NEO4J_URL: 'bolt://neo4j:7687', NEO4J_USER: 'neo4j', PORT: '3000', HELFY_SERVICE: 'api' });
    expect(ae.NEO4J_PASSWORD).toMatch(/^\$\{HELFY_NEO4J_PASSWORD:\?/);
    expect(ae.WEB_ORIGIN).toBe('http://${HELFY_WEB_HOST:-127.0.0.1}:${HELFY_WEB_PORT:-3001}');
    // No build labels (each would be one more container commit of the image build).
    expect(s.api!.build).toEqual({ context: '${HELFY_API_CONTEXT:-../templates/api}', args: { HELFY_NODE_IMAGE: '${HELFY_NODE_IMAGE:-node:22-bookworm-slim}' } });
    expect(servicesToBuild(['postgres', 'api', 'worker', 'web'])).toEqual(['api', 'web']);
    expect(servicesToBuild(['worker'])).toEqual(['api']);
  });

  it('web → api: a network of their own; the API trusts X-Forwarded-For from the web container\'s address only', () => {
    const m = composeModel();
    const s = m.services;
    expect(s.web!.networks).toEqual({ 'web-api': { ipv4_address: '${HELFY_WEB_PROXY_ADDRESS:-10.254.254.2}' } });
    expect(s.api!.networks).toEqual({ default: {}, 'web-api': { ipv4_address: '${HELFY_API_PROXY_ADDRESS:-10.254.254.3}' } });
    // Not "any peer" (true) nor the network: the API port is published too, and its traffic comes from the gateway.
    expect((s.api!.environment as Record<string, string>).TRUST_PROXY).toBe('${HELFY_WEB_PROXY_ADDRESS:-10.254.254.2}');
    expect(s.worker!.networks).toBeUndefined();
    expect(m.networks['web-api']!.ipam).toEqual({ config: [{ subnet: '${HELFY_PROXY_SUBNET:-10.254.254.0/28}' }] });
    const env = composeEnv(fakeConfig({ HELFY_PROJECT_NAME: 'alpha' }));
    const subnet = env.vars.HELFY_PROXY_SUBNET!;
    expect(subnet).toBe(proxySubnet('alpha'));
    expect(subnet).toMatch(/^10\.254\.\d{1,3}\.\d{1,3}\/28$/);
    const [a, b, c, d] = subnet.split('/')[0]!.split('.').map(Number);
    expect([a, b, c! < 256, d! % 16]).toEqual([10, 254, true, 0]);
    expect(env.vars.HELFY_WEB_PROXY_ADDRESS).toBe(`10.254.${c}.${d! + 2}`);
    expect(env.vars.HELFY_API_PROXY_ADDRESS).toBe(`10.254.${c}.${d! + 3}`);
    // Another project gets another /28 (4,096 of them), the same project always the same one.
    const names = Array.from({ length: 50 }, (_, i) => `project-${i}`);
    expect(new Set(names.map(proxySubnet)).size).toBeGreaterThan(45);
    expect(proxySubnet('alpha')).toBe(subnet);
  });

  it('WEB_ORIGIN is the web URL helfy prints: the bind address, 127.0.0.1 for 0.0.0.0 / ::', () => {
    expect(composeEnv(fakeConfig()).vars).toMatchObject({ HELFY_WEB_HOST: '127.0.0.1', HELFY_WEB_PORT: '3001' });
    const wide = fakeConfig({ HELFY_BIND_ADDRESS: '::' });
    expect(composeEnv({ ...wide, bindAddress: '::', ports: { ...wide.ports, web: 4001 } }).vars).toMatchObject({ HELFY_WEB_HOST: '127.0.0.1', HELFY_WEB_PORT: '4001' });
    const six = fakeConfig({ HELFY_BIND_ADDRESS: '::1' });
    expect(composeEnv({ ...six, bindAddress: '::1' }).vars.HELFY_WEB_HOST).toBe('[::1]');
    const any = fakeConfig({ HELFY_BIND_ADDRESS: '0.0.0.0' });
    expect(webOrigin({ ...any, bindAddress: '0.0.0.0' })).toBe('http://127.0.0.1:3001');
    expect(webOrigin({ ...any, bindAddress: '::' })).toBe('http://127.0.0.1:3001');
    expect(webOrigin({ ...any, bindAddress: '192.168.1.20', ports: { ...any.ports, web: 4001 } })).toBe('http://192.168.1.20:4001');
    expect(webOrigin({ ...any, bindAddress: '::1' })).toBe('http://[::1]:3001');
  });

  it('builds from the workspace copy (apps/<app>) when it exists, else the template; the tag follows that folder', () => {
    const root = mkdtempSync(join(tmpdir(), 'helfy-ws-'));
    try {
      const cfg = { ...fakeConfig(), root };
      const t = composeEnv(cfg);
      expect(t.vars.HELFY_API_CONTEXT).toBe(join(REPO_ROOT, 'templates/api'));
      expect(t.vars.HELFY_WEB_CONTEXT).toBe(join(REPO_ROOT, 'templates/web'));
      expect(t.buildContexts.web).toEqual({ dir: join(REPO_ROOT, 'templates/web'), from: 'template' });
      // A workspace copy of web (a minimal one is enough for the tag).
      mkdirSync(join(root, 'apps/web/pages'), { recursive: true });
      writeFileSync(join(root, 'apps/web/package.json'), '{}');
      writeFileSync(join(root, 'apps/web/Dockerfile'), 'FROM x\n');
      writeFileSync(join(root, 'apps/web/pages/+Page.tsx'), 'export default () => "a"');
      const w1 = composeEnv(cfg);
      expect(w1.vars.HELFY_WEB_CONTEXT).toBe(join(root, 'apps/web'));
      expect(w1.buildContexts.web!.from).toBe('workspace');
      expect(w1.vars.HELFY_API_CONTEXT).toBe(join(REPO_ROOT, 'templates/api'));
      expect(w1.buildTags.web).not.toBe(t.buildTags.web);
      expect(w1.buildTags.api).toBe(t.buildTags.api);
      // The web container is recreated (its config hash names the context), the api one is not.
      expect(w1.hashes.web).not.toBe(t.hashes.web);
      expect(w1.hashes.api).toBe(t.hashes.api);
      // An edit to a page: a new web tag, nothing else changes.
      writeFileSync(join(root, 'apps/web/pages/+Page.tsx'), 'export default () => "b"');
      const w2 = composeEnv(cfg);
      expect(w2.buildTags.web).not.toBe(w1.buildTags.web);
      expect(w2.buildTags.api).toBe(w1.buildTags.api);
      // A build output beside the sources (excluded by the default .dockerignore rule) does not count.
      mkdirSync(join(root, 'apps/web/node_modules/x'), { recursive: true });
      writeFileSync(join(root, 'apps/web/node_modules/x/i.js'), 'x');
      expect(composeEnv(cfg).buildTags.web).toBe(w2.buildTags.web);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('Temporal: dynamic config from the workspace, no-auth said explicitly, the UI on helfy\'s namespace over http', () => {
    const s = composeModel().services;
    expect(s.temporal!.volumes).toEqual(['${HELFY_TEMPORAL_CONFIG_DIR:-./temporal/dynamicconfig}:/etc/temporal/config/dynamicconfig:ro']);
    expect((s.temporal!.environment as Record<string, string>).TEMPORAL_ALLOW_NO_AUTH).toBe('true');
    expect(s['temporal-ui']!.environment).toMatchObject({ TEMPORAL_DEFAULT_NAMESPACE: '${HELFY_TEMPORAL_NAMESPACE:-helfy}', TEMPORAL_CSRF_COOKIE_INSECURE: 'true' });
    const env = composeEnv(fakeConfig());
    expect(env.vars.HELFY_TEMPORAL_CONFIG_DIR).toBe('/tmp/x/.helfy/temporal/dynamicconfig');
  });

  it('the YAML emitter writes multi-line strings as literal blocks', () => {
    expect(toYaml({ cmd: ['set -eu\necho "$$X"\n  indented'], k: 'a\nb' })).toBe('cmd:\n  - |-\n    set -eu\n    echo "$$X"\n      indented\nk: |-\n  a\n  b\n');
  });

  it('the YAML emitter quotes every string so nothing is re-typed', () => {
    expect(toYaml({ a: 'no', b: ['1.0', 'x: y'], c: { on: 'off' }, d: [{ e: 1, f: true }] })).toBe(
      'a: "no"\nb:\n  - "1.0"\n  - "x: y"\nc:\n  "on": "off"\nd:\n  - e: 1\n    f: true\n',
    );
  });
});

describe('compose environment', () => {
  it('passes every resolved setting and a per-service hash that changes only with that service', () => {
    const a = composeEnv(fakeConfig());
    expect(a.vars.HELFY_POSTGRES_IMAGE).toBe('timescale/timescaledb-ha:pg16');
    expect(a.vars.HELFY_HASH_POSTGRES).toBe(a.hashes.postgres);
    const b = composeEnv(fakeConfig({ HELFY_NEO4J_IMAGE: 'mirror/neo4j:5.26.1' }));
    expect(b.hashes.neo4j).not.toBe(a.hashes.neo4j);
    expect(b.hashes.postgres).toBe(a.hashes.postgres);
    const c = composeEnv(fakeConfig({ HELFY_API_PORT: '4000' }));
    expect(c.hashes.api).not.toBe(a.hashes.api);
    expect(c.hashes.web).toBe(a.hashes.web);
  });

  it('built images get a tag that follows the template and the base image', () => {
    const dir = mkdtempSync(join(tmpdir(), 'helfy-ctx-'));
    try {
      writeFileSync(join(dir, 'Dockerfile'), 'FROM x\n');
      expect(buildTag(dir, 'node:20')).toMatch(/^[0-9a-f]{12}$/);
      expect(buildTag(dir, 'node:20')).toBe(buildTag(dir, 'node:20'));
      expect(buildTag(dir, 'node:22')).not.toBe(buildTag(dir, 'node:20'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the tag follows the build context: what .dockerignore leaves out does not count, the recipe always does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'helfy-ctx-'));
    try {
      writeFileSync(join(dir, 'Dockerfile'), 'FROM x\n');
      writeFileSync(join(dir, '.dockerignore'), '# comment\nnode_modules\ndist\n*.log\nDockerfile\n');
      mkdirSync(join(dir, 'src'));
      writeFileSync(join(dir, 'src/a.ts'), 'a');
      const t0 = buildTag(dir, 'n');
      mkdirSync(join(dir, 'dist'));
      writeFileSync(join(dir, 'dist/server.js'), 'built');
      writeFileSync(join(dir, 'debug.log'), 'x');
      mkdirSync(join(dir, 'node_modules/x'), { recursive: true });
      writeFileSync(join(dir, 'node_modules/x/i.js'), 'x');
      expect(buildTag(dir, 'n')).toBe(t0);
      writeFileSync(join(dir, 'src/a.ts'), 'b');
      const t1 = buildTag(dir, 'n');
      expect(t1).not.toBe(t0);
      writeFileSync(join(dir, 'Dockerfile'), 'FROM y\n');
      expect(buildTag(dir, 'n')).not.toBe(t1);
      const ig = dockerignore(dir);
      expect(['dist', 'dist/server.js', 'node_modules/x/i.js', 'debug.log'].map(ig)).toEqual([true, true, true, true]);
      expect(['src/a.ts', 'src/debug.log', 'Dockerfile', '.dockerignore'].map(ig)).toEqual([false, false, false, false]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds the variables a text refers to', () => {
    expect(referencedVars('${A:-x} $${B} ${C:?m}')).toEqual(['A', 'B', 'C']);
  });
});

/** The API's WEB_ORIGIN as `compose config` resolves it, with only `vars` (and the secrets) set. */
async function resolvedWebOrigin(compose: { cmd: string; args: string[]; env?: Record<string, string> }, vars: Record<string, string>): Promise<string> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HELFY_')));
  const secrets = Object.fromEntries(SETTINGS.filter((s) => (s as { secret?: boolean }).secret).map((s) => [s.env, 'x-secret']));
  const r = await execa(compose.cmd, [...compose.args, '-p', 'helfy-origin-test', '-f', COMPOSE_FILE, 'config'], { env: { ...clean, ...compose.env, ...secrets, ...vars }, extendEnv: false, reject: false });
  expect(r.stderr.replace(/^.*(?:version. is obsolete|WARN).*\n?/gm, '')).toBe('');
  expect(r.exitCode).toBe(0);
  return /WEB_ORIGIN: "?([^"\n]+)"?/.exec(r.stdout)![1]!;
}

const COMPOSE_V2_CONFIG = process.env.HELFY_COMPOSE_V2_DOCKER_CONFIG ?? join(process.env.HELFY_CACHE_DIR ?? join(homedir(), '.cache/helfy'), 'compose-v2');
const hasV2 = existsSync(join(COMPOSE_V2_CONFIG, 'cli-plugins/docker-compose'));

describe('WEB_ORIGIN with and without helfy, compose v1 and v2', () => {
  const composes = [
    { name: 'v1 (docker-compose)', cmd: 'docker-compose', args: [] },
    { name: 'v2 (docker compose)', cmd: 'docker', args: ['compose'], env: { DOCKER_CONFIG: COMPOSE_V2_CONFIG } },
  ];
  it('the compose v2 plugin is there (infra/docker/compose-v2.sh builds it)', () => expect(hasV2).toBe(true));
  for (const c of composes) {
    it(`${c.name}: plain compose follows HELFY_WEB_PORT; under helfy it is the printed web URL`, async () => {
      expect(await resolvedWebOrigin(c, {})).toBe('http://127.0.0.1:3001');
      expect(await resolvedWebOrigin(c, { HELFY_WEB_PORT: '4001' })).toBe('http://127.0.0.1:4001');
      const lan = fakeConfig({ HELFY_BIND_ADDRESS: '192.168.1.20', HELFY_WEB_PORT: '4002' });
      expect(await resolvedWebOrigin(c, composeEnv({ ...lan, bindAddress: '192.168.1.20', ports: { ...lan.ports, web: 4002 } }).vars)).toBe('http://192.168.1.20:4002');
      const all = fakeConfig({ HELFY_BIND_ADDRESS: '0.0.0.0' });
      expect(await resolvedWebOrigin(c, composeEnv({ ...all, bindAddress: '0.0.0.0' }).vars)).toBe('http://127.0.0.1:3001');
    }, 60_000);
  }
});

const hasV1 = await execa('docker-compose', ['version', '--short'], { reject: false }).then((r) => r.exitCode === 0, () => false);

describe('compose v1 accepts the file (docker-compose config)', () => {
  it('docker-compose v1 is installed (infra/docker/engine.sh ensure installs it)', () => expect(hasV1).toBe(true));
  it('interpolates HELFY_* and validates', async () => {
    const env = composeEnv(fakeConfig({ HELFY_BIND_ADDRESS: '127.0.0.2', HELFY_POSTGRES_PORT: '15432' }));
    const r = await execa('docker-compose', ['-p', 'helfy-test', '-f', COMPOSE_FILE, '--profile', 'ui', 'config'], { env: { ...process.env, ...env.vars }, reject: false });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('127.0.0.2:15432:5432');
    expect(r.stdout).toContain('condition: service_completed_successfully');
    expect(r.stdout).toContain(`dev.helfy.config-hash: ${env.hashes.postgres}`);
    // The workspace copy of Temporal's dynamic config is what gets mounted.
    expect(r.stdout).toContain('/tmp/x/.helfy/temporal/dynamicconfig:/etc/temporal/config/dynamicconfig:ro');
    expect(r.stdout).toMatch(/worker:\n(?:\s+.*\n)*?\s+image: helfy-local\/api:[0-9a-f]{12}/);
    // The build contexts helfy sets (here: the templates; /tmp/x has no apps/), the web → api network.
    expect(r.stdout).toContain(`context: ${env.vars.HELFY_API_CONTEXT}`);
    expect(r.stdout).toContain(`context: ${env.vars.HELFY_WEB_CONTEXT}`);
    expect(r.stdout).toContain(`subnet: ${env.vars.HELFY_PROXY_SUBNET}`);
    expect(r.stdout).toContain(`TRUST_PROXY: ${env.vars.HELFY_WEB_PROXY_ADDRESS}`);
    expect(r.stdout).toContain(`ipv4_address: ${env.vars.HELFY_WEB_PROXY_ADDRESS}`);
    expect(r.stdout).toContain('WEB_ORIGIN: http://127.0.0.2:3001');
  });

  it('refuses to run without the secrets, naming the variable', async () => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HELFY_')));
    const r = await execa('docker-compose', ['-p', 'helfy-test', '-f', COMPOSE_FILE, 'config', '-q'], { env: clean, extendEnv: false, reject: false });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/HELFY_[A-Z_]+ is not set/);
  });
});
