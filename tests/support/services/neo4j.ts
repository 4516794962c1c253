// Real Neo4j 5.26 Community server, run straight from its Maven jars
// (infra/services/neo4j/install.sh) with a throw-away home/conf/data dir.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import neo4j from 'neo4j-driver';
import {
  errMsg,
  freePorts,
  looksLikePortClash,
  makeTempDir,
  randomPassword,
  runInstall,
  spawnServer,
  tailFile,
  waitUntilReady,
} from './util.js';

export interface StartNeo4jOptions {
  /** Password for user neo4j (default: random; Neo4j needs >= 8 chars). */
  password?: string;
  /** JVM heap (default '512m'). */
  heap?: string;
  /** Page cache (default '128m'). */
  pageCache?: string;
  /** Extra neo4j.conf lines, e.g. { 'db.transaction.timeout': '30s' }. */
  config?: Record<string, string>;
  /** Readiness timeout (default 180 s). */
  timeoutMs?: number;
  /**
   * How the initial password is set before first start:
   *  - 'auth-file' (default): write data/dbms/auth.ini ourselves, byte-for-byte
   *    what `neo4j-admin dbms set-initial-password` writes (saves a JVM start);
   *  - 'neo4j-admin': run org.neo4j.cli.AdminTool dbms set-initial-password.
   */
  initialPasswordVia?: 'auth-file' | 'neo4j-admin';
  /** JIT: C1 only (faster start-up, slower long runs). Default true. */
  quickJit?: boolean;
}

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

export interface Neo4jServer {
  boltUrl: string;
  httpUrl: string;
  user: 'neo4j';
  password: string;
  boltPort: number;
  httpPort: number;
  /** Neo4j home (conf/, data/, logs/), removed by stop(). */
  dir: string;
  logFile: string;
  stop(): Promise<void>;
}

/** java >= 17 for Neo4j 5.26: $HELFY_JAVA, $JAVA_HOME, Debian's 17, then PATH. */
function resolveJava(): string {
  const candidates = [
    process.env.HELFY_JAVA,
    process.env.JAVA_HOME && join(process.env.JAVA_HOME, 'bin', 'java'),
    '/usr/lib/jvm/java-17-openjdk-amd64/bin/java',
    '/usr/lib/jvm/java-17-openjdk-arm64/bin/java',
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  return 'java';
}

// Mirrors the server.jvm.additional defaults of the Neo4j 5 distribution,
// minus -XX:+AlwaysPreTouch (slow start-up for no benefit in tests).
const JVM_FLAGS = [
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

export async function startNeo4j(opts: StartNeo4jOptions = {}): Promise<Neo4jServer> {
  let lastErr: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startNeo4jOnce(opts);
    } catch (e) {
      lastErr = e;
      if (!looksLikePortClash(errMsg(e))) throw e;
    }
  }
  throw lastErr;
}

