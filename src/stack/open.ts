/**
 * What every stack command does first: load and validate the configuration, then check the
 * Docker engine and compose (in parallel) — each failure is a typed error with a hint
 * (configuration: exit 2; engine or compose missing: exit 3).
 */
import { loadConfig, type HelfyConfig } from '../config/load.js';
import type { Context } from '../core/context.js';
import type { ComposeCommand } from '../runtime/docker/compose.js';
import { composeEnv, type ComposeEnv } from './env.js';
import { dockerRuntime, type StackRuntime } from './runtime.js';

export interface OpenStack {
  cfg: HelfyConfig;
  rt: StackRuntime;
  env: ComposeEnv;
}

export async function openStack(
  ctx: Context,
  opts: { requireSecrets: boolean; compose: boolean; engineTimeoutMs?: number; onConfig?: (cfg: HelfyConfig) => void },
): Promise<OpenStack> {
  const cfg = loadConfig({ cwd: ctx.options.cwd, env: ctx.env, requireSecrets: opts.requireSecrets });
  opts.onConfig?.(cfg);
  const [{ pingEngine }, { detectCompose }] = await Promise.all([import('../runtime/docker/engine.js'), import('../runtime/docker/compose.js')]);
  // Compose detection starts now, in parallel with the engine ping; only commands that run compose wait for it.
  let compose: Promise<ComposeCommand> | undefined;
  const detect = () => (compose ??= detectCompose(ctx.env).then((c) => {
    ctx.log.debug(`compose ${c.flavor} ${c.version} (${c.argv.join(' ')})`);
    return c;
  }));
  if (opts.compose) void detect().catch(() => undefined);
  const engine = await pingEngine(ctx.env, opts.engineTimeoutMs ?? 2000);
  ctx.log.debug(`engine ${engine.version} (API ${engine.apiVersion}) at ${engine.target}`);
  const env = composeEnv(cfg, { placeholderSecrets: !opts.requireSecrets });
  return { cfg, rt: dockerRuntime({ env: ctx.env, cfg, compose: detect, composeVars: env.vars }), env };
}
