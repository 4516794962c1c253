/**
 * The real servers these tests run against, from the shared helpers (tests/support/services):
 * startPostgres(): Debian PostgreSQL 15 in a temp dir, with TimescaleDB (built from the shipped
 * source into the helfy cache) preloaded unless `timescale: false`.
 */
export { startPostgres, type PostgresServer } from '../../support/services/index.js';
