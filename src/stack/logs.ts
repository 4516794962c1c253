/**
 * `helfy logs`, the core: each service's container output through the engine (works the same
 * with compose v1, which has no `logs --since`, and v2), prefixed `service | `.
 */
import { HelfyError } from '../core/errors.js';
import { CATALOG } from './catalog.js';
import type { StackRuntime } from './runtime.js';
import type { ServiceName } from './types.js';

export interface LogsOptions {
  services: ServiceName[];
  follow: boolean;
  tail?: number;
  /** Unix seconds. */
  since?: number;
  signal: AbortSignal;
  /** Called for every line as it is read (human output). */
  onLine?: (service: ServiceName, text: string, stream: 'stdout' | 'stderr') => void;
}

export interface LogsResult {
  project: string;
  services: ServiceName[];
  lines: { service: ServiceName; stream: 'stdout' | 'stderr'; text: string }[];
}

export function prefixer(names: readonly string[]): (service: string, text: string) => string {
  const w = Math.max(...names.map((n) => n.length));
  return (service, text) => `${service.padEnd(w)} | ${text}`;
}

export async function stackLogs(rt: StackRuntime, o: LogsOptions): Promise<LogsResult> {
  const list = await rt.containers();
  const wanted = o.services.length ? o.services : CATALOG.map((d) => d.name);
  const targets = wanted.flatMap((n) => list.filter((c) => c.service === n).map((c) => ({ service: n, id: c.id })));
  if (!targets.length) {
    throw new HelfyError('STACK_NOT_RUNNING', o.services.length ? `no container for ${o.services.join(', ')} in stack ${rt.project}` : `stack ${rt.project} has no containers`, {
      hint: 'Start it with `helfy up`.',
    });
  }
  const lines: LogsResult['lines'] = [];
  const opts = { ...(o.tail !== undefined ? { tail: o.tail } : {}), ...(o.since !== undefined ? { since: o.since } : {}) };
  if (o.follow) {
    await Promise.all(targets.map((t) => rt.followLogs(t.id, opts, (l) => o.onLine?.(t.service, l.text, l.stream), o.signal)));
  } else {
    const all = await Promise.all(targets.map(async (t) => ({ t, lines: await rt.logs(t.id, opts) })));
    // One service after another, in catalog order (the engine gives no cross-container ordering without timestamps).
    for (const { t, lines: ls } of all) {
      for (const l of ls) {
        lines.push({ service: t.service, stream: l.stream, text: l.text });
        o.onLine?.(t.service, l.text, l.stream);
      }
    }
  }
  return { project: rt.project, services: [...new Set(targets.map((t) => t.service))], lines };
}
