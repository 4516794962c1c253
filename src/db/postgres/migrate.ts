/**
 * The PostgreSQL migration runner for `helfy migrate`.
 *
 * Files and their order come from drizzle-kit (`migrations/postgres/<tag>.sql` and
 * `meta/_journal.json`). drizzle-orm's own migrator is not used because it
 *  - takes no lock, so two processes starting together apply the same file twice (drizzle-orm#874);
 *  - never compares stored hashes, so an edited, already-applied file goes unnoticed;
 *  - applies every pending file in one transaction, so one bad file undoes the good ones;
 *  - compares only against the newest `created_at`, silently skipping a pending file older than
 *    the newest applied one, e.g. after a branch merge (drizzle-orm#5769).
 *
 * This runner:
 *  - holds `pg_advisory_lock(MIGRATION_LOCK_KEY)` for the whole run, on a dedicated connection
 *    (or, for single-connection servers such as PGlite, on the migration connection itself), and
 *    reads the applied state only after it has the lock, so N concurrent runs apply each file
 *    exactly once and all succeed. The lock is taken by polling pg_try_advisory_lock, not by a
 *    blocking pg_advisory_lock: a waiter blocked inside a statement holds a snapshot, and
 *    CREATE INDEX CONCURRENTLY in the lock holder waits for every older snapshot to go away, which
 *    would deadlock the two;
 *  - runs each file in its own transaction (statements split on drizzle-kit's
 *    `--> statement-breakpoint`); a file with a line `-- helfy:no-transaction` runs statement by
 *    statement outside a transaction (CREATE INDEX CONCURRENTLY; put a breakpoint between every
 *    statement of such a file, a multi-statement string is an implicit transaction);
 *  - refuses to run when an applied file changed (MIGRATION_CHECKSUM), when a pending file sorts
 *    before an applied one (MIGRATION_ORDER) or when an applied migration has no file any more
 *    (MIGRATION_DRIFT);
 *  - records each file in drizzle's own `drizzle.__drizzle_migrations (id, hash, created_at)`
 *    exactly as drizzle-orm does (hash = sha256 hex of the file text, created_at = journal `when`),
 *    so drizzle-kit and drizzle-orm's migrate() read the same history, plus a row in
 *    `drizzle.helfy_migrations` (see ensureHistoryTables for why).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { Logger } from '../../core/context.js';
import { HelfyError } from '../../core/errors.js';
import { connect, quoteLiteral, type PgConnection } from './connection.js';

import { NO_TRANSACTION_MARKER, readMigrationFiles, sha256, type JournalEntry, type MigrationFile } from './migration-files.js';
import { DRIZZLE_TABLE, HELFY_TABLE, MIGRATION_LOCK_KEY, MIGRATIONS_SCHEMA } from './names.js';

export { NO_TRANSACTION_MARKER, readMigrationFiles, sha256, type JournalEntry, type MigrationFile };

export { DRIZZLE_TABLE, HELFY_TABLE, MIGRATION_LOCK_KEY, MIGRATIONS_SCHEMA };
export const STATEMENT_BREAKPOINT = '--> statement-breakpoint';

export type MigrationState = 'applied' | 'pending' | 'changed' | 'missing-file';

export interface MigrationStatusEntry {
  /** File name without `.sql` (drizzle-kit's tag), or `unknown@<created_at>` for a history row without a journal entry. */
  tag: string;
  /** Position in the journal; null for a history row without a journal entry. */
  idx: number | null;
  /** Journal `when` (= drizzle's created_at). */
  when: number | null;
  state: MigrationState;
  /** sha256 of the file now (null when the file is missing). */
  hash: string | null;
  /** sha256 recorded when it was applied (null when pending). */
  appliedHash: string | null;
  appliedAt: Date | null;
  durationMs: number | null;
  appliedBy: string | null;
  noTransaction: boolean;
}

export interface MigrationProblem {
  code: 'MIGRATION_CHECKSUM' | 'MIGRATION_ORDER' | 'MIGRATION_DRIFT' | 'MIGRATION_FAILED';
  tag: string;
  message: string;
}

