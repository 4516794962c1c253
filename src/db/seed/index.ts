/**
 * `helfy seed` across the stores: checks (stack up, migrations applied, library present for demo
 * data), then the library parts into Neo4j and the demo users into PostgreSQL. What `helfy seed`,
 * and `helfy up --seed`, call: seedStack(cfg, opts, log[, tasks]).
 */
import { readFile, rename, rm, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import type { ListrTask } from 'listr2';
import type { Logger, TaskRunner } from '../../core/context.js';
import { HelfyError } from '../../core/errors.js';
import type { HelfyConfig } from '../../config/load.js';
import { formatDotenvValue } from '../../config/dotenv.js';
import { generateSecret } from '../../config/secrets.js';
import { asUserError, migrationStatus, type Store } from '../orchestrate.js';
import type { LibraryPart, PartResult } from '../neo4j/seed.js';
import type { DemoResult } from '../postgres/seed.js';

export const SEED_PARTS = ['exercises', 'foods', 'routines', 'demo'] as const;
export type SeedPart = (typeof SEED_PARTS)[number];
export const LIBRARY_PARTS: readonly LibraryPart[] = ['exercises', 'foods', 'routines'];
export const DEMO_PASSWORD_KEY = 'HELFY_DEMO_PASSWORD';

export interface SeedOptions {
  only?: readonly SeedPart[];
  users: number;
  days: number;
  seed: number;
  /** Last day of demo data, YYYY-MM-DD (default: yesterday, UTC). */
  lastDay?: string;
  reset?: boolean;
  dryRun?: boolean;
  /** The demo users' password; default: HELFY_DEMO_PASSWORD (added to .env when missing). */
  demoPassword?: string;
  /** Parallel COPY connections (default 2). */
  concurrency?: number;
}

export interface LibraryDryRun { part: LibraryPart; upToDate: boolean }

export interface SeedResult {
  dryRun: boolean;
  reset: boolean;
  parts: SeedPart[];
  library: (PartResult | LibraryDryRun)[];
  demo?: DemoResult;
  removed?: { libraryNodes?: number; demoUsers?: number };
  /** Milliseconds per part. */
  timings: Record<string, number>;
  ms: number;
}

export function yesterday(now = new Date()): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 1)).toISOString().slice(0, 10);
}

function refused(e: HelfyError): boolean {
  const cause = e.cause as { code?: unknown; message?: unknown } | undefined;
  const code = String(cause?.code ?? '');
  return code === 'ECONNREFUSED' || code === 'ServiceUnavailable' || /ECONNREFUSED/.test(String(cause?.message ?? e.message));
}

/** Connection refused means the stack is not up (exit 4); other connection problems stay exit 3. */
function stackError(e: unknown): unknown {
  const err = asUserError(e);
  if (err instanceof HelfyError && err.code === 'CONNECTION_FAILED' && refused(err)) {
    return new HelfyError('STACK_NOT_RUNNING', `the stack is not running: ${err.message}`, { hint: 'Start it with `helfy up`, then run `helfy seed` again.', cause: err });
  }
  return err;
}

/**
 * One connection attempt per store, in parallel, before anything else: a stack that is down is
 * reported at once (the driver would otherwise retry a refused Neo4j for its whole retry window).
 */
async function checkReachable(cfg: HelfyConfig, stores: Store[]): Promise<void> {
  const [{ connect, pgConnectionFor }, { connectNeo4j }] = await Promise.all([import('../postgres/connection.js'), import('../neo4j/connect.js')]);
  const checks = stores.map(async (s) => {
    if (s === 'postgres') {
      const c = await connect(pgConnectionFor(cfg, 'owner'));
      await c.end().catch(() => {});
      return;
    }
    const driver = connectNeo4j(neo4jInfo(cfg));
    try {
      await driver.verifyConnectivity();
    } catch (e) {
      throw new HelfyError('CONNECTION_FAILED', `cannot talk to Neo4j at ${cfg.neo4j.host}:${cfg.neo4j.boltPort}: ${(e as Error).message}`, {
        hint: /auth|credential|Security/i.test(String((e as { code?: string }).code ?? '') + (e as Error).message) ? 'Check HELFY_NEO4J_PASSWORD.' : 'Is Neo4j running? `helfy status` shows the stack.',
        cause: e,
      });
    } finally {
      await driver.close();
    }
  });
  const results = await Promise.allSettled(checks);
  const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  if (failed) throw stackError(failed.reason);
}

