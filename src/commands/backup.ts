/**
 * `helfy backup [--name N] [--online]`, `helfy backup list`, `helfy backup verify <id>
 * [--restore-test]` and `helfy backup prune`. The plan and the checks are in src/backup (pure),
 * the container steps behind the BackupRuntime interface (src/runtime/docker/backup.ts), the
 * figures in src/db/backup.
 *
 * Consistency: the writers (api, worker, temporal) are stopped for the whole dump and started
 * again in a `finally` (also on a failure or Ctrl-C); PostgreSQL stays up; Neo4j Community can
 * only be dumped offline, so it is stopped for its part (also with --online). PostgreSQL and
 * Neo4j are dumped at the same time. A kill -9 leaves `<id>.partial/lock.json` naming what it
 * stopped: the next `helfy backup`, `backup verify`, `backup prune` or `helfy restore` of the
 * project starts those again (and `helfy up` starts every stopped service anyway); `backup
 * prune` deletes the stale folder. `backup list` and `prune --dry-run` only read the folder.
 * One backup / restore / restore test / prune per project at a time (src/backup/lock.ts).
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { HelfyConfig } from '../config/load.js';
import type { CommandInput } from '../core/command.js';
import type { Context, Logger } from '../core/context.js';
import { ExitCode, HelfyError } from '../core/errors.js';
import { backupId, MANIFEST_FORMAT, NEO4J_DATABASES, PG_DATABASES, totalBytes, WRITERS, type BackupFile, type Figures, type Manifest } from '../backup/manifest.js';
import { compareFigures, type FigureDiff } from '../backup/plan.js';
import { parseKeep, planPrune, type PruneDecision } from '../backup/prune.js';
import { backupRoot, checkFiles, clearDownRecord, completePartial, createPartial, findBackup, readDownRecord, scanBackups, writeDownRecord, writeLock, writeVerifyRecord, type LockInfo } from '../backup/store.js';
import type { BackupRuntime, ServiceImage } from '../runtime/docker/backup.js';
import type { NativeStackRuntime } from '../runtime/native/stack.js';
import type { StackRuntime } from '../stack/runtime.js';
import { formatBytes } from '../stack/down.js';

// ---------------------------------------------------------------------------------------------
// Shared with restore.ts

export interface BackupSession {
  cfg: HelfyConfig;
  root: string;
  brt: BackupRuntime;
  /** Drops the project lock (a no-op without `lock`); call it in a finally. */
  release(): Promise<void>;
}

/**
 * `recover`: start what a killed backup of this project left stopped (needs Docker and the
 * secrets; off for `backup list` and `prune --dry-run`, which only read folders). `lock`: take the
 * project's lock first (src/backup/lock.ts) for an operation that stops services or changes data;
 * a second one is refused before anything is touched.
 */
