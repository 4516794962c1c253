/** `helfy doctor`: checks this machine and workspace; each check is ok / warn / fail with a one-line fix. */
import { statfs } from 'node:fs/promises';
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { ExitCode, HelfyError, isHelfyError } from '../core/errors.js';
import { findWorkspace, loadConfig, type HelfyConfig } from '../config/load.js';
import { SECRET_KEYS, weakness } from '../config/secrets.js';
import { SETTINGS, type Setting } from '../config/settings.js';
import { palette } from '../ui/logger.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';
export interface Check {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}
export interface DoctorResult {
  ok: boolean;
  checks: Check[];
}

const MIN_NODE = [20, 12] as const;
const GiB = 1024 ** 3;

function nodeCheck(): Check {
  const [maj, min] = process.versions.node.split('.').map(Number) as [number, number];
  const ok = maj > MIN_NODE[0] || (maj === MIN_NODE[0] && min >= MIN_NODE[1]);
  return { id: 'node', title: 'Node.js', status: ok ? 'ok' : 'fail', detail: `v${process.versions.node}`, ...(ok ? {} : { fix: `Install Node.js ${MIN_NODE.join('.')} or newer.` }) };
}

async function dockerCliCheck(env: NodeJS.ProcessEnv): Promise<Check> {
  const { findOnPath } = await import('../runtime/docker/compose.js');
  const p = await findOnPath('docker', env);
  return p
    ? { id: 'docker-cli', title: 'docker CLI', status: 'ok', detail: p }
    : { id: 'docker-cli', title: 'docker CLI', status: 'fail', detail: 'not found on PATH', fix: 'Install Docker (Docker Desktop, or your distribution\'s docker package).' };
}

async function engineCheck(env: NodeJS.ProcessEnv): Promise<Check> {
  const { pingEngine } = await import('../runtime/docker/engine.js');
  try {
    const info = await pingEngine(env, 2000);
    return { id: 'docker-engine', title: 'Docker engine', status: 'ok', detail: `${info.version} (API ${info.apiVersion}) at ${info.target}` };
  } catch (e) {
    if (!isHelfyError(e)) throw e;
    return { id: 'docker-engine', title: 'Docker engine', status: 'fail', detail: e.message, fix: e.hint };
  }
}

async function composeCheck(env: NodeJS.ProcessEnv): Promise<Check> {
  const { detectCompose } = await import('../runtime/docker/compose.js');
  try {
    const c = await detectCompose(env);
    return { id: 'compose', title: 'Docker Compose', status: 'ok', detail: `${c.argv.join(' ')} ${c.version} (${c.flavor === 'v2' ? 'v2 plugin' : 'v1 standalone'})` };
  } catch (e) {
    if (!isHelfyError(e)) throw e;
    return { id: 'compose', title: 'Docker Compose', status: 'fail', detail: e.message, fix: e.hint };
  }
}

async function diskCheck(dir: string): Promise<Check> {
  const s = await statfs(dir);
  const free = s.bavail * s.bsize;
  const detail = `${(free / GiB).toFixed(1)} GiB free in ${dir}`;
  if (free < 2 * GiB) return { id: 'disk', title: 'Free disk', status: 'fail', detail, fix: 'Free at least 2 GiB (images and volumes need room).' };
  if (free < 10 * GiB) return { id: 'disk', title: 'Free disk', status: 'warn', detail, fix: 'Images and volumes of the stack take several GiB; free some space.' };
  return { id: 'disk', title: 'Free disk', status: 'ok', detail };
}

async function portChecks(cfg: HelfyConfig, env: NodeJS.ProcessEnv): Promise<Check[]> {
  const { isPortFree, findPortHolder, describeHolder } = await import('../runtime/ports.js');
  const { publishedPorts } = await import('../runtime/docker/containers.js');
  const entries = Object.entries(cfg.ports);
  const free = await Promise.all(entries.map(([, port]) => isPortFree(cfg.bindAddress, port)));
  const published = free.every(Boolean) ? [] : await publishedPorts(env);
  return Promise.all(
    entries.map(async ([name, port], i): Promise<Check> => {
      const id = `port-${name}`;
      const title = `Port ${port} (${name})`;
      if (free[i]) return { id, title, status: 'ok', detail: `free on ${cfg.bindAddress}` };
      const holder = await findPortHolder(port, cfg.projectName, published);
      if (holder.kind === 'project-container') return { id, title, status: 'ok', detail: `held by ${describeHolder(holder)} (stack running)` };
      return { id, title, status: 'fail', detail: `in use by ${describeHolder(holder)}`, fix: `Stop it, or choose another port (helfy init --force --${name.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}-port <port>).` };
    }),
  );
}

