import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { helfy, tempDir } from '../helpers/cli.js';

function listen(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

describe('helfy doctor', () => {
  it('reports an unreachable Docker engine as a failure with a hint, exit 3', async () => {
    const dir = tempDir();
    await helfy(['init', '--yes'], { cwd: dir });
    const dead = `unix://${dir}/no-such-docker.sock`;
    const r = await helfy(['doctor', '--json'], { cwd: dir, env: { DOCKER_HOST: dead } });
    expect(r.code).toBe(3);
    expect(r.json.ok).toBe(false);
    const engine = r.json.checks.find((c: any) => c.id === 'docker-engine');
    expect(engine.status).toBe('fail');
    expect(engine.detail).toContain(`Docker engine unreachable at ${dir}/no-such-docker.sock`);
    expect(engine.fix).toContain('DOCKER_HOST');
    const human = await helfy(['doctor'], { cwd: dir, env: { DOCKER_HOST: dead } });
    expect(human.code).toBe(3);
    expect(human.stdout).toMatch(/✖ Docker engine: Docker engine unreachable/);
    expect(human.stdout).toMatch(/fix: .*DOCKER_HOST/);
    expect(human.durationMs).toBeLessThan(15_000);
  });

  it('names a configured port held by a real listening socket and its process', async () => {
    const { server, port } = await listen();
    try {
      const dir = tempDir();
      const init = await helfy(['init', '--yes', '--api-port', String(port)], { cwd: dir });
      expect(init.code).toBe(0);
      const r = await helfy(['doctor', '--json'], { cwd: dir });
      expect(r.json.ok).toBe(false);
      expect(r.code).toBe(3);
      const check = r.json.checks.find((c: any) => c.id === 'port-api');
      expect(check.status).toBe('fail');
      expect(check.title).toBe(`Port ${port} (api)`);
      // The holder is this test process (node), found through /proc.
      expect(check.detail).toBe(`in use by process node (pid ${process.pid})`);
      expect(check.fix).toContain('--api-port');
    } finally {
      server.close();
    }
  });

  it('checks the workspace: invalid .env fails, weak secrets fail', async () => {
    const dir = tempDir();
    await helfy(['init', '--yes'], { cwd: dir });
    const r = await helfy(['doctor', '--json'], { cwd: dir, env: { HELFY_NEO4J_PASSWORD: 'neo4j', HELFY_POSTGRES_PORT: '99999' } });
    expect(r.code).toBe(3);
    expect(r.json.checks.find((c: any) => c.id === 'config')).toMatchObject({ status: 'fail' });
    expect(r.json.checks.find((c: any) => c.id === 'config').detail).toContain('environment HELFY_POSTGRES_PORT: expected a port 1-65535, got "99999"');
    const weak = await helfy(['doctor', '--json'], { cwd: dir, env: { HELFY_NEO4J_PASSWORD: 'neo4j' } });
    const secrets = weak.json.checks.find((c: any) => c.id === 'secrets');
    expect(secrets.status).toBe('fail');
    expect(secrets.detail).toContain('HELFY_NEO4J_PASSWORD shorter than 24 characters');
    expect(weak.stdout).not.toContain('"neo4j"');
  });

  it('an older workspace without HELFY_DEMO_PASSWORD (added by helfy seed on first use): a warning, not a failure', async () => {
    const dir = tempDir();
    await helfy(['init', '--yes'], { cwd: dir });
    const envFile = join(dir, '.env');
    writeFileSync(envFile, readFileSync(envFile, 'utf8').replace(/^HELFY_DEMO_PASSWORD=.*\n/m, ''));
    const r = await helfy(['doctor', '--json'], { cwd: dir });
    expect(r.json.checks.find((c: any) => c.id === 'secrets')).toMatchObject({ status: 'warn', detail: 'HELFY_DEMO_PASSWORD missing (added to .env on first use)' });
    // Together with a real problem it is listed, and the check fails.
    const weak = await helfy(['doctor', '--json'], { cwd: dir, env: { HELFY_NEO4J_PASSWORD: 'neo4j' } });
    expect(weak.json.checks.find((c: any) => c.id === 'secrets')).toMatchObject({ status: 'fail' });
    expect(weak.json.checks.find((c: any) => c.id === 'secrets').detail).toContain('HELFY_DEMO_PASSWORD missing');
  });

  it('outside a workspace still checks the machine and warns', async () => {
    const r = await helfy(['doctor', '--json'], { cwd: tempDir(), env: { DOCKER_HOST: 'unix:///nonexistent.sock' } });
    const ids = r.json.checks.map((c: any) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['node', 'docker-cli', 'docker-engine', 'compose', 'disk', 'workspace']));
    expect(r.json.checks.find((c: any) => c.id === 'workspace').status).toBe('warn');
    expect(r.json.checks.find((c: any) => c.id === 'node').status).toBe('ok');
  });
});
