/** `helfy smoke [--junit FILE] [--json] [--only groups] [--timeout D] [--browser]`: prove the running stack works. */
import { resolve } from 'node:path';
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { ExitCode, HelfyError } from '../core/errors.js';
import { GROUPS } from '../smoke/checks.js';
import type { SmokeResult } from '../smoke/run.js';
import { parseDuration } from '../stack/duration.js';
import { openStack } from '../stack/open.js';
import { palette } from '../ui/logger.js';

export interface SmokeFlags {
  junit?: string;
  only?: string;
  timeout?: string;
  browser?: boolean;
}

export function parseSmokeFlags(opts: SmokeFlags, cwd: string) {
  const groups = opts.only ? opts.only.split(',').map((s) => s.trim()).filter(Boolean) : [];
  const bad = groups.filter((g) => !(GROUPS as readonly string[]).includes(g));
  if (bad.length) throw new HelfyError('USAGE', `--only: unknown group${bad.length > 1 ? 's' : ''} ${bad.join(', ')}`, { hint: `Groups: ${GROUPS.join(', ')}.` });
  return {
    groups,
    timeoutMs: parseDuration(opts.timeout ?? '30s', '--timeout'),
    browser: Boolean(opts.browser),
    ...(opts.junit ? { junitFile: resolve(cwd, opts.junit) } : {}),
  };
}

export async function run(ctx: Context, input: CommandInput): Promise<SmokeResult> {
  const flags = parseSmokeFlags(input.opts as SmokeFlags, ctx.options.cwd);
  const { cfg, rt } = await openStack(ctx, { requireSecrets: true, compose: false });
  const { smokeStack } = await import('../smoke/run.js');
  const r = await smokeStack(ctx, cfg, rt, flags);
  if (r.interrupted) {
    throw new HelfyError('INTERRUPTED', `smoke interrupted; the throwaway user ${r.cleanup.usersRemoved || !r.cleanup.error ? 'was removed' : 'may remain'}`, { data: { smoke: r } });
  }
  return r;
}

export function render(r: SmokeResult, ctx: Context): void {
  const c = palette(ctx.options.color);
  const bad = r.checks.filter((x) => x.status === 'failed');
  const lines = bad.flatMap((x) => [c.red(`✖ ${x.group}: ${x.name}`), `  ${x.message ?? ''}`, ...(x.logs?.length ? [`  last lines of ${x.service}:`, ...x.logs.map((l) => `    ${l}`)] : [])]);
  lines.push(
    `${r.ok ? c.green('smoke passed') : c.red('smoke FAILED')}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped in ${(r.durationMs / 1000).toFixed(1)} s (slowest check ${(r.slowestMs / 1000).toFixed(1)} s)`,
    ...(r.junit ? [`JUnit report: ${r.junit}`] : []),
  );
  ctx.stdout(lines.join('\n'));
}

export function exitCode(r: SmokeResult) {
  return r.ok ? ExitCode.Ok : ExitCode.Failed;
}
