/**
 * What every stack command does first: load and validate the configuration, then pick the
 * runtime (cfg.runtime: `docker`, `native`, or `auto` = native while native processes of this
 * workspace run, else Docker when an engine answers, else native) and, for Docker, check the engine and compose (in parallel) — each failure is a typed
 * error with a hint (configuration: exit 2; engine or compose missing: exit 3).
 */
import { loadConfig, type HelfyConfig } from '../config/load.js';
import type { Context } from '../core/context.js';
import { HelfyError } from '../core/errors.js';
import type { ComposeCommand } from '../runtime/docker/compose.js';
import type { EngineInfo } from '../runtime/docker/engine.js';
import { runningNative } from '../runtime/native/running.js';
import { composeEnv, type ComposeEnv } from './env.js';
import type { RuntimeKind, StackRuntime } from './runtime.js';

export interface OpenStack {
  cfg: HelfyConfig;
  rt: StackRuntime;
  env: ComposeEnv;
}

/** How long `auto` waits for an engine before running natively (an engine on the machine answers in ms). */
export const AUTO_PING_TIMEOUT_MS = 1000;

/** Why the engine did not answer, in a few words ("ENOENT", "no answer within 1000 ms"). */
function pingFailure(e: unknown): string {
  const cause = (e as { cause?: unknown }).cause as NodeJS.ErrnoException | undefined;
  return cause?.code ?? cause?.message ?? (e as Error).message;
}


/**
 * The runtime `cfg.runtime` resolves to. `auto` picks native while native processes of this
 * workspace run (an engine answering must not make them invisible to status/down, or let up start
 * a second stack beside them); otherwise it pings the engine with a short timeout. Either way it
 * says in one info line when it picks native, and why.
 */
export async function resolveRuntime(ctx: Context, cfg: HelfyConfig, timeoutMs?: number): Promise<{ kind: RuntimeKind; engine?: EngineInfo }> {
  if (cfg.runtime === 'native') return { kind: 'native' };
  if (cfg.runtime === 'auto') {
    const live = await runningNative(cfg.root);
    if (live.length) {
      ctx.log.info(`runtime: native (native processes of this workspace run: ${live.join(', ')}); \`helfy down\` stops them, HELFY_RUNTIME=docker requires Docker`);
      return { kind: 'native' };
    }
  }
  const { pingEngine, engineTarget } = await import('../runtime/docker/engine.js');
  if (cfg.runtime === 'docker') return { kind: 'docker', engine: await pingEngine(ctx.env, timeoutMs ?? 2000) };
  try {
    return { kind: 'docker', engine: await pingEngine(ctx.env, Math.min(timeoutMs ?? AUTO_PING_TIMEOUT_MS, AUTO_PING_TIMEOUT_MS)) };
  } catch (e) {
    if (!(e instanceof HelfyError) || e.code !== 'DOCKER_UNREACHABLE') throw e;
    let target: string;
    try {
      target = engineTarget(ctx.env).label;
    } catch {
      target = `DOCKER_HOST=${ctx.env.DOCKER_HOST ?? ''}`;
    }
    ctx.log.info(`runtime: native (no Docker engine at ${target}: ${pingFailure(e)}); set HELFY_RUNTIME=docker to require one`);
    return { kind: 'native' };
  }
}

export async function openStack(
  ctx: Context,
  opts: { requireSecrets: boolean; compose: boolean; engineTimeoutMs?: number; onConfig?: (cfg: HelfyConfig) => void },
): Promise<OpenStack> {
  const cfg = loadConfig({ cwd: ctx.options.cwd, env: ctx.env, requireSecrets: opts.requireSecrets });
  opts.onConfig?.(cfg);
  if (cfg.runtime === 'native') return openNative(ctx, cfg, opts);
  const { detectCompose } = await import('../runtime/docker/compose.js');
  // Compose detection starts now, in parallel with the engine ping; only commands that run compose wait for it.
  let compose: Promise<ComposeCommand> | undefined;
  const detect = () => (compose ??= detectCompose(ctx.env).then((c) => {
    ctx.log.debug(`compose ${c.flavor} ${c.version} (${c.argv.join(' ')})`);
    return c;
  }));
  // Under auto a missing compose must not fail before we know an engine answers.
  if (opts.compose) void detect().catch(() => undefined);
  const resolved = await resolveRuntime(ctx, cfg, opts.engineTimeoutMs);
  if (resolved.kind === 'native') return openNative(ctx, cfg, opts);
  const engine = resolved.engine!;
  ctx.log.debug(`engine ${engine.version} (API ${engine.apiVersion}) at ${engine.target}`);
  const env = composeEnv(cfg, { placeholderSecrets: !opts.requireSecrets });
  const { dockerRuntime } = await import('../runtime/docker/stack.js');
  return { cfg, rt: dockerRuntime({ env: ctx.env, cfg, compose: detect, composeVars: env.vars, engine }), env };
}

async function openNative(ctx: Context, cfg: HelfyConfig, opts: { requireSecrets: boolean }): Promise<OpenStack> {
  const env = composeEnv(cfg, { placeholderSecrets: !opts.requireSecrets });
  const { nativeRuntime } = await import('../runtime/native/stack.js');
  return { cfg, rt: nativeRuntime({ cfg, env: ctx.env, vars: env.vars, log: ctx.log, hashes: env.hashes }), env };
}
