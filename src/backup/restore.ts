/**
 * `helfy restore <id> [--only postgres,neo4j] [--yes]`: replaces the stack's data with a backup.
 *
 * Before anything is touched: the files are checked against the manifest's sha256, the running
 * stack's versions against the backup's (PostgreSQL major, timescaledb, Temporal schema, Neo4j),
 * and the user is told what will be replaced and asked (non-interactive: --yes, else exit 2).
 * Then: writers stopped; PostgreSQL: globals first (roles, hashes only), every database dropped
 * and recreated from template0 (the archive's own CREATE DATABASE and ACL), `CREATE EXTENSION
 * timescaledb VERSION <recorded>` + timescaledb_pre_restore(), pg_restore (one job),
 * timescaledb_post_restore(); Neo4j: stopped, `neo4j-admin database load --overwrite-destination`
 * of system and neo4j, started. The figures are compared with the manifest's while the writers
 * are still stopped; then everything is started again.
 *
 * Roles: the backup's, except the passwords .env owns (the superuser and helfy_owner / helfy_api /
 * helfy_temporal keep .env's, set again after the roles step). The two stores are restored side
 * by side but a failure of one does not cancel the other (a cancelled load or pg_restore would
 * wreck it too). Failure before the first database is dropped/loaded: nothing was replaced, the
 * writers are started again. Failure after it: the error names what is partly restored and the
 * writers (api, worker, temporal) stay stopped so nothing runs on half a restore; Neo4j and
 * PostgreSQL themselves run. Run the restore again, or `helfy up` to start the writers on the
 * data as it is. A restore killed with -9 is recovered by the next session of the project from
 * the record it keeps while it runs (store.ts DownRecord; recovery.ts recoverInterruptedRestore):
 * Neo4j started again, the writers too if no data had been replaced yet, else left stopped.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { HelfyConfig } from '../config/load.js';
import type { Context } from '../core/context.js';
import { HelfyError } from '../core/errors.js';
import { formatBytes } from '../stack/down.js';
import { WRITERS, type Figures, type Manifest, type Store } from './manifest.js';
import { compareFigures, compatibilityProblems, databaseLevelEntries, idempotentGlobals, type FigureDiff, type TargetVersions } from './plan.js';
import type { BackupRuntime } from './runtime.js';
import type { BackupSession } from './session.js';
import { checkFiles, clearDownRecord, findBackup, readDownRecord, writeDownRecord, type BackupEntry, type DownRecord } from './store.js';
import { neo4jConn, runStoreTasks, type StoreTask } from './tasks.js';

export interface RestoreResult {
  id: string;
  stores: Store[];
  status: 'restored' | 'cancelled';
  replaced: string[];
  differences: FigureDiff[];
  warnings: string[];
  durationMs: number;
  writersDowntimeMs: number;
}

/** A restore while it runs: its record (saved one write at a time), what it stopped and replaced. */
export class RestoreProgress {
  readonly stopped: string[] = [];
  /** Databases dropped (or being loaded) and not yet complete again. */
  readonly partial = new Set<string>();
  /** Databases restored completely. */
  readonly complete: string[] = [];
  readonly warnings: string[] = [];
  private saving: Promise<unknown> = Promise.resolve();

  constructor(
    readonly root: string,
    readonly project: string,
    readonly record: DownRecord,
  ) {}

  /** Applies `change` to the record and saves it after any save still in flight. */
  save(change: Partial<DownRecord> = {}): Promise<unknown> {
    Object.assign(this.record, change);
    const snapshot = { ...this.record };
    this.saving = this.saving.catch(() => undefined).then(() => writeDownRecord(this.root, this.project, snapshot));
    return this.saving;
  }

  settled(): Promise<unknown> {
    return this.saving.catch(() => undefined);
  }

  /** Marks `what` (e.g. "PostgreSQL helfy_app") partial, in the record too, before it is dropped. */
  async touching(what: string): Promise<void> {
    this.partial.add(what);
    await this.save({ touched: true });
  }

  done(what: string): void {
    this.partial.delete(what);
    this.complete.push(what);
  }
}

