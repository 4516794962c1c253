/**
 * `helfy ci` through the built binary on a real Docker engine (stand-in images): the whole
 * pipeline step from a checkout without .env — init → up → migrate → seed (small) → smoke → logs
 * → down — and a first phase that fails (a host port taken) deciding the exit code.
 */
import { XMLParser } from 'fast-xml-parser';
import { existsSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, prepareDocker, projectContainers, releaseDocker, type Workspace } from '../stack/e2e-support.js';

afterAll(() => releaseDocker(), 120_000);

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['testsuite', 'testcase'].includes(name) });

describe('helfy ci', () => {
  let ws: Workspace;

  beforeAll(async () => {
    ws = await makeWorkspace(`ci${Date.now().toString(36)}`, await prepareDocker());
  }, 2_400_000);

  afterAll(async () => {
    if (!ws) return;
    await ws.run(['down', '--volumes', '--yes']);
    rmSync(ws.dir, { recursive: true, force: true });
  }, 180_000);

  it('a host port taken: up fails with exit 3, the later phases are skipped, nothing is left running', async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: ws.ports.api }, r));
    try {
      const r = await ws.run(['ci', '--json', '--artifacts', 'out-fail']);
      expect(r.code, r.stderr).toBe(3);
      const phases = (r.json.phases as { phase: string; status: string; exitCode: number }[]).map((p) => [p.phase, p.status, p.exitCode]);
      expect(phases).toEqual([['init', 'skipped', 0], ['up', 'failed', 3], ['migrate', 'skipped', 0], ['seed', 'skipped', 0], ['smoke', 'skipped', 0], ['logs', 'ok', 0], ['down', 'ok', 0]]);
      expect(r.json.phases[1].message).toContain(`port ${ws.ports.api}`);
      expect(JSON.parse(readFileSync(join(ws.dir, 'out-fail/ci.json'), 'utf8')).exitCode).toBe(3);
      expect(await projectContainers(ws.name)).toEqual([]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  }, 600_000);

  it('a checkout without .env: init → up → migrate → seed → smoke → logs → down, exit 0, JUnit report and every container log in the artifacts folder', async () => {
    const configBefore = readFileSync(join(ws.dir, 'helfy.config.json'), 'utf8');
    unlinkSync(join(ws.dir, '.env'));
    const r = await ws.run(['ci', '--json'], { timeoutMs: 2_400_000 });
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    expect((r.json.phases as { phase: string; status: string }[]).map((p) => [p.phase, p.status])).toEqual([
      ['init', 'ok'], ['up', 'ok'], ['migrate', 'ok'], ['seed', 'ok'], ['smoke', 'ok'], ['logs', 'ok'], ['down', 'ok'],
    ]);
    // The committed configuration is kept; only the secrets were generated.
    expect(readFileSync(join(ws.dir, 'helfy.config.json'), 'utf8')).toBe(configBefore);
    expect(existsSync(join(ws.dir, '.env'))).toBe(true);

    const artifacts = join(ws.dir, '.helfy/ci');
    expect(r.json.artifacts).toBe(artifacts);
    const doc = parser.parse(readFileSync(join(artifacts, 'junit.xml'), 'utf8'));
    const cases = (doc.testsuites.testsuite as any[]).flatMap((s) => s.testcase as any[]);
    expect(doc.testsuites['@failures']).toBe('0');
    expect(cases.length).toBe(r.json.smoke.passed + r.json.smoke.skipped);
    // Seeded, and the stand-in PostgreSQL carries TimescaleDB: nothing is skipped.
    expect(cases.filter((c) => c.skipped).map((c) => `${c['@classname']}/${c['@name']}`)).toEqual([]);
    expect(cases.find((c) => c['@classname'] === 'neo4j' && c['@name'].startsWith('the library'))['system-out']).toMatch(/^\d+ exercises, \d+ foods, \d+ routines$/);

    const services = ['api', 'neo4j', 'postgres', 'temporal', 'temporal-schema', 'web', 'worker'];
    expect(r.json.logs).toEqual(services.map((s) => join(artifacts, 'logs', `${s}.log`)).sort());
    expect(readFileSync(join(artifacts, 'logs/worker.log'), 'utf8')).toContain('worker running');
    expect(JSON.parse(readFileSync(join(artifacts, 'ci.json'), 'utf8')).exitCode).toBe(0);
    // Down: no container left (the volumes stay: `helfy ci` never deletes data).
    expect(await projectContainers(ws.name)).toEqual([]);
  }, 2_400_000);
});
