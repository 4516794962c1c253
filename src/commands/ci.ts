/**
 * `helfy ci`: the whole pipeline step in one command — init (when the checkout has no workspace or
 * no .env) → up → migrate → seed (small) → smoke → down. The JUnit report and every container's
 * log are written under the artifacts folder; the exit code is the first failing phase's; down
 * runs even after a failure (unless --keep).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { ExitCode, isHelfyError } from '../core/errors.js';
import { CONFIG_FILE, ENV_FILE, findWorkspace } from '../config/load.js';
import type { SmokeResult } from '../smoke/run.js';
import { loadCommand } from './index.js';
import { palette } from '../ui/logger.js';
import { writeFileAtomicSync } from '../core/atomic-write.js';

export const PHASES = ['init', 'up', 'migrate', 'seed', 'smoke', 'logs', 'down'] as const;
export type Phase = (typeof PHASES)[number];

export interface PhaseResult {
  phase: Phase;
  status: 'ok' | 'failed' | 'skipped';
  exitCode: number;
  durationMs: number;
  message?: string;
}

export interface CiResult {
  root: string;
  ok: boolean;
  exitCode: number;
  artifacts: string;
  junit?: string;
  logs: string[];
  phases: PhaseResult[];
  smoke?: Pick<SmokeResult, 'passed' | 'failed' | 'skipped' | 'durationMs'>;
}

interface CiFlags {
  artifacts?: string;
  keep?: boolean;
  timeout?: string;
  smokeTimeout?: string;
  users?: string;
  days?: string;
  browser?: boolean;
}


export async function run(ctx: Context, input: CommandInput): Promise<CiResult> {
  const o = input.opts as CiFlags;
  const root = findWorkspace(ctx.options.cwd) ?? resolve(ctx.options.cwd);
  const artifacts = resolve(root, o.artifacts ?? '.helfy/ci');
  mkdirSync(join(artifacts, 'logs'), { recursive: true });
  // Every phase runs in the workspace, with this command's logger, prompts and Ctrl-C signal.
  const sub: Context = { ...ctx, options: { ...ctx.options, cwd: root } };
  const phases: PhaseResult[] = [];
  const out: CiResult = { root, ok: false, exitCode: ExitCode.Ok, artifacts, logs: [], phases };
  const step = async (phase: Phase, fn: () => Promise<number | string | void>): Promise<boolean> => {
    if (ctx.signal.aborted && phase !== 'logs' && phase !== 'down') {
      phases.push({ phase, status: 'skipped', exitCode: ExitCode.Interrupted, durationMs: 0, message: 'interrupted' });
      return false;
    }
    ctx.log.info(`helfy ci: ${phase}`);
    const t0 = performance.now();
    try {
      const r = await fn();
      const code = typeof r === 'number' ? r : ExitCode.Ok;
      phases.push({ phase, status: code === 0 ? 'ok' : 'failed', exitCode: code, durationMs: Math.round(performance.now() - t0), ...(typeof r === 'string' ? { message: r } : {}) });
      return code === 0;
    } catch (e) {
      const code = isHelfyError(e) ? e.exitCode : ExitCode.Failed;
      const message = isHelfyError(e) ? `${e.message}${e.hint ? ` (${e.hint})` : ''}` : (e as Error).message?.split('\n')[0] ?? String(e);
      ctx.log.error(`helfy ci: ${phase} failed: ${message}`);
      phases.push({ phase, status: 'failed', exitCode: code, durationMs: Math.round(performance.now() - t0), message });
      return false;
    }
  };
  const skip = (phase: Phase) => phases.push({ phase, status: 'skipped', exitCode: 0, durationMs: 0, message: 'an earlier phase failed' });

  let ok = true;
  const needsInit = !existsSync(join(root, CONFIG_FILE)) || !existsSync(join(root, ENV_FILE));
  if (needsInit) {
    ok = await step('init', async () => {
      const init = await loadCommand<{ status: string }>('init');
      // A fresh CI checkout has the committed helfy.config.json but no .env (it is git-ignored):
      // --force generates its secrets and keeps the configuration.
      const r = await init.run(sub, { args: [root], opts: existsSync(join(root, CONFIG_FILE)) ? { force: true } : {} });
      return `${r.status}`;
    });
  } else {
    phases.push({ phase: 'init', status: 'skipped', exitCode: 0, durationMs: 0, message: 'workspace and .env present' });
  }
  let started = false;
  if (ok) {
    ok = await step('up', async () => {
      const up = await loadCommand('up');
      started = true;
      await up.run(sub, { args: [[]], opts: { timeout: o.timeout ?? '300s', wait: true, pull: 'missing' } });
    });
  } else skip('up');
  if (ok) {
    ok = await step('migrate', async () => {
      const up = await loadCommand('migrate', 'up');
      await up.run(sub, { args: [], opts: { store: 'all' } });
    });
  } else skip('migrate');
  if (ok) {
    ok = await step('seed', async () => {
      const seed = await loadCommand('seed');
      await seed.run(sub, { args: [], opts: { users: o.users ?? '1', days: o.days ?? '7', seed: '1', concurrency: '1' } });
    });
  } else skip('seed');
  if (ok) {
    const junit = join(artifacts, 'junit.xml');
    ok = await step('smoke', async () => {
      const smoke = await loadCommand<SmokeResult>('smoke');
      const r = await smoke.run(sub, { args: [], opts: { junit, timeout: o.smokeTimeout ?? '60s', browser: Boolean(o.browser) } });
      out.junit = junit;
      out.smoke = { passed: r.passed, failed: r.failed, skipped: r.skipped, durationMs: r.durationMs };
      return smoke.exitCode!(r);
    });
  } else skip('smoke');
  // The logs of every container, also (above all) after a failure.
  if (started) {
    await step('logs', async () => {
      const { openStack } = await import('../stack/open.js');
      const { rt } = await openStack(sub, { requireSecrets: false, compose: false });
      const list = await rt.containers();
      await Promise.all(list.map(async (c) => {
        const lines = await rt.logs(c.id, { timestamps: true });
        const file = join(artifacts, 'logs', `${c.service}.log`);
        writeFileAtomicSync(file, lines.map((l) => `${l.stream === 'stderr' ? 'E ' : '  '}${l.text}`).join('\n') + '\n');
        out.logs.push(file);
      }));
      out.logs.sort();
      return `${list.length} container log(s)`;
    });
    if (o.keep) phases.push({ phase: 'down', status: 'skipped', exitCode: 0, durationMs: 0, message: '--keep' });
    else {
      await step('down', async () => {
        const down = await loadCommand('down');
        await down.run(sub, { args: [], opts: { volumes: false } });
      });
    }
  }
  const first = phases.find((p) => p.status === 'failed' || (p.status === 'skipped' && p.exitCode !== 0));
  out.exitCode = first?.exitCode ?? ExitCode.Ok;
  out.ok = out.exitCode === ExitCode.Ok;
  writeFileAtomicSync(join(artifacts, 'ci.json'), JSON.stringify(out, null, 2) + '\n');
  return out;
}

export function render(r: CiResult, ctx: Context): void {
  const c = palette(ctx.options.color);
  const mark = (p: PhaseResult) => (p.status === 'ok' ? c.green('✔') : p.status === 'failed' ? c.red('✖') : c.yellow('-'));
  ctx.stdout([
    ...r.phases.map((p) => `${mark(p)} ${p.phase.padEnd(8)} ${p.status === 'skipped' ? 'skipped' : `${(p.durationMs / 1000).toFixed(1)} s`}${p.message ? `  ${p.message}` : ''}`),
    `${r.ok ? c.green('helfy ci passed') : c.red(`helfy ci FAILED (exit ${r.exitCode})`)}; artifacts in ${r.artifacts}`,
  ].join('\n'));
}

export function exitCode(r: CiResult) {
  return r.exitCode as ExitCode;
}
