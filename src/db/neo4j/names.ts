/**
 * The labels and constraints of helfy's own migration bookkeeping in Neo4j. No driver here: the
 * export (src/export) writes them into scripts without loading neo4j-driver.
 */
import type { SchemaObject } from './migration-files.js';

export const HISTORY_LABEL = '__HelfyMigration';
export const LOCK_LABEL = '__HelfyMigrationLock';
/** The runner's own constraints; created on first run, not part of any migration file. */
export const BOOTSTRAP_CONSTRAINTS: SchemaObject[] = [
  { kind: 'constraint', name: 'helfy_migration_lock_name', type: 'UNIQUENESS', entityType: 'NODE', labelsOrTypes: [LOCK_LABEL], properties: ['name'] },
  { kind: 'constraint', name: 'helfy_migration_version', type: 'UNIQUENESS', entityType: 'NODE', labelsOrTypes: [HISTORY_LABEL], properties: ['version'] },
];
