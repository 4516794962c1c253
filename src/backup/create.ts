/**
 * `helfy backup`: one consistent set of every store.
 *
 * Consistency: the writers (api, worker, temporal) are stopped for the whole dump and started
 * again afterwards (also on a failure or Ctrl-C); PostgreSQL stays up; Neo4j Community can only
 * be dumped offline, so it is stopped for its part (also with --online). PostgreSQL and Neo4j are
 * dumped at the same time. A kill -9 leaves `<id>.partial/lock.json` naming what it stopped, which
 * the next session starts again (recovery.ts).
 */
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { HelfyConfig } from '../config/load.js';
import type { Context } from '../core/context.js';
import { HelfyError } from '../core/errors.js';
import { formatBytes } from '../stack/down.js';
import { MANIFEST_FORMAT, NEO4J_DATABASES, PG_DATABASES, totalBytes, WRITERS, type BackupFile, type Figures, type Manifest } from './manifest.js';
import type { BackupRuntime, ServiceImage } from './runtime.js';
import { completePartial, createPartial, writeLock, type LockInfo } from './store.js';
import { currentFigures, helfyVersion, neo4jConn, runStoreTasks } from './tasks.js';

export interface BackupOptions {
  name?: string;
  online?: boolean;
}

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

/** What the running stack is, read before anything stops (Temporal answers only while it runs). */
export interface SourceFacts {
  services: ServiceImage[];
  running: Set<string>;
  pg: Awaited<ReturnType<typeof import('../db/backup/figures.js').postgresFacts>>;
  neo4j: Awaited<ReturnType<typeof import('../db/backup/figures.js').neo4jFacts>>;
  pgDumpVersion: string;
  temporalVersion: string | null;
  warnings: string[];
}

/** Waits until the services started again are healthy; returns why not, or undefined. */
export type HealthyWait = (services: string[]) => Promise<string | undefined>;

/** The state of a backup while it runs: what it wrote and what it stopped (for the restart and lock.json). */
export interface DumpState {
  id: string;
  dir: string;
  lock: LockInfo;
  files: BackupFile[];
  writersStopped: string[];
  downFrom: number;
  neo4jStopped: boolean;
  figures: Figures;
}

/** Checks the stack runs and reads its versions; a refusal here touches nothing. */
export async function readSourceFacts(ctx: Context, cfg: HelfyConfig, brt: BackupRuntime, online: boolean): Promise<SourceFacts> {
  const warnings: string[] = [];
  const services = await brt.services();
  const running = new Set(services.filter((s) => s.running).map((s) => s.service));
  for (const s of ['postgres', 'neo4j']) {
    if (!running.has(s)) throw new HelfyError('STACK_NOT_RUNNING', `${s} of ${cfg.projectName} is not running: nothing to back up`, { hint: 'Start the stack with `helfy up`, then run `helfy backup`.' });
  }
  const { postgresFacts, neo4jFacts, waitNeo4j } = await import('../db/backup/figures.js');
  const { probeTemporal } = await import('../db/probes.js');
  // Neo4j may still be starting (right after `helfy up` or an earlier backup restarted it).
  await waitNeo4j(neo4jConn(cfg), 180_000, ctx.signal);
  const [pg, neo4j, pgDumpVersion, temporalProbe] = await Promise.all([
    postgresFacts(cfg), neo4jFacts(neo4jConn(cfg)), brt.pgDumpVersion(),
    running.has('temporal') ? probeTemporal(cfg, 3000) : Promise.resolve(undefined),
  ]);
  if (!pg.databases.helfy_app?.exists) throw new HelfyError('STACK_NOT_RUNNING', 'helfy_app does not exist yet: nothing to back up', { hint: 'Run `helfy up` (it bootstraps the databases) first.' });
  if (!pg.databases.helfy_app.extensions.timescaledb) warnings.push('timescaledb is not installed on helfy_app: plain tables, no chunks recorded; restore skips timescaledb_pre_restore/post_restore');
  if (online) warnings.push('--online: writers kept running, so PostgreSQL, Temporal and Neo4j are not consistent with each other');
  const temporalVersion = temporalProbe?.ok ? temporalProbe.version ?? null : null;
  if (!temporalProbe?.ok) warnings.push(`Temporal server version unknown (${temporalProbe ? temporalProbe.detail : 'temporal not running'})`);
  return { services, running, pg, neo4j, pgDumpVersion, temporalVersion, warnings };
}

/** Records the services stopped right now in lock.json (what a kill -9 leaves for recovery). */
async function setStopped(st: DumpState, list: string[]): Promise<void> {
  st.lock.stopped = list;
  await writeLock(st.dir, st.lock).catch(() => undefined);
}