export async function openBackupSession(ctx: Context, o: { recover: boolean; lock?: string } = { recover: true }): Promise<BackupSession> {
  const { openStack } = await import('../stack/open.js');
  const { cfg, rt } = await openStack(ctx, { requireSecrets: o.recover || Boolean(o.lock), compose: false });
  const brt = await backupRuntimeFor(ctx, cfg, rt);
  const root = backupRoot(cfg);
  let release: () => Promise<void> = async () => {};
  if (o.lock) {
    const { acquireProjectLock } = await import('../backup/lock.js');
    const l = await acquireProjectLock(root, cfg.projectName, o.lock);
    release = () => l.release().catch(() => undefined);
  }
  try {
    if (o.recover) {
      await recoverStale(root, brt, ctx.log, cfg.projectName);
      await recoverInterruptedRestore(root, brt, ctx.log, cfg.projectName);
      await sweepVerifyLeftovers(ctx, cfg, brt);
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { cfg, root, brt, release };
}

/** The BackupRuntime of the runtime the stack runs on (Docker containers, or native processes). */
export async function backupRuntimeFor(ctx: Context, cfg: HelfyConfig, rt: StackRuntime): Promise<BackupRuntime> {
  if (rt.kind === 'native') return (rt as NativeStackRuntime).backupRuntime();
  const { dockerBackupRuntime } = await import('../runtime/docker/backup.js');
  return dockerBackupRuntime({ env: ctx.env, project: cfg.projectName, pgUser: cfg.postgres.superuser, pgPassword: cfg.postgres.superuserPassword });
}

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
  const { lockIsStale } = await import('../backup/lock.js');
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
async function sweepVerifyLeftovers(ctx: Context, cfg: HelfyConfig, brt: BackupRuntime): Promise<void> {
  const { ownerGone, scratchDatabaseGone } = await import('../backup/lock.js');
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

export function helfyVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function neo4jConn(cfg: HelfyConfig) {
  return { host: cfg.neo4j.host, boltPort: cfg.neo4j.boltPort, user: cfg.neo4j.user, password: cfg.neo4j.password };
}

/** Figures of both stores as they are now (PostgreSQL and Neo4j up). */
export async function currentFigures(cfg: HelfyConfig): Promise<Figures> {
  const { postgresFigures, neo4jFigures } = await import('../db/backup/figures.js');
  const [pg, neo] = await Promise.all([postgresFigures(cfg), neo4jFigures(neo4jConn(cfg))]);
  return { ...pg, neo4j: neo };
}

export { neo4jConn };

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}


export interface StoreTask {
  title: string;
  run(signal: AbortSignal, setTitle: (t: string) => void): Promise<void>;
}

/**
 * Runs the per-store steps side by side as one task list. With `cancelSiblings` (backup), when
 * one fails the others are cancelled through their signal and awaited (no tool keeps running on
 * a store that is about to be restarted); without (restore), the others run to their end, since
 * cancelling a half-done restore of the other store would wreck it too. Then the first real
 * error is thrown (an interruption only when nothing else failed).
 */
export async function runStoreTasks(ctx: Context, tasks: StoreTask[], o: { cancelSiblings: boolean } = { cancelSiblings: true }): Promise<void> {
  const inner = new AbortController();
  const signal = o.cancelSiblings ? AbortSignal.any([ctx.signal, inner.signal]) : ctx.signal;
  const errors: unknown[] = [];
  await ctx.tasks.run(tasks.map((t) => ({
    title: t.title,
    task: async (_c: unknown, task: { title: string }) => {
      try {
        await t.run(signal, (x) => (task.title = x));
      } catch (e) {
        errors.push(e);
        inner.abort(e);
        throw e;
      }
    },
  })) as never, { concurrent: true, exitOnError: false });
  if (errors.length) throw errors.find((e) => (e as HelfyError)?.code !== 'INTERRUPTED') ?? errors[0];
}

// ---------------------------------------------------------------------------------------------
// helfy backup

export interface BackupResult {
  id: string;
  dir: string;
  bytes: number;
  durationMs: number;
  consistent: boolean;
  writersStopped: string[];
  writersDowntimeMs: number;
  files: { name: string; bytes: number }[];
  warnings: string[];
}

export async function run(ctx: Context, input: CommandInput): Promise<BackupResult> {
  const opts = input.opts as { name?: string; online?: boolean };
  const startedAt = new Date();
  const id = backupId(startedAt, opts.name);
  const { cfg, root, brt, release } = await openBackupSession(ctx, { recover: true, lock: 'backup' });
  try {
    return await backupLocked(ctx, opts, startedAt, id, cfg, root, brt);
  } finally {
    await release();
  }
}

async function backupLocked(ctx: Context, opts: { name?: string; online?: boolean }, startedAt: Date, id: string, cfg: HelfyConfig, root: string, brt: BackupRuntime): Promise<BackupResult> {
  const online = Boolean(opts.online);
  const t0 = performance.now();
  const warnings: string[] = [];

  const services = await brt.services();
  const byName = new Map(services.map((s) => [s.service, s]));
  for (const s of ['postgres', 'neo4j']) {
    if (!byName.get(s)?.running) throw new HelfyError('STACK_NOT_RUNNING', `${s} of ${cfg.projectName} is not running: nothing to back up`, { hint: 'Start the stack with `helfy up`, then run `helfy backup`.' });
  }

  // Versions first, while everything still runs (Temporal answers only before it is stopped).
  const { postgresFacts, neo4jFacts, waitNeo4j } = await import('../db/backup/figures.js');
  const { probeTemporal } = await import('../db/probes.js');
  // Neo4j may still be starting (right after `helfy up` or an earlier backup restarted it).
  await waitNeo4j(neo4jConn(cfg), 180_000, ctx.signal);
  const [pgFacts, n4Facts, pgDumpVersion, temporalProbe] = await Promise.all([
    postgresFacts(cfg), neo4jFacts(neo4jConn(cfg)), brt.pgDumpVersion(),
    byName.get('temporal')?.running ? probeTemporal(cfg, 3000) : Promise.resolve(undefined),
  ]);
  if (!pgFacts.databases.helfy_app?.exists) throw new HelfyError('STACK_NOT_RUNNING', 'helfy_app does not exist yet: nothing to back up', { hint: 'Run `helfy up` (it bootstraps the databases) first.' });
  if (!pgFacts.databases.helfy_app.extensions.timescaledb) warnings.push('timescaledb is not installed on helfy_app: plain tables, no chunks recorded; restore skips timescaledb_pre_restore/post_restore');
  if (online) warnings.push('--online: writers kept running, so PostgreSQL, Temporal and Neo4j are not consistent with each other');
  const temporalVersion = temporalProbe?.ok ? temporalProbe.version ?? null : null;
  if (!temporalProbe?.ok) warnings.push(`Temporal server version unknown (${temporalProbe ? temporalProbe.detail : 'temporal not running'})`);

  const lock: LockInfo = { pid: process.pid, host: hostname(), startedAt: startedAt.toISOString(), project: cfg.projectName, stopped: [] };
  const dir = await createPartial(root, id, lock);
  const files: BackupFile[] = [];
  let writersStopped: string[] = [];
  let downFrom = 0;
  let downMs = 0;
  let neo4jStopped = false;
  let figures: Figures = {};
  let failure: { e: unknown } | undefined;
  const setStopped = async (list: string[]) => {
    lock.stopped = list;
    await writeLock(dir, lock).catch(() => undefined);
  };
  try {
    if (!online) {
      ctx.log.info(`stopping the writers (${WRITERS.join(', ')}) for a consistent set…`);
      downFrom = performance.now();
      // Recorded before stopping: a kill -9 in the middle still restarts them.
      await setStopped(WRITERS.filter((w) => byName.get(w)?.running));
      // Each one as it stops: a failure on the next still restarts those already down.
      await brt.stop(WRITERS, { onStopped: (s) => void writersStopped.push(s) });
      await setStopped(writersStopped);
    }
    figures = await currentFigures(cfg);
    const tag = id;
    const dumpPg = async (signal: AbortSignal, onTitle: (t: string) => void) => {
      const globals = 'globals.sql';
      let done = 0;
      const r = await brt.dumpGlobals(join(dir, globals), { signal, tag });
      files.push({ name: globals, store: 'postgres', kind: 'globals', bytes: r.bytes, sha256: r.sha256, durationMs: Math.round(r.durationMs) });
      done += r.bytes;
      for (const db of PG_DATABASES) {
        const name = `${db}.dump`;
        const d = await brt.dumpDatabase(db, join(dir, name), { signal, tag, onBytes: (n) => onTitle(`PostgreSQL: ${db} ${formatBytes(done + n)}`) });
        done += d.bytes;
        files.push({ name, store: 'postgres', kind: 'database', database: db, bytes: d.bytes, sha256: d.sha256, durationMs: Math.round(d.durationMs) });
      }
      onTitle(`PostgreSQL: globals + ${PG_DATABASES.length} databases, ${formatBytes(done)}`);
    };
    const dumpNeo4j = async (signal: AbortSignal, onTitle: (t: string) => void) => {
      onTitle('Neo4j: stopping (Community dumps offline only)');
      neo4jStopped = true;
      await setStopped([...new Set([...lock.stopped, 'neo4j'])]);
      await brt.stop(['neo4j']);
      let done = 0;
      try {
        for (const db of NEO4J_DATABASES) {
          const name = `neo4j-${db}.dump`;
          const d = await brt.neo4jDump(db, join(dir, name), { signal, tag, onBytes: (n) => onTitle(`Neo4j: ${db} ${formatBytes(done + n)}`) });
          done += d.bytes;
          files.push({ name, store: 'neo4j', kind: 'database', database: db, bytes: d.bytes, sha256: d.sha256, durationMs: Math.round(d.durationMs) });
        }
      } finally {
        // A cancelled dump's one-off container must be gone before Neo4j opens the store again.
        await brt.removeOneOffs(tag).catch(() => 0);
        await brt.start(['neo4j']);
        neo4jStopped = false;
        await setStopped(lock.stopped.filter((s) => s !== 'neo4j'));
      }
      onTitle(`Neo4j: ${NEO4J_DATABASES.length} databases, ${formatBytes(done)}`);
    };
    await runStoreTasks(ctx, [{ title: 'PostgreSQL', run: dumpPg }, { title: 'Neo4j', run: dumpNeo4j }]);
  } catch (e) {
    failure = { e };
  }
  // Start again what was stopped, then (on a failure) delete the partial folder: only after a
  // successful restart, so a failed one leaves lock.json naming what is still down.
  const restart: string[] = [];
  if (neo4jStopped) restart.push('neo4j');
  restart.push(...[...WRITERS].reverse().filter((w) => writersStopped.includes(w)));
  let restarted = true;
  if (restart.length) {
    try {
      await brt.start(restart);
      if (writersStopped.length) downMs = performance.now() - downFrom;
    } catch (e) {
      restarted = false;
      ctx.log.error(`could not start ${restart.join(', ')} again: ${(e as Error).message}; run \`helfy up\` (the next \`helfy backup …\` retries too)`);
    }
  }
  if (failure) {
    if (restarted) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw failure.e;
  }
  if (!restarted) {
    // The backup itself is complete (its folder, lock.json gone, is renamed below): say what is down.
    warnings.push(`could not start ${restart.join(', ')} again: run \`helfy up\``);
  }

  // Neo4j's files are ordered system first; the manifest lists them in restore order.
  files.sort((a, b) => (a.store === b.store ? 0 : a.store === 'postgres' ? -1 : 1));
  const manifest: Manifest = {
    format: MANIFEST_FORMAT, id, ...(opts.name ? { name: opts.name } : {}), project: cfg.projectName, helfyVersion: helfyVersion(),
    createdAt: startedAt.toISOString(), durationMs: Math.round(performance.now() - t0), stores: ['postgres', 'neo4j'],
    consistent: !online, writersStopped, writersDowntimeMs: Math.round(downMs),
    services: Object.fromEntries(services.map((s: ServiceImage) => [s.service, { image: s.image, imageId: s.imageId, digests: s.digests }])),
    postgres: {
      serverVersion: pgFacts.serverVersion, serverVersionNum: pgFacts.serverVersionNum, pgDumpVersion,
      databases: Object.fromEntries(PG_DATABASES.map((db) => [db, { extensions: pgFacts.databases[db]?.extensions ?? {} }])),
      migrationHead: pgFacts.migrationHead,
    },
    temporal: { serverVersion: temporalVersion, schemaVersion: pgFacts.temporalSchema, historyShards: pgFacts.historyShards },
    neo4j: { version: n4Facts.version, edition: n4Facts.edition, databases: [...NEO4J_DATABASES], migrationHead: n4Facts.migrationHead },
    files, figures, warnings,
  };
  let final: string;
  try {
    final = await completePartial(dir, root, manifest);
  } catch (e) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') throw new HelfyError('OPERATION_FAILED', `disk full while writing the manifest of ${id}`, { hint: 'Free space or point HELFY_BACKUP_DIR at a larger disk; the incomplete backup was removed.' });
    throw e;
  }
  return {
    id, dir: final, bytes: totalBytes(manifest), durationMs: manifest.durationMs, consistent: manifest.consistent,
    writersStopped, writersDowntimeMs: manifest.writersDowntimeMs, files: files.map((f) => ({ name: f.name, bytes: f.bytes })), warnings,
  };
}

export function render(r: BackupResult, ctx: Context): void {
  for (const w of r.warnings) ctx.log.warn(w);
  ctx.log.success(`backup ${r.id}: ${formatBytes(r.bytes)} in ${seconds(r.durationMs)}${r.writersStopped.length ? ` (writers ${r.writersStopped.join(', ')} stopped for ${seconds(r.writersDowntimeMs)})` : ''}${r.consistent ? '' : ' — not consistent across stores (--online)'}`);
  ctx.stdout(r.id);
}

// ---------------------------------------------------------------------------------------------
// helfy backup list

export interface ListRow {
  id: string;
  createdAt: string;
  bytes: number;
  stores: string[];
  consistent: boolean;
  verified: 'yes' | 'failed' | 'no';
  verifiedAt?: string;
}

export interface ListResult {
  dir: string;
  backups: ListRow[];
  /** Folders left by interrupted backups (not restorable; `backup prune` removes the stale ones). */
  incomplete: { id: string; stale: boolean }[];
  damaged: { id: string; reason: string }[];
  /** Backups of other projects in the same folder (a shared HELFY_BACKUP_DIR): restorable by id. */
  others: { id: string; project: string; createdAt: string }[];
}

export const list = {
  async run(ctx: Context): Promise<ListResult> {
    // Reading folders only: no recovery (it needs Docker and may start containers).
    const { cfg, root } = await openBackupSession(ctx, { recover: false });
    const { backups, partials, damaged, others } = await scanBackups(root, cfg.projectName);
    return {
      dir: root,
      others: others.map((b) => ({ id: b.id, project: b.manifest.project, createdAt: b.manifest.createdAt })),
      backups: backups.map((b) => ({
        id: b.id, createdAt: b.manifest.createdAt, bytes: b.bytes, stores: b.manifest.stores, consistent: b.manifest.consistent,
        verified: b.verified ? (b.verified.ok ? 'yes' : 'failed') : 'no', ...(b.verified ? { verifiedAt: b.verified.at } : {}),
      })),
      incomplete: partials.map((p) => ({ id: p.id, stale: p.stale })),
      damaged,
    };
  },
  render(r: ListResult, ctx: Context): void {
    if (!r.backups.length) ctx.stdout(`no backups in ${r.dir} (\`helfy backup\` makes one)`);
    else {
      const rows = r.backups.map((b) => [b.id, b.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), formatBytes(b.bytes), b.stores.join('+'), b.verified, b.consistent ? 'yes' : 'no (--online)']);
      const head = ['ID', 'DATE', 'SIZE', 'STORES', 'VERIFIED', 'CONSISTENT'];
      const w = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]!.length)));
      const line = (x: string[]) => x.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd();
      ctx.stdout([line(head), ...rows.map(line)].join('\n'));
    }
    for (const p of r.incomplete) ctx.log.warn(`incomplete backup ${p.id}.partial ${p.stale ? '(interrupted; `helfy backup prune` removes it)' : '(still being written)'}`);
    for (const d of r.damaged) ctx.log.warn(`damaged backup ${d.id}: ${d.reason}`);
    if (r.others.length) ctx.log.info(`${r.others.length} backup(s) of other projects in ${r.dir}, not listed above: ${r.others.map((o) => `${o.id} (${o.project})`).join(', ')}`);
  },
};

