// Real Temporal server (built from source by infra/services/temporal/install.sh)
// using SQL persistence + visibility on a PostgreSQL started by startPostgres().
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { execa } from 'execa';
import pg from 'pg';
import { schemaScript, temporalConfigYaml, temporalServerArgs } from '../../../src/runtime/native/services/temporal.js';
import { toYaml, type YamlValue } from '../../../src/stack/yaml.js';
import type { PostgresServer } from './postgres.js';
import {
  errMsg,
  freePortsInRange,
  looksLikePortClash,
  makeTempDir,
  randomPassword,
  runInstall,
  spawnServer,
  formatTails,
  waitUntilReady,
} from './util.js';

export interface StartTemporalOptions {
  /** A running server from startPostgres() (its superuser creates the role + DBs). */
  postgres: Pick<PostgresServer, 'host' | 'port' | 'user' | 'password'>;
  /** Role that owns the two databases (default 'helfy_temporal'). */
  dbUser?: string;
  /** Database names (default 'helfy_temporal' / 'helfy_temporal_visibility'). */
  database?: string;
  visibilityDatabase?: string;
  /** Extra dynamic config, e.g. { 'limit.maxIDLength': [{ value: 255 }] } is written as YAML. */
  dynamicConfig?: Record<string, unknown>;
  /** numHistoryShards (default 4). */
  numHistoryShards?: number;
  /** Readiness timeout (default 120 s). */
  timeoutMs?: number;
}

export interface TemporalServer {
  /** Frontend gRPC address, '127.0.0.1:<port>'. */
  address: string;
  /** Frontend HTTP API address, '127.0.0.1:<port>'. */
  httpAddress: string;
  /** Role/password/databases used for persistence. */
  db: { user: string; password: string; database: string; visibilityDatabase: string };
  /** Dir with config + logs (removed by stop()). */
  dir: string;
  logFile: string;
  stop(): Promise<void>;
}

const WORKFLOW_SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';

function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}
function quoteLit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Creates (or re-creates) the login role and its two databases FROM template0. */
async function prepareDatabases(
  pgs: StartTemporalOptions['postgres'],
  user: string,
  password: string,
  dbs: string[],
): Promise<void> {
  const c = new pg.Client({ host: pgs.host, port: pgs.port, user: pgs.user, password: pgs.password, database: 'postgres' });
  await c.connect();
  try {
    for (const db of dbs) await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(db)} WITH (FORCE)`);
    const exists = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user]);
    await c.query(
      `${exists.rowCount ? 'ALTER' : 'CREATE'} ROLE ${quoteIdent(user)} LOGIN PASSWORD ${quoteLit(password)}`,
    );
    for (const db of dbs) {
      await c.query(`CREATE DATABASE ${quoteIdent(db)} OWNER ${quoteIdent(user)} TEMPLATE template0 ENCODING 'UTF8'`);
    }
  } finally {
    await c.end().catch(() => {});
  }
}

export async function startTemporal(opts: StartTemporalOptions): Promise<TemporalServer> {
  if (!opts?.postgres) throw new Error('startTemporal: opts.postgres (from startPostgres()) is required');
  const installDir = await runInstall('temporal');
  const serverBin = join(installDir, 'bin', 'temporal-server');
  const sqlTool = join(installDir, 'bin', 'temporal-sql-tool');
  const schemaRoot = join(installDir, 'schema', 'postgresql', 'v12');
  for (const p of [serverBin, sqlTool, schemaRoot]) {
    if (!existsSync(p)) throw new Error(`startTemporal: ${p} missing (re-run infra/services/temporal/install.sh)`);
  }

  const dbUser = opts.dbUser ?? 'helfy_temporal';
  const database = opts.database ?? 'helfy_temporal';
  const visibilityDatabase = opts.visibilityDatabase ?? 'helfy_temporal_visibility';
  const dbPassword = randomPassword();
  const pgs = opts.postgres;

  await prepareDatabases(pgs, dbUser, dbPassword, [database, visibilityDatabase]);

  // Schema: the product's job (the Docker temporal-schema script: setup-schema -v 0.0, then
  // update-schema up to the newest versioned dir, on both databases), run the way the native
  // runtime runs it: /bin/sh with temporal-sql-tool on PATH, connection in SQL_* variables.
  const r = await execa('/bin/sh', ['-c', schemaScript()], {
    env: {
      PATH: `${join(installDir, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      SQL_PLUGIN: 'postgres12',
      SQL_HOST: pgs.host,
      SQL_PORT: String(pgs.port),
      SQL_USER: dbUser,
      SQL_PASSWORD: dbPassword,
      DBNAME: database,
      VISIBILITY_DBNAME: visibilityDatabase,
      TEMPORAL_SCHEMA_DIR: join(installDir, 'schema'),
    },
    extendEnv: false,
    reject: false,
    all: true,
    stdin: 'ignore',
    timeout: 180_000,
  });
  if (r.exitCode !== 0) {
    throw new Error(`temporal-schema failed (exit ${r.exitCode}):\n${String(r.all ?? '').split('\n').slice(-30).join('\n')}`);
  }

  let lastErr: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await launch(opts, serverBin, { user: dbUser, password: dbPassword, database, visibilityDatabase });
    } catch (e) {
      lastErr = e;
      if (!looksLikePortClash(errMsg(e))) throw e;
    }
  }
  throw lastErr;
}

