/** `helfy down [--volumes]`: stop and remove the containers or native processes (and with --volumes, the data). */
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { ExitCode } from '../core/errors.js';
import { downStack, type DownResult } from '../stack/down.js';
import { openStack } from '../stack/open.js';

export async function run(ctx: Context, input: CommandInput): Promise<DownResult> {
  const opts = input.opts as { volumes?: boolean };
  const { rt } = await openStack(ctx, { requireSecrets: false, compose: true });
  return downStack(ctx, rt, { volumes: Boolean(opts.volumes) });
}

export function render(r: DownResult, ctx: Context): void {
  if (r.status === 'cancelled') {
    ctx.log.warn('cancelled: nothing was removed');
    return;
  }
  if (r.status === 'nothing-to-do') {
    ctx.log.success(`stack ${r.project} is not running; nothing to remove`);
    return;
  }
  const [cw, vw] = r.runtime === 'native' ? ['process(es) stopped', 'data folder(s)'] : ['container(s) removed', 'volume(s)'];
  ctx.log.success(`stack ${r.project} is down: ${r.removedContainers.length} ${cw}${r.volumes ? `, ${r.removedVolumes.length} ${vw} removed` : ''} in ${(r.durationMs / 1000).toFixed(1)}s`);
  if (!r.volumes && r.keptVolumes.length) ctx.log.info(`data kept in ${r.keptVolumes.length} ${vw}: ${r.keptVolumes.join(', ')} (remove with \`helfy down --volumes\`)`);
}

export function exitCode(r: DownResult) {
  return r.status === 'cancelled' ? ExitCode.Failed : ExitCode.Ok;
}