// ---------------------------------------------------------------------------------------------
// helfy backup verify <id> [--restore-test]

export interface VerifyResult {
  id: string;
  ok: boolean;
  files: { name: string; ok: boolean; problem?: string }[];
  neo4jCheck: { database: string; ok: boolean; detail?: string }[];
  restoreTest?: { ok: boolean; differences: FigureDiff[]; durationMs: number };
  problems: string[];
}

export const verify = {
  async run(ctx: Context, input: CommandInput): Promise<VerifyResult> {
    const id = String(input.args[0] ?? '');
    const opts = input.opts as { restoreTest?: boolean };
    // The restore test drops and creates scratch databases and a Neo4j container: one at a time per project.
    const { cfg, root, brt, release } = await openBackupSession(ctx, { recover: true, ...(opts.restoreTest ? { lock: 'verify --restore-test' } : {}) });
    try {
      return await verifyLocked(ctx, id, opts, cfg, root, brt);
    } finally {
      await release();
    }
  },
  render(r: VerifyResult, ctx: Context): void {
    for (const f of r.files) if (!f.ok) ctx.log.error(`${f.name}: ${f.problem}`);
    for (const c of r.neo4jCheck) if (!c.ok) ctx.log.error(`neo4j-admin database check ${c.database}: ${c.detail ?? 'failed'}`);
    if (r.restoreTest) for (const d of r.restoreTest.differences) ctx.log.error(`restore test: ${d.what}: expected ${d.expected}, got ${d.actual}`);
    if (r.ok) ctx.log.success(`backup ${r.id} verified: ${r.files.length} files match their sha256, neo4j-admin check passed${r.restoreTest ? `, restore test matches the manifest's figures (${seconds(r.restoreTest.durationMs)})` : ''}`);
    else ctx.log.error(`backup ${r.id} failed verification: ${r.problems.length} problem(s)`);
  },
  exitCode(r: VerifyResult) {
    return r.ok ? ExitCode.Ok : ExitCode.Failed;
  },
};

async function verifyLocked(ctx: Context, id: string, opts: { restoreTest?: boolean }, cfg: HelfyConfig, root: string, brt: BackupRuntime): Promise<VerifyResult> {
  const b = await findBackup(root, id, cfg.projectName);
  const problems: string[] = [];
  const files = await checkFiles(b.dir, b.manifest);
  for (const f of files) if (!f.ok) problems.push(`${f.name}: ${f.problem}`);
  const neo4jCheck: VerifyResult['neo4jCheck'] = [];
  const n4files = b.manifest.files.filter((f) => f.store === 'neo4j');
  const { mkdtemp, link, copyFile } = await import('node:fs/promises');
  for (const f of n4files) {
    // A damaged set fails anyway: the (slow) consistency check runs only on intact files.
    if (problems.length) {
      neo4jCheck.push({ database: f.database!, ok: false, detail: `not checked: ${files.find((x) => x.name === f.name)?.ok ? 'another file' : 'the file'} is damaged` });
      continue;
    }
    // neo4j-admin check --from-path wants `<database>.dump` in a folder: a hard link (or copy) in a temp folder beside it.
    const tmp = await mkdtemp(join(root, `.check-${b.id}-`));
    try {
      const target = join(tmp, `${f.database}.dump`);
      await link(join(b.dir, f.name), target).catch(() => copyFile(join(b.dir, f.name), target));
      const r = await brt.neo4jCheck(tmp, f.database!, { signal: ctx.signal, tag: `verify-${b.id}` });
      const detail = r.ok ? undefined : r.output.split('\n').filter((l) => /inconsisten|error|fail/i.test(l)).slice(0, 3).join(' / ') || r.output.split('\n').filter(Boolean).slice(-1)[0];
      neo4jCheck.push({ database: f.database!, ok: r.ok, ...(detail ? { detail } : {}) });
      if (!r.ok) problems.push(`${f.name}: neo4j-admin database check failed: ${detail}`);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  let restoreTest: VerifyResult['restoreTest'];
  if (opts.restoreTest) {
    if (problems.length) problems.push('restore test skipped: the files are damaged');
    else {
      restoreTest = await restoreTestRun(ctx, cfg, brt, b.dir, b.manifest);
      for (const d of restoreTest.differences) problems.push(`restore test: ${d.what}: expected ${d.expected}, got ${d.actual}`);
    }
  }
  const ok = problems.length === 0;
  await writeVerifyRecord(b.dir, { at: new Date().toISOString(), ok, restoreTest: Boolean(restoreTest), problems });
  return { id: b.id, ok, files, neo4jCheck, ...(restoreTest ? { restoreTest } : {}), problems };
}

/**
 * Restores the PostgreSQL dumps into scratch databases on the same server and the Neo4j dump
 * into a throw-away Neo4j container, then compares their figures with the manifest's. Nothing
 * of the stack is touched.
 */
async function restoreTestRun(ctx: Context, cfg: HelfyConfig, brt: BackupRuntime, dir: string, m: Manifest): Promise<NonNullable<VerifyResult['restoreTest']>> {
  const t0 = performance.now();
  const { createScratchDatabases, dropDatabases, postgresFigures, neo4jFigures, waitNeo4j } = await import('../db/backup/figures.js');
  const { scratchSuffix } = await import('../backup/lock.js');
  // Host and pid in the name: a later run drops them if this process is killed (sweepVerifyLeftovers).
  const suffix = scratchSuffix();
  const scratch = { app: `helfy_verify_app_${suffix}`, temporal: `helfy_verify_temporal_${suffix}`, visibility: `helfy_verify_visibility_${suffix}` };
  const map: Record<string, string> = { helfy_app: scratch.app, helfy_temporal: scratch.temporal, helfy_temporal_visibility: scratch.visibility };
  const have: Figures = {};
  await createScratchDatabases(cfg, Object.values(scratch));
  try {
    for (const f of m.files.filter((x) => x.store === 'postgres' && x.kind === 'database')) {
      const target = map[f.database!]!;
      const ts = m.postgres?.databases[f.database!]?.extensions.timescaledb;
      if (ts) await brt.psql(`CREATE EXTENSION IF NOT EXISTS timescaledb VERSION '${ts.replace(/'/g, "''")}'; SELECT timescaledb_pre_restore();`, target);
      await brt.restoreDatabase(target, join(dir, f.name), { signal: ctx.signal, extraArgs: ['--no-owner', '--no-privileges'] });
      if (ts) await brt.psql('SELECT timescaledb_post_restore();', target);
    }
    Object.assign(have, await postgresFigures(cfg, scratch));
  } finally {
    await dropDatabases(cfg, Object.values(scratch)).catch((e: unknown) => ctx.log.warn(`could not drop the scratch databases: ${(e as Error).message}`));
  }
  const n4 = m.files.find((f) => f.store === 'neo4j' && f.database === 'neo4j');
  if (n4) {
    const s = await brt.scratchNeo4j(join(dir, n4.name), { signal: ctx.signal, tag: `verify-${m.id}` });
    try {
      const conn = { host: '127.0.0.1', boltPort: s.boltPort, user: 'neo4j', password: 'unused-auth-disabled' };
      await waitNeo4j(conn, 180_000, ctx.signal);
      have.neo4j = await neo4jFigures(conn);
    } finally {
      await s.remove();
    }
  }
  const differences = compareFigures(m.figures, have, m.stores);
  return { ok: differences.length === 0, differences, durationMs: Math.round(performance.now() - t0) };
}

// ---------------------------------------------------------------------------------------------
// helfy backup prune

export interface PruneResult {
  dryRun: boolean;
  decisions: PruneDecision[];
  removed: string[];
  removedPartials: string[];
}

async function pruneCommand(ctx: Context, input: CommandInput): Promise<PruneResult> {
  const opts = input.opts as { keepLast?: string; keepDaily?: string; keepWeekly?: string; dryRun?: boolean };
  const rules = { keepLast: parseKeep(opts.keepLast, '--keep-last'), keepDaily: parseKeep(opts.keepDaily, '--keep-daily'), keepWeekly: parseKeep(opts.keepWeekly, '--keep-weekly') };
  // Validate the rules before touching the engine.
  planPrune([], rules);
  const dryRun = Boolean(opts.dryRun);
  // --dry-run only reads folders (no recovery, no lock); a real prune is refused while a
  // backup or restore of this project holds the lock (it may be reading the folder prune deletes).
  const { cfg, root, release } = await openBackupSession(ctx, dryRun ? { recover: false } : { recover: true, lock: 'prune' });
  try {
    // Only this project's backups and interrupted folders: others in a shared HELFY_BACKUP_DIR are not ours to delete.
    const { backups, partials } = await scanBackups(root, cfg.projectName);
    const decisions = planPrune(backups.map((b) => ({ id: b.id, createdAt: new Date(b.manifest.createdAt), verified: Boolean(b.verified?.ok) })), rules);
    const removed: string[] = [];
    const removedPartials: string[] = [];
    if (!dryRun) {
      for (const d of decisions.filter((x) => !x.keep)) {
        await rm(join(root, d.id), { recursive: true, force: true });
        removed.push(d.id);
      }
    }
    for (const p of partials.filter((x) => x.stale)) {
      if (!dryRun) await rm(p.dir, { recursive: true, force: true });
      removedPartials.push(`${p.id}.partial`);
    }
    return { dryRun, decisions, removed, removedPartials };
  } finally {
    await release();
  }
}

export const prune = {
  async run(ctx: Context, input: CommandInput): Promise<PruneResult> {
    return pruneCommand(ctx, input);
  },
  render(r: PruneResult, ctx: Context): void {
    const verb = r.dryRun ? 'would remove' : 'removed';
    for (const d of r.decisions) ctx.stdout(`${d.keep ? 'keep  ' : r.dryRun ? 'remove' : 'removed'} ${d.id}${d.keep ? `  (${d.reasons.join(', ')})` : ''}`);
    for (const p of r.removedPartials) ctx.stdout(`${r.dryRun ? 'remove' : 'removed'} ${p}  (interrupted)`);
    const n = r.decisions.filter((d) => !d.keep).length;
    ctx.log.success(`${verb} ${n} backup(s) and ${r.removedPartials.length} interrupted folder(s); kept ${r.decisions.length - n}${r.dryRun ? ' (--dry-run: nothing changed)' : ''}`);
  },
};