export interface MigrationPlan {
  dir: string;
  entries: MigrationStatusEntry[];
  /** Pending entries that a run would apply, in order (up to the target). */
  toApply: MigrationStatusEntry[];
  /** Pending entries after the target. */
  skipped: MigrationStatusEntry[];
  problems: MigrationProblem[];
  /** Whether the timescaledb extension is installed in the target database. */
  timescale: { present: boolean; version?: string };
}

export interface AppliedMigration {
  tag: string;
  hash: string;
  statements: number;
  durationMs: number;
  transactional: boolean;
}

export interface MigrateResult {
  dryRun: boolean;
  /** Applied by this run (empty on a dry run). */
  applied: AppliedMigration[];
  /** Still pending within the target: what a dry run would apply; empty after a real run. */
  pending: string[];
  /** Pending but after `target`, left alone. */
  skipped: string[];
  /** Already applied before this run. */
  alreadyApplied: string[];
  timescale: { present: boolean; version?: string };
  /** Time spent waiting for another runner's lock. */
  lockWaitMs: number;
}

export interface MigrateOptions {
  /** Where to connect: helfy_app as helfy_owner (pgConnectionFor(cfg, 'owner')). */
  connection: PgConnection;
  /** Folder holding the .sql files and meta/_journal.json. */
  dir: string;
  log: Logger;
  /** Apply up to and including this migration (tag, or a prefix such as `0003`). */
  target?: string;
  /** Plan only: nothing is created, locked or applied. */
  dryRun?: boolean;
  /** 'required': refuse to run when the timescaledb extension is absent from the database. */
  timescale?: 'required' | 'optional';
  /** Image name used in the TIMESCALE_MISSING message. */
  image?: string;
  /** Give up waiting for another runner after this long (default 10 minutes). */
  lockTimeoutMs?: number;
}

export type StatusOptions = Pick<MigrateOptions, 'connection' | 'dir' | 'target'> & { log?: Logger };

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

/** Path relative to the working directory when under it, else absolute. */
function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : p;
}


export interface SqlStatement {
  sql: string;
  /** Offset of `sql` in the file. */
  offset: number;
}

/** Splits a file like drizzle-orm does (on `--> statement-breakpoint`), keeping offsets; drops blank chunks. */
export function splitStatements(content: string): SqlStatement[] {
  const out: SqlStatement[] = [];
  let offset = 0;
  for (const chunk of content.split(STATEMENT_BREAKPOINT)) {
    if (chunk.trim() !== '') out.push({ sql: chunk, offset });
    offset += chunk.length + STATEMENT_BREAKPOINT.length;
  }
  return out;
}

/** 1-based line of a character offset. */
export function lineAt(content: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < content.length; i++) if (content.charCodeAt(i) === 10) line++;
  return line;
}

/** Offset of the first character of a statement that is neither whitespace nor a `--` comment. */
function firstCodeOffset(sql: string): number {
  let i = 0;
  while (i < sql.length) {
    const rest = sql.slice(i);
    const ws = /^\s+/.exec(rest);
    if (ws) { i += ws[0].length; continue; }
    if (rest.startsWith('--')) {
      const nl = rest.indexOf('\n');
      if (nl < 0) return i;
      i += nl + 1;
      continue;
    }
    return i;
  }
  return 0;
}

/**
 * Line in the file where a statement failed: from the server's `position` (1-based, in
 * characters, into the statement text we sent) when it gives one; for errors raised inside a DO
 * block, from the PL/pgSQL line in `where`; otherwise the statement's first line of code.
 */
export function errorLine(content: string, stmt: SqlStatement, err: { position?: string; where?: string }): number {
  const pos = Number(err.position);
  if (Number.isInteger(pos) && pos > 0) return lineAt(content, stmt.offset + pos - 1);
  const m = /inline_code_block line (\d+)/.exec(err.where ?? '');
  const body = /\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(stmt.sql);
  if (m && body) return lineAt(content, stmt.offset + body.index + body[0].length) + Number(m[1]) - 1;
  return lineAt(content, stmt.offset + firstCodeOffset(stmt.sql));
}

// ---------------------------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------------------------

export interface HistoryRow {
  id: number;
  hash: string;
  created_at: string | null;
  tag: string | null;
  applied_at: Date | null;
  duration_ms: number | null;
  applied_by: string | null;
}

