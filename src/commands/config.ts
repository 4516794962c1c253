/** `helfy config`: the resolved configuration with the source of each value; secrets redacted. */
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { formatSource, loadConfig } from '../config/load.js';

export const REDACTED = '<redacted>';

export interface ConfigResult {
  root: string;
  values: { key: string; value: string | null; source: string; secret: boolean }[];
}

export async function run(ctx: Context, _input: CommandInput): Promise<ConfigResult> {
  // Missing secrets are shown as (unset), not an error: this is the command that helps find them.
  const cfg = loadConfig({ cwd: ctx.options.cwd, env: ctx.env, requireSecrets: false });
  return {
    root: cfg.root,
    values: cfg.values.map((v) => ({
      key: v.key,
      value: v.raw === undefined ? null : v.secret ? REDACTED : v.raw,
      source: formatSource(v.source),
      secret: v.secret,
    })),
  };
}

export function render(r: ConfigResult, ctx: Context): void {
  const w = Math.max(...r.values.map((v) => v.key.length));
  const vw = Math.min(48, Math.max(...r.values.map((v) => (v.value ?? '(unset)').length)));
  const lines = r.values.map((v) => `${v.key.padEnd(w)}  ${(v.value ?? '(unset)').padEnd(vw)}  ${v.source}`);
  ctx.log.info(`workspace: ${r.root}`);
  ctx.stdout(lines.join('\n'));
}
