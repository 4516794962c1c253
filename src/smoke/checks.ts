/**
 * The checks of `helfy smoke`, grouped as JUnit classnames: health, postgres, neo4j, temporal,
 * api, web, security. Each is small and bounded by the scheduler's timeout; the API flow uses a
 * throwaway user whose email the caller removes afterwards, whatever happened.
 */
import type { HelfyConfig } from '../config/load.js';
import { hostFor, httpUrl } from '../stack/probes.js';
import type { StackRuntime } from '../stack/runtime.js';
import type { StatusResult } from '../stack/status.js';
import type { ServiceName } from '../stack/types.js';
import { apiChecks } from './checks-api.js';
import { healthCheck } from './checks-health.js';
import { neo4jChecks } from './checks-neo4j.js';
import { postgresChecks } from './checks-postgres.js';
import { securityChecks } from './checks-security.js';
import { temporalNamespaceCheck, temporalWorkflowCheck } from './checks-temporal.js';
import { browserCheck, dashboardCheck } from './checks-web.js';
import type { CheckDef } from './scheduler.js';
import type { SmokeTrace, SmokeUser } from './types.js';

export type { SmokeTrace, SmokeUser } from './types.js';

export const GROUPS = ['health', 'postgres', 'neo4j', 'temporal', 'api', 'web', 'security'] as const;
export type Group = (typeof GROUPS)[number];

export interface ChecksInput {
  cfg: HelfyConfig;
  rt: StackRuntime;
  /** The services to check (those `status` lists) and their status, computed in parallel with the other checks. */
  services: readonly ServiceName[];
  status: Promise<StatusResult>;
  user: SmokeUser;
  trace: SmokeTrace;
  timeoutMs: number;
  browser: boolean;
  chromiumPath: string;
}

/**
 * Every check, in report order: health (one per service), postgres, neo4j, the Temporal
 * namespace, the API flow, the workflow, the dashboard, security, then Chromium (with --browser).
 * Each group lives in its own module (checks-<group>.ts).
 */
export function smokeChecks(i: ChecksInput): CheckDef[] {
  const { cfg, rt, user, trace, timeoutMs: t } = i;
  const host = hostFor(cfg);
  const apiBase = httpUrl(host, cfg.ports.api);
  const webBase = httpUrl(host, cfg.ports.web);
  return [
    ...i.services.map((name) => healthCheck(name, i.status, t)),
    ...postgresChecks(cfg, user.email, t),
    ...neo4jChecks(cfg, t),
    temporalNamespaceCheck(cfg.temporal, t),
    ...apiChecks(apiBase, user, trace, t),
    temporalWorkflowCheck(apiBase, user, trace, t),
    dashboardCheck(webBase, user, t),
    ...securityChecks(cfg, rt, t),
    ...(i.browser ? [browserCheck(webBase, i.chromiumPath, user, t)] : []),
  ];
}

/** The checks of `groups` plus the ones they need (e.g. web needs the API's throwaway user). */
export function selectGroups(defs: CheckDef[], groups: readonly string[]): CheckDef[] {
  const byId = new Map(defs.map((d) => [d.id, d]));
  const keep = new Set<string>();
  const visit = (d: CheckDef) => {
    if (keep.has(d.id)) return;
    keep.add(d.id);
    for (const n of d.needs ?? []) visit(byId.get(n)!);
  };
  defs.filter((d) => groups.includes(d.group)).forEach(visit);
  return defs.filter((d) => keep.has(d.id));
}
