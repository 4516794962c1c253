/** `helfy logs [service...] [-f] [--since 10m] [--tail N]`: container output, prefixed per service. */
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { HelfyError } from '../core/errors.js';
import { parseServiceNames, SERVICE_NAMES } from '../stack/catalog.js';
import { parseSince } from '../stack/duration.js';
import { prefixer, stackLogs, type LogsResult } from '../stack/logs.js';
import { openStack } from '../stack/open.js';

export async function run(ctx: Context, input: CommandInput): Promise<LogsResult> {
  const opts = input.opts as { follow?: boolean; since?: string; tail?: string };
  const services = parseServiceNames((input.args[0] as string[] | undefined) ?? []);
  if (opts.follow && ctx.options.json) throw new HelfyError('USAGE', '--follow cannot be combined with --json', { hint: 'Drop -f to get the lines as one JSON document.' });
  let tail: number | undefined;
  if (opts.tail !== undefined) {
    if (!/^\d+$/.test(opts.tail)) throw new HelfyError('USAGE', `--tail ${JSON.stringify(opts.tail)}: expected a number of lines`);
    tail = Number(opts.tail);
  }
  const since = opts.since !== undefined ? parseSince(opts.since) : undefined;
  const { rt } = await openStack(ctx, { requireSecrets: false, compose: false });
  if (since !== undefined && rt.kind === 'native') {
    throw new HelfyError('USAGE', '--since is not available with the native runtime (its log files carry no timestamps)', { hint: 'Use --tail N, or read .helfy/logs/<service>.log.' });
  }
  const prefix = prefixer(services.length ? services : SERVICE_NAMES);
  const r = await stackLogs(rt, {
    services, follow: Boolean(opts.follow), ...(tail !== undefined ? { tail } : {}), ...(since !== undefined ? { since } : {}), signal: ctx.signal,
    // Human mode streams as it reads; --json collects.
    onLine: ctx.options.json ? undefined : (s, text) => ctx.stdout(prefix(s, text)),
  });
  return r;
}

export function render(): void {
  /* lines were streamed to stdout as they were read */
}
