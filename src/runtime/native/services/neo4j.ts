/**
 * Neo4j 5.26 Community as a local JVM: the jars located (NEO4J_HOME) or installed into the cache,
 * its home in `.helfy/data/neo4j` (conf/, data/, logs/, …). neo4j.conf is written at every start
 * from the configuration (bind address, Bolt/HTTP ports, the Docker service's memory settings,
 * auth on); the `neo4j` user's initial password is set through data/dbms/auth.ini before the first
 * start (what `neo4j-admin dbms set-initial-password` writes, without a JVM start), so like
 * NEO4J_AUTH under Docker it applies to a new store only. The test suite's Neo4j is built with
 * the same `neo4jConf()` / `neo4jJvmArgs()` / `neo4jInitialAuthIni()`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../../core/atomic-write.js';
import { service } from '../../../stack/catalog.js';
import { runProbe } from '../../../stack/probes.js';
import type { ProcessSpec } from '../types.js';
import { baseEnv, connectHost, specHash, type NativeContext, type NativeService } from './common.js';

/**
 * Contents of data/dbms/auth.ini for user neo4j, as written by
 * `neo4j-admin dbms set-initial-password`: SHA-256 of salt+password, re-hashed
 * to 1024 iterations (Shiro SimpleHash), hex; no "password change required" flag.
 */
export function neo4jInitialAuthIni(password: string, salt: Buffer = randomBytes(32)): string {
  let digest = createHash('sha256').update(salt).update(Buffer.from(password, 'utf8')).digest();
  for (let i = 1; i < 1024; i++) digest = createHash('sha256').update(digest).digest();
  return `neo4j:SHA-256,${digest.toString('hex')},${salt.toString('hex')},1024:\n`;
}

/** The folders of a Neo4j home that neo4j.conf points at. */
export const NEO4J_DIRS = ['data', 'logs', 'run', 'plugins', 'import', 'licenses'] as const;

export interface Neo4jConfOptions {
  home: string;
  /** Listen address (the bind address). */
  listen: string;
  boltPort: number;
  httpPort: number;
  heapInitial?: string;
  heapMax?: string;
  pageCache?: string;
  /** More settings (they win over the defaults). */
  extra?: Record<string, string>;
}

/** The settings of neo4j.conf (the memory defaults are the Docker service's NEO4J_server_memory_*). */
export function neo4jConfSettings(o: Neo4jConfOptions): Record<string, string> {
  const adv = connectHost(o.listen);
  const dirs: Record<string, string> = {};
  for (const d of NEO4J_DIRS) dirs[`server.directories.${d}`] = join(o.home, d);
  return {
    ...dirs,
    'server.default_listen_address': o.listen,
    'server.default_advertised_address': adv,
    'server.bolt.enabled': 'true',
    'server.bolt.listen_address': `${o.listen}:${o.boltPort}`,
    'server.bolt.advertised_address': `${adv}:${o.boltPort}`,
    'server.bolt.tls_level': 'DISABLED',
    'server.http.enabled': 'true',
    'server.http.listen_address': `${o.listen}:${o.httpPort}`,
    'server.http.advertised_address': `${adv}:${o.httpPort}`,
    'server.https.enabled': 'false',
    'server.memory.heap.initial_size': o.heapInitial ?? '256m',
    'server.memory.heap.max_size': o.heapMax ?? '512m',
    'server.memory.pagecache.size': o.pageCache ?? '128m',
    'dbms.security.auth_enabled': 'true',
    'dbms.usage_report.enabled': 'false',
    ...o.extra,
  };
}

export function neo4jConf(o: Neo4jConfOptions): string {
  return `${Object.entries(neo4jConfSettings(o)).map(([k, v]) => `${k}=${v}`).join('\n')}\n`;
}

/**
 * The server.jvm.additional defaults of the Neo4j 5 distribution, minus -XX:+AlwaysPreTouch
 * (touches the whole heap at start: slow, for nothing on a developer machine).
 */
