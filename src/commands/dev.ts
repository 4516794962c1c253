/**
 * `helfy dev [api|worker|web ...]`: the apps from the workspace sources as local processes with
 * live reload (tsx watch, Vike's dev server), against the stack's data stores, until Ctrl-C.
 */
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { HelfyError } from '../core/errors.js';
import { parseDuration } from '../stack/duration.js';

export async function run(ctx: Context, input: CommandInput): Promise<unknown> {
  const opts = input.opts as { stores?: boolean; timeout?: string };
  // A dev loop runs until Ctrl-C and streams its processes' output: there is no one result.
  if (ctx.options.json) {
    throw new HelfyError('USAGE', '--json is not available for helfy dev (it streams its processes\' output until Ctrl-C)', {
      hint: 'Run it without --json; `helfy status --json` describes the stack.',
    });
  }
  const { DEV_PROCESSES } = await import('../apps/env.js');
  const requested = (input.args[0] as string[] | undefined) ?? [];
  const bad = requested.filter((n) => !(DEV_PROCESSES as readonly string[]).includes(n));
  if (bad.length) throw new HelfyError('USAGE', `unknown dev process${bad.length > 1 ? 'es' : ''}: ${bad.join(', ')}`, { hint: `helfy dev runs ${DEV_PROCESSES.join(', ')} (default: all three).` });
  const processes = DEV_PROCESSES.filter((p) => requested.length === 0 || requested.includes(p));
  const timeoutMs = parseDuration(opts.timeout ?? '180s', '--timeout');
  const { loadConfig } = await import('../config/load.js');
  const cfg = loadConfig({ cwd: ctx.options.cwd, env: ctx.env, requireSecrets: true });
  const { runDev } = await import('../dev/run.js');
  return runDev(ctx, cfg, { processes, stores: opts.stores !== false, timeoutMs });
}

export function render(): void {
  /* the processes' output was streamed; run() only ends by Ctrl-C (exit 130) or an error */
}
