/**
 * The real servers these tests run against, from the shared helpers (tests/support/services):
 * startPostgres(): Debian PostgreSQL 15 in a temp dir; startTimescale(): PGlite (WASM
 * PostgreSQL 17 + TimescaleDB) served over the wire by pglite-socket: ONE connection at a time,
 * sslmode=disable, one database, no password check. The migration runner is called with
 * `singleConnection: true` there (its advisory lock shares the migration connection).
 */
export { startPostgres, startTimescale } from '../../support/services/index.js';