export const NEO4J_JVM_FLAGS = [
  '-XX:+UseG1GC',
  '-XX:ParallelGCThreads=2',
  '-XX:-OmitStackTraceInFastThrow',
  '-XX:+UnlockExperimentalVMOptions',
  '-XX:+TrustFinalNonStaticFields',
  '-XX:+DisableExplicitGC',
  '-Djdk.nio.maxCachedBufferSize=1024',
  '-Dio.netty.tryReflectionSetAccessible=true',
  '-Djdk.tls.ephemeralDHKeySize=2048',
  '-Djdk.tls.rejectClientInitiatedRenegotiation=true',
  '-XX:FlightRecorderOptions=stackdepth=256',
  '-XX:+UnlockDiagnosticVMOptions',
  '-XX:+DebugNonSafepoints',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--enable-native-access=ALL-UNNAMED',
  '-Dlog4j2.disable.jmx=true',
  '-Dfile.encoding=UTF-8',
];

export interface Neo4jJvmOptions {
  /** The jars folder. */
  libDir: string;
  home: string;
  confDir: string;
  heapInitial?: string;
  heapMax?: string;
  /** C1 only: a faster start, slower long runs (tests). */
  quickJit?: boolean;
}

/** `java <flags> -cp <lib>/* org.neo4j.server.CommunityEntryPoint --home-dir … --config-dir …`. */
export function neo4jJvmArgs(o: Neo4jJvmOptions): string[] {
  return [
    `-Xms${o.heapInitial ?? '256m'}`,
    `-Xmx${o.heapMax ?? '512m'}`,
    ...NEO4J_JVM_FLAGS,
    ...(o.quickJit ? ['-XX:TieredStopAtLevel=1'] : []),
    '-cp',
    `${o.libDir}/*`,
    'org.neo4j.server.CommunityEntryPoint',
    `--home-dir=${o.home}`,
    `--config-dir=${o.confDir}`,
  ];
}

export async function neo4jService(nctx: NativeContext): Promise<NativeService> {
  const { cfg } = nctx;
  const install = await nctx.locate.neo4j();
  const home = join(nctx.dirs.data, 'neo4j');
  const confDir = join(home, 'conf');
  const conf = neo4jConf({ home, listen: cfg.bindAddress, boltPort: cfg.ports.neo4jBolt, httpPort: cfg.ports.neo4jHttp });
  const spec: ProcessSpec = {
    name: 'neo4j',
    kind: 'daemon',
    command: install.java.bin,
    args: neo4jJvmArgs({ libDir: install.libDir, home, confDir }),
    env: { ...baseEnv(), NEO4J_HOME: home, NEO4J_CONF: confDir },
    cwd: home,
    stopSignal: 'SIGTERM',
    graceS: 30,
    labels: {},
  };
  spec.labels['dev.helfy.config-hash'] = specHash(spec, conf);
  spec.labels['dev.helfy.neo4j-version'] = install.version;
  const def = service('neo4j');
  return {
    spec,
    ports: [cfg.ports.neo4jBolt, cfg.ports.neo4jHttp],
    async prepare() {
      // The store, its logs (query.log, security.log) and neo4j.conf are Neo4j's (it runs as
      // helfy's user): closed to other users, like PostgreSQL's data folder.
      for (const d of [home, confDir, ...NEO4J_DIRS.map((x) => join(home, x))]) {
        mkdirSync(d, { recursive: true, mode: 0o700 });
        chmodSync(d, 0o700);
      }
      writeFileAtomicSync(join(confDir, 'neo4j.conf'), conf);
      // The initial password, for a new store only (the system database keeps it afterwards).
      const dbms = join(home, 'data', 'dbms');
      if (!existsSync(join(home, 'data', 'databases', 'system')) && !existsSync(join(dbms, 'auth.ini'))) {
        mkdirSync(dbms, { recursive: true, mode: 0o700 });
        writeFileAtomicSync(join(dbms, 'auth.ini'), neo4jInitialAuthIni(cfg.neo4j.password));
      }
    },
    async health(timeoutMs) {
      const r = await runProbe(def, cfg, timeoutMs);
      return { ok: Boolean(r?.ok), detail: r?.detail ?? 'no probe' };
    },
  };
}