/** 1 and 2: the files and the versions, before anything is touched. Returns the running services. */
export async function checkRestorable(ctx: Context, cfg: HelfyConfig, brt: BackupRuntime, b: BackupEntry, stores: Store[]): Promise<Set<string>> {
  const m = b.manifest;
  const bad = (await checkFiles(b.dir, m)).filter((f) => !f.ok && m.files.find((x) => x.name === f.name && stores.includes(x.store)));
  if (bad.length) {
    throw new HelfyError('BACKUP_DAMAGED', `backup ${b.id} is damaged: ${bad.map((f) => `${f.name} (${f.problem})`).join('; ')}`, { hint: 'Nothing was changed. Restore another backup (`helfy backup list`).' });
  }
  const services = await brt.services();
  const running = new Set(services.filter((s) => s.running).map((s) => s.service));
  for (const s of stores) if (!running.has(s)) throw new HelfyError('STACK_NOT_RUNNING', `${s} of ${cfg.projectName} is not running`, { hint: 'Nothing was changed. Start the stack with `helfy up`, then restore.' });
  const { postgresFacts, neo4jFacts, waitNeo4j } = await import('../db/backup/figures.js');
  // Neo4j may still be starting (e.g. right after a backup restarted it).
  if (stores.includes('neo4j')) await waitNeo4j(neo4jConn(cfg), 180_000, ctx.signal);
  const [pg, n4] = await Promise.all([postgresFacts(cfg), stores.includes('neo4j') ? neo4jFacts(neo4jConn(cfg)) : Promise.resolve(undefined)]);
  const target: TargetVersions = {
    postgres: { serverVersion: pg.serverVersion, serverVersionNum: pg.serverVersionNum, timescaledbAvailable: pg.timescaledbAvailable },
    temporal: pg.temporalSchema,
    ...(n4 ? { neo4j: { version: n4.version } } : {}),
  };
  const problems = compatibilityProblems(m, target, stores);
  if (problems.length) {
    throw new HelfyError('BACKUP_INCOMPATIBLE', `backup ${b.id} cannot be restored into this stack: ${problems[0]}`, {
      details: problems.slice(1), hint: 'Nothing was changed. Run a stack with the backup\'s versions (see its manifest.json), or restore another backup.',
      data: { problems },
    });
  }
  return running;
}

/** 3: what will be replaced, said and asked. Returns the list, or undefined when the user says no. */
export async function confirmReplace(ctx: Context, cfg: HelfyConfig, b: BackupEntry, stores: Store[]): Promise<string[] | undefined> {
  const m = b.manifest;
  const replaced = [
    ...(stores.includes('postgres') ? ['PostgreSQL roles (from the backup, passwords as hashes; the superuser and the helfy roles keep the passwords of .env)', ...Object.keys(m.postgres?.databases ?? {}).map((d) => `PostgreSQL database ${d}`)] : []),
    ...(stores.includes('neo4j') ? (m.neo4j?.databases ?? []).map((d) => `Neo4j database ${d}`) : []),
  ];
  const from = m.project !== cfg.projectName ? ` — a backup of project ${m.project}` : '';
  ctx.log.info(`restore ${b.id} (${m.createdAt}, ${formatBytes(b.bytes)}${from}) into ${cfg.projectName} replaces:\n${replaced.map((r) => `  - ${r}`).join('\n')}`);
  const yes = await ctx.prompt.confirm({ message: `Replace ${replaced.length} database(s) of ${cfg.projectName} with backup ${b.id}${from}? The current data is lost.`, flag: '--yes' });
  return yes ? replaced : undefined;
}

/** The PostgreSQL task: the roles (globals), then each database dropped, recreated and restored. */
export function postgresTask(cfg: HelfyConfig, brt: BackupRuntime, b: BackupEntry, p: RestoreProgress): StoreTask {
  const m = b.manifest;
  return {
    title: 'PostgreSQL',
    run: async (signal, setTitle) => {
      const globals = m.files.find((f) => f.kind === 'globals');
      if (globals) {
        setTitle('PostgreSQL: roles (globals)');
        const { readFile } = await import('node:fs/promises');
        const { applyEnvRolePasswords, envManagedRoles } = await import('../db/backup/roles.js');
        await brt.psql(idempotentGlobals(await readFile(join(b.dir, globals.name), 'utf8'), envManagedRoles(cfg)), 'postgres', { signal });
        // A role the backup created (absent before) has no password yet: .env's, like `helfy db bootstrap`.
        const set = await applyEnvRolePasswords(cfg);
        if (set.length) p.warnings.push(`password of ${set.join(', ')} set from .env (the backup's differs or was absent)`);
      }
      for (const f of m.files.filter((x) => x.store === 'postgres' && x.kind === 'database')) {
        const db = f.database!;
        const file = join(b.dir, f.name);
        setTitle(`PostgreSQL: ${db}: drop and recreate from template0`);
        const createSql = await brt.archiveSql(file, databaseLevelEntries(await brt.archiveList(file, { signal })), { signal });
        await p.touching(`PostgreSQL ${db}`);
        await brt.psql(`DROP DATABASE IF EXISTS "${db.replace(/"/g, '""')}" WITH (FORCE);`, 'postgres', { signal });
        await brt.psql(createSql, 'postgres', { signal });
        const ts = m.postgres?.databases[db]?.extensions.timescaledb;
        if (ts) await brt.psql(`CREATE EXTENSION IF NOT EXISTS timescaledb VERSION '${ts.replace(/'/g, "''")}'; SELECT timescaledb_pre_restore();`, db, { signal });
        await brt.restoreDatabase(db, file, { signal, onBytes: (n) => setTitle(`PostgreSQL: ${db} ${formatBytes(n)} / ${formatBytes(f.bytes)}`) });
        if (ts) await brt.psql('SELECT timescaledb_post_restore();', db, { signal });
        p.done(`PostgreSQL ${db}`);
      }
      setTitle(`PostgreSQL: roles + ${Object.keys(m.postgres?.databases ?? {}).length} databases restored`);
    },
  };
}

