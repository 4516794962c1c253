// Real Neo4j 5.26 Community server, run straight from its Maven jars
// (infra/services/neo4j/install.sh) with a throw-away home/conf/data dir.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import neo4j from 'neo4j-driver';
import { neo4jConf, neo4jInitialAuthIni, neo4jJvmArgs, NEO4J_DIRS } from '../../../src/runtime/native/services/neo4j.js';
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

// Moved into the product (the native runtime writes it too); re-exported for the tests using it.
export { neo4jInitialAuthIni };

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
  mkdirSync(confDir);
  for (const s of NEO4J_DIRS) mkdirSync(join(dir, s));
  const logFile = join(dir, 'logs', 'neo4j.log');
  const debugLog = join(dir, 'logs', 'debug.log');
  const consoleLog = join(dir, 'console.log');

  let stopServer: (() => Promise<void>) | undefined;
  try {
    const [boltPort, httpPort] = (await freePorts(2, host)) as [number, number];
    // The product's neo4j.conf (src/runtime/native/services/neo4j.ts), plus settings for tests.
    writeFileSync(
      join(confDir, 'neo4j.conf'),
      neo4jConf({
        home: dir,
        listen: host,
        boltPort,
        httpPort,
        heapInitial: heap,
        heapMax: heap,
        pageCache: opts.pageCache ?? '128m',
        extra: {
          'dbms.memory.transaction.total.max': '256m',
          'db.tx_log.rotation.retention_policy': '1 files',
          'server.threads.worker_count': '4',
          ...opts.config,
        },
      }),
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
      // The product's JVM command line; C1 only unless asked (faster start-up).
      args: neo4jJvmArgs({ libDir: join(installDir, 'lib'), home: dir, confDir, heapInitial: heap, heapMax: heap, quickJit: opts.quickJit !== false }),
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