/**
 * drizzle's table is created exactly as drizzle-orm's PgDialect.migrate does, so drizzle-kit and
 * drizzle-orm keep reading and extending the same history.
 *
 * Why a side table: drizzle's table holds only (id, hash, created_at). It cannot say which file a
 * row is (needed to name a file whose applied copy no longer exists, and for `helfy migrate status`),
 * when it was applied, how long it took or who ran it, and drizzle-kit owns its shape, so columns
 * must not be added to it. helfy_migrations carries that, keyed by tag; a row in drizzle's table
 * without one (applied by drizzle-kit/drizzle-orm) is still a valid applied migration.
 */
async function ensureHistoryTables(c: pg.Client): Promise<void> {
  await c.query(`CREATE SCHEMA IF NOT EXISTS ${MIGRATIONS_SCHEMA}`);
  await c.query(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_SCHEMA}.${DRIZZLE_TABLE} (
    id SERIAL PRIMARY KEY,
    hash text NOT NULL,
    created_at bigint
  )`);
  await c.query(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_SCHEMA}.${HELFY_TABLE} (
    tag text PRIMARY KEY,
    hash text NOT NULL,
    created_at bigint NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    duration_ms integer NOT NULL,
    statements integer NOT NULL,
    transactional boolean NOT NULL,
    db_user text NOT NULL DEFAULT current_user,
    applied_by text NOT NULL
  )`);
}

async function readHistory(c: pg.Client): Promise<HistoryRow[]> {
  const r = await c.query<{ d: string | null; h: string | null }>(
    `SELECT to_regclass($1) AS d, to_regclass($2) AS h`,
    [`${MIGRATIONS_SCHEMA}.${DRIZZLE_TABLE}`, `${MIGRATIONS_SCHEMA}.${HELFY_TABLE}`],
  );
  if (!r.rows[0]?.d) return [];
  const side = r.rows[0].h
    ? `LEFT JOIN ${MIGRATIONS_SCHEMA}.${HELFY_TABLE} h ON h.created_at = d.created_at AND h.hash = d.hash`
    : '';
  const cols = r.rows[0].h ? 'h.tag, h.applied_at, h.duration_ms, h.applied_by' : 'NULL::text AS tag, NULL::timestamptz AS applied_at, NULL::int AS duration_ms, NULL::text AS applied_by';
  const rows = await c.query<HistoryRow>(
    `SELECT d.id, d.hash, d.created_at::text AS created_at, ${cols}
       FROM ${MIGRATIONS_SCHEMA}.${DRIZZLE_TABLE} d ${side}
      ORDER BY d.created_at NULLS FIRST, d.id`,
  );
  return rows.rows;
}

async function readTimescale(c: pg.Client): Promise<{ present: boolean; version?: string }> {
  const r = await c.query<{ extversion: string }>(`SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'`);
  return r.rows[0] ? { present: true, version: r.rows[0].extversion } : { present: false };
}

// ---------------------------------------------------------------------------------------------
// Planning (pure)
// ---------------------------------------------------------------------------------------------