/** Pending migrations of the stores seed writes to → exit 2 naming `helfy migrate up`. */
async function checkMigrations(cfg: HelfyConfig, stores: Store[]): Promise<void> {
  await checkReachable(cfg, stores);
  let status;
  try {
    status = await migrationStatus(cfg, stores);
  } catch (e) {
    throw stackError(e);
  }
  const pending = [
    ...(status.postgres ?? []).filter((e) => e.state !== 'applied').map((e) => `postgres ${e.tag} (${e.state})`),
    ...(status.neo4j ?? []).filter((e) => e.state !== 'applied').map((e) => `neo4j ${e.file} (${e.state})`),
  ];
  if (pending.length) {
    throw new HelfyError('USAGE', `${pending.length} migration(s) not applied: seed needs the current schema`, {
      hint: 'Run `helfy migrate up` first (`helfy migrate status` lists them).',
      details: pending,
    });
  }
}

/** HELFY_DEMO_PASSWORD from the configuration, or generated into .env (temp file + rename, 0600). */
export async function ensureDemoPassword(cfg: HelfyConfig, log: Logger): Promise<string> {
  const have = cfg.values.find((v) => v.key === DEMO_PASSWORD_KEY)?.raw;
  if (have) return have;
  const file = join(cfg.root, '.env');
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch {
    /* no .env yet */
  }
  const existing = /^\s*(?:export\s+)?HELFY_DEMO_PASSWORD\s*=\s*(\S.*)$/m.exec(text)?.[1];
  if (existing) return existing.trim();
  const secret = generateSecret();
  const next = `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}# Password of the demo users (demo-001@helfy.test, ...); added by \`helfy seed\`.\n${DEMO_PASSWORD_KEY}=${formatDotenvValue(secret)}\n`;
  const tmp = join(cfg.root, `.helfy-tmp-${process.pid}-env`);
  try {
    await writeFile(tmp, next, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new HelfyError('FS_ERROR', `cannot add ${DEMO_PASSWORD_KEY} to ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'Check the permissions of the workspace folder.', cause: e });
  }
  log.info(`Generated ${DEMO_PASSWORD_KEY} in .env (mode 0600); it is never printed.`);
  return secret;
}

function neo4jInfo(cfg: HelfyConfig) {
  return { host: cfg.neo4j.host, boltPort: cfg.neo4j.boltPort, user: cfg.neo4j.user, password: cfg.neo4j.password };
}

type Report = (msg: string) => void;
interface Step { title: string; run: (report: Report) => Promise<void> }

async function runSteps(steps: Step[], log: Logger, tasks?: TaskRunner): Promise<void> {
  if (!tasks) {
    for (const s of steps) {
      log.info(`seed: ${s.title}`);
      await s.run((m) => log.debug(m));
    }
    return;
  }
  const list: ListrTask[] = steps.map((s) => ({
    title: s.title,
    task: async (_ctx, task) => {
      await s.run((m) => {
        task.output = m;
      });
    },
  }));
  await tasks.run(list);
}

/** Seeds the stack; see `helfy seed` in docs/commands.md. */
export async function seedStack(cfg: HelfyConfig, opts: SeedOptions, log: Logger, tasks?: TaskRunner): Promise<SeedResult> {
  const t0 = performance.now();
  const parts = [...(opts.only?.length ? opts.only : SEED_PARTS)].sort((a, b) => SEED_PARTS.indexOf(a) - SEED_PARTS.indexOf(b));
  const libParts = LIBRARY_PARTS.filter((p) => parts.includes(p));
  const demo = parts.includes('demo');
  const result: SeedResult = { dryRun: Boolean(opts.dryRun), reset: Boolean(opts.reset), parts, library: [], timings: {}, ms: 0 };
  const stores: Store[] = [...(demo ? ['postgres' as const] : []), 'neo4j'];
  await checkMigrations(cfg, stores);

  const [{ connectNeo4j }, neo, { pgConnectionFor }] = await Promise.all([import('../neo4j/connect.js'), import('../neo4j/seed.js'), import('../postgres/connection.js')]);
  const pgConn = pgConnectionFor(cfg, 'owner');
  const driver = connectNeo4j(neo4jInfo(cfg));
  try {
    if (opts.reset) {
      const removed: NonNullable<SeedResult['removed']> = {};
      const steps: Step[] = [];
      if (demo) steps.push({ title: 'remove demo users', run: async () => {
        const { resetDemo, demoUserCount } = await import('../postgres/seed.js');
        removed.demoUsers = opts.dryRun ? await demoUserCount(pgConn) : (await resetDemo(pgConn)).users;
      } });
      if (libParts.length) steps.push({ title: 'remove the seeded library', run: async () => {
        removed.libraryNodes = opts.dryRun
          ? Object.values((await neo.libraryCounts(driver)).nodes).reduce((a, b) => a + b, 0)
          : (await neo.resetLibrary(driver)).deleted;
      } });
      await runSteps(steps, log, tasks).catch((e: unknown) => { throw stackError(e); });
      result.removed = removed;
      result.ms = Math.round(performance.now() - t0);
      return result;
    }

    const steps: Step[] = libParts.map((part) => ({
      title: `library: ${part}`,
      run: async (report) => {
        const p0 = performance.now();
        if (opts.dryRun) {
          result.library.push({ part, upToDate: await neo.partUpToDate(driver, undefined, neo.libraryPlan(part)) });
        } else {
          const r = await neo.loadLibraryPart(driver, part, { progress: report });
          report(r.upToDate ? `${part}: up to date` : `${part}: ${r.items.toLocaleString('en-US')} items in ${(r.ms / 1000).toFixed(1)}s`);
          result.library.push(r);
        }
        result.timings[part] = Math.round(performance.now() - p0);
      },
    }));
    if (demo) {
      steps.push({
        title: `demo data: ${opts.users} user(s) × ${opts.days} day(s)`,
        run: async (report) => {
          const p0 = performance.now();
          const { demoReferencedIds } = await import('./demo.js');
          const ids = demoReferencedIds();
          const { routineLibrary } = await import('./library.js');
          const routineIds = routineLibrary().routines.map((r) => r.id);
          const [ex, fo, ro] = await Promise.all([
            neo.countExisting(driver, 'Exercise', ids.exercises), neo.countExisting(driver, 'Food', ids.foods),
            driver.executeQuery('UNWIND $ids AS id MATCH (r:Routine {id: id}) RETURN count(r) AS c', { ids: routineIds }, { routing: 'READ' }).then((r) => Number(r.records[0]?.get('c') ?? 0)),
          ]);
          if ((ex < ids.exercises.length || fo < ids.foods.length || ro < routineIds.length) && !(opts.dryRun && libParts.length === 3)) {
            throw new HelfyError('USAGE', `the Neo4j library is missing for demo data (${ex}/${ids.exercises.length} exercises, ${fo}/${ids.foods.length} foods, ${ro}/${routineIds.length} routines)`, {
              hint: 'Load it first: `helfy seed --only exercises,foods,routines` (or plain `helfy seed`).',
            });
          }
          const password = opts.demoPassword ?? (opts.dryRun ? '' : await ensureDemoPassword(cfg, log));
          const { seedDemo } = await import('../postgres/seed.js');
          result.demo = await seedDemo(pgConn, {
            users: opts.users, params: { seed: opts.seed, days: opts.days, lastDay: opts.lastDay ?? yesterday() }, password,
            concurrency: opts.concurrency ?? 2, dryRun: Boolean(opts.dryRun), progress: report,
          });
          result.timings.demo = Math.round(performance.now() - p0);
        },
      });
    }
    await runSteps(steps, log, tasks).catch((e: unknown) => { throw stackError(e); });
    result.ms = Math.round(performance.now() - t0);
    return result;
  } finally {
    await driver.close();
  }
}

export type { LibraryCounts } from '../neo4j/seed.js';

/** For `helfy status`: seeded library counts per label and which parts are loaded (throws when Neo4j is down). */
export async function libraryStatus(cfg: HelfyConfig) {
  const [{ connectNeo4j }, { libraryCounts }] = await Promise.all([import('../neo4j/connect.js'), import('../neo4j/seed.js')]);
  const driver = connectNeo4j(neo4jInfo(cfg));
  try {
    // One attempt, no retry window: a status line must not wait 15 s for a Neo4j that is down.
    await driver.verifyConnectivity();
    return await libraryCounts(driver);
  } finally {
    await driver.close();
  }
}
