/**
 * `helfy seed`: the reference library (exercises, foods, routines) into Neo4j from the shipped
 * open data, and deterministic demo users with their time series into PostgreSQL. Idempotent and
 * safe to kill; see src/db/seed/index.ts.
 */
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { loadConfig } from '../config/load.js';
import type { SeedResult } from '../db/seed/index.js';
import { parseSeedFlags } from '../db/seed/options.js';
import { seedReport } from '../db/seed/report.js';

export async function run(ctx: Context, input: CommandInput): Promise<SeedResult> {
  const opts = parseSeedFlags(input.opts);
  const cfg = loadConfig({ cwd: ctx.options.cwd, env: ctx.env });
  const { seedStack } = await import('../db/seed/index.js');
  return seedStack(cfg, opts, ctx.log, ctx.tasks);
}

export function render(r: SeedResult, ctx: Context): void {
  ctx.stdout(seedReport(r));
}
