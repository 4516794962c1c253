import { chmodSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { procStat } from '../../src/core/proc.js';
import { openSupervisor } from '../../src/runtime/native/supervisor.js';
import { helfy, tempDir } from '../helpers/cli.js';
import { runInstall } from '../support/services/util.js';

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
    const r = await helfy(['doctor', '--json'], { cwd: dir, env: { DOCKER_HOST: dead, HELFY_RUNTIME: 'docker' } });
    expect(r.code).toBe(3);
    expect(r.json.ok).toBe(false);
    const engine = r.json.checks.find((c: any) => c.id === 'docker-engine');
    expect(engine.status).toBe('fail');
    expect(engine.detail).toContain(`Docker engine unreachable at ${dir}/no-such-docker.sock`);
    expect(engine.fix).toContain('DOCKER_HOST');
    const human = await helfy(['doctor'], { cwd: dir, env: { DOCKER_HOST: dead, HELFY_RUNTIME: 'docker' } });
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
    const r = await helfy(['doctor', '--json'], { cwd: tempDir(), env: { DOCKER_HOST: 'unix:///nonexistent.sock', HELFY_RUNTIME: 'docker' } });
    const ids = r.json.checks.map((c: any) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['node', 'docker-cli', 'docker-engine', 'compose', 'disk', 'workspace']));
    expect(r.json.checks.find((c: any) => c.id === 'workspace').status).toBe('warn');
    expect(r.json.checks.find((c: any) => c.id === 'node').status).toBe('ok');
  });
});

/** Seven distinct free loopback ports (bound, then released) so a workspace's checks never meet another test's servers. */
async function freePorts(n: number): Promise<number[]> {
  const held = await Promise.all(Array.from({ length: n }, () => listen()));
  for (const h of held) h.server.close();
  return held.map((h) => h.port);
}

async function initWorkspace(): Promise<string> {
  return (await initWorkspacePorts()).dir;
}

async function initWorkspacePorts(): Promise<{ dir: string; apiPort: number }> {
  const dir = tempDir();
  const [pg, http, bolt, temporal, ui, api, web] = await freePorts(7);
  const init = await helfy(['init', '--yes', '--postgres-port', String(pg), '--neo4j-http-port', String(http), '--neo4j-bolt-port', String(bolt),
    '--temporal-port', String(temporal), '--temporal-ui-port', String(ui), '--api-port', String(api), '--web-port', String(web)], { cwd: dir });
  expect(init.code).toBe(0);
  return { dir, apiPort: api! };
}

/** Resolves once something accepts connections on 127.0.0.1:port. */
async function untilListening(port: number): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); res(true); });
      s.once('error', () => res(false));
    });
    if (ok) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

const byId = (r: { json: any }, id: string) => r.json.checks.find((c: any) => c.id === id);
const DOCKER_IDS = ['docker-cli', 'docker-engine', 'compose'];
const NATIVE_IDS = ['postgres', 'timescale', 'pg-tools', 'java', 'neo4j', 'temporal', 'npm'];
/**
 * This machine (tests/support provisioning): PostgreSQL 15 from Debian (no TimescaleDB of its
 * own), Java 17; Neo4j, Temporal and PostgreSQL 15's copy with TimescaleDB cached in ~/.cache/helfy.
 */
const CACHE = join(homedir(), '.cache', 'helfy');