/** Compares the files with the history; no I/O. Exported for unit tests. */
export function buildPlan(dir: string, files: MigrationFile[], history: HistoryRow[], target?: string): Omit<MigrationPlan, 'timescale'> {
  const problems: MigrationProblem[] = [];
  const used = new Set<HistoryRow>();
  const entries: MigrationStatusEntry[] = [];

  for (const f of files) {
    // A file is applied when drizzle's table has a row with its `when` (drizzle's own notion);
    // prefer the row our side table names, in case two journal entries share a `when`.
    const row =
      history.find((h) => !used.has(h) && h.tag === f.tag && Number(h.created_at) === f.when) ??
      history.find((h) => !used.has(h) && h.created_at !== null && Number(h.created_at) === f.when);
    if (row) used.add(row);
    const state: MigrationState = row ? (f.hash === null ? 'missing-file' : f.hash === row.hash ? 'applied' : 'changed') : f.hash === null ? 'missing-file' : 'pending';
    entries.push({
      tag: f.tag,
      idx: f.idx,
      when: f.when,
      state,
      hash: f.hash,
      appliedHash: row?.hash ?? null,
      appliedAt: row?.applied_at ?? null,
      durationMs: row?.duration_ms ?? null,
      appliedBy: row?.applied_by ?? null,
      noTransaction: f.noTransaction,
    });
    const file = displayPath(f.path);
    if (state === 'changed') {
      problems.push({ code: 'MIGRATION_CHECKSUM', tag: f.tag, message: `${file} was changed after it was applied (sha256 ${row!.hash.slice(0, 12)}… applied, ${f.hash!.slice(0, 12)}… now)` });
    } else if (state === 'missing-file') {
      problems.push(
        row
          ? { code: 'MIGRATION_DRIFT', tag: f.tag, message: `${file} is applied in the database but the file is missing` }
          : { code: 'MIGRATION_FAILED', tag: f.tag, message: `the journal lists ${f.tag} but ${file} does not exist` },
      );
    }
  }
  // History rows that match no journal entry: applied from a file this checkout does not have.
  for (const h of history) {
    if (used.has(h)) continue;
    const tag = h.tag ?? `unknown@${h.created_at ?? 'null'}`;
    entries.push({ tag, idx: null, when: h.created_at === null ? null : Number(h.created_at), state: 'missing-file', hash: null, appliedHash: h.hash, appliedAt: h.applied_at, durationMs: h.duration_ms, appliedBy: h.applied_by, noTransaction: false });
    problems.push({ code: 'MIGRATION_DRIFT', tag, message: `migration ${tag} is applied in the database but is not in ${join(dir, 'meta', '_journal.json')}` });
  }

  // Order: a pending file must come after every applied one, both in the journal and by `when`
  // (drizzle-orm's migrator would treat a pending file with an older `when` as applied).
  const inJournal = entries.filter((e) => e.idx !== null);
  const appliedIdx = inJournal.filter((e) => e.appliedHash !== null).map((e) => inJournal.indexOf(e));
  const lastApplied = appliedIdx.length ? Math.max(...appliedIdx) : -1;
  const newestWhen = history.reduce((m, h) => Math.max(m, h.created_at === null ? -Infinity : Number(h.created_at)), -Infinity);
  for (const [i, e] of inJournal.entries()) {
    if (e.state !== 'pending') continue;
    const later = inJournal[lastApplied];
    if (i < lastApplied) {
      problems.push({ code: 'MIGRATION_ORDER', tag: e.tag, message: `${e.tag} is pending but sorts before ${later?.tag}, which is already applied` });
    } else if (e.when !== null && e.when <= newestWhen) {
      problems.push({ code: 'MIGRATION_ORDER', tag: e.tag, message: `${e.tag} is pending but its journal time (${new Date(e.when).toISOString()}) is not newer than the newest applied migration (${new Date(newestWhen).toISOString()})` });
    }
  }

  const pending = inJournal.filter((e) => e.state === 'pending');
  let toApply = pending;
  let skipped: MigrationStatusEntry[] = [];
  if (target !== undefined) {
    const t = inJournal.findIndex((e) => e.tag === target) >= 0 ? inJournal.findIndex((e) => e.tag === target) : inJournal.findIndex((e) => e.tag.startsWith(target));
    if (t < 0) {
      throw new HelfyError('USAGE', `unknown migration target "${target}"`, { hint: `Pass a tag from ${join(dir, 'meta', '_journal.json')}, e.g. ${inJournal.at(-1)?.tag ?? '0000_init'}.` });
    }
    toApply = pending.filter((e) => inJournal.indexOf(e) <= t);
    skipped = pending.filter((e) => inJournal.indexOf(e) > t);
  }
  return { dir, entries, toApply, skipped, problems };
}

