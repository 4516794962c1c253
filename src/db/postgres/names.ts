/**
 * The names helfy gives things in PostgreSQL: databases, roles, lock keys, migration tables. No
 * driver here: the export (src/export) writes them into scripts without loading pg.
 */
export const APP_DB = 'helfy_app';
export const TEMPORAL_DB = 'helfy_temporal';
export const TEMPORAL_VISIBILITY_DB = 'helfy_temporal_visibility';
export const TEMPORAL_DBS = [TEMPORAL_DB, TEMPORAL_VISIBILITY_DB] as const;

export const ROLE_OWNER = 'helfy_owner';
export const ROLE_API = 'helfy_api';
export const ROLE_TEMPORAL = 'helfy_temporal';

/**
 * Databases every server has and PUBLIC may connect to by default: `postgres` (what clients and
 * tools connect to when no database is named) and `template1` (the template of CREATE DATABASE,
 * which copies it without needing CONNECT; template0 refuses connections anyway).
 */
export const MAINTENANCE_DBS = ['postgres', 'template1'] as const;

/** pg_advisory_lock key of a bootstrap run (an arbitrary constant: "helfy-bs" in ASCII). */
export const BOOTSTRAP_LOCK_KEY = 0x68656c66792d6273n;

/** Key of the session-level advisory lock held for a whole migration run ('helfy' in ASCII). */
export const MIGRATION_LOCK_KEY = 0x68656c6679n;
export const MIGRATIONS_SCHEMA = 'drizzle';
export const DRIZZLE_TABLE = '__drizzle_migrations';
export const HELFY_TABLE = 'helfy_migrations';
