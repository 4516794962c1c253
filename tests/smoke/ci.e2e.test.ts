/**
 * `helfy ci` on a real Docker engine (stand-in images): a first phase that fails (a host port
 * taken) deciding the exit code, through the built binary; then the pipeline `helfy init --ci
 * github` wrote, run as a runner runs it: the workspace committed, cloned fresh (no .env, no
 * node_modules), the workflow's own steps taken from the file and run verbatim — its install step
 * installs the helfy the workspace pins, its `helfy ci` step runs init → up → migrate → seed
 * (small) → smoke → logs → down with that helfy.
 */
import { execa } from 'execa';
import { XMLParser } from 'fast-xml-parser';
import { existsSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli.js';
import { makeWorkspace, prepareDocker, projectContainers, releaseDocker, type Workspace } from '../stack/e2e-support.js';

afterAll(() => releaseDocker(), 120_000);

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['testsuite', 'testcase'].includes(name) });

describe('helfy ci', () => {
  let ws: Workspace;

  beforeAll(async () => {
    ws = await makeWorkspace(`ci${Date.now().toString(36)}`, await prepareDocker(), ['--ci', 'github']);
  }, 2_400_000);

  afterAll(async () => {
    if (!ws) return;
    await ws.run(['down', '--volumes', '--yes']);
    rmSync(ws.dir, { recursive: true, force: true });
    rmSync(`${ws.dir}-clone`, { recursive: true, force: true });
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

  it("the generated pipeline's steps, verbatim, in a fresh clone: its install step installs the pinned helfy, its helfy ci step runs every phase, exit 0, JUnit report and every container log in the artifacts folder", async () => {
    const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
    const git = (args: string[], cwd: string) => execa('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@helfy.test', ...args], { cwd });
    rmSync(join(ws.dir, 'out-fail'), { recursive: true, force: true }); // the first test's artifacts
    await git(['init', '-q', '-b', 'main'], ws.dir);
    await git(['add', '-A'], ws.dir);
    await git(['commit', '-q', '-m', 'workspace'], ws.dir);
    const clone = `${ws.dir}-clone`;
    await git(['clone', '-q', ws.dir, clone], REPO);
    // What a runner checks out: the pinned tarball, package.json, the pipeline; no .env, no node_modules.
    const tracked = String((await git(['ls-files'], clone)).stdout).split('\n');
    expect(tracked).toEqual(expect.arrayContaining(['package.json', `vendor/helfy-${version}.tgz`, '.github/workflows/helfy.yml', 'helfy.config.json', 'apps/api/package.json']));
    expect(tracked.filter((f) => f === '.env' || f.includes('node_modules/'))).toEqual([]);
    // The packed helfy (npm pack of this checkout, what `npm install helfy` gets): the launcher, the
    // build, the native runtime's first-use installers; no sources, tests or secrets.
    const packed = String((await execa('tar', ['-tzf', join(clone, `vendor/helfy-${version}.tgz`)])).stdout).split('\n').map((p) => p.replace(/^package\//, ''));
    expect(packed).toEqual(expect.arrayContaining(['bin/helfy.js', 'dist/main.js', 'native/neo4j/install.sh', 'native/neo4j/pom.xml', 'native/temporal/install.sh']));
    expect(packed.filter((p) => p.startsWith('src/') || p.startsWith('tests/') || p === '.env')).toEqual([]);
    const configBefore = readFileSync(join(clone, 'helfy.config.json'), 'utf8');
    // The workflow's steps, as written.
    const wf = readFileSync(join(clone, '.github/workflows/helfy.yml'), 'utf8');
    const step = (name: string) => new RegExp(`- name: ${name}\\n\\s+run: (.+)\\n`).exec(wf)?.[1];
    const install = step('Install helfy');
    const run = step('helfy ci');
    expect([install, run]).toEqual(['npm install --no-audit --no-fund', 'npx --no-install helfy ci --artifacts .helfy/ci']);
    // The runner's environment: a shell with node and docker (the test engine on its default socket),
    // CI=true, and — because this machine has no registry to pull from — the variables naming the
    // stand-in images the workspace was made with; nothing from this checkout of helfy.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true', NO_COLOR: '1', ...ws.env };
    const i = await execa('bash', ['-c', install!], { cwd: clone, env, extendEnv: false, reject: false, timeout: 600_000 });
    expect(i.exitCode, `${i.stdout}\n${i.stderr}`).toBe(0);
    const helfyBin = realpathSync(join(clone, 'node_modules/.bin/helfy'));
    expect(helfyBin.startsWith(join(clone, 'node_modules/helfy/'))).toBe(true); // the pinned helfy, not this checkout
    const c = await execa('bash', ['-c', run!], { cwd: clone, env, extendEnv: false, reject: false, timeout: 2_400_000 });
    const artifacts = join(clone, '.helfy/ci');
    const report = JSON.parse(readFileSync(join(artifacts, 'ci.json'), 'utf8'));
    expect(c.exitCode, c.stderr.slice(-4000)).toBe(0);
    expect(report.exitCode).toBe(0);
    expect((report.phases as { phase: string; status: string }[]).map((p) => [p.phase, p.status])).toEqual([
      ['init', 'ok'], ['up', 'ok'], ['migrate', 'ok'], ['seed', 'ok'], ['smoke', 'ok'], ['logs', 'ok'], ['down', 'ok'],
    ]);
    // The committed configuration is kept; only the secrets were generated.
    expect(readFileSync(join(clone, 'helfy.config.json'), 'utf8')).toBe(configBefore);
    expect(existsSync(join(clone, '.env'))).toBe(true);
    expect(report.artifacts).toBe(artifacts);
    const doc = parser.parse(readFileSync(join(artifacts, 'junit.xml'), 'utf8'));
    const cases = (doc.testsuites.testsuite as any[]).flatMap((s) => s.testcase as any[]);
    expect(doc.testsuites['@failures']).toBe('0');
    expect(cases.length).toBe(report.smoke.passed + report.smoke.skipped);
    // Seeded, and the stand-in PostgreSQL carries TimescaleDB: nothing is skipped.
    expect(cases.filter((c) => c.skipped).map((c) => `${c['@classname']}/${c['@name']}`)).toEqual([]);
    expect(cases.find((c) => c['@classname'] === 'neo4j' && c['@name'].startsWith('the library'))['system-out']).toMatch(/^\d+ exercises, \d+ foods, \d+ routines$/);

    const services = ['api', 'neo4j', 'postgres', 'temporal', 'temporal-schema', 'web', 'worker'];
    expect(report.logs).toEqual(services.map((s) => join(artifacts, 'logs', `${s}.log`)).sort());
    expect(readFileSync(join(artifacts, 'logs/worker.log'), 'utf8')).toContain('worker running');
    expect(JSON.parse(readFileSync(join(artifacts, 'ci.json'), 'utf8')).exitCode).toBe(0);
    // Down: no container left (the volumes stay: `helfy ci` never deletes data).
    expect(await projectContainers(ws.name)).toEqual([]);
  }, 2_400_000);
});
