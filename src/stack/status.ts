/**
 * `helfy status`, the core: container state, health, image, ports and uptime from Docker, and a
 * live probe per service, all in parallel (the probes start before the container listing
 * returns, so the total is about the slowest single probe).
 */
import type { HelfyConfig } from '../config/load.js';
import { CATALOG } from './catalog.js';
import { isReady, serviceHealth, type ServiceState } from './health.js';
import type { ProbeResult } from './probes.js';
import type { RuntimeInfo, StackRuntime } from './runtime.js';
import type { ServiceName } from './types.js';
import { serviceUrls, type ServiceUrl } from './urls.js';

export interface ServiceStatus {
  name: ServiceName;
  kind: 'daemon' | 'job';
  profile?: string;
  state: ServiceState;
  /** True when ready and its live probe (if any) passed. */
  healthy: boolean;
  detail: string;
  container?: { name: string; state: string; status: string };
  image?: string;
  ports: { host: string; hostPort: number; containerPort: number }[];
  startedAt?: string;
  uptimeS?: number;
  probe?: ProbeResult;
  urls: ServiceUrl[];
}

export interface StatusResult {
  project: string;
  /** Which runtime runs the stack (docker or native, and what exactly). */
  runtime: RuntimeInfo;
  /** False when no container of the project is running. */
  running: boolean;
  healthy: boolean;
  services: ServiceStatus[];
  checkedAt: string;
  /** From the start of the command (configuration, engine ping, listing, probes in parallel). */
  durationMs: number;
}

export const PROBE_TIMEOUT_MS = 5000;

export type StartedProbes = Map<ServiceName, Promise<ProbeResult | undefined>>;

/** Starts every service's live probe now (they need no Docker, only the published ports). */
export function startProbes(probe: (def: (typeof CATALOG)[number]) => Promise<ProbeResult | undefined>): StartedProbes {
  return new Map(CATALOG.filter((d) => d.probe).map((d) => [d.name, probe(d)] as const));
}

export async function stackStatus(
  rt: StackRuntime,
  cfg: HelfyConfig,
  opts: { probeTimeoutMs?: number; now?: () => number; probes?: StartedProbes; startedAt?: number } = {},
): Promise<StatusResult> {
  const t0 = opts.startedAt ?? performance.now();
  const now = opts.now ?? Date.now;
  const timeout = opts.probeTimeoutMs ?? PROBE_TIMEOUT_MS;
  const probes = opts.probes ?? startProbes((d) => rt.probe(d, timeout));
  const [list, runtime] = await Promise.all([rt.containers(), rt.describe()]);
  const byService = new Map(list.map((c) => [c.service, c]));
  const starts = await rt.startTimes(list.filter((c) => c.state === 'running').map((c) => c.id));
  const running = list.some((c) => c.state === 'running');
  const services = await Promise.all(
    CATALOG.filter((d) => !d.profile || byService.has(d.name)).map(async (def): Promise<ServiceStatus> => {
      const c = byService.get(def.name);
      const probe = c?.state === 'running' ? await probes.get(def.name) : undefined;
      const h = serviceHealth(def.readiness, c, probe ? { ok: probe.ok, detail: probe.detail } : undefined);
      const started = c ? starts[c.id] : undefined;
      return {
        name: def.name,
        kind: def.kind,
        ...(def.profile ? { profile: def.profile } : {}),
        state: h.state,
        healthy: isReady(h.state) && (probe === undefined || probe.ok),
        detail: h.detail,
        ...(c ? { container: { name: c.name, state: c.state, status: c.status }, image: c.image } : {}),
        ports: c?.ports ?? [],
        ...(started ? { startedAt: new Date(started).toISOString(), uptimeS: Math.max(0, Math.round((now() - started) / 1000)) } : {}),
        ...(probe ? { probe } : {}),
        urls: serviceUrls(def, cfg),
      };
    }),
  );
  // Probes of services without a running container are not awaited (they end on their own timeout).
  return {
    project: rt.project,
    runtime,
    running,
    healthy: running && services.every((s) => s.healthy),
    services,
    checkedAt: new Date(now()).toISOString(),
    durationMs: Math.round(performance.now() - t0),
  };
}