/** Secrets that the command needing them adds to .env itself (an older workspace may lack them). */
const ADDED_ON_FIRST_USE = new Set((SETTINGS as readonly Setting[]).filter((s) => s.addedOnFirstUse).map((s) => s.env));

function secretChecks(cfg: HelfyConfig): Check[] {
  const byKey = new Map(cfg.values.map((v) => [v.key as string, v]));
  const problems: string[] = [];
  const later: string[] = [];
  for (const key of SECRET_KEYS) {
    const v = byKey.get(key)?.raw;
    if (!v) (ADDED_ON_FIRST_USE.has(key) ? later : problems).push(`${key} missing`);
    else {
      const w = weakness(v);
      if (w) problems.push(`${key} ${w}`);
    }
  }
  if (problems.length) {
    return [{ id: 'secrets', title: 'Secrets', status: 'fail', detail: [...problems, ...later].join('; '), fix: 'Run `helfy init --force` to generate missing secrets, or `--force --rotate-secrets` to replace weak ones.' }];
  }
  if (later.length) {
    return [{ id: 'secrets', title: 'Secrets', status: 'warn', detail: `${later.join('; ')} (added to .env on first use)`, fix: '`helfy seed` adds it when it first needs it, or `helfy init --force` now.' }];
  }
  return [{ id: 'secrets', title: 'Secrets', status: 'ok', detail: `${SECRET_KEYS.length} present, none weak` }];
}

export async function run(ctx: Context, _input: CommandInput): Promise<DoctorResult> {
  const root = findWorkspace(ctx.options.cwd);
  const workspaceChecks = async (): Promise<Check[]> => {
    if (!root) return [{ id: 'workspace', title: 'Workspace', status: 'warn', detail: `none found from ${ctx.options.cwd}`, fix: 'Run `helfy init` to create one.' }];
    let cfg: HelfyConfig;
    try {
      cfg = loadConfig({ cwd: root, env: ctx.env, requireSecrets: false });
    } catch (e) {
      if (!(e instanceof HelfyError)) throw e;
      return [{ id: 'config', title: 'Configuration (.env, helfy.config.json)', status: 'fail', detail: [e.message, ...e.details].join('; '), fix: e.hint }];
    }
    const [ports, disk] = await Promise.all([portChecks(cfg, ctx.env), diskCheck(root)]);
    return [{ id: 'config', title: 'Configuration (.env, helfy.config.json)', status: 'ok', detail: `valid (${root})` }, ...secretChecks(cfg), disk, ...ports];
  };
  const groups = await Promise.all([
    Promise.resolve([nodeCheck()]),
    dockerCliCheck(ctx.env).then((c) => [c]),
    engineCheck(ctx.env).then((c) => [c]),
    composeCheck(ctx.env).then((c) => [c]),
    root ? Promise.resolve([]) : diskCheck(ctx.options.cwd).then((c) => [c]),
    workspaceChecks(),
  ]);
  const checks = groups.flat();
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}

export function render(r: DoctorResult, ctx: Context): void {
  const c = palette(ctx.options.color);
  const mark = { ok: c.green('✔'), warn: c.yellow('!'), fail: c.red('✖') };
  const lines: string[] = [];
  for (const ch of r.checks) {
    lines.push(`${mark[ch.status]} ${ch.title}: ${ch.detail}`);
    if (ch.fix && ch.status !== 'ok') lines.push(`    ${c.dim('fix:')} ${ch.fix}`);
  }
  const fails = r.checks.filter((x) => x.status === 'fail').length;
  const warns = r.checks.filter((x) => x.status === 'warn').length;
  lines.push(fails ? `${fails} check(s) failed, ${warns} warning(s).` : `All checks passed${warns ? ` (${warns} warning(s))` : ''}.`);
  ctx.stdout(lines.join('\n'));
}

export function exitCode(r: DoctorResult) {
  return r.ok ? ExitCode.Ok : ExitCode.Environment;
}
