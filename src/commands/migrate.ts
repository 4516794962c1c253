/**
 * `helfy migrate up | status | create | verify`: PostgreSQL (drizzle-kit files, helfy's runner)
 * and Neo4j (versioned Cypher). Each subcommand is one CommandModule exported from this file.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandInput, CommandModule } from '../core/command.js';
import type { Context } from '../core/context.js';
import { ExitCode, HelfyError } from '../core/errors.js';
import { loadConfig, type HelfyConfig } from '../config/load.js';
import { migrationDirs, PACKAGE_ROOT } from '../config/paths.js';
import type { Store } from '../db/orchestrate.js';
import { palette } from '../ui/logger.js';

function storesOf(opt: unknown): Store[] {
  return opt === 'postgres' ? ['postgres'] : opt === 'neo4j' ? ['neo4j'] : ['postgres', 'neo4j'];
}

function config(ctx: Context): HelfyConfig {
  return loadConfig({ cwd: ctx.options.cwd, env: ctx.env });
}

// ---- up -------------------------------------------------------------------------------------

type UpResult = Awaited<ReturnType<typeof import('../db/orchestrate.js').migrateStores>>;

export const up: CommandModule<UpResult> = {
  async run(ctx: Context, input: CommandInput) {
    const { target, dryRun, store } = input.opts as { target?: string; dryRun?: boolean; store?: string };
    const stores = storesOf(store);
    if (target !== undefined && stores.length > 1) {
      throw new HelfyError('USAGE', '--target needs one store: PostgreSQL tags and Neo4j versions differ', { hint: 'Add --store postgres (target: a tag such as 0003 or 0003_add_goals) or --store neo4j (target: a version number).' });
    }
    if (target !== undefined && stores[0] === 'neo4j' && !/^\d+$/.test(target)) {
      throw new HelfyError('USAGE', `--target ${JSON.stringify(target)} is not a Neo4j version number`, { hint: 'Neo4j migrations are V<number>__<name>.cypher; pass the number, e.g. --target 2.' });
    }
    const cfg = config(ctx);
    if ((input.opts as { forceUnlock?: boolean }).forceUnlock) {
      // PostgreSQL's advisory lock dies with its session; only Neo4j's lock node can go stale.
      const ok = await ctx.prompt.confirm({ message: 'Remove the Neo4j migration lock? Only when no other `helfy migrate` is running.', flag: '--yes' });
      if (!ok) throw new HelfyError('USAGE', 'the Neo4j migration lock was left in place', { hint: 'Run again and confirm, or pass --yes.' });
      const { forceUnlockNeo4jFor } = await import('../db/orchestrate.js');
      const removed = await forceUnlockNeo4jFor(cfg, ctx.log);
      if (!removed) ctx.log.info('No Neo4j migration lock was held.');
    }
    const { migrateStores } = await import('../db/orchestrate.js');
    return migrateStores(cfg, ctx.log, { stores, ...(target !== undefined ? { target } : {}), dryRun: Boolean(dryRun) });
  },
  render(r, ctx) {
    const lines: string[] = [];
    if (r.postgres) {
      const p = r.postgres;
      if (p.dryRun) lines.push(`postgres: would apply ${p.pending.length}: ${p.pending.join(', ') || '(nothing)'}`);
      else lines.push(p.applied.length ? `postgres: applied ${p.applied.map((a) => `${a.tag} (${a.durationMs} ms)`).join(', ')}` : 'postgres: up to date');
      if (p.skipped.length) lines.push(`postgres: left after target: ${p.skipped.join(', ')}`);
    }
    if (r.neo4j) {
      const n = r.neo4j;
      if (n.applied.length) lines.push(`neo4j: applied ${n.applied.map((a) => `${a.file} (${a.durationMs} ms)`).join(', ')}`);
      else if (n.pending.length) lines.push(`neo4j: ${n.pending.length} pending: ${n.pending.map((p) => p.file).join(', ')}`);
      else lines.push('neo4j: up to date');
    }
    ctx.stdout(lines.join('\n'));
  },
};

// ---- status ---------------------------------------------------------------------------------

type StatusResult = Awaited<ReturnType<typeof import('../db/orchestrate.js').migrationStatus>>;

export const status: CommandModule<StatusResult> = {
  async run(ctx, input) {
    const cfg = config(ctx);
    const { migrationStatus } = await import('../db/orchestrate.js');
    return migrationStatus(cfg, storesOf(input.opts.store));
  },
  render(r, ctx) {
    const c = palette(ctx.options.color);
    const paint = (s: string) => (s === 'applied' ? c.green(s) : s === 'pending' ? c.yellow(s) : c.red(s));
    const lines: string[] = [];
    if (r.postgres) {
      lines.push(c.bold('postgres (helfy_app)'));
      for (const e of r.postgres) lines.push(`  ${paint(e.state).padEnd(ctx.options.color ? 21 : 12)} ${e.tag}${e.appliedAt ? `  ${new Date(e.appliedAt).toISOString()}` : ''}`);
    }
    if (r.neo4j) {
      lines.push(c.bold('neo4j'));
      for (const e of r.neo4j) lines.push(`  ${paint(e.state).padEnd(ctx.options.color ? 21 : 12)} ${e.file}${e.appliedAt ? `  ${e.appliedAt}` : ''}`);
    }
    ctx.stdout(lines.join('\n'));
  },
  exitCode(r) {
    const bad = [...(r.postgres ?? []), ...(r.neo4j ?? [])].some((e) => e.state === 'changed' || e.state === 'missing-file');
    return bad ? ExitCode.Usage : ExitCode.Ok;
  },
};

// ---- verify ---------------------------------------------------------------------------------

type VerifyResult = Awaited<ReturnType<typeof import('../db/orchestrate.js').verifyStores>> & { ok: boolean; problems: string[] };

export const verify: CommandModule<VerifyResult> = {
  async run(ctx, input) {
    const cfg = config(ctx);
    const { verifyStores } = await import('../db/orchestrate.js');
    const r = await verifyStores(cfg, ctx.log, storesOf(input.opts.store));
    const problems: string[] = (r.postgres?.problems ?? []).map((p) => `postgres: ${p.message}`);
    for (const d of r.neo4j?.drift ?? []) problems.push(`neo4j: ${d.message}`);
    return { ...r, ok: problems.length === 0, problems };
  },
  render(r, ctx) {
    ctx.stdout(r.ok ? 'No drift: every applied migration matches its file and the live schema.' : r.problems.map((p) => `drift: ${p}`).join('\n'));
  },
  exitCode(r) {
    return r.ok ? ExitCode.Ok : ExitCode.Failed;
  },
};

// ---- create ---------------------------------------------------------------------------------

export interface CreateResult {
  store: Store;
  created: string[];
}

/** The next Neo4j file name: V<max+1, 3 digits>__<name>.cypher. */
export function nextNeo4jFile(existing: string[], name: string): string {
  const versions = existing.map((f) => /^V(\d+)__/.exec(f)?.[1]).filter(Boolean).map(Number);
  const next = (versions.length ? Math.max(...versions) : 0) + 1;
  const slug = name.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  if (!slug) throw new HelfyError('USAGE', `invalid migration name ${JSON.stringify(name)}`, { hint: 'Use letters, digits and underscores, e.g. `routine_index`.' });
  return `V${String(next).padStart(3, '0')}__${slug}.cypher`;
}

