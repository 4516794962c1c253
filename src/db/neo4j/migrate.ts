/**
 * Versioned Cypher migrations for Neo4j.
 *
 * - Files: `migrations/neo4j/V<number>__<desc>.cypher`, versions 1, 2, 3, … without gaps.
 * - History lives in the graph: one `(:__HelfyMigration {version, description, checksum, file,
 *   appliedAt, durationMs, appliedBy})` node per applied file, unique on version.
 * - A lock serialises runners: a `(:__HelfyMigrationLock {name:'lock'})` node backed by a
 *   uniqueness constraint. CREATE acquires it; a constraint violation means another runner holds
 *   it, so we retry with backoff until `lockTimeoutMs`, then fail naming the holder. A lock left
 *   by a killed runner is removed only on request (forceUnlockNeo4j / `--force-unlock`).
 * - Neo4j refuses schema changes and data writes in one transaction, so each schema statement
 *   runs in its own auto-commit transaction, then `db.awaitIndexes()`, then all data statements
 *   of the file plus its history node in one write transaction. Schema statements that ran
 *   before a failure stay (Neo4j cannot roll them back): write them with IF NOT EXISTS.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import neo4j, { type Driver, type Session } from 'neo4j-driver';
import type { Logger } from '../../core/context.js';
import { HelfyError } from '../../core/errors.js';
import { sleep, withNeo4j, type Neo4jTarget } from './connect.js';
import {
  canonicalConstraintType, declaredSchema, diffSchema, loadMigrations,
  type Drift, type EntityType, type MigrationFile, type SchemaObject, type Statement,
} from './migration-files.js';

export { connectNeo4j, waitForBolt, type Neo4jConnectionInfo, type Neo4jTarget, type BoltServerInfo } from './connect.js';
export { loadMigrations, type MigrationFile, type Drift } from './migration-files.js';

import { BOOTSTRAP_CONSTRAINTS, HISTORY_LABEL, LOCK_LABEL } from './names.js';

export { BOOTSTRAP_CONSTRAINTS, HISTORY_LABEL, LOCK_LABEL };

const quiet: Logger = { info() {}, success() {}, warn() {}, error() {}, debug() {}, raw() {} };

export type Neo4jMigrateTarget = Neo4jTarget & {
  /** Folder holding the V<n>__<desc>.cypher files. */
  dir: string;
  log?: Logger;
};

export interface MigrateNeo4jOptions {
  /** Apply up to and including this version; all when absent. */
  target?: number;
  /** Plan only: report what would be applied, touch nothing (no lock, no bootstrap). */
  dryRun?: boolean;
  /** How long to wait for another runner's lock. Default 120 s. */
  lockTimeoutMs?: number;
  /** Seconds passed to db.awaitIndexes() after a file's schema statements. Default 300. */
  awaitIndexesSeconds?: number;
}

export interface AppliedMigration {
  version: number;
  description: string;
  file: string;
  checksum: string;
  durationMs: number;
  schemaStatements: number;
  dataStatements: number;
}

export interface PendingMigration {
  version: number;
  description: string;
  file: string;
  checksum: string;
}

export interface MigrateNeo4jResult {
  /** Applied by this run, in order (empty for a dry run or when up to date). */
  applied: AppliedMigration[];
  /** Not applied after this run: for a dry run, what would be applied; else the files beyond `target`. */
  pending: PendingMigration[];
}

export interface HistoryEntry {
  version: number;
  description: string;
  checksum: string;
  file: string;
  appliedAt: string;
  durationMs: number;
}

export type MigrationState = 'applied' | 'pending' | 'changed' | 'missing-file';

export interface MigrationStatusEntry {
  version: number;
  description: string;
  file: string;
  state: MigrationState;
  checksum: string;
  /** From the history when applied or changed. */
  appliedAt?: string;
  appliedChecksum?: string;
}

export interface LockInfo {
  holder: string;
  since: string;
  token: string;
}

// ---- helpers ---------------------------------------------------------------------------------

function neoCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
}