/** Turns the plan's problems into one HelfyError (the most serious kind first), or returns. */
export function assertNoProblems(plan: Pick<MigrationPlan, 'problems' | 'dir'>): void {
  if (!plan.problems.length) return;
  const order: MigrationProblem['code'][] = ['MIGRATION_CHECKSUM', 'MIGRATION_ORDER', 'MIGRATION_DRIFT', 'MIGRATION_FAILED'];
  const first = [...plan.problems].sort((a, b) => order.indexOf(a.code) - order.indexOf(b.code))[0]!;
  const hints: Record<MigrationProblem['code'], string> = {
    MIGRATION_CHECKSUM:
      'An applied migration must not be edited: restore the original (e.g. `git checkout -- <file>`) and put the change in a new migration (`helfy migrate create <name>`).',
    MIGRATION_ORDER:
      'A migration was added before one that is already applied (e.g. after a merge). Regenerate it so it comes last: delete the file and its journal entry and run `helfy migrate create <name>` again.',
    MIGRATION_DRIFT:
      'The database has migrations this checkout does not know (another branch?). Check out the branch that has them, or recreate the database.',
    MIGRATION_FAILED: 'Restore the missing migration file, or regenerate the journal with drizzle-kit.',
  };
  const others = plan.problems.length - 1;
  throw new HelfyError(first.code, `${first.message}${others ? ` (and ${others} more problem${others > 1 ? 's' : ''})` : ''}`, {
    hint: hints[first.code],
    details: plan.problems.map((p) => `${p.tag}: ${p.message}`),
    data: { problems: plan.problems },
  });
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/** Reads files and history (no lock, nothing created) and compares them; problems are returned, not thrown. */
export async function planPostgres(opts: StatusOptions): Promise<MigrationPlan> {
  const files = readMigrationFiles(opts.dir);
  const c = await connect(opts.connection);
  try {
    const history = await readHistory(c);
    const timescale = await readTimescale(c);
    return { ...buildPlan(opts.dir, files, history, opts.target), timescale };
  } finally {
    await c.end().catch(() => {});
  }
}

/** Every migration with its state (applied | pending | changed | missing-file) and applied_at. */
export async function postgresMigrationStatus(opts: StatusOptions): Promise<MigrationStatusEntry[]> {
  return (await planPostgres(opts)).entries;
}

/** Throws MIGRATION_CHECKSUM / MIGRATION_ORDER / MIGRATION_DRIFT when files and database disagree. */
export async function verifyPostgres(opts: StatusOptions): Promise<{ applied: number; pending: number; entries: MigrationStatusEntry[] }> {
  const plan = await planPostgres(opts);
  assertNoProblems(plan);
  return { applied: plan.entries.filter((e) => e.state === 'applied').length, pending: plan.entries.filter((e) => e.state === 'pending').length, entries: plan.entries };
}

/** Applies the pending migrations; see the file comment for the guarantees. */
export async function migratePostgres(opts: MigrateOptions): Promise<MigrateResult> {
  const { log } = opts;
  const files = readMigrationFiles(opts.dir);
  const byTag = new Map(files.map((f) => [f.tag, f]));
  const client = await connect(opts.connection);
  let current = '';
  client.on('notice', (n) => {
    const msg = n.message ?? '';
    if (msg.startsWith('helfy:')) log.warn(`${current ? `${current}: ` : ''}${msg.slice('helfy:'.length).trim()}`);
    else if (n.severity === 'WARNING') log.warn(`${current ? `${current}: ` : ''}${msg}`);
    else log.debug(`postgres ${n.severity ?? 'NOTICE'}: ${msg}`);
  });

  let lockClient: pg.Client | undefined;
  let locked = false;
  let lockWaitMs = 0;
  try {
    // Fast path: when a read-only look finds nothing to apply, there is nothing to lock for
    // (no second connection, no DDL). Problems (edited files, order) are still reported.
    if (!opts.dryRun) {
      const early = await upToDate(client, opts, files);
      if (early) return early;
    }
    if (!opts.dryRun) {
      lockClient = await connect(opts.connection);
      lockWaitMs = await acquireLock(lockClient, opts.lockTimeoutMs ?? 600_000, log);
      locked = true;
      await ensureHistoryTables(client);
    }
    // Read the state only now, under the lock: another runner may just have applied something.
    const history = await readHistory(client);
    const timescale = await readTimescale(client);
    const plan = buildPlan(opts.dir, files, history, opts.target);
    assertNoProblems(plan);
    if (opts.timescale === 'required' && !timescale.present) {
      const db = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db;
      throw new HelfyError('TIMESCALE_MISSING', `the timescaledb extension is not installed in database ${db}${opts.image ? ` (image ${opts.image})` : ''}`, {
        hint: 'Run `helfy db bootstrap` on a TimescaleDB image (timescale/timescaledb-ha), or set HELFY_TIMESCALE=optional to use plain tables.',
      });
    }
    const result: MigrateResult = {
      dryRun: Boolean(opts.dryRun),
      applied: [],
      pending: plan.toApply.map((e) => e.tag),
      skipped: plan.skipped.map((e) => e.tag),
      alreadyApplied: plan.entries.filter((e) => e.state === 'applied').map((e) => e.tag),
      timescale,
      lockWaitMs,
    };
    if (opts.dryRun) return result;

    for (const entry of plan.toApply) {
      const file = byTag.get(entry.tag)!;
      current = entry.tag;
      log.info(`applying ${entry.tag}${file.noTransaction ? ' (no transaction)' : ''}`);
      const applied = await applyFile(client, file, log);
      result.applied.push(applied);
      result.pending = result.pending.filter((t) => t !== entry.tag);
      log.success(`applied ${entry.tag} in ${applied.durationMs} ms`);
    }
    current = '';
    if (result.applied.length && !timescale.present) result.timescale = await readTimescale(client);
    return result;
  } finally {
    if (locked && lockClient) await lockClient.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY.toString()]).catch(() => {});
    if (lockClient) await lockClient.end().catch(() => {});
    await client.end().catch(() => {});
  }
}