async function startNeo4jOnce(opts: StartNeo4jOptions): Promise<Neo4jServer> {
  const installDir = await runInstall('neo4j');
  const classpath = `${join(installDir, 'lib')}/*`;
  const java = resolveJava();
  const password = opts.password ?? randomPassword();
  if (password.length < 8) throw new Error('startNeo4j: password must be at least 8 characters');
  const host = '127.0.0.1';
  const heap = opts.heap ?? '512m';

  const dir = makeTempDir('neo4j');
  const confDir = join(dir, 'conf');
  const sub = ['data', 'logs', 'run', 'plugins', 'import', 'licenses'] as const;
  mkdirSync(confDir);
  for (const s of sub) mkdirSync(join(dir, s));
  const logFile = join(dir, 'logs', 'neo4j.log');
  const debugLog = join(dir, 'logs', 'debug.log');
  const consoleLog = join(dir, 'console.log');

  let stopServer: (() => Promise<void>) | undefined;
  try {
    const [boltPort, httpPort] = (await freePorts(2, host)) as [number, number];
    const conf: Record<string, string> = {
      'server.directories.data': join(dir, 'data'),
      'server.directories.logs': join(dir, 'logs'),
      'server.directories.run': join(dir, 'run'),
      'server.directories.plugins': join(dir, 'plugins'),
      'server.directories.import': join(dir, 'import'),
      'server.directories.licenses': join(dir, 'licenses'),
      'server.default_listen_address': host,
      'server.default_advertised_address': host,
      'server.bolt.enabled': 'true',
      'server.bolt.listen_address': `${host}:${boltPort}`,
      'server.bolt.advertised_address': `${host}:${boltPort}`,
      'server.bolt.tls_level': 'DISABLED',
      'server.http.enabled': 'true',
      'server.http.listen_address': `${host}:${httpPort}`,
      'server.http.advertised_address': `${host}:${httpPort}`,
      'server.https.enabled': 'false',
      'server.memory.heap.initial_size': heap,
      'server.memory.heap.max_size': heap,
      'server.memory.pagecache.size': opts.pageCache ?? '128m',
      'dbms.memory.transaction.total.max': '256m',
      'dbms.security.auth_enabled': 'true',
      'dbms.usage_report.enabled': 'false',
      'db.tx_log.rotation.retention_policy': '1 files',
      'server.threads.worker_count': '4',
      ...opts.config,
    };
    writeFileSync(
      join(confDir, 'neo4j.conf'),
      Object.entries(conf)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') + '\n',
    );

    const env = { ...process.env, NEO4J_HOME: dir, NEO4J_CONF: confDir };
    if (opts.initialPasswordVia === 'neo4j-admin') {
      // `neo4j-admin dbms set-initial-password` (writes data/dbms/auth.ini).
      const admin = await execa(
        java,
        ['-Xmx128m', '-XX:TieredStopAtLevel=1', '-cp', classpath, 'org.neo4j.cli.AdminTool', 'dbms', 'set-initial-password', password],
        { env, cwd: dir, reject: false, all: true, stdin: 'ignore', timeout: 120_000 },
      );
      if (admin.exitCode !== 0 || !existsSync(join(dir, 'data', 'dbms', 'auth.ini'))) {
        throw new Error(`neo4j set-initial-password failed (exit ${admin.exitCode}):\n${String(admin.all ?? '').slice(-3000)}`);
      }
    } else {
      mkdirSync(join(dir, 'data', 'dbms'), { recursive: true });
      writeFileSync(join(dir, 'data', 'dbms', 'auth.ini'), neo4jInitialAuthIni(password), { mode: 0o600 });
    }

    const server = spawnServer({
      cmd: java,
      args: [
        `-Xms${heap}`,
        `-Xmx${heap}`,
        ...JVM_FLAGS,
        ...(opts.quickJit === false ? [] : ['-XX:TieredStopAtLevel=1']),
        '-cp',
        classpath,
        'org.neo4j.server.CommunityEntryPoint',
        `--home-dir=${dir}`,
        `--config-dir=${confDir}`,
      ],
      logFile: consoleLog,
      env,
      cwd: dir,
      dirs: [dir],
    });
    // Neo4j checkpoints and stops its databases within ~0.5 s of SIGTERM, then idles
    // ~10 s in network-layer graceful shutdown. The data is thrown away anyway, so
    // allow 3 s and then SIGKILL.
    stopServer = () => server.stop('SIGTERM', 3_000);

    const boltUrl = `bolt://${host}:${boltPort}`;
    const driver = neo4j.driver(boltUrl, neo4j.auth.basic('neo4j', password), {
      connectionTimeout: 3000,
      maxConnectionPoolSize: 1,
      logging: { level: 'error', logger: () => {} },
    });
    try {
      await waitUntilReady({
        name: 'neo4j',
        server,
        timeoutMs: opts.timeoutMs ?? 180_000,
        intervalMs: 500,
        logs: [
          ['neo4j.log', logFile],
          ['console', consoleLog],
        ],
        probe: async () => {
          const session = driver.session({ database: 'neo4j' });
          try {
            const r = await session.run('RETURN 1 AS one');
            return r.records[0]?.get('one')?.toNumber?.() === 1 || r.records[0]?.get('one') === 1;
          } finally {
            await session.close().catch(() => {});
          }
        },
      });
    } finally {
      await driver.close().catch(() => {});
    }

    return {
      boltUrl,
      httpUrl: `http://${host}:${httpPort}`,
      user: 'neo4j',
      password,
      boltPort,
      httpPort,
      dir,
      logFile,
      stop: stopServer,
    };
  } catch (e) {
    // Grab the logs before stop() removes them.
    let msg = errMsg(e);
    if (!msg.includes('--- neo4j.log')) {
      const t = [tailFile(logFile, 30), tailFile(consoleLog, 30)].filter(Boolean).join('\n');
      if (t) msg += `\n--- neo4j logs ---\n${t}`;
    }
    // debug.log is huge; only its ERROR lines help.
    try {
      const errs = readFileSync(debugLog, 'utf8')
        .split('\n')
        .filter((l) => / ERROR /.test(l))
        .slice(-10);
      if (errs.length) msg += `\n--- debug.log ERROR lines ---\n${errs.join('\n')}`;
    } catch {
      /* no debug log */
    }
    if (stopServer) await stopServer();
    else rmSync(dir, { recursive: true, force: true });
    throw new Error(msg);
  }
}
