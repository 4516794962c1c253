/** The `health` checks of `helfy smoke`: the same state logic and live probes as `helfy up` / `helfy status`. */
import type { ServiceStatus, StatusResult } from '../stack/status.js';
import type { ServiceName } from '../stack/types.js';
import type { CheckDef } from './scheduler.js';

export type HealthView = Pick<ServiceStatus, 'name' | 'healthy' | 'state' | 'detail' | 'probe'>;

/** What `status` says of one service: its state and detail, or an Error naming why it is not healthy. */
export function healthVerdict(name: string, services: readonly HealthView[]): string {
  const s = services.find((x) => x.name === name);
  if (!s) throw new Error(`${name}: not in the stack`);
  // The state's detail may already carry the failed probe ("running (probe: …)"): said once.
  const probe = s.probe && !s.probe.ok && !s.detail.includes(s.probe.detail) ? ` (probe: ${s.probe.detail})` : '';
  if (!s.healthy) throw new Error(`${s.name}: ${s.state} — ${s.detail}${probe}`);
  return `${s.state}: ${s.detail}`;
}

/** `health.<name>`: reads `status`'s result (computed beside the other checks). */
export function healthCheck(name: ServiceName, status: Promise<StatusResult>, timeoutMs: number): CheckDef {
  return {
    id: `health.${name}`, group: 'health', name: `${name} is healthy`, timeoutMs, service: name,
    run: async () => healthVerdict(name, (await status).services),
  };
}
