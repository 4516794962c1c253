/**
 * The service catalog: every service of the Helfy stack, in start order. The compose file
 * (compose/docker-compose.yml) is generated from this list (see compose-file.ts), and `up`,
 * `status`, `logs` and `down` read their knowledge about services from here.
 */
import type { HelfyConfig } from '../config/load.js';
import { HelfyError } from '../core/errors.js';
import { api, web, worker } from './services/app.js';
import { neo4j } from './services/neo4j.js';
import { postgres } from './services/postgres.js';
import { temporal, temporalSchema, temporalUi } from './services/temporal.js';
import type { ServiceDef, ServiceName } from './types.js';

export const CATALOG: readonly ServiceDef[] = [postgres, neo4j, temporalSchema, temporal, temporalUi, api, worker, web];

export const SERVICE_NAMES = CATALOG.map((s) => s.name);

export function service(name: ServiceName): ServiceDef {
  const s = CATALOG.find((x) => x.name === name);
  if (!s) throw new Error(`unknown service ${name}`);
  return s;
}

export function isServiceName(name: string): name is ServiceName {
  return (SERVICE_NAMES as string[]).includes(name);
}

/** Validates user-given service names (`helfy up api web`); throws a usage error naming the bad ones. */
export function parseServiceNames(names: readonly string[]): ServiceName[] {
  const bad = names.filter((n) => !isServiceName(n));
  if (bad.length) {
    throw new HelfyError('USAGE', `unknown service${bad.length > 1 ? 's' : ''}: ${bad.join(', ')}`, {
      hint: `Services: ${SERVICE_NAMES.join(', ')}.`,
    });
  }
  return [...new Set(names)] as ServiceName[];
}

/** Services started by a plain `helfy up`: everything outside an optional profile. */
export function defaultServices(): ServiceName[] {
  return CATALOG.filter((s) => !s.profile).map((s) => s.name);
}

/** The services plus everything they depend on, in catalog (= dependency) order. */
export function withDependencies(names: readonly ServiceName[]): ServiceName[] {
  const want = new Set<ServiceName>();
  const visit = (n: ServiceName) => {
    if (want.has(n)) return;
    want.add(n);
    for (const dep of Object.keys(service(n).dependsOn) as ServiceName[]) visit(dep);
  };
  names.forEach(visit);
  return topoOrder(CATALOG.filter((s) => want.has(s.name)));
}

/** Dependency order (dependencies first); throws on a cycle. Stable with respect to the input order. */
export function topoOrder(defs: readonly ServiceDef[]): ServiceName[] {
  const names = new Set(defs.map((d) => d.name));
  const out: ServiceName[] = [];
  const state = new Map<ServiceName, 'visiting' | 'done'>();
  const visit = (d: ServiceDef, path: ServiceName[]) => {
    const st = state.get(d.name);
    if (st === 'done') return;
    if (st === 'visiting') throw new Error(`dependency cycle: ${[...path, d.name].join(' -> ')}`);
    state.set(d.name, 'visiting');
    for (const dep of Object.keys(d.dependsOn) as ServiceName[]) {
      if (!names.has(dep)) continue;
      visit(defs.find((x) => x.name === dep)!, [...path, d.name]);
    }
    state.set(d.name, 'done');
    out.push(d.name);
  };
  for (const d of defs) visit(d, []);
  return out;
}

/** Profiles that must be enabled so compose sees every one of `names`. */
export function profilesFor(names: readonly ServiceName[]): string[] {
  return [...new Set(names.map((n) => service(n).profile).filter((p): p is string => Boolean(p)))];
}

/** Every profile in the catalog (down/logs/status must see all containers). */
export function allProfiles(): string[] {
  return profilesFor(SERVICE_NAMES);
}

/** The image a service runs, resolved from the configuration (built services: their local tag). */
export function configuredImage(def: ServiceDef, cfg: HelfyConfig, buildTags: Partial<Record<ServiceName, string>> = {}): string {
  if (def.imageFrom) return configuredImage(service(def.imageFrom), cfg, buildTags);
  if (def.build) return `helfy-local/${def.name}:${buildTags[def.name] ?? 'dev'}`;
  const key = ({
    HELFY_POSTGRES_IMAGE: 'postgres', HELFY_NEO4J_IMAGE: 'neo4j', HELFY_TEMPORAL_IMAGE: 'temporal',
    HELFY_TEMPORAL_ADMIN_TOOLS_IMAGE: 'temporalAdminTools', HELFY_TEMPORAL_UI_IMAGE: 'temporalUi', HELFY_NODE_IMAGE: 'node',
  } as const)[def.imageSetting as 'HELFY_POSTGRES_IMAGE'];
  return cfg.images[key];
}

/** The service whose build produces `def`'s image (itself, the one named by imageFrom, or none). */
export function builder(def: ServiceDef): ServiceDef | undefined {
  if (def.imageFrom) return service(def.imageFrom);
  return def.build ? def : undefined;
}

/** The services `up` must build for `names` (each once, even when several run its image). */
export function servicesToBuild(names: readonly ServiceName[]): ServiceName[] {
  return [...new Set(names.map((n) => builder(service(n))?.name).filter((n): n is ServiceName => Boolean(n)))];
}