/** The result of a run that has nothing to do, or undefined when something is pending. */
async function upToDate(client: pg.Client, opts: MigrateOptions, files: MigrationFile[]): Promise<MigrateResult | undefined> {
  const history = await readHistory(client);
  if (history.length === 0) return undefined;
  const plan = buildPlan(opts.dir, files, history, opts.target);
  assertNoProblems(plan);
  if (plan.toApply.length) return undefined;
  const timescale = await readTimescale(client);
  if (opts.timescale === 'required' && !timescale.present) return undefined; // the full path reports it
  return {
    dryRun: false, applied: [], pending: [], skipped: plan.skipped.map((e) => e.tag),
    alreadyApplied: plan.entries.filter((e) => e.state === 'applied').map((e) => e.tag), timescale, lockWaitMs: 0,
  };
}

async function acquireLock(c: pg.Client, timeoutMs: number, log: Logger): Promise<number> {
  const started = Date.now();
  const key = MIGRATION_LOCK_KEY.toString();
  let told = false;
  for (;;) {
    const r = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]);
    if (r.rows[0]?.ok) return Date.now() - started;
    if (!told) {
      told = true;
      const holder = await c
        .query<{ pid: number }>(
          `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
             AND classid::bigint = ($1::bigint >> 32) AND objid::bigint = ($1::bigint & 4294967295)`,
          [key],
        )
        .then((x) => x.rows[0]?.pid)
        .catch(() => undefined);
      log.info(`waiting for another migration run to finish${holder ? ` (server pid ${holder})` : ''}`);
    }
    if (Date.now() - started > timeoutMs) {
      throw new HelfyError('MIGRATION_FAILED', `gave up after ${Math.round(timeoutMs / 1000)} s waiting for another migration run to release the lock`, {
        hint: 'Another `helfy migrate` (or a stuck session) holds pg_advisory_lock; see pg_locks / pg_stat_activity.',
      });
    }
    await sleep(100 + Math.floor(Math.random() * 150));
  }
}

/**
 * A transactional file in one round trip: BEGIN, the file as written (drizzle-kit's breakpoint
 * markers are SQL comments), both history rows and COMMIT in one simple-protocol query. On any
 * error it rolls back and returns false, and applyFile re-runs the file statement by statement,
 * which fails at the same statement and can name its line precisely.
 */
