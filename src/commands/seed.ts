/**
 * `helfy seed`: the reference library (exercises, foods, routines) into Neo4j from the shipped
 * open data, and deterministic demo users with their time series into PostgreSQL. Idempotent and
 * safe to kill; see src/db/seed/index.ts.
 */
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { HelfyError } from '../core/errors.js';
import { loadConfig } from '../config/load.js';
import type { SeedOptions, SeedPart, SeedResult } from '../db/seed/index.js';

const PARTS: readonly SeedPart[] = ['exercises', 'foods', 'routines', 'demo'];
export const DEFAULTS = { users: 3, days: 90, seed: 1, concurrency: 2 } as const;

function intFlag(flag: string, raw: unknown, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  const s = String(raw).trim();
  const n = /^-?\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new HelfyError('USAGE', `${flag} ${JSON.stringify(s)}: expected a whole number from ${min} to ${max}`, { hint: `e.g. ${flag} ${def}` });
  }
  return n;
}

/** Validates the flags into SeedOptions; every problem is a usage error naming the flag. */
export function parseSeedFlags(opts: Record<string, unknown>): SeedOptions {
  let only: SeedPart[] | undefined;
  if (opts.only !== undefined) {
    const items = String(opts.only).split(',').map((x) => x.trim()).filter(Boolean);
    const bad = items.filter((x) => !PARTS.includes(x as SeedPart));
    if (bad.length || items.length === 0) {
      throw new HelfyError('USAGE', `--only ${JSON.stringify(String(opts.only))}: unknown part ${bad.map((b) => JSON.stringify(b)).join(', ') || '(none given)'}`, {
        hint: `Parts: ${PARTS.join(', ')} (comma-separated, e.g. --only exercises,foods).`,
      });
    }
    only = [...new Set(items as SeedPart[])];
  }
  let lastDay: string | undefined;
  if (opts.lastDay !== undefined) {
    const s = String(opts.lastDay);
    const t = /^\d{4}-\d{2}-\d{2}$/.test(s) ? Date.parse(`${s}T00:00:00Z`) : NaN;
    if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== s) {
      throw new HelfyError('USAGE', `--last-day ${JSON.stringify(s)}: expected a date YYYY-MM-DD`, { hint: 'e.g. --last-day 2026-11-30 (default: yesterday, UTC).' });
    }
    lastDay = s;
  }
  return {
    ...(only ? { only } : {}),
    users: intFlag('--users', opts.users, DEFAULTS.users, 0, 1000),
    days: intFlag('--days', opts.days, DEFAULTS.days, 1, 3650),
    seed: intFlag('--seed', opts.seed, DEFAULTS.seed, 0, 2_147_483_647),
    concurrency: intFlag('--concurrency', opts.concurrency, DEFAULTS.concurrency, 1, 16),
    ...(lastDay ? { lastDay } : {}),
    reset: Boolean(opts.reset),
    dryRun: Boolean(opts.dryRun),
  };
}

export async function run(ctx: Context, input: CommandInput): Promise<SeedResult> {
  const opts = parseSeedFlags(input.opts);
  const cfg = loadConfig({ cwd: ctx.options.cwd, env: ctx.env });
  const { seedStack } = await import('../db/seed/index.js');
  return seedStack(cfg, opts, ctx.log, ctx.tasks);
}

const fmt = (n: number) => n.toLocaleString('en-US');
const secs = (ms: number | undefined) => `${((ms ?? 0) / 1000).toFixed(1)}s`;

export function render(r: SeedResult, ctx: Context): void {
  const lines: string[] = [];
  if (r.reset) {
    const what = r.dryRun ? 'would remove' : 'removed';
    if (r.removed?.demoUsers !== undefined) lines.push(`demo: ${what} ${fmt(r.removed.demoUsers)} demo user(s) and their rows`);
    if (r.removed?.libraryNodes !== undefined) lines.push(`library: ${what} ${fmt(r.removed.libraryNodes)} seeded node(s); a developer's own nodes were left alone`);
    ctx.stdout(lines.join('\n'));
    return;
  }
  for (const p of r.library) {
    if (!('nodes' in p)) {
      lines.push(`${p.part.padEnd(9)} ${p.upToDate ? 'up to date' : 'would load'}`);
      continue;
    }
    const counts = [...Object.entries(p.nodes), ...Object.entries(p.relationships)].map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
    lines.push(`${p.part.padEnd(9)} ${p.upToDate ? 'up to date' : `loaded ${fmt(p.items)} items (${fmt(Math.round(p.items / Math.max(0.001, p.ms / 1000)))}/s)`} in ${secs(p.ms)}: ${counts}`);
  }
  if (r.demo) {
    const d = r.demo;
    const by = (a: string) => d.users.filter((u) => u.action === a).length;
    const verbs = [['create', 'created'], ['regenerate', 'regenerated'], ['up-to-date', 'up to date'], ['delete', 'deleted']]
      .filter(([a]) => by(a!) > 0).map(([a, v]) => `${by(a!)} ${d.dryRun && a !== 'up-to-date' ? `to be ${v}` : v}`);
    const written = Object.values(d.rows).reduce((a, b) => a + b, 0);
    lines.push(`demo      ${verbs.join(', ') || 'no demo users'}${written ? `; wrote ${fmt(written)} rows (${fmt(d.rowsPerSecond)} rows/s)` : ''} in ${secs(r.timings.demo)}`);
    lines.push(`          ${Object.entries(d.totals).map(([t, n]) => `${t} ${fmt(n)}`).join(', ')}`);
    if (d.passwordsUpdated) lines.push(`          updated the password of ${d.passwordsUpdated} demo user(s) to HELFY_DEMO_PASSWORD`);
    if (d.users.some((u) => u.action !== 'delete')) lines.push('          log in as demo-001@helfy.test … with the password HELFY_DEMO_PASSWORD from .env');
  }
  if (r.dryRun) lines.push('dry run: nothing was changed');
  ctx.stdout(lines.join('\n'));
}