/** The Neo4j task: stopped, each database loaded, started again (also on a failure), Bolt awaited. */
export function neo4jTask(cfg: HelfyConfig, brt: BackupRuntime, b: BackupEntry, p: RestoreProgress): StoreTask {
  const m = b.manifest;
  return {
    title: 'Neo4j',
    run: async (signal, setTitle) => {
      setTitle('Neo4j: stopping');
      await p.save({ neo4jStopped: true });
      await brt.stop(['neo4j']);
      try {
        for (const f of m.files.filter((x) => x.store === 'neo4j')) {
          await p.touching(`Neo4j ${f.database}`);
          await brt.neo4jLoad(f.database!, join(b.dir, f.name), { signal, tag: `restore-${b.id}`, onBytes: (n) => setTitle(`Neo4j: ${f.database} ${formatBytes(n)} / ${formatBytes(f.bytes)}`) });
          p.done(`Neo4j ${f.database}`);
        }
      } finally {
        // A cancelled load's one-off container must be gone before Neo4j opens the store again.
        await brt.removeOneOffs(`restore-${b.id}`).catch(() => 0);
        await brt.start(['neo4j']);
        await p.save({ neo4jStopped: false }).catch(() => undefined);
      }
      setTitle('Neo4j: waiting for Bolt');
      const { waitNeo4j } = await import('../db/backup/figures.js');
      await waitNeo4j(neo4jConn(cfg), 240_000, signal);
      setTitle(`Neo4j: ${m.neo4j?.databases.length ?? 0} databases loaded`);
    },
  };
}

/** The figures of the restored stores against the manifest's (an --online backup's may differ: a warning). */
export async function compareRestored(cfg: HelfyConfig, m: Manifest, stores: Store[], warnings: string[]): Promise<FigureDiff[]> {
  const { postgresFigures, neo4jFigures } = await import('../db/backup/figures.js');
  const have: Figures = {
    ...(stores.includes('postgres') ? await postgresFigures(cfg) : {}),
    ...(stores.includes('neo4j') ? { neo4j: await neo4jFigures(neo4jConn(cfg)) } : {}),
  };
  const differences = compareFigures(m.figures, have, stores);
  if (differences.length && !m.consistent) {
    warnings.push(`${differences.length} figure(s) differ from the manifest; expected for an --online backup (its figures were read while writers ran)`);
    return [];
  }
  return differences;
}

/**
 * After the restore, good or failed: start again what may run, and leave the record that fits.
 * After a failure that left a database half restored, the writers stay stopped: they would run
 * on half a restore. Neo4j itself is started again (its task's finally) either way. A failure
 * before the first drop, or after every database was complete (the figures), restarts them.
 * Throws the failure (or the partial-restore error).
 */
export async function settleRestore(ctx: Context, brt: BackupRuntime, p: RestoreProgress, earlier: DownRecord | undefined, failure: { e: unknown } | undefined): Promise<void> {
  const keepDown = Boolean(failure) && p.partial.size > 0;
  const toStart = failure ? p.stopped : [...new Set([...p.stopped, ...(earlier?.writers ?? [])])];
  const restart = [...(p.record.neo4jStopped ? ['neo4j'] : []), ...(keepDown ? [] : [...WRITERS].reverse().filter((w) => toStart.includes(w)))];
  if (restart.length) {
    try {
      await brt.start(restart);
    } catch (e) {
      ctx.log.error(`could not start ${restart.join(', ')} again: ${(e as Error).message}; run \`helfy up\``);
    }
  }
  await p.settled();
  if (!failure) {
    await clearDownRecord(p.root, p.project).catch(() => undefined);
    return;
  }
  if (!keepDown) {
    // Nothing of this restore is partial: the record is the earlier one again (or none).
    await (earlier ? writeDownRecord(p.root, p.project, earlier) : clearDownRecord(p.root, p.project)).catch(() => undefined);
    throw failure.e;
  }
  const down = [...new Set([...p.stopped, ...(earlier?.writers ?? [])])];
  await writeDownRecord(p.root, p.project, { restore: p.record.restore, at: new Date().toISOString(), writers: down }).catch(() => undefined);
  throw partialRestoreError(failure.e, p.record.restore, [...p.partial], p.complete, down);
}