/** The PostgreSQL task: globals, then every database, each streamed into its file. */
export async function dumpPostgres(brt: BackupRuntime, st: DumpState, signal: AbortSignal, onTitle: (t: string) => void): Promise<void> {
  const globals = 'globals.sql';
  let done = 0;
  const r = await brt.dumpGlobals(join(st.dir, globals), { signal, tag: st.id });
  st.files.push({ name: globals, store: 'postgres', kind: 'globals', bytes: r.bytes, sha256: r.sha256, durationMs: Math.round(r.durationMs) });
  done += r.bytes;
  for (const db of PG_DATABASES) {
    const name = `${db}.dump`;
    const d = await brt.dumpDatabase(db, join(st.dir, name), { signal, tag: st.id, onBytes: (n) => onTitle(`PostgreSQL: ${db} ${formatBytes(done + n)}`) });
    done += d.bytes;
    st.files.push({ name, store: 'postgres', kind: 'database', database: db, bytes: d.bytes, sha256: d.sha256, durationMs: Math.round(d.durationMs) });
  }
  onTitle(`PostgreSQL: globals + ${PG_DATABASES.length} databases, ${formatBytes(done)}`);
}

/** The Neo4j task: stopped (Community dumps offline only), every database dumped, started again. */
export async function dumpNeo4j(brt: BackupRuntime, st: DumpState, signal: AbortSignal, onTitle: (t: string) => void): Promise<void> {
  onTitle('Neo4j: stopping (Community dumps offline only)');
  st.neo4jStopped = true;
  await setStopped(st, [...new Set([...st.lock.stopped, 'neo4j'])]);
  await brt.stop(['neo4j']);
  let done = 0;
  try {
    for (const db of NEO4J_DATABASES) {
      const name = `neo4j-${db}.dump`;
      const d = await brt.neo4jDump(db, join(st.dir, name), { signal, tag: st.id, onBytes: (n) => onTitle(`Neo4j: ${db} ${formatBytes(done + n)}`) });
      done += d.bytes;
      st.files.push({ name, store: 'neo4j', kind: 'database', database: db, bytes: d.bytes, sha256: d.sha256, durationMs: Math.round(d.durationMs) });
    }
  } finally {
    // A cancelled dump's one-off container must be gone before Neo4j opens the store again.
    await brt.removeOneOffs(st.id).catch(() => 0);
    await brt.start(['neo4j']);
    st.neo4jStopped = false;
    await setStopped(st, st.lock.stopped.filter((s) => s !== 'neo4j'));
  }
  onTitle(`Neo4j: ${NEO4J_DATABASES.length} databases, ${formatBytes(done)}`);
}

/** Stops the writers (unless --online), reads the figures, dumps both stores side by side. */
export async function dumpStores(ctx: Context, cfg: HelfyConfig, brt: BackupRuntime, st: DumpState, o: { online: boolean; running: Set<string> }): Promise<void> {
  if (!o.online) {
    ctx.log.info(`stopping the writers (${WRITERS.join(', ')}) for a consistent set…`);
    st.downFrom = performance.now();
    // Recorded before stopping: a kill -9 in the middle still restarts them.
    await setStopped(st, WRITERS.filter((w) => o.running.has(w)));
    // Each one as it stops: a failure on the next still restarts those already down.
    await brt.stop(WRITERS, { onStopped: (s) => void st.writersStopped.push(s) });
    await setStopped(st, st.writersStopped);
  }
  st.figures = await currentFigures(cfg);
  await runStoreTasks(ctx, [
    { title: 'PostgreSQL', run: (signal, onTitle) => dumpPostgres(brt, st, signal, onTitle) },
    { title: 'Neo4j', run: (signal, onTitle) => dumpNeo4j(brt, st, signal, onTitle) },
  ]);
}

/**
 * Starts again what the backup stopped (Neo4j if its task did not, then the writers in start
 * order). Returns whether that worked and how long the writers were down; a failure is logged.
 */
export async function restartStopped(ctx: Context, brt: BackupRuntime, st: DumpState, healthy?: HealthyWait): Promise<{ restarted: boolean; restart: string[]; downMs: number; unhealthy?: string }> {
  const restart: string[] = [];
  if (st.neo4jStopped) restart.push('neo4j');
  restart.push(...[...WRITERS].reverse().filter((w) => st.writersStopped.includes(w)));
  let downMs = 0;
  if (!restart.length) return { restarted: true, restart, downMs };
  try {
    await brt.start(restart);
    // The outage lasts until the writers answer again, not until their processes start.
    const unhealthy = await healthy?.(restart);
    if (st.writersStopped.length) downMs = performance.now() - st.downFrom;
    return { restarted: true, restart, downMs, ...(unhealthy ? { unhealthy } : {}) };
  } catch (e) {
    ctx.log.error(`could not start ${restart.join(', ')} again: ${(e as Error).message}; run \`helfy up\` (the next \`helfy backup …\` retries too)`);
    return { restarted: false, restart, downMs };
  }
}