async function applyFileBatched(c: pg.Client, f: MigrationFile, statements: number): Promise<AppliedMigration | false> {
  const started = performance.now();
  const hash = quoteLiteral(f.hash!);
  const batch = [
    'BEGIN;',
    f.content!,
    ';',
    `INSERT INTO ${MIGRATIONS_SCHEMA}.${DRIZZLE_TABLE} (hash, created_at) VALUES (${hash}, ${Number(f.when)});`,
    `INSERT INTO ${MIGRATIONS_SCHEMA}.${HELFY_TABLE} (tag, hash, created_at, duration_ms, statements, transactional, applied_by)
       VALUES (${quoteLiteral(f.tag)}, ${hash}, ${Number(f.when)}, (extract(epoch FROM clock_timestamp() - now()) * 1000)::int, ${statements}, true, ${quoteLiteral(appliedBy())})
       ON CONFLICT (tag) DO UPDATE SET hash = EXCLUDED.hash, created_at = EXCLUDED.created_at, applied_at = now(),
         duration_ms = EXCLUDED.duration_ms, statements = EXCLUDED.statements, transactional = EXCLUDED.transactional,
         db_user = current_user, applied_by = EXCLUDED.applied_by;`,
    'COMMIT;',
  ].join('\n');
  try {
    await c.query(batch);
  } catch (e) {
    const err = e as pg.DatabaseError;
    if (typeof err?.code !== 'string' || !('severity' in err)) throw e; // the connection broke
    await c.query('ROLLBACK').catch(() => {});
    return false;
  }
  return { tag: f.tag, hash: f.hash!, statements, durationMs: Math.round(performance.now() - started), transactional: true };
}

async function applyFile(c: pg.Client, f: MigrationFile, log: Logger): Promise<AppliedMigration> {
  const content = f.content!;
  const statements = splitStatements(content);
  const transactional = !f.noTransaction;
  if (transactional) {
    const fast = await applyFileBatched(c, f, statements.length);
    if (fast) return fast;
    log.debug(`${f.tag}: failed as one batch; re-running statement by statement to locate the error`);
  }
  const started = performance.now();
  let done = 0;
  if (transactional) await c.query('BEGIN');
  try {
    for (const s of statements) {
      try {
        await c.query(s.sql);
        done++;
      } catch (e) {
        throw statementError(f, content, s, e, transactional, done);
      }
    }
    const durationMs = Math.round(performance.now() - started);
    await c.query(`INSERT INTO ${MIGRATIONS_SCHEMA}.${DRIZZLE_TABLE} (hash, created_at) VALUES ($1, $2)`, [f.hash, f.when]);
    await c.query(
      `INSERT INTO ${MIGRATIONS_SCHEMA}.${HELFY_TABLE} (tag, hash, created_at, duration_ms, statements, transactional, applied_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (tag) DO UPDATE SET hash = EXCLUDED.hash, created_at = EXCLUDED.created_at, applied_at = now(),
         duration_ms = EXCLUDED.duration_ms, statements = EXCLUDED.statements, transactional = EXCLUDED.transactional,
         db_user = current_user, applied_by = EXCLUDED.applied_by`,
      [f.tag, f.hash, f.when, durationMs, statements.length, transactional, appliedBy()],
    );
    if (transactional) await c.query('COMMIT');
    return { tag: f.tag, hash: f.hash!, statements: statements.length, durationMs, transactional };
  } catch (e) {
    if (transactional) await c.query('ROLLBACK').catch((re: unknown) => log.debug(`rollback failed: ${String(re)}`));
    throw e;
  }
}

function statementError(f: MigrationFile, content: string, s: SqlStatement, e: unknown, transactional: boolean, done: number): HelfyError {
  const err = e as pg.DatabaseError;
  if (typeof err?.code !== 'string' || !('severity' in err)) {
    // Not a server error (the connection broke): nothing to point at in the file.
    return new HelfyError('MIGRATION_FAILED', `migration ${f.tag} failed: ${(e as Error)?.message ?? String(e)}`, {
      hint: transactional ? `${f.tag} was rolled back; check the server and run \`helfy migrate\` again.` : `${f.tag} ran without a transaction: ${done} statement(s) may be applied; check before rerunning.`,
      cause: e,
      data: { file: f.path, tag: f.tag },
    });
  }
  const line = errorLine(content, s, err);
  const file = displayPath(f.path);
  const details = [
    ...(err.detail ? [`detail: ${err.detail}`] : []),
    ...(err.hint ? [`server hint: ${err.hint}`] : []),
    ...(err.where ? [`where: ${err.where}`] : []),
    `statement: ${s.sql.trim().split('\n')[0]!.slice(0, 160)}`,
  ];
  return new HelfyError('MIGRATION_FAILED', `migration ${file}:${line} failed: ${err.message} (SQLSTATE ${err.code})`, {
    hint: transactional
      ? `${f.tag} was rolled back (none of it is applied); earlier migrations stay applied. Fix the file and run \`helfy migrate\` again.`
      : `${f.tag} runs without a transaction (helfy:no-transaction): its ${done} statement(s) before line ${line} stay applied. Make the file safe to rerun (IF NOT EXISTS; drop an INVALID index left by CREATE INDEX CONCURRENTLY), then run \`helfy migrate\` again.`,
    details,
    cause: e,
    data: { file: f.path, tag: f.tag, line, pgCode: err.code, transactional },
  });
}

