/** `helfy status [--json] [--watch]`: every service's container, health, ports, uptime and live probe. */
import type { CommandInput } from '../core/command.js';
import type { Context } from '../core/context.js';
import { ExitCode, HelfyError } from '../core/errors.js';
import { formatDuration } from '../stack/duration.js';
import { openStack } from '../stack/open.js';
import { runProbe } from '../stack/probes.js';
import { PROBE_TIMEOUT_MS, stackStatus, startProbes, type StartedProbes, type StatusResult } from '../stack/status.js';
import { sleep } from '../stack/wait.js';
import { palette } from '../ui/logger.js';

const WATCH_INTERVAL_MS = 2000;

export async function run(ctx: Context, input: CommandInput): Promise<StatusResult> {
  const opts = input.opts as { watch?: boolean };
  if (opts.watch && ctx.options.json) {
    throw new HelfyError('USAGE', '--watch cannot be combined with --json (it prints exactly one document)', { hint: 'Poll `helfy status --json` instead.' });
  }
  const t0 = performance.now();
  // The live probes need no Docker: they start as soon as the configuration is known, in
  // parallel with the engine ping and the container listing.
  let probes: StartedProbes | undefined;
  const { cfg, rt } = await openStack(ctx, {
    requireSecrets: false,
    compose: false,
    onConfig: (c) => {
      probes = startProbes((d) => runProbe(d, c, PROBE_TIMEOUT_MS));
    },
  });
  let r = await stackStatus(rt, cfg, { probes, startedAt: t0 });
  if (!opts.watch) return r;
  for (;;) {
    ctx.stdout(`\n${new Date(r.checkedAt).toLocaleTimeString()} (every ${WATCH_INTERVAL_MS / 1000}s, Ctrl-C to stop)`);
    render(r, ctx);
    await sleep(WATCH_INTERVAL_MS, ctx.signal);
    if (ctx.signal.aborted) break;
    r = await stackStatus(rt, cfg);
  }
  // Already rendered; tell render() not to print it again.
  return Object.assign(r, { rendered: true });
}

export function render(r: StatusResult & { rendered?: boolean }, ctx: Context): void {
  if (r.rendered) return;
  const c = palette(ctx.options.color);
  if (!r.running) {
    ctx.stdout(`stack ${r.project} is not running (run \`helfy up\`); runtime: ${r.runtime.detail}`);
    return;
  }
  const native = r.runtime.kind === 'native';
  // One line per service: a command line (a shell script, a JVM's) on one line, its first line only
  // unless -v; the last column is cut to the terminal's width. --json has everything.
  const oneLine = (text: string) => (ctx.options.verbose ? text : text.split('\n').find((l) => l.trim()) ?? '').replace(/\s+/g, ' ').trim();
  const exit = (s: StatusResult['services'][number]) => /(?:code|exit) (\d+)/.exec(s.detail)?.[1];
  const mark = (ok: boolean, state: string) => (ok ? c.green('✔') : state === 'starting' || state === 'missing' ? c.yellow('…') : c.red('✖'));
  const rows = r.services.map((s) => [
    `${mark(s.healthy, s.state)} ${s.name}`,
    s.container?.state ?? 'not created',
    !s.healthy && exit(s) !== undefined ? `${s.state} (exit ${exit(s)})` : s.state,
    s.uptimeS !== undefined ? formatDuration(s.uptimeS * 1000) : '',
    s.ports.map((p) => `${p.host && p.host !== '0.0.0.0' ? `${p.host}:` : ''}${p.hostPort}->${p.containerPort}`).join(', '),
    s.probe ? `${s.probe.ok ? '' : 'FAIL '}${s.probe.detail} (${s.probe.durationMs} ms)` : '',
    oneLine(s.image ?? ''),
  ]);
  const head = ['SERVICE', native ? 'PROCESS' : 'CONTAINER', 'HEALTH', 'UPTIME', 'PORTS', 'PROBE', native ? 'COMMAND' : 'IMAGE'];
  const width = head.map((h, i) => Math.max(h.length + (i === 0 ? 2 : 0), ...rows.map((row) => row[i]!.replace(/\u001b\[[0-9;]*m/g, '').length)));
  // What is left of the terminal for the last column (at least 20 characters).
  const room = ctx.columns ? Math.max(20, ctx.columns - width.slice(0, -1).reduce((a, w) => a + w + 2, 0)) : Infinity;
  const cut = (cell: string) => (ctx.options.verbose || cell.length <= room ? cell : `${cell.slice(0, room - 1)}…`);
  const fmt = (row: string[]) => row.map((cell, i) => (i === row.length - 1 ? cut(cell) : cell + ' '.repeat(width[i]! - cell.replace(/\u001b\[[0-9;]*m/g, '').length))).join('  ');
  const bad = r.services.filter((s) => !s.healthy);
  ctx.stdout([`stack ${r.project}, runtime: ${r.runtime.detail}`, c.bold(fmt(['  SERVICE', ...head.slice(1)])), ...rows.map(fmt), bad.length ? `${bad.length} service(s) not healthy: ${bad.map((s) => s.name).join(', ')}` : `all ${r.services.length} services healthy`].join('\n'));
}

export function exitCode(r: StatusResult) {
  return r.healthy ? ExitCode.Ok : ExitCode.Unhealthy;
}