/** The manifest of a finished dump. */
export function buildManifest(cfg: HelfyConfig, o: BackupOptions, startedAt: Date, t0: number, facts: SourceFacts, st: DumpState, downMs: number, warnings: string[]): Manifest {
  // Neo4j's files are ordered system first; the manifest lists them in restore order.
  const files = [...st.files].sort((a, b) => (a.store === b.store ? 0 : a.store === 'postgres' ? -1 : 1));
  const { pg, neo4j } = facts;
  return {
    format: MANIFEST_FORMAT, id: st.id, ...(o.name ? { name: o.name } : {}), project: cfg.projectName, helfyVersion: helfyVersion(),
    createdAt: startedAt.toISOString(), durationMs: Math.round(performance.now() - t0), stores: ['postgres', 'neo4j'],
    consistent: !o.online, writersStopped: st.writersStopped, writersDowntimeMs: Math.round(downMs),
    services: Object.fromEntries(facts.services.map((s: ServiceImage) => [s.service, { image: s.image, imageId: s.imageId, digests: s.digests }])),
    postgres: {
      serverVersion: pg.serverVersion, serverVersionNum: pg.serverVersionNum, pgDumpVersion: facts.pgDumpVersion,
      databases: Object.fromEntries(PG_DATABASES.map((db) => [db, { extensions: pg.databases[db]?.extensions ?? {} }])),
      migrationHead: pg.migrationHead,
    },
    temporal: { serverVersion: facts.temporalVersion, schemaVersion: pg.temporalSchema, historyShards: pg.historyShards },
    neo4j: { version: neo4j.version, edition: neo4j.edition, databases: [...NEO4J_DATABASES], migrationHead: neo4j.migrationHead },
    files, figures: st.figures, warnings,
  };
}

/** Writes the manifest and renames `<id>.partial` to `<id>`; a full disk removes the incomplete backup. */
async function finish(root: string, st: DumpState, manifest: Manifest): Promise<string> {
  try {
    return await completePartial(st.dir, root, manifest);
  } catch (e) {
    await rm(st.dir, { recursive: true, force: true }).catch(() => undefined);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') throw new HelfyError('DISK_FULL', `disk full while writing the manifest of ${st.id}`, { hint: 'Free space or point HELFY_BACKUP_DIR at a larger disk; the incomplete backup was removed.' });
    throw e;
  }
}

/** The backup itself, inside a session that holds the project's lock. */
export async function createBackup(ctx: Context, o: BackupOptions, startedAt: Date, id: string, cfg: HelfyConfig, root: string, brt: BackupRuntime, healthy?: HealthyWait): Promise<BackupResult> {
  const online = Boolean(o.online);
  const t0 = performance.now();
  const facts = await readSourceFacts(ctx, cfg, brt, online);
  const warnings = [...facts.warnings];
  const lock: LockInfo = { pid: process.pid, host: hostname(), startedAt: startedAt.toISOString(), project: cfg.projectName, stopped: [] };
  const dir = await createPartial(root, id, lock);
  const st: DumpState = { id, dir, lock, files: [], writersStopped: [], downFrom: 0, neo4jStopped: false, figures: {} };
  let failure: { e: unknown } | undefined;
  try {
    await dumpStores(ctx, cfg, brt, st, { online, running: facts.running });
  } catch (e) {
    failure = { e };
  }
  // Start again what was stopped, then (on a failure) delete the partial folder: only after a
  // successful restart, so a failed one leaves lock.json naming what is still down.
  const { restarted, restart, downMs, unhealthy } = await restartStopped(ctx, brt, st, failure ? undefined : healthy);
  if (failure) {
    if (restarted) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw failure.e;
  }
  // The backup itself is complete (its folder, lock.json gone, is renamed below): say what is down.
  if (!restarted) warnings.push(`could not start ${restart.join(', ')} again: run \`helfy up\``);
  if (unhealthy) warnings.push(unhealthy);
  const manifest = buildManifest(cfg, o, startedAt, t0, facts, st, downMs, warnings);
  const final = await finish(root, st, manifest);
  return {
    id, dir: final, bytes: totalBytes(manifest), durationMs: manifest.durationMs, consistent: manifest.consistent,
    writersStopped: st.writersStopped, writersDowntimeMs: manifest.writersDowntimeMs, files: manifest.files.map((f) => ({ name: f.name, bytes: f.bytes })), warnings,
  };
}