function isConnectionError(e: unknown): boolean {
  const c = neoCode(e);
  return c === 'ServiceUnavailable' || c === 'SessionExpired' || c.startsWith('Neo.ClientError.Security.')
    || /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|Could not perform discovery|Failed to connect/i.test((e as Error)?.message ?? '');
}

function connectionError(e: unknown): HelfyError {
  return new HelfyError('CONNECTION_FAILED', `cannot talk to Neo4j: ${(e as Error)?.message ?? String(e)}`, {
    hint: neoCode(e).startsWith('Neo.ClientError.Security.')
      ? 'Check HELFY_NEO4J_PASSWORD; it must match the password the server was first started with.'
      : 'Is Neo4j running? `helfy status` shows the stack.',
    cause: e,
  });
}

/** Re-throws driver connection problems as CONNECTION_FAILED; HelfyErrors pass through. */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof HelfyError) throw e;
    if (isConnectionError(e)) throw connectionError(e);
    throw e;
  }
}

function toIso(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

async function readHistory(driver: Driver, database: string | undefined): Promise<Map<number, HistoryEntry>> {
  const res = await driver.executeQuery(
    `MATCH (m:${HISTORY_LABEL}) RETURN m.version AS version, m.description AS description, m.checksum AS checksum,
       m.file AS file, toString(m.appliedAt) AS appliedAt, m.durationMs AS durationMs ORDER BY version`,
    {}, { database, routing: 'READ' },
  );
  const out = new Map<number, HistoryEntry>();
  for (const r of res.records) {
    const version = Number(r.get('version'));
    out.set(version, {
      version, description: String(r.get('description') ?? ''), checksum: String(r.get('checksum') ?? ''),
      file: String(r.get('file') ?? ''), appliedAt: toIso(r.get('appliedAt')), durationMs: Number(r.get('durationMs') ?? 0),
    });
  }
  return out;
}

/** Creates the runner's constraints. Concurrent runners may race here; a lost race is fine. */
async function ensureBootstrap(driver: Driver, database: string | undefined, log: Logger): Promise<void> {
  for (const c of BOOTSTRAP_CONSTRAINTS) {
    const stmt = `CREATE CONSTRAINT ${c.name} IF NOT EXISTS FOR (n:${c.labelsOrTypes[0]}) REQUIRE n.${c.properties[0]} IS UNIQUE`;
    for (let attempt = 1; ; attempt++) {
      const session = driver.session({ database, defaultAccessMode: 'WRITE' });
      try {
        await session.run(stmt);
        break;
      } catch (e) {
        if (isConnectionError(e)) throw connectionError(e);
        // Another runner created it between our check and our create.
        const exists = await driver.executeQuery('SHOW CONSTRAINTS YIELD name WHERE name = $name RETURN name', { name: c.name }, { database });
        if (exists.records.length) break;
        if (attempt >= 5) throw new HelfyError('MIGRATION_FAILED', `cannot create the migration bookkeeping constraint ${c.name}: ${(e as Error).message}`, { cause: e });
        log.debug(`retrying ${c.name} after: ${(e as Error).message}`);
        await sleep(100 * attempt);
      } finally {
        await session.close();
      }
    }
  }
}

export async function readLock(driver: Driver, database?: string): Promise<LockInfo | undefined> {
  const res = await driver.executeQuery(
    `MATCH (l:${LOCK_LABEL} {name: 'lock'}) RETURN l.holder AS holder, toString(l.since) AS since, l.token AS token`,
    {}, { database, routing: 'READ' },
  );
  const r = res.records[0];
  return r ? { holder: String(r.get('holder') ?? '?'), since: toIso(r.get('since')), token: String(r.get('token') ?? '') } : undefined;
}

async function acquireLock(driver: Driver, database: string | undefined, timeoutMs: number, log: Logger): Promise<string> {
  const token = randomUUID();
  const holder = `${hostname()} pid ${process.pid}`;
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  let announced = false;
  for (;;) {
    try {
      await driver.executeQuery(
        `CREATE (:${LOCK_LABEL} {name: 'lock', token: $token, holder: $holder, since: datetime()})`,
        { token, holder }, { database },
      );
      log.debug(`acquired the Neo4j migration lock (${holder})`);
      return token;
    } catch (e) {
      if (neoCode(e) !== 'Neo.ClientError.Schema.ConstraintValidationFailed') throw e;
    }
    const current = await readLock(driver, database);
    if (Date.now() >= deadline) {
      const who = current ? `${current.holder} since ${current.since}` : 'another runner';
      throw new HelfyError('MIGRATION_FAILED', `Neo4j migration lock is held by ${who}; gave up after ${Math.round(timeoutMs / 1000)}s`, {
        hint: 'Wait for the other `helfy migrate` to finish. If it was killed, the lock is stale: run `helfy migrate up --force-unlock`.',
        data: { lock: current ?? null },
      });
    }
    if (!announced && current) { log.info(`waiting for the Neo4j migration lock held by ${current.holder} since ${current.since}`); announced = true; }
    await sleep(Math.min(delay + Math.random() * delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(delay * 2, 1_000);
  }
}

async function releaseLock(driver: Driver, database: string | undefined, token: string, log: Logger): Promise<void> {
  try {
    await driver.executeQuery(`MATCH (l:${LOCK_LABEL} {name: 'lock', token: $token}) DELETE l`, { token }, { database });
  } catch (e) {
    log.warn(`could not release the Neo4j migration lock: ${(e as Error).message}; run \`helfy migrate up --force-unlock\` if it stays`);
  }
}

/**
 * Removes the migration lock whoever holds it (for a runner that was killed). Returns the lock
 * that was removed, or undefined when there was none.
 */
export async function forceUnlockNeo4j(opts: Neo4jTarget & { log?: Logger }): Promise<LockInfo | undefined> {
  return guard(() => withNeo4j(opts, async (driver, database) => {
    const current = await readLock(driver, database);
    if (!current) return undefined;
    await driver.executeQuery(`MATCH (l:${LOCK_LABEL} {name: 'lock'}) DELETE l`, {}, { database });
    (opts.log ?? quiet).warn(`removed the Neo4j migration lock held by ${current.holder} since ${current.since}`);
    return current;
  }));
}

/** Maps `(line 2, column 5 …)` in a server message to a line of the file. */
function fileLine(stmt: Statement, e: unknown): number {
  const m = /line (\d+), column \d+/.exec((e as Error)?.message ?? '');
  return m ? stmt.line + Number(m[1]) - 1 : stmt.line;
}

function statementFailed(mf: MigrationFile, stmt: Statement, e: unknown, note: string): HelfyError {
  const line = fileLine(stmt, e);
  const full = ((e as Error)?.message ?? String(e)).replace(/\s+/g, ' ').trim();
  const first = full.length > 400 ? `${full.slice(0, 400)}…` : full;
  return new HelfyError('MIGRATION_FAILED', `${mf.file}:${line}: ${first}`, {
    hint: `Fix the statement at ${mf.path}:${line} and run \`helfy migrate\` again. ${note}`,
    details: [`statement at ${mf.file}:${stmt.line}: ${stmt.text.split('\n')[0]}${stmt.text.includes('\n') ? ' …' : ''}`],
    data: { file: mf.file, line, statementLine: stmt.line, neo4jCode: neoCode(e) || undefined },
    cause: e,
  });
}

async function applyFile(driver: Driver, database: string | undefined, mf: MigrationFile, token: string, opts: { awaitIndexesSeconds: number; log: Logger }): Promise<AppliedMigration> {
  const started = Date.now();
  const schema = mf.statements.filter((s) => s.kind === 'schema');
  const data = mf.statements.filter((s) => s.kind === 'data');
  const session: Session = driver.session({ database, defaultAccessMode: 'WRITE' });
  try {
    for (const s of schema) {
      opts.log.debug(`${mf.file}:${s.line} (schema) ${s.text.split('\n')[0]}`);
      try {
        await session.run(s.text);
      } catch (e) {
        if (isConnectionError(e)) throw connectionError(e);
        throw statementFailed(mf, s, e, 'Schema statements before it were applied and stay; nothing was recorded for this file.');
      }
    }
    if (schema.length) {
      try {
        await session.run('CALL db.awaitIndexes($seconds)', { seconds: neo4j.int(opts.awaitIndexesSeconds) });
      } catch (e) {
        if (isConnectionError(e)) throw connectionError(e);
        throw new HelfyError('MIGRATION_FAILED', `${mf.file}: indexes did not come online within ${opts.awaitIndexesSeconds}s: ${(e as Error).message}`, {
          hint: 'Check `SHOW INDEXES` for FAILED indexes, then run `helfy migrate` again.', cause: e, data: { file: mf.file },
        });
      }
    }
    let failed: Statement | undefined;
    try {
      await session.executeWrite(async (tx) => {
        failed = undefined;
        const lock = await tx.run(`OPTIONAL MATCH (l:${LOCK_LABEL} {name: 'lock'}) RETURN l.token AS token`);
        if (lock.records[0]?.get('token') !== token) {
          throw new HelfyError('MIGRATION_FAILED', `lost the Neo4j migration lock while applying ${mf.file} (was it force-unlocked?)`, {
            hint: 'Run `helfy migrate` again once no other runner is active.', data: { file: mf.file },
          });
        }
        for (const s of data) {
          failed = s;
          opts.log.debug(`${mf.file}:${s.line} (data) ${s.text.split('\n')[0]}`);
          await tx.run(s.text);
        }
        failed = undefined;
        await tx.run(
          `CREATE (:${HISTORY_LABEL} {version: $version, description: $description, checksum: $checksum, file: $file,
             appliedAt: datetime(), durationMs: $durationMs, appliedBy: $appliedBy})`,
          { version: neo4j.int(mf.version), description: mf.description, checksum: mf.checksum, file: mf.file, durationMs: neo4j.int(Date.now() - started), appliedBy: `${hostname()} pid ${process.pid}` },
        );
      });
    } catch (e) {
      if (e instanceof HelfyError) throw e;
      if (isConnectionError(e)) throw connectionError(e);
      if (failed) throw statementFailed(mf, failed, e, schema.length ? 'Its data statements were rolled back; its schema statements stay (IF NOT EXISTS makes them safe to rerun).' : 'The file\'s data statements were rolled back.');
      throw new HelfyError('MIGRATION_FAILED', `${mf.file}: could not record the migration: ${(e as Error).message}`, { cause: e, data: { file: mf.file } });
    }
  } finally {
    await session.close();
  }
  return {
    version: mf.version, description: mf.description, file: mf.file, checksum: mf.checksum,
    durationMs: Date.now() - started, schemaStatements: schema.length, dataStatements: data.length,
  };
}

interface Plan {
  files: MigrationFile[];
  pending: MigrationFile[];
  beyondTarget: MigrationFile[];
}

/** Validates history against files: changed checksums and out-of-order pending files are errors. */
function plan(files: MigrationFile[], history: Map<number, HistoryEntry>, target: number | undefined, log: Logger): Plan {
  const changed = files.filter((f) => history.has(f.version) && history.get(f.version)!.checksum !== f.checksum);
  if (changed.length) {
    throw new HelfyError('MIGRATION_CHECKSUM', `applied Neo4j migration${changed.length > 1 ? 's' : ''} changed since ${changed.length > 1 ? 'they were' : 'it was'} applied: ${changed.map((f) => f.file).join(', ')}`, {
      hint: 'Applied migrations must not be edited: restore the file (git checkout) and put the change in a new V<n+1>__… file.',
      details: changed.map((f) => `${f.file}: file sha256 ${f.checksum.slice(0, 12)}…, applied ${history.get(f.version)!.checksum.slice(0, 12)}… on ${history.get(f.version)!.appliedAt}`),
      data: { files: changed.map((f) => f.file) },
    });
  }
  const known = new Set(files.map((f) => f.version));
  const orphans = [...history.values()].filter((h) => !known.has(h.version));
  for (const o of orphans) log.warn(`Neo4j migration V${o.version} (${o.file || o.description}) is recorded as applied but its file is gone`);
  const maxApplied = Math.max(0, ...history.keys());
  const notApplied = files.filter((f) => !history.has(f.version));
  const late = notApplied.filter((f) => f.version < maxApplied);
  if (late.length) {
    throw new HelfyError('MIGRATION_ORDER', `Neo4j migration${late.length > 1 ? 's' : ''} ${late.map((f) => f.file).join(', ')} ${late.length > 1 ? 'are' : 'is'} older than the last applied version V${maxApplied}`, {
      hint: 'Renumber the new file(s) above the last applied version.',
    });
  }
  const pending = notApplied.filter((f) => target === undefined || f.version <= target);
  const beyondTarget = notApplied.filter((f) => target !== undefined && f.version > target);
  return { files, pending, beyondTarget };
}

const asPending = (f: MigrationFile): PendingMigration => ({ version: f.version, description: f.description, file: f.file, checksum: f.checksum });

/**
 * Applies pending migrations in order, each exactly once even with concurrent runners.
 * Throws HelfyError MIGRATION_CHECKSUM / MIGRATION_ORDER / MIGRATION_FAILED / CONNECTION_FAILED.
 */
export async function migrateNeo4j(opts: Neo4jMigrateTarget & MigrateNeo4jOptions): Promise<MigrateNeo4jResult> {
  const log = opts.log ?? quiet;
  const files = loadMigrations(opts.dir);
  if (opts.target !== undefined && !files.some((f) => f.version === opts.target)) {
    throw new HelfyError('USAGE', `no Neo4j migration with version ${opts.target} in ${opts.dir}`, { hint: `Versions available: ${files.map((f) => f.version).join(', ') || 'none'}.` });
  }
  return guard(() => withNeo4j(opts, async (driver, database) => {
    if (opts.dryRun) {
      const p = plan(files, await readHistory(driver, database), opts.target, log);
      for (const f of p.pending) log.info(`would apply ${f.file}`);
      return { applied: [], pending: p.pending.map(asPending) };
    }
    // Fast path: a read-only look that finds nothing pending needs no lock and no schema writes
    // (edited or out-of-order files are still refused by plan()).
    const early = plan(files, await readHistory(driver, database), opts.target, log);
    if (!early.pending.length) {
      log.info('Neo4j schema is up to date');
      return { applied: [], pending: early.beyondTarget.map(asPending) };
    }
    await ensureBootstrap(driver, database, log);
    const token = await acquireLock(driver, database, opts.lockTimeoutMs ?? 120_000, log);
    try {
      // Read the history again under the lock: another runner may just have applied everything.
      // (Warnings were already given by the first look.)
      const p = plan(files, await readHistory(driver, database), opts.target, quiet);
      const applied: AppliedMigration[] = [];
      for (const f of p.pending) {
        log.info(`applying ${f.file}`);
        const a = await applyFile(driver, database, f, token, { awaitIndexesSeconds: opts.awaitIndexesSeconds ?? 300, log });
        applied.push(a);
        log.success(`applied ${f.file} (${a.durationMs} ms)`);
      }
      if (!p.pending.length) log.info('Neo4j schema is up to date');
      return { applied, pending: p.beyondTarget.map(asPending) };
    } finally {
      await releaseLock(driver, database, token, log);
    }
  }));
}

/** The state of every migration file: applied, pending, or changed (applied but edited since). */
export async function neo4jMigrationStatus(opts: Neo4jMigrateTarget): Promise<MigrationStatusEntry[]> {
  const files = loadMigrations(opts.dir);
  return guard(() => withNeo4j(opts, async (driver, database) => {
    const history = await readHistory(driver, database);
    const entries = files.map((f): MigrationStatusEntry => {
      const h = history.get(f.version);
      const base = { version: f.version, description: f.description, file: f.file, checksum: f.checksum };
      if (!h) return { ...base, state: 'pending' };
      return { ...base, state: h.checksum === f.checksum ? 'applied' : 'changed', appliedAt: h.appliedAt, appliedChecksum: h.checksum };
    });
    // Applied migrations whose file is gone.
    const known = new Set(files.map((f) => f.version));
    for (const h of history.values()) {
      if (known.has(h.version)) continue;
      entries.push({ version: h.version, description: h.description, file: h.file || `V${h.version}`, state: 'missing-file', checksum: '', appliedAt: h.appliedAt, appliedChecksum: h.checksum });
    }
    return entries.sort((a, b) => a.version - b.version);
  }));
}

export interface VerifyNeo4jResult {
  ok: boolean;
  drift: Drift[];
  /** Files whose declarations were checked (the applied ones). */
  checkedFiles: string[];
  /** Files not applied yet (their objects are not expected). */
  pendingFiles: string[];
}

/** Reads constraints and indexes (indexes owned by a constraint are left out) from the server. */
export async function readActualSchema(driver: Driver, database?: string): Promise<{ objects: SchemaObject[]; failedIndexes: Set<string> }> {
  const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
  const cons = await driver.executeQuery('SHOW CONSTRAINTS YIELD name, type, entityType, labelsOrTypes, properties', {}, { database, routing: 'READ' });
  const idx = await driver.executeQuery('SHOW INDEXES YIELD name, type, entityType, labelsOrTypes, properties, owningConstraint, state', {}, { database, routing: 'READ' });
  const objects: SchemaObject[] = [];
  for (const r of cons.records) {
    objects.push({
      kind: 'constraint', name: String(r.get('name')), type: canonicalConstraintType(String(r.get('type'))),
      entityType: String(r.get('entityType')) as EntityType, labelsOrTypes: strs(r.get('labelsOrTypes')), properties: strs(r.get('properties')),
    });
  }
  const failedIndexes = new Set<string>();
  for (const r of idx.records) {
    if (String(r.get('state')) === 'FAILED') failedIndexes.add(String(r.get('owningConstraint') ?? r.get('name')));
    if (r.get('owningConstraint') !== null && r.get('owningConstraint') !== undefined) continue;
    objects.push({
      kind: 'index', name: String(r.get('name')), type: String(r.get('type')),
      entityType: String(r.get('entityType')) as EntityType, labelsOrTypes: strs(r.get('labelsOrTypes')), properties: strs(r.get('properties')),
    });
  }
  return { objects, failedIndexes };
}

/**
 * Compares the server's constraints and indexes with what the applied migration files declare:
 * `IF NOT EXISTS` silently keeps a same-named object with another definition, so drift is
 * invisible to migrate itself. Reports missing, different, failed, and undeclared helfy_* objects.
 */
export async function verifyNeo4j(opts: Neo4jMigrateTarget): Promise<VerifyNeo4jResult> {
  const files = loadMigrations(opts.dir);
  return guard(() => withNeo4j(opts, async (driver, database) => {
    const history = await readHistory(driver, database);
    const appliedFiles = files.filter((f) => history.has(f.version));
    const declared = declaredSchema(appliedFiles) as Map<string, SchemaObject & { file?: string; line?: number }>;
    const { objects, failedIndexes } = await readActualSchema(driver, database);
    // The runner's own constraints are expected once anything was applied.
    if (history.size) for (const c of BOOTSTRAP_CONSTRAINTS) declared.set(c.name, c);
    const drift = diffSchema(declared, objects, { failedIndexes, ignore: new Set(BOOTSTRAP_CONSTRAINTS.map((c) => c.name)) });
    const log = opts.log ?? quiet;
    for (const d of drift) {
      if (d.kind === 'unexpected') log.warn(d.message);
      else log.error(d.message);
    }
    return { ok: drift.length === 0, drift, checkedFiles: appliedFiles.map((f) => f.file), pendingFiles: files.filter((f) => !history.has(f.version)).map((f) => f.file) };
  }));
}