async function launch(
  opts: StartTemporalOptions,
  serverBin: string,
  db: TemporalServer['db'],
): Promise<TemporalServer> {
  const host = '127.0.0.1';
  const pgs = opts.postgres;
  const dir = makeTempDir('temporal');
  const logFile = join(dir, 'temporal.log');
  const consoleLog = join(dir, 'console.log');
  const configFile = join(dir, 'config.yaml');
  const dynamicConfigFile = join(dir, 'dynamicconfig.yaml');

  let stopServer: (() => Promise<void>) | undefined;
  try {
    // Membership ports are stored in a smallint column (cluster_membership.rpc_port),
    // so every port must be <= 32767: below the kernel's ephemeral range.
    const ports = await freePortsInRange(9, 20000, 32767, host);
    const [feGrpc, feMember, feHttp, hiGrpc, hiMember, maGrpc, maMember, woGrpc, woMember] = ports as [
      number, number, number, number, number, number, number, number, number,
    ];

    const dynamicConfig: Record<string, unknown> = {
      'limit.maxIDLength': [{ value: 255, constraints: {} }],
      // Search attributes created by a test are usable right away.
      'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true, constraints: {} }],
      'frontend.workerVersioningDataAPIs': [{ value: true }],
      'frontend.workerVersioningWorkflowAPIs': [{ value: true }],
      ...opts.dynamicConfig,
    };
    // The product's config file (src/runtime/native/services/temporal.ts), logging to a file.
    const config = temporalConfigYaml(
      {
        bind: host,
        frontendPort: feGrpc,
        ports: {
          frontendMembership: feMember,
          frontendHttp: feHttp,
          historyGrpc: hiGrpc,
          historyMembership: hiMember,
          matchingGrpc: maGrpc,
          matchingMembership: maMember,
          workerGrpc: woGrpc,
          workerMembership: woMember,
        },
        db: { host: pgs.host, port: pgs.port, ...db },
        dynamicConfigFile,
        logFile,
        numHistoryShards: opts.numHistoryShards ?? 4,
      },
      'generated by tests/support/services/temporal.ts',
    );
    writeFileSync(configFile, config);
    writeFileSync(dynamicConfigFile, `# generated by tests/support/services/temporal.ts\n${toYaml(dynamicConfig as Record<string, YamlValue>)}`);

    const server = spawnServer({
      cmd: serverBin,
      args: temporalServerArgs(configFile),
      logFile: consoleLog,
      cwd: dir,
      dirs: [dir],
    });
    stopServer = () => server.stop('SIGTERM', 15_000);

    const address = `${host}:${feGrpc}`;
    await waitUntilReady({
      name: 'temporal',
      server,
      timeoutMs: opts.timeoutMs ?? 120_000,
      intervalMs: 500,
      logs: [
        ['console', consoleLog],
        ['temporal.log', logFile],
      ],
      probe: async () => {
        // Fresh connection per probe: grpc-js backs off reconnects exponentially.
        const conn = await Connection.connect({ address, connectTimeout: 2000 });
        try {
          const deadline = () => new Date(Date.now() + 3000);
          const health = await conn.withDeadline(deadline(), () => conn.healthService.check({ service: WORKFLOW_SERVICE }));
          if (health.status !== 1 /* SERVING */) return false;
          await conn.withDeadline(deadline(), () => conn.workflowService.getSystemInfo({}));
          // Persistence end-to-end: the server creates this namespace itself at start-up.
          await conn.withDeadline(deadline(), () => conn.workflowService.describeNamespace({ namespace: 'temporal-system' }));
          return true;
        } finally {
          await conn.close().catch(() => {});
        }
      },
    });

    return { address, httpAddress: `${host}:${feHttp}`, db, dir, logFile, stop: stopServer };
  } catch (e) {
    let msg = errMsg(e);
    if (!msg.includes('--- temporal.log')) {
      msg += formatTails([
        ['console', consoleLog],
        ['temporal.log', logFile],
      ], 20);
    }
    if (stopServer) await stopServer();
    else rmSync(dir, { recursive: true, force: true });
    throw new Error(msg);
  }
}
