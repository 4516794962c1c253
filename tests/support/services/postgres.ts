// Real PostgreSQL 15 (Debian postgresql-15) with real TimescaleDB (built from the shipped source by
// native/timescaledb/install.sh into the helfy cache) on a throw-away data dir.
import { chmodSync, chownSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { lookupUser, type OsUser } from '../../../src/runtime/native/services/common.js';
import { asUser, initdbArgs, PG_HBA, postgresServerArgs } from '../../../src/runtime/native/services/postgres.js';
import { serverBinFor } from '../../../src/runtime/native/services/server-tree.js';
import {
  errMsg,
  freePort,
  looksLikePortClash,
  makeTempDir,
  randomPassword,
  runInstall,
  spawnServer,
  tailFile,
  waitUntilReady,
} from './util.js';

export interface StartPostgresOptions {
  /** Superuser name (default 'postgres'). */
  user?: string;
  /** Superuser password (default: random). */
  password?: string;
  /** Port (default: a free one). */
  port?: number;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
  /** Readiness timeout (default 60 s). */
  timeoutMs?: number;
  /**
   * TimescaleDB preloaded (default true): the cached copy of the server with the extension. false:
   * Debian's own server without it (only for the tests of HELFY_TIMESCALE=optional).
   */
  timescale?: boolean;
}

export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  password: string;
  database: 'postgres';
  /** The server's bin folder (psql, pg_dump, pg_restore, ...): the cached TimescaleDB copy's, or /usr/lib/postgresql/15/bin. */
  binDir: string;
  /** TimescaleDB is preloaded (CREATE EXTENSION timescaledb works). */
  timescale: boolean;
  /** postgres://user:password@127.0.0.1:port/postgres */
  url: string;
  /** Temp dir holding data/, the socket and server.log (removed by stop()). */
  dir: string;
  logFile: string;
  stop(): Promise<void>;
}

/** postgres refuses to run as root: when we are root, run it as the `postgres` OS user. */
function serverOsUser(): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const u = lookupUser('postgres');
  if (!u) throw new Error("running as root but there is no 'postgres' OS user (run infra/services/postgres/install.sh)");
  return u;
}

export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PostgresServer> {
  let lastErr: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startPostgresOnce(opts);
    } catch (e) {
      lastErr = e;
      if (opts.port !== undefined || !looksLikePortClash(errMsg(e))) throw e;
    }
  }
  throw lastErr;
}

async function startPostgresOnce(opts: StartPostgresOptions): Promise<PostgresServer> {
  const timescale = opts.timescale ?? true;
  const osUser = serverOsUser();
  // As root the server runs as `postgres`, which cannot reach the cached copy under /root: the
  // product's mirror (hard links, once per build) in a shared temp folder then.
  const binDir = serverBinFor(await runInstall('postgres', timescale ? {} : { PG_PLAIN: '1' }), osUser, join(tmpdir(), 'helfy-test-servers'));
  const user = opts.user ?? 'postgres';
  const password = opts.password ?? randomPassword();
  const host = '127.0.0.1';

  const dir = makeTempDir('pg');
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const pwFile = join(dir, 'pwfile');
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  writeFileSync(logFile, '');
  if (osUser) {
    for (const p of [dir, pwFile, logFile]) chownSync(p, osUser.uid, osUser.gid);
  }
  chmodSync(dir, 0o700);

  let stopServer: (() => Promise<void>) | undefined;
  try {
    // The product's initdb command line (src/runtime/native/services/postgres.ts), without fsync.
    const [icmd, iargs] = asUser(osUser, join(binDir, 'initdb'), initdbArgs({ dataDir, superuser: user, pwFile, noSync: true }));
    const init = await execa(icmd, iargs, { cwd: dir, reject: false, all: true, stdin: 'ignore', env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    if (init.exitCode !== 0) {
      throw new Error(`initdb failed (exit ${init.exitCode}):\n${String(init.all ?? '').split('\n').slice(-30).join('\n')}`);
    }
    writeFileSync(pwFile, ''); // the hash is in the cluster now

    const port = opts.port ?? (await freePort(host));
    // The product's server command line and pg_hba.conf, plus settings for throw-away data.
    writeFileSync(join(dataDir, 'pg_hba.conf'), PG_HBA);
    if (osUser) chownSync(join(dataDir, 'pg_hba.conf'), osUser.uid, osUser.gid);
    const args = postgresServerArgs({
      dataDir,
      port,
      listen: host,
      socketDir: dir,
      timescale,
      settings: {
        fsync: 'off',
        synchronous_commit: 'off',
        full_page_writes: 'off',
        shared_buffers: '128MB',
        max_wal_size: '1GB',
        log_min_messages: 'warning',
        log_line_prefix: '%m [%p] ',
        ...opts.settings,
      },
    });

    const server = spawnServer({
      cmd: join(binDir, 'postgres'),
      args,
      logFile,
      cwd: dir,
      user: osUser?.name,
      dirs: [dir],
    });
    // Fast shutdown: SIGINT.
    stopServer = () => server.stop('SIGINT', 10_000);

    const connection = { host, port, user, password, database: 'postgres' };
    await waitUntilReady({
      name: 'postgres',
      server,
      timeoutMs: opts.timeoutMs ?? 60_000,
      logs: [['postgres log', logFile]],
      probe: async () => {
        const c = new pg.Client({ ...connection, connectionTimeoutMillis: 2000 });
        try {
          await c.connect();
          await c.query('select 1');
          return true;
        } finally {
          await c.end().catch(() => {});
        }
      },
    });

    const enc = encodeURIComponent;
    return {
      ...connection,
      database: 'postgres',
      binDir,
      timescale,
      url: `postgres://${enc(user)}:${enc(password)}@${host}:${port}/postgres`,
      dir,
      logFile,
      stop: stopServer,
    };
  } catch (e) {
    const tail = tailFile(logFile, 30);
    if (stopServer) await stopServer();
    else rmSync(dir, { recursive: true, force: true });
    const msg = errMsg(e);
    // waitUntilReady already appends the log; add it for other failures.
    throw new Error(msg.includes('--- postgres log') || !tail ? msg : msg + formatTailsFromText(logFile, tail));
  }
}

function formatTailsFromText(path: string, text: string): string {
  return `\n--- postgres log (${path}) ---\n${text.trimEnd()}`;
}