describe('helfy doctor: the native runtime', () => {
  it('HELFY_RUNTIME=native: no Docker checks; the real PostgreSQL 15, Java 17, cached Neo4j, Temporal and TimescaleDB copy, npm', async () => {
    // The copy of PostgreSQL 15 with TimescaleDB in ~/.cache/helfy (provisioning built it; cached: ~20 ms).
    const copyBin = await runInstall('postgres');
    const dir = await initWorkspace();
    // A dead DOCKER_HOST proves nothing Docker is consulted.
    const r = await helfy(['doctor', '--json'], { cwd: dir, env: { HELFY_RUNTIME: 'native', DOCKER_HOST: `unix://${dir}/no.sock` } });
    const ids = r.json.checks.map((c: any) => c.id);
    for (const id of DOCKER_IDS) expect(ids).not.toContain(id);
    expect(ids).toEqual(expect.arrayContaining(['node', 'runtime', ...NATIVE_IDS, 'config', 'secrets', 'disk', 'port-postgres']));
    expect(byId(r, 'runtime')).toMatchObject({ status: 'ok', detail: 'native (HELFY_RUNTIME=native)' });
    expect(byId(r, 'postgres').status).toBe('ok');
    expect(byId(r, 'postgres').detail).toMatch(/^15\.\d+ in \/usr\/lib\/postgresql\/15\/bin \((PATH|pg_config|Debian)\)$/);
    expect(byId(r, 'pg-tools')).toMatchObject({ status: 'ok', detail: 'pg_dump, psql, pg_restore in /usr/lib/postgresql/15/bin' });
    expect(byId(r, 'java').status).toBe('ok');
    expect(byId(r, 'java').detail).toMatch(/^Java 17 \(\/.+\/java\)$/);
    expect(byId(r, 'neo4j')).toMatchObject({ status: 'ok', detail: `5.26.30 in ${CACHE}/neo4j-5.26.30 (cache)` });
    expect(byId(r, 'temporal')).toMatchObject({ status: 'ok', detail: `1.32.1 at ${CACHE}/temporal-1.32.1/bin/temporal-server (cache)` });
    expect(byId(r, 'npm').status).toBe('ok');
    expect(byId(r, 'npm').detail).toMatch(/\/npm$/);
    // This PostgreSQL has no TimescaleDB of its own: under the default `required`, `helfy up` runs its cached copy.
    const version = /^(15\.\d+) /.exec(byId(r, 'postgres').detail)![1];
    expect(byId(r, 'timescale')).toEqual({
      id: 'timescale', title: 'TimescaleDB', status: 'ok',
      detail: `2.28.3 in ${dirname(dirname(dirname(dirname(copyBin))))} (helfy cache, built for PostgreSQL ${version} in /usr/lib/postgresql/15/bin)`,
    });
    expect(copyBin.startsWith(`${CACHE}/postgres-${version}-`)).toBe(true);
    expect(r.json.checks.filter((c: any) => c.status === 'fail').map((c: any) => c.id)).toEqual([]);
    expect(r.code).toBe(0);
    // optional: the plain server runs (a warning), and the whole doctor passes.
    const opt = await helfy(['doctor', '--json'], { cwd: dir, env: { HELFY_RUNTIME: 'native', HELFY_TIMESCALE: 'optional' } });
    expect(byId(opt, 'timescale')).toMatchObject({ status: 'warn', detail: 'not installed for PostgreSQL 15 (/usr/lib/postgresql/15/bin); HELFY_TIMESCALE=optional: plain tables' });
    expect(byId(opt, 'timescale').fix).toContain('Set HELFY_TIMESCALE=required (the default)');
    expect(byId(opt, 'timescale').fix).toContain('timescaledb-2-postgresql-15');
    expect(opt.json.ok).toBe(true);
    expect(opt.code).toBe(0);
  }, 20 * 60_000);

  it('TimescaleDB required and not in an empty cache: warns that the first `helfy up` builds it; without a compiler (or any build tool) fails naming what is missing; nothing is built', async () => {
    const dir = await initWorkspace();
    const cache = join(tempDir(), 'empty-cache');
    mkdirSync(cache);
    const env = { HELFY_RUNTIME: 'native', HELFY_CACHE_DIR: cache, CMAKE: undefined };
    // This machine: gcc, make, cmake 3.25, dpkg-query + apt-get on PATH.
    const r = await helfy(['doctor', '--json'], { cwd: dir, env });
    const version = /^(15\.\d+) /.exec(byId(r, 'postgres').detail)![1];
    expect(byId(r, 'timescale')).toEqual({
      id: 'timescale', title: 'TimescaleDB', status: 'warn',
      detail: `not installed for PostgreSQL ${version} (/usr/lib/postgresql/15/bin): built into ${cache} on first \`helfy up\` (~5 min)`,
    });
    // Fake PATH: the real make, cmake, dpkg-query and apt-get, but no cc/gcc.
    const noCc = join(tempDir(), 'path-without-cc');
    mkdirSync(noCc);
    for (const t of ['make', 'cmake', 'dpkg-query', 'apt-get']) symlinkSync(`/usr/bin/${t}`, join(noCc, t));
    symlinkSync(process.execPath, join(noCc, 'node'));
    const nocc = await helfy(['doctor', '--json'], { cwd: dir, env: { ...env, PATH: noCc } });
    expect(byId(nocc, 'timescale')).toMatchObject({
      status: 'fail',
      detail: `not installed for PostgreSQL ${version} (/usr/lib/postgresql/15/bin), and building TimescaleDB 2.28.3 for it needs a C compiler (cc/gcc)`,
    });
    expect(byId(nocc, 'timescale').fix).toBe("Install gcc (apt-get install gcc) so `helfy up` can build it, or install timescaledb-2-postgresql-15 (TimescaleDB's apt repository), or set HELFY_TIMESCALE=optional.");
    expect(nocc.code).toBe(3);
    // A PATH holding only node: every build tool named (this machine has no server headers of its
    // own: install.sh fetches them with apt-get download, which is not on that PATH either).
    const bare = join(tempDir(), 'path-only-node');
    mkdirSync(bare);
    symlinkSync(process.execPath, join(bare, 'node'));
    const none = await helfy(['doctor', '--json'], { cwd: dir, env: { ...env, PATH: bare } });
    expect(byId(none, 'timescale').detail).toBe(
      `not installed for PostgreSQL ${version} (/usr/lib/postgresql/15/bin), and building TimescaleDB 2.28.3 for it needs a C compiler (cc/gcc), make, cmake 3.15+ (and no python3 with pip to fetch it), `
        + `the server headers of PostgreSQL ${version} (postgresql-server-dev-15; no dpkg-query/apt-get to fetch them)`,
    );
    expect(byId(none, 'timescale').fix).toContain('(apt-get install gcc make cmake postgresql-server-dev-15)');
    // doctor never builds anything.
    expect(readdirSync(cache)).toEqual([]);
  });

  it('auto without a Docker engine: one ok "runtime: native (no Docker engine at …)" line, then the native checks, never a Docker failure', async () => {
    const dir = await initWorkspace();
    const r = await helfy(['doctor', '--json'], { cwd: dir, env: { DOCKER_HOST: `unix://${dir}/no-such-docker.sock`, HELFY_TIMESCALE: 'optional' } });
    const ids = r.json.checks.map((c: any) => c.id);
    for (const id of DOCKER_IDS) expect(ids).not.toContain(id);
    expect(ids.slice(0, 2)).toEqual(['node', 'runtime']);
    expect(byId(r, 'runtime')).toMatchObject({ status: 'ok', detail: `native (no Docker engine at ${dir}/no-such-docker.sock: ENOENT)` });
    expect(ids).toEqual(expect.arrayContaining(NATIVE_IDS));
    expect(r.json.ok).toBe(true);
    expect(r.code).toBe(0);
    const human = await helfy(['doctor'], { cwd: dir, env: { DOCKER_HOST: `unix://${dir}/no-such-docker.sock`, HELFY_TIMESCALE: 'optional' } });
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`✔ Runtime: native (no Docker engine at ${dir}/no-such-docker.sock: ENOENT)`);
    expect(human.stdout).toContain(`✔ Neo4j: 5.26.30 in ${CACHE}/neo4j-5.26.30 (cache)`);
    expect(human.stdout).not.toContain('Docker engine:');
  });

  it('outside a workspace HELFY_RUNTIME from the environment decides; an invalid value is a failed check', async () => {
    const cwd = tempDir();
    const r = await helfy(['doctor', '--json'], { cwd, env: { HELFY_RUNTIME: 'native' } });
    const ids = r.json.checks.map((c: any) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['node', 'runtime', ...NATIVE_IDS, 'disk', 'workspace']));
    for (const id of DOCKER_IDS) expect(ids).not.toContain(id);
    expect(byId(r, 'workspace').status).toBe('warn');
    const bad = await helfy(['doctor', '--json'], { cwd, env: { HELFY_RUNTIME: 'podman' } });
    expect(bad.code).toBe(3);
    expect(byId(bad, 'runtime').status).toBe('fail');
    expect(byId(bad, 'runtime').detail).toContain('environment HELFY_RUNTIME:');
    expect(byId(bad, 'runtime').detail).toContain('got "podman"');
  });

  it('fake Java 11 as HELFY_JAVA: fails naming Java 17 and what to install', async () => {
    // Fake: a JDK folder whose release file says 11 (findJava reads it and never starts the "JVM").
    // HELFY_JAVA is the only way to hide this machine's Java: /usr/lib/jvm is searched whatever PATH says.
    const jdk = join(tempDir(), 'fake-jdk-11');
    mkdirSync(join(jdk, 'bin'), { recursive: true });
    writeFileSync(join(jdk, 'release'), 'JAVA_VERSION="11.0.22"\n');
    writeFileSync(join(jdk, 'bin', 'java'), '#!/bin/sh\nexit 1\n');
    chmodSync(join(jdk, 'bin', 'java'), 0o755);
    const dir = await initWorkspace();
    const r = await helfy(['doctor', '--json'], { cwd: dir, env: { HELFY_RUNTIME: 'native', HELFY_JAVA: join(jdk, 'bin', 'java'), HELFY_TIMESCALE: 'optional' } });
    expect(r.code).toBe(3);
    expect(byId(r, 'java')).toMatchObject({ status: 'fail', detail: `HELFY_JAVA=${jdk}/bin/java is Java 11; Neo4j 5.26 needs Java 17 or newer` });
    expect(byId(r, 'java').fix).toContain('apt-get install openjdk-17-jre-headless');
    // Neo4j itself is cached: only Java fails.
    expect(byId(r, 'neo4j').status).toBe('ok');
    expect(r.json.checks.filter((c: any) => c.status === 'fail').map((c: any) => c.id)).toEqual(['java']);
  });

  it('an empty cache: Neo4j fails without Maven (fake PATH holding only node), warns with it; Temporal warns (real Go 1.26.8); nothing is installed', async () => {
    const dir = await initWorkspace();
    const cache = join(tempDir(), 'empty-cache');
    mkdirSync(cache);
    // Fake PATH: a folder holding only a node symlink (this machine's mvn and npm share /usr/bin with node).
    const bin = join(tempDir(), 'fake-path-bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = await helfy(['doctor', '--json'], { cwd: dir, env: { HELFY_RUNTIME: 'native', HELFY_CACHE_DIR: cache, HELFY_TIMESCALE: 'optional', PATH: bin, MVN: undefined, GO: undefined } });
    expect(r.code).toBe(3);
    const neo4j = byId(r, 'neo4j');
    expect(neo4j).toMatchObject({ status: 'fail', detail: `5.26.30 not in ${cache} and no Maven (mvn) to install it` });
    expect(neo4j.fix).toBe('Install Maven (apt-get install maven), or set NEO4J_HOME to a Neo4j 5.26 installation.');
    // Go is found in /usr/local/go/bin (go.dev's tarball place) whatever PATH says.
    expect(byId(r, 'temporal')).toMatchObject({ status: 'warn', detail: `1.32.1 not in ${cache}: built on first \`helfy up\` (~20 min, Go 1.26.8 at /usr/local/go/bin/go)` });
    expect(byId(r, 'npm')).toMatchObject({ status: 'fail', detail: 'not found on PATH (helfy up builds the api and web apps with npm)' });
    // PostgreSQL and Java are still found outside PATH (Debian's folders).
    expect(byId(r, 'postgres').detail).toMatch(/^15\.\d+ in \/usr\/lib\/postgresql\/15\/bin \(Debian\)$/);
    expect(byId(r, 'java').status).toBe('ok');
    expect(r.json.checks.filter((c: any) => c.status === 'fail').map((c: any) => c.id).sort()).toEqual(['neo4j', 'npm']);

    // The real PATH has mvn: a warning naming the first-use install.
    const withMvn = await helfy(['doctor', '--json'], { cwd: dir, env: { HELFY_RUNTIME: 'native', HELFY_CACHE_DIR: cache, HELFY_TIMESCALE: 'optional', MVN: undefined } });
    expect(byId(withMvn, 'neo4j').status).toBe('warn');
    expect(byId(withMvn, 'neo4j').detail).toMatch(new RegExp(`^5\\.26\\.30 not in ${cache}: installed on first \`helfy up\` \\(~20 s, Maven /.+/mvn\\)$`));
    expect(withMvn.code).toBe(0);
    // doctor never installs anything.
    expect(readdirSync(cache)).toEqual([]);
  });

  it('fake Go 1.19 (GO=…, GOROOT/VERSION) and an empty cache: Temporal fails naming Go and HELFY_TEMPORAL_BIN', async () => {
    const root = join(tempDir(), 'fake-goroot');
    mkdirSync(join(root, 'bin'), { recursive: true });
    writeFileSync(join(root, 'VERSION'), 'go1.19.13\ntime 2023-09-06T15:37:47Z\n');
    writeFileSync(join(root, 'bin', 'go'), '#!/bin/sh\nexit 1\n');
    chmodSync(join(root, 'bin', 'go'), 0o755);
    const cache = join(tempDir(), 'empty-cache');
    mkdirSync(cache);
    const dir = await initWorkspace();
    const r = await helfy(['doctor', '--json'], { cwd: dir, env: { HELFY_RUNTIME: 'native', HELFY_CACHE_DIR: cache, HELFY_TIMESCALE: 'optional', GO: join(root, 'bin', 'go') } });
    expect(r.code).toBe(3);
    const t = byId(r, 'temporal');
    expect(t).toMatchObject({ status: 'fail', detail: `1.32.1 not in ${cache}, and Go 1.19.13 at ${root}/bin/go is too old to build it (needs 1.26.8, or 1.21+ to fetch it)` });
    expect(t.fix).toContain('Install Go 1.26.8+ (https://go.dev/dl)');
    expect(t.fix).toContain('HELFY_TEMPORAL_BIN');
    // A missing HELFY_TEMPORAL_BIN is locate's TOOL_MISSING, word for word.
    const badBin = await helfy(['doctor', '--json'], { cwd: dir, env: { HELFY_RUNTIME: 'native', HELFY_TIMESCALE: 'optional', HELFY_TEMPORAL_BIN: join(dir, 'no-temporal-server') } });
    expect(byId(badBin, 'temporal')).toMatchObject({ status: 'fail', detail: `HELFY_TEMPORAL_BIN=${dir}/no-temporal-server is not an executable` });
  });

  it('a server folder without the client tools (fake HELFY_POSTGRES_BIN holding only postgres): PostgreSQL ok, pg-tools warns', async () => {
    const pgBin = join(tempDir(), 'fake-pg-bin');
    mkdirSync(pgBin);
    symlinkSync('/usr/lib/postgresql/15/bin/postgres', join(pgBin, 'postgres'));
    const dir = await initWorkspace();
    const r = await helfy(['doctor', '--json'], { cwd: dir, env: { HELFY_RUNTIME: 'native', HELFY_TIMESCALE: 'optional', HELFY_POSTGRES_BIN: pgBin } });
    expect(byId(r, 'postgres').status).toBe('ok');
    expect(byId(r, 'postgres').detail).toMatch(new RegExp(`^15\\.\\d+ in ${pgBin} \\(setting\\)$`));
    expect(byId(r, 'pg-tools')).toMatchObject({ status: 'warn', detail: `pg_dump, psql, pg_restore missing in ${pgBin} (helfy backup / restore need them)` });
    expect(byId(r, 'pg-tools').fix).toContain('postgresql-client-15');
    expect(r.code).toBe(0);
  });

  it("auto while this workspace's supervised process runs (real supervisor, real listener): native, and its port is ok (the stack is running)", async () => {
    const { dir, apiPort } = await initWorkspacePorts();
    const sup = openSupervisor(dir);
    const state = await sup.start({
      name: 'api', kind: 'daemon', command: process.execPath, graceS: 2, labels: {}, cwd: dir, env: { PATH: dirname(process.execPath) },
      args: ['-e', `require('node:net').createServer().listen(${apiPort}, '127.0.0.1')`],
    });
    try {
      await untilListening(apiPort);
      // auto (no HELFY_RUNTIME): native processes of this workspace run, so native — whether an engine answers or not, as `helfy up` decides.
      const r = await helfy(['doctor', '--json'], { cwd: dir, env: { HELFY_TIMESCALE: 'optional' } });
      expect(byId(r, 'runtime')).toMatchObject({ status: 'ok', detail: 'native (native processes of this workspace run: api)' });
      for (const id of DOCKER_IDS) expect(r.json.checks.map((c: any) => c.id)).not.toContain(id);
      const check = byId(r, 'port-api');
      expect(check.status).toBe('ok');
      // The listener is node, a child of the supervisor's wrapper (the group leader recorded in .helfy/run/api.json).
      expect(check.detail).toMatch(/^held by this workspace's api \(pid \d+\) \(stack running\)$/);
      expect(procStat(Number(/pid (\d+)/.exec(check.detail)![1]))!.pgrp).toBe(state.pid);
      expect(r.code).toBe(0);
    } finally {
      await sup.stop('api');
      await sup.forget('api');
    }
    // Stopped: the port is free again.
    const after = await helfy(['doctor', '--json'], { cwd: dir, env: { HELFY_RUNTIME: 'native', HELFY_TIMESCALE: 'optional' } });
    expect(byId(after, 'port-api')).toMatchObject({ status: 'ok', detail: 'free on 127.0.0.1' });
  });
});
