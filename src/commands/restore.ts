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
 * are still stopped; then everything is started again (in a finally, also after a failure).
 */
import { join } from 'node:path';
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { ExitCode, HelfyError } from '../core/errors.js';
import { parseStores, WRITERS, type Figures, type Store } from '../backup/manifest.js';
import { compareFigures, compatibilityProblems, databaseLevelEntries, idempotentGlobals, type FigureDiff, type TargetVersions } from '../backup/plan.js';
import { checkFiles, findBackup } from '../backup/store.js';
import { formatBytes } from '../stack/down.js';
import { neo4jConn, openBackupSession, runStoreTasks, type StoreTask } from './backup.js';

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

export async function run(ctx: Context, input: CommandInput): Promise<RestoreResult> {
  const id = String(input.args[0] ?? '');
  const opts = input.opts as { only?: string };
  const stores = parseStores(opts.only);
  const t0 = performance.now();
  const { cfg, root, brt } = await openBackupSession(ctx);
  const b = await findBackup(root, id);
  const m = b.manifest;
  const warnings: string[] = [];

  // 1. The files, before anything else.
  const bad = (await checkFiles(b.dir, m)).filter((f) => !f.ok && m.files.find((x) => x.name === f.name && stores.includes(x.store)));
  if (bad.length) {
    throw new HelfyError('OPERATION_FAILED', `backup ${b.id} is damaged: ${bad.map((f) => `${f.name} (${f.problem})`).join('; ')}`, { hint: 'Nothing was changed. Restore another backup (`helfy backup list`).' });
  }

  // 2. Versions of the running stack against the backup's.
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
    throw new HelfyError('OPERATION_FAILED', `backup ${b.id} cannot be restored into this stack: ${problems[0]}`, {
      details: problems.slice(1), hint: 'Nothing was changed. Run a stack with the backup\'s versions (see its manifest.json), or restore another backup.',
      data: { problems },
    });
  }

  // 3. Say what will be replaced, and ask.
  const replaced = [
    ...(stores.includes('postgres') ? ['PostgreSQL roles (from the backup, passwords as hashes)', ...Object.keys(m.postgres?.databases ?? {}).map((d) => `PostgreSQL database ${d}`)] : []),
    ...(stores.includes('neo4j') ? (m.neo4j?.databases ?? []).map((d) => `Neo4j database ${d}`) : []),
  ];
  ctx.log.info(`restore ${b.id} (${m.createdAt}, ${formatBytes(b.bytes)}) into ${cfg.projectName} replaces:\n${replaced.map((r) => `  - ${r}`).join('\n')}`);
  const yes = await ctx.prompt.confirm({ message: `Replace ${replaced.length} database(s) of ${cfg.projectName} with backup ${b.id}? The current data is lost.`, flag: '--yes' });
  if (!yes) return { id: b.id, stores, status: 'cancelled', replaced: [], differences: [], warnings, durationMs: Math.round(performance.now() - t0), writersDowntimeMs: 0 };

  if (stores.includes('postgres') && !Object.values(m.postgres?.databases ?? {}).some((d) => d.extensions.timescaledb)) {
    warnings.push('timescaledb is not installed (not in the backup): timescaledb_pre_restore/post_restore skipped');
  }

  // 4. Stop the writers; restore; compare; start everything again.
  const stopAt = performance.now();
  let stopped: string[] = [];
  let neo4jStopped = false;
  let differences: FigureDiff[] = [];
  try {
    stopped = await brt.stop(WRITERS);
    const tasks: StoreTask[] = [];
    if (stores.includes('postgres')) {
      tasks.push({
        title: 'PostgreSQL',
        run: async (signal, setTitle) => {
          const task = { set title(t: string) { setTitle(t); } };
          const globals = m.files.find((f) => f.kind === 'globals');
          if (globals) {
            task.title = 'PostgreSQL: roles (globals)';
            const { readFile } = await import('node:fs/promises');
            await brt.psql(idempotentGlobals(await readFile(join(b.dir, globals.name), 'utf8')), 'postgres', { signal });
          }
          for (const f of m.files.filter((x) => x.store === 'postgres' && x.kind === 'database')) {
            const db = f.database!;
            const file = join(b.dir, f.name);
            task.title = `PostgreSQL: ${db}: drop and recreate from template0`;
            const createSql = await brt.archiveSql(file, databaseLevelEntries(await brt.archiveList(file, { signal })), { signal });
            await brt.psql(`DROP DATABASE IF EXISTS "${db.replace(/"/g, '""')}" WITH (FORCE);`, 'postgres', { signal });
            await brt.psql(createSql, 'postgres', { signal });
            const ts = m.postgres?.databases[db]?.extensions.timescaledb;
            if (ts) await brt.psql(`CREATE EXTENSION IF NOT EXISTS timescaledb VERSION '${ts.replace(/'/g, "''")}'; SELECT timescaledb_pre_restore();`, db, { signal });
            await brt.restoreDatabase(db, file, { signal, onBytes: (n) => (task.title = `PostgreSQL: ${db} ${formatBytes(n)} / ${formatBytes(f.bytes)}`) });
            if (ts) await brt.psql('SELECT timescaledb_post_restore();', db, { signal });
          }
          task.title = `PostgreSQL: roles + ${Object.keys(m.postgres?.databases ?? {}).length} databases restored`;
        },
      });
    }
    if (stores.includes('neo4j')) {
      tasks.push({
        title: 'Neo4j',
        run: async (signal, setTitle) => {
          const task = { set title(t: string) { setTitle(t); } };
          task.title = 'Neo4j: stopping';
          neo4jStopped = true;
          await brt.stop(['neo4j']);
          try {
            for (const f of m.files.filter((x) => x.store === 'neo4j')) {
              await brt.neo4jLoad(f.database!, join(b.dir, f.name), { signal, tag: `restore-${b.id}`, onBytes: (n) => (task.title = `Neo4j: ${f.database} ${formatBytes(n)} / ${formatBytes(f.bytes)}`) });
            }
          } finally {
            // A cancelled load's one-off container must be gone before Neo4j opens the store again.
            await brt.removeOneOffs(`restore-${b.id}`).catch(() => 0);
            await brt.start(['neo4j']);
            neo4jStopped = false;
          }
          task.title = 'Neo4j: waiting for Bolt';
          const { waitNeo4j } = await import('../db/backup/figures.js');
          await waitNeo4j(neo4jConn(cfg), 240_000, signal);
          task.title = `Neo4j: ${m.neo4j?.databases.length ?? 0} databases loaded`;
        },
      });
    }
    await runStoreTasks(ctx, tasks);
    // Figures while the writers are still stopped: nothing has written since the restore.
    const { postgresFigures, neo4jFigures } = await import('../db/backup/figures.js');
    const have: Figures = {
      ...(stores.includes('postgres') ? await postgresFigures(cfg) : {}),
      ...(stores.includes('neo4j') ? { neo4j: await neo4jFigures(neo4jConn(cfg)) } : {}),
    };
    differences = compareFigures(m.figures, have, stores);
    if (differences.length && !m.consistent) {
      warnings.push(`${differences.length} figure(s) differ from the manifest; expected for an --online backup (its figures were read while writers ran)`);
      differences = [];
    }
  } finally {
    const restart = [...(neo4jStopped ? ['neo4j'] : []), ...[...WRITERS].reverse().filter((w) => stopped.includes(w))];
    if (restart.length) {
      try {
        await brt.start(restart);
      } catch (e) {
        ctx.log.error(`could not start ${restart.join(', ')} again: ${(e as Error).message}; run \`helfy up\``);
      }
    }
  }
  return {
    id: b.id, stores, status: 'restored', replaced, differences, warnings,
    durationMs: Math.round(performance.now() - t0), writersDowntimeMs: Math.round(performance.now() - stopAt),
  };
}

export function render(r: RestoreResult, ctx: Context): void {
  for (const w of r.warnings) ctx.log.warn(w);
  if (r.status === 'cancelled') {
    ctx.log.warn('cancelled: nothing was changed');
    return;
  }
  for (const d of r.differences) ctx.log.error(`${d.what}: the backup has ${d.expected}, the restored stack ${d.actual}`);
  if (r.differences.length) ctx.log.error(`restored ${r.id}, but ${r.differences.length} figure(s) differ from the manifest`);
  else ctx.log.success(`restored ${r.id} (${r.stores.join(', ')}) in ${(r.durationMs / 1000).toFixed(1)}s; every figure matches the manifest; writers started again`);
}

export function exitCode(r: RestoreResult) {
  return r.status === 'cancelled' || r.differences.length ? ExitCode.Failed : ExitCode.Ok;
}
