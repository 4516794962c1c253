/** `helfy up [service...]`: start the stack (or part of it) and wait until it is healthy. */
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { HelfyError } from '../core/errors.js';
import { afterHealthy, bootstrapDatabases, registerNamespaceEarly } from '../stack/bootstrap.js';
import { defaultServices, parseServiceNames, withDependencies } from '../stack/catalog.js';
import { parseDuration } from '../stack/duration.js';
import { openStack } from '../stack/open.js';
import { upStack, type UpResult } from '../stack/up.js';
import { palette } from '../ui/logger.js';
import type { SeedResult } from '../db/seed/index.js';
import { parseSeedFlags } from '../db/seed/options.js';
import { seedReport } from '../db/seed/report.js';

export type UpCommandResult = UpResult & { seed?: SeedResult };

export async function run(ctx: Context, input: CommandInput): Promise<UpCommandResult> {
  const opts = input.opts as { timeout?: string; wait?: boolean; build?: boolean; pull?: string; seed?: boolean };
  const requested = (input.args[0] as string[] | undefined) ?? [];
  const services = requested.length ? parseServiceNames(requested) : defaultServices();
  const timeoutMs = parseDuration(opts.timeout ?? '180s', '--timeout');
  const pull = (opts.pull ?? 'missing') as 'missing' | 'never';
  if (pull !== 'missing' && pull !== 'never') throw new HelfyError('USAGE', `--pull ${pull}: expected missing or never`);
  // Refused before anything starts: seeding needs both stores healthy and migrated.
  if (opts.seed && opts.wait === false) throw new HelfyError('USAGE', '--seed needs a healthy stack: it cannot be combined with --no-wait');
  const closure = withDependencies(services);
  const missing = opts.seed ? (['postgres', 'neo4j'] as const).filter((s) => !closure.includes(s)) : [];
  if (missing.length) {
    throw new HelfyError('USAGE', `--seed needs ${missing.join(' and ')} in the stack`, { hint: `Add ${missing.join(' ')} to the services, or run \`helfy seed\` once they are up.` });
  }
  const { cfg, rt, env } = await openStack(ctx, { requireSecrets: true, compose: true });
  // Configuration folders the containers mount, copied into the workspace (.helfy/) first.
  const { writeConfigMounts } = await import('../stack/config-mounts.js');
  for (const w of writeConfigMounts(cfg)) if (w.changed) ctx.log.debug(`wrote ${w.file}`);
  const up = await upStack(ctx, cfg, rt, {
    services, timeoutMs, wait: opts.wait !== false, build: Boolean(opts.build), pull, hashes: env.hashes, buildTags: env.buildTags,
  }, {
    bootstrap: (log) => bootstrapDatabases(ctx, cfg, log),
    onReady: { temporal: (log) => registerNamespaceEarly(cfg, log) },
    afterHealthy: (info) => afterHealthy(ctx, cfg, info),
  });
  if (!opts.seed) return up;
  // `helfy seed` with its defaults, once the stores are healthy and migrated (idempotent: on a
  // stack that was seeded before it only finds everything up to date).
  const { seedStack } = await import('../db/seed/index.js');
  return { ...up, seed: await seedStack(cfg, parseSeedFlags({}), ctx.log, ctx.tasks) };
}

export function render(r: UpCommandResult, ctx: Context): void {
  const c = palette(ctx.options.color);
  if (r.built) ctx.log.info(`built ${r.built.images.join(', ')} in ${(r.built.durationMs / 1000).toFixed(1)}s`);
  if (r.bootstrap?.changed) ctx.log.info(`database bootstrap: ${r.bootstrap.changes.length} change(s)`);
  if (r.status === 'already-up') ctx.log.success(`stack ${r.project} is already up (${r.services.length} services healthy); nothing to do`);
  else if (r.status === 'started-no-wait') ctx.log.success(`stack ${r.project} started in ${(r.durationMs / 1000).toFixed(1)}s (not waiting for health: --no-wait)`);
  else ctx.log.success(`stack ${r.project} is up and healthy in ${(r.durationMs / 1000).toFixed(1)}s`);
  if (r.runtime.kind === 'native') ctx.log.info(`runtime: ${r.runtime.detail}; data in .helfy/data, logs in .helfy/logs`);
  if (r.seed) ctx.stdout(seedReport(r.seed));
  const rows = r.services.flatMap((s) => s.urls.map((u, i) => [i === 0 ? s.name : '', u.label, u.url]));
  if (!rows.length) return;
  const w = [Math.max(7, ...rows.map((x) => x[0]!.length)), Math.max(4, ...rows.map((x) => x[1]!.length))];
  const line = (a: string, b: string, u: string) => `${a.padEnd(w[0]!)}  ${b.padEnd(w[1]!)}  ${u}`;
  ctx.stdout([c.bold(line('SERVICE', 'WHAT', 'URL')), ...rows.map(([a, b, u]) => line(a!, b!, u!))].join('\n'));
}
