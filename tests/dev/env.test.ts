/**
 * The environment of the dev processes: built from the containers' own definitions
 * (src/stack/services/app.ts) for a real workspace (`helfy init`, then loadConfig), with every
 * container address turned into the host address and published port of that service.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type HelfyConfig } from '../../src/config/load.js';
import { HelfyError } from '../../src/core/errors.js';
import { childEnvironment, devEnvironment, interpolate, proxySecret } from '../../src/apps/env.js';
import { nativeAppEnvironment } from '../../src/runtime/native/services/apps.js';
import { devCommand } from '../../src/dev/run.js';
import { service } from '../../src/stack/catalog.js';
import { composeEnv } from '../../src/stack/env.js';
import { helfy, tempDir } from '../helpers/cli.js';

let ws: string;
let cfg: HelfyConfig;
let vars: Record<string, string>;
const settings = {
  HELFY_POSTGRES_HOST: '10.1.2.3', HELFY_POSTGRES_PORT: '15432', HELFY_NEO4J_HOST: 'graph.local', HELFY_NEO4J_BOLT_PORT: '17687',
  HELFY_TEMPORAL_HOST: '127.0.0.9', HELFY_TEMPORAL_PORT: '17233', HELFY_API_PORT: '13000', HELFY_WEB_PORT: '13001',
  HELFY_BIND_ADDRESS: '127.0.0.1', HELFY_TEMPORAL_NAMESPACE: 'devns',
};

beforeAll(async () => {
  ws = tempDir('helfy-devenv-');
  const r = await helfy(['init', '--yes', '--name', 'devenv'], { cwd: ws });
  expect(r.code, r.stderr).toBe(0);
  cfg = loadConfig({ cwd: ws, env: settings });
  vars = composeEnv(cfg).vars;
});
afterAll(() => rmSync(ws, { recursive: true, force: true }));

describe('helfy dev: process environment', () => {
  it('api: the container variables, pointed at the published ports', () => {
    const env = devEnvironment(cfg, 'api', { vars, workerHealthPort: 4100 });
    expect(env.DATABASE_URL).toBe(`postgres://helfy_api:${cfg.postgres.appPassword}@10.1.2.3:15432/helfy_app`);
    expect(env.NEO4J_URL).toBe('bolt://graph.local:17687');
    expect(env.NEO4J_USER).toBe('neo4j');
    expect(env.NEO4J_PASSWORD).toBe(cfg.neo4j.password);
    expect(env.JWT_SECRET).toBe(cfg.api.jwtSecret);
    expect(env.TEMPORAL_ADDRESS).toBe('127.0.0.9:17233');
    expect(env.TEMPORAL_NAMESPACE).toBe('devns');
    expect(env.TEMPORAL_TASK_QUEUE).toBe('helfy');
    expect(env.WEB_ORIGIN).toBe('http://127.0.0.1:13001');
    expect(env).toMatchObject({ PORT: '13000', HOST: '127.0.0.1', NODE_ENV: 'development', HELFY_SERVICE: 'api' });
    // Every variable the container gets, and nothing left for compose to interpolate.
    expect(Object.keys(env)).toEqual(expect.arrayContaining(Object.keys(service('api').environment)));
    for (const v of Object.values(env)) expect(v).not.toContain('${');
  });

  it('worker: no Neo4j password, no JWT secret (as in its container); its own health port', () => {
    const env = devEnvironment(cfg, 'worker', { vars, workerHealthPort: 4100 });
    expect(env.DATABASE_URL).toContain('@10.1.2.3:15432/helfy_app');
    expect(env.TEMPORAL_ADDRESS).toBe('127.0.0.9:17233');
    expect(env.HEALTH_PORT).toBe('4100');
    expect(env.HELFY_SERVICE).toBe('worker');
    expect(env).not.toHaveProperty('JWT_SECRET');
    expect(env).not.toHaveProperty('NEO4J_PASSWORD');
  });

  it('web: API_URL is the API on the host; it listens on the web port', () => {
    const env = devEnvironment(cfg, 'web', { vars, workerHealthPort: 4100 });
    const { VITE_CONFIG, ...rest } = env;
    expect(rest).toEqual({ PORT: '13001', HELFY_SERVICE: 'web', API_URL: 'http://127.0.0.1:13000', NODE_ENV: 'development' });
    expect(JSON.parse(VITE_CONFIG!)).toEqual({ server: { watch: { awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 10 } } } });
    // The developer's own VITE_CONFIG is left alone.
    expect(devEnvironment(cfg, 'web', { vars, workerHealthPort: 4100, viteConfig: '{}' })).not.toHaveProperty('VITE_CONFIG');
    expect(devCommand('web', '/w/apps/web', cfg).args.slice(1)).toEqual(['dev', '--port', '13001', '--host', '127.0.0.1']);
    expect(devCommand('api', '/w/apps/api', cfg).args.slice(1)).toEqual(['watch', '--clear-screen=false', 'src/server.ts']);
    expect(devCommand('worker', '/w/apps/api', cfg).args.slice(1)).toEqual(['watch', '--clear-screen=false', 'src/worker.ts']);
  });

  it('native runtime: the API believes X-Forwarded-For only from loopback with the web server\'s PROXY_SECRET, which only api and web get', () => {
    const o = { vars, workerHealthPort: 4100 };
    const api = nativeAppEnvironment(cfg, 'api', o);
    const web = nativeAppEnvironment(cfg, 'web', o);
    const worker = nativeAppEnvironment(cfg, 'worker', o);
    // Loopback is where every local program connects from: the address alone is no proof.
    expect(api.TRUST_PROXY).toBe('127.0.0.1');
    expect(api.PROXY_SECRET).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(web.PROXY_SECRET).toBe(api.PROXY_SECRET);
    expect(worker).not.toHaveProperty('PROXY_SECRET');
    // Per workspace and stable (a restart keeps it; the spec hash does not change by itself) ...
    expect(nativeAppEnvironment(cfg, 'api', o).PROXY_SECRET).toBe(api.PROXY_SECRET);
    expect(proxySecret({ api: { jwtSecret: `${cfg.api.jwtSecret}x` } })).not.toBe(api.PROXY_SECRET);
    // ... and no workspace secret itself: the web server gets none of those.
    const secrets = [cfg.api.jwtSecret, cfg.neo4j.password, cfg.postgres.appPassword, cfg.postgres.superuserPassword, cfg.postgres.appOwnerPassword, cfg.postgres.temporalPassword];
    for (const v of Object.values(web)) for (const sec of secrets) expect(v).not.toContain(sec);
    // `helfy dev` does not trust loopback (its TRUST_PROXY is the Docker network's web address): no secret needed there.
    expect(devEnvironment(cfg, 'api', o).TRUST_PROXY).not.toBe('127.0.0.1');
  });

  it('children inherit PATH and the like, never helfy\'s own settings and secrets', () => {
    const env = childEnvironment({ PATH: '/bin', HOME: '/h', HELFY_POSTGRES_PASSWORD: 'superuser-secret', DOCKER_HOST: 'unix:///x' }, { PORT: '1' });
    expect(env).toEqual({ PATH: '/bin', HOME: '/h', PORT: '1' });
  });

  it('interpolation follows compose: default, required (named, value never shown), plain', () => {
    expect(interpolate('${A:-x}/${B}', { A: '', B: 'b' })).toBe('x/b');
    expect(interpolate('${A:-x}', { A: 'a' })).toBe('a');
    let err: unknown;
    try {
      interpolate('${HELFY_JWT_SECRET:?HELFY_JWT_SECRET is not set}', {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HelfyError);
    expect((err as HelfyError).message).toBe('HELFY_JWT_SECRET is not set');
    expect((err as HelfyError).exitCode).toBe(2);
  });
});