export const create: CommandModule<CreateResult> = {
  async run(ctx, input) {
    const name = String(input.args[0]);
    const { neo4j, custom } = input.opts as { neo4j?: boolean; custom?: boolean };
    // Migration files belong to the workspace's HELFY_MIGRATIONS_DIR when set, else to the helfy
    // checkout. Outside a workspace (or with an invalid one) the checkout's folders are used.
    let cfg: HelfyConfig | undefined;
    try {
      cfg = loadConfig({ cwd: ctx.options.cwd, env: ctx.env, requireSecrets: false });
    } catch {
      cfg = undefined;
    }
    if (neo4j) {
      const dir = cfg?.migrationsDir ? migrationDirs(cfg.root, cfg.migrationsDir).neo4j : migrationDirs(PACKAGE_ROOT).neo4j;
      try {
        mkdirSync(dir, { recursive: true });
      } catch (e) {
        throw new HelfyError('FS_ERROR', `cannot create ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'Check the folder\'s permissions or HELFY_MIGRATIONS_DIR.' });
      }
      const file = join(dir, nextNeo4jFile(readdirSync(dir), name));
      writeFileSync(file, `// ${name}\n// Schema statements (CREATE CONSTRAINT/INDEX ... IF NOT EXISTS) and data statements end with ';'.\n`, { flag: 'wx' });
      ctx.log.success(`Created ${file}`);
      return { store: 'neo4j', created: [file] };
    }
    if (cfg?.migrationsDir) {
      throw new HelfyError('USAGE', "PostgreSQL migrations are generated from helfy's schema into its own migrations/postgres", {
        hint: 'HELFY_MIGRATIONS_DIR is set: run `helfy migrate create` in the helfy checkout, or add the SQL file and its meta/_journal.json entry to that folder yourself.',
      });
    }
    const { createPostgresMigration } = await import('../db/postgres/migrate.js');
    const r = await createPostgresMigration({ projectDir: PACKAGE_ROOT, name, custom: Boolean(custom) });
    if (r.created.length) ctx.log.success(`Created ${r.created.join(', ')}`);
    else ctx.log.info('No schema changes: drizzle-kit created no migration (use --custom for hand-written SQL).');
    return { store: 'postgres', created: r.created };
  },
  render(r, ctx) {
    if (r.created.length) ctx.stdout(r.created.join('\n'));
  },
};
