/**
 * Recovery after a kill -9: what a killed backup, restore or `verify --restore-test` of this
 * project left stopped or behind is started again or removed, from the records they keep while
 * they run (the partial folder's lock.json, the restore's DownRecord, the owner labels and names
 * of scratch containers, volumes and databases). Run at the start of every backup session.
 */
import type { HelfyConfig } from '../config/load.js';
import type { Context, Logger } from '../core/context.js';
import { WRITERS } from './manifest.js';
import type { BackupRuntime } from './runtime.js';
import { clearDownRecord, readDownRecord, scanBackups, writeDownRecord, writeLock } from './store.js';

/** Start order: the reverse of WRITERS (temporal before the worker and the API). */
export const START_ORDER = ['neo4j', ...[...WRITERS].reverse()];

/**
 * A backup killed with -9 left services stopped: start what its lock says it stopped (and remove
 * its one-off containers). The folder itself stays until `backup prune`.
 */
export async function recoverStale(root: string, brt: BackupRuntime, log: Logger, project: string): Promise<string[]> {
  // Only this project's: another project's stale lock (a shared HELFY_BACKUP_DIR) names its services, not ours.
  const { partials } = await scanBackups(root, project);
  const started: string[] = [];
  for (const p of partials) {
    if (!p.stale || !p.lock || !p.lock.stopped.length || p.lock.project !== project) continue;
    await brt.removeOneOffs(p.id);
    const order = START_ORDER.filter((s) => p.lock!.stopped.includes(s));
    log.warn(`backup ${p.id} was interrupted (process ${p.lock.pid} is gone) with ${order.join(', ')} stopped: starting them again`);
    await startAfterKilledStop(brt, order);
    started.push(...order);
    await writeLock(p.dir, { ...p.lock, stopped: [] });
  }
  return started;
}

/**
 * Starts services a killed process had stopped, or was stopping. A record names a service before
 * its stop is sent, and the engine finishes a stop its client died in (Neo4j's grace period is
 * seconds): one still running may be stopping right now, and a start meanwhile is a no-op the
 * stop then undoes. So those still running are stopped to the end first (a second stop waits).
 */
async function startAfterKilledStop(brt: BackupRuntime, services: string[], beforeStart?: () => Promise<unknown>): Promise<void> {
  const order = START_ORDER.filter((s) => services.includes(s));
  await stopStillRunning(brt, order);
  await beforeStart?.();
  await brt.start(order);
}

/** Stops (to the end: a second stop waits for one in flight) those of `services` still running. */
async function stopStillRunning(brt: BackupRuntime, services: string[]): Promise<void> {
  const running = new Set((await brt.services()).filter((s) => s.running).map((s) => s.service));
  const stillRunning = services.filter((s) => running.has(s));
  if (stillRunning.length) await brt.stop(stillRunning);
}

/**
 * A restore killed with -9 (its record names a process that is gone, store.ts DownRecord): Neo4j,
 * if it was stopped for the load, is started again once the load's one-off is gone (it must not
 * write the store Neo4j opens). The writers are started again only when no data had been replaced
 * yet; otherwise they stay stopped, as after a restore that failed half-way (they would run on
 * half-restored data), and the record says so for the next restore.
 */
export async function recoverInterruptedRestore(root: string, brt: BackupRuntime, log: Logger, project: string): Promise<'none' | 'restarted' | 'writers-left-stopped'> {
  const rec = await readDownRecord(root, project);
  if (!rec?.running) return 'none';
  const { lockIsStale } = await import('./lock.js');
  if (!lockIsStale({ ...rec.running, startedAt: rec.at })) return 'none'; // still running
  const who = `restore ${rec.restore} was interrupted (process ${rec.running.pid} is gone)`;
  if (rec.neo4jStopped) {
    log.warn(`${who} with Neo4j stopped for its load: starting Neo4j again`);
    await startAfterKilledStop(brt, ['neo4j'], () => brt.removeOneOffs(`restore-${rec.restore}`));
  }
  if (!rec.touched) {
    if (rec.writers.length) log.warn(`${who} before it replaced any data: starting ${rec.writers.join(', ')} again`);
    await startAfterKilledStop(brt, rec.writers);
    await clearDownRecord(root, project);
    return 'restarted';
  }
  // Stopped before the first database was touched; one still running (an earlier restore left the
  // data partial and this one was killed while stopping them) is stopped now, for the same reason.
  await stopStillRunning(brt, rec.writers);
  log.warn(
    `${who} after it began replacing data: its databases may be only partly restored${rec.writers.length ? `; ${rec.writers.join(', ')} stay stopped` : ''}. ` +
      `Run \`helfy restore ${rec.restore} --yes\` again (or restore another backup); \`helfy up\` starts the writers on the data as it is.`,
  );
  await writeDownRecord(root, project, { restore: rec.restore, at: rec.at, writers: rec.writers });
  return 'writers-left-stopped';
}

/**
 * Scratch databases, containers and volumes of a `backup verify --restore-test` killed with -9
 * (their owner pid is gone). Best effort: a failure here only shows with --verbose.
 */
export async function sweepVerifyLeftovers(ctx: Context, cfg: HelfyConfig, brt: BackupRuntime): Promise<void> {
  const { ownerGone, scratchDatabaseGone } = await import('./lock.js');
  try {
    const r = await brt.sweepVerifyLeftovers(ownerGone);
    if (r.containers || r.volumes) ctx.log.info(`removed ${r.containers} container(s) and ${r.volumes} volume(s) of an interrupted \`backup verify\``);
  } catch (e) {
    ctx.log.debug(`verify leftovers (Docker): ${(e as Error).message}`);
  }
  try {
    const { dropScratchDatabases } = await import('../db/backup/figures.js');
    const dropped = await dropScratchDatabases(cfg, scratchDatabaseGone);
    if (dropped.length) ctx.log.info(`dropped ${dropped.length} scratch database(s) of an interrupted \`backup verify --restore-test\`: ${dropped.join(', ')}`);
  } catch (e) {
    ctx.log.debug(`verify leftovers (PostgreSQL): ${(e as Error).message}`);
  }
}