/** The restore itself, inside a session that holds the project's lock. */
export async function restoreBackup(ctx: Context, id: string, stores: Store[], t0: number, { cfg, root, brt }: BackupSession): Promise<RestoreResult> {
  const b = await findBackup(root, id, cfg.projectName);
  const m = b.manifest;
  const running = await checkRestorable(ctx, cfg, brt, b, stores);
  const replaced = await confirmReplace(ctx, cfg, b, stores);
  if (!replaced) return { id: b.id, stores, status: 'cancelled', replaced: [], differences: [], warnings: [], durationMs: Math.round(performance.now() - t0), writersDowntimeMs: 0 };

  // 4. Stop the writers; restore; compare; start everything again.
  // Writers an earlier failed restore left stopped come back with this one (when it succeeds).
  const earlier = await readDownRecord(root, cfg.projectName);
  // The record of this restore while it runs: what a kill -9 leaves for the next session to recover.
  const p = new RestoreProgress(root, cfg.projectName, {
    restore: b.id, at: new Date().toISOString(), running: { pid: process.pid, host: hostname() },
    writers: [...new Set([...(earlier?.writers ?? []), ...WRITERS.filter((w) => running.has(w))])],
    touched: Boolean(earlier), neo4jStopped: false,
  });
  if (stores.includes('postgres') && !Object.values(m.postgres?.databases ?? {}).some((d) => d.extensions.timescaledb)) {
    p.warnings.push('timescaledb is not installed (not in the backup): timescaledb_pre_restore/post_restore skipped');
  }
  await p.save();
  const stopAt = performance.now();
  let differences: FigureDiff[] = [];
  let failure: { e: unknown } | undefined;
  try {
    // Each one as it stops: a failure on the next still restarts those already down.
    await brt.stop(WRITERS, { onStopped: (s) => void p.stopped.push(s) });
    const tasks = [...(stores.includes('postgres') ? [postgresTask(cfg, brt, b, p)] : []), ...(stores.includes('neo4j') ? [neo4jTask(cfg, brt, b, p)] : [])];
    // No sibling cancel: a pg_restore error must not cut Neo4j's load short (nor the reverse).
    await runStoreTasks(ctx, tasks, { cancelSiblings: false });
    // Figures while the writers are still stopped: nothing has written since the restore.
    differences = await compareRestored(cfg, m, stores, p.warnings);
  } catch (e) {
    failure = { e };
  }
  await settleRestore(ctx, brt, p, earlier, failure);
  return {
    id: b.id, stores, status: 'restored', replaced, differences, warnings: p.warnings,
    durationMs: Math.round(performance.now() - t0), writersDowntimeMs: Math.round(performance.now() - stopAt),
  };
}

/** The error of a restore that failed after it replaced something: what is partial, what to do. */
export function partialRestoreError(e: unknown, id: string, partial: string[], complete: string[], writersStopped: string[]): HelfyError {
  const cause = e instanceof Error ? e.message : String(e);
  const interrupted = (e as HelfyError)?.code === 'INTERRUPTED';
  const what = partial.length ? `${partial.join(', ')} ${partial.length === 1 ? 'was' : 'were'} dropped and ${partial.length === 1 ? 'is' : 'are'} only partly restored` : 'some databases were replaced';
  const down = writersStopped.length ? `; ${writersStopped.join(', ')} were left stopped` : '';
  return new HelfyError(interrupted ? 'INTERRUPTED' : 'OPERATION_FAILED', `restore of ${id} ${interrupted ? 'interrupted' : 'failed'}: ${cause}`, {
    details: [`${what}${complete.length ? ` (restored completely: ${complete.join(', ')})` : ''}${down}`],
    hint: `Run \`helfy restore ${id} --yes\` again (or restore another backup); \`helfy up\` starts the writers on the data as it is now.`,
    cause: e,
    data: { partial, complete, writersLeftStopped: writersStopped, ...((e as HelfyError)?.hint ? { causeHint: (e as HelfyError).hint } : {}) },
  });
}