function appliedBy(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry (containers) */
  }
  return `${user}@${hostname()} helfy pid ${process.pid}`;
}

// ---------------------------------------------------------------------------------------------
// `helfy migrate create <name>`: drizzle-kit generate
// ---------------------------------------------------------------------------------------------

export interface CreateMigrationOptions {
  /** Folder holding drizzle.config.ts and node_modules/.bin/drizzle-kit (the helfy checkout). */
  projectDir: string;
  name: string;
  /** An empty file for hand-written SQL (`drizzle-kit generate --custom`). */
  custom?: boolean;
  /** Relative to projectDir; default drizzle.config.ts. */
  config?: string;
}

/** Normalises a migration name for drizzle-kit: lower case, [a-z0-9_]. */
export function migrationName(name: string): string {
  const n = name.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  if (!n) throw new HelfyError('USAGE', `invalid migration name ${JSON.stringify(name)}`, { hint: 'Use letters, digits and underscores, e.g. `add_goals`.' });
  return n;
}

/** The command `helfy migrate create` runs: [executable, ...args], to be run with cwd = projectDir. */
export function drizzleKitGenerateArgv(opts: CreateMigrationOptions): string[] {
  const bin = resolve(opts.projectDir, 'node_modules', '.bin', process.platform === 'win32' ? 'drizzle-kit.cmd' : 'drizzle-kit');
  return [bin, 'generate', '--config', opts.config ?? 'drizzle.config.ts', '--name', migrationName(opts.name), ...(opts.custom ? ['--custom'] : [])];
}

export interface CreateMigrationResult {
  argv: string[];
  /** The new file(s) drizzle-kit wrote; empty when the schema had no changes. */
  created: string[];
  output: string;
}

/**
 * Runs drizzle-kit generate (through src/runtime/process: only src/runtime starts processes) and reports
 * the files it added, found by diffing the journal. No changes in the schema → created: [].
 */
export async function createPostgresMigration(opts: CreateMigrationOptions & { migrationsDir?: string }): Promise<CreateMigrationResult> {
  const argv = drizzleKitGenerateArgv(opts);
  const dir = opts.migrationsDir ?? join(opts.projectDir, 'migrations', 'postgres');
  if (!existsSync(argv[0]!)) {
    throw new HelfyError('FS_ERROR', `drizzle-kit not found at ${argv[0]}`, { hint: 'Run `npm install` in the helfy checkout.' });
  }
  const before = new Set(journalTags(dir));
  const { captureOutput } = await import('../../runtime/process/capture.js');
  const { code, output } = await captureOutput(argv, { cwd: opts.projectDir, env: { ...process.env, NO_COLOR: '1' } });
  if (code !== 0) {
    throw new HelfyError('OPERATION_FAILED', `drizzle-kit generate failed (exit ${code})`, {
      details: output.trim().split('\n').slice(-20),
      hint: 'Fix the schema in templates/api/src/db/schema.ts and try again.',
    });
  }
  const created = journalTags(dir).filter((t) => !before.has(t)).map((t) => join(dir, `${t}.sql`));
  return { argv, created, output };
}

function journalTags(dir: string): string[] {
  const p = join(dir, 'meta', '_journal.json');
  if (!existsSync(p)) return [];
  const j = JSON.parse(readFileSync(p, 'utf8')) as { entries?: JournalEntry[] };
  return (j.entries ?? []).map((e) => e.tag);
}

/** .sql files in the folder that the journal does not list (drizzle ignores them; worth a warning). */
export function unlistedMigrationFiles(dir: string): string[] {
  const listed = new Set(journalTags(dir).map((t) => `${t}.sql`));
  return readdirSync(dir).filter((f) => f.endsWith('.sql') && !listed.has(f));
}

