/**
 * What both exports share, read from the service catalog (src/stack): which services go out, the
 * image each runs, its environment with the compose interpolation resolved against the workspace
 * configuration (a secret stays a reference, never a value), and the secrets themselves.
 *
 * The catalog's environment is written for compose (`${KEY:-default}`, `${KEY:?msg}`, `$$`); here
 * it becomes a list of parts: literal text (settings resolved from the workspace, other variables
 * from their default) and secret references, which each target renders its own way (Kubernetes:
 * `$(KEY)` from a secretKeyRef; Swarm: the content of a Docker secret file).
 */
import { proxySecret } from '../apps/env.js';
import type { HelfyConfig } from '../config/load.js';
import { SETTINGS, type Setting, type SettingEnv } from '../config/settings.js';
import { builder, configuredImage, defaultServices, service, withDependencies } from '../stack/catalog.js';
import type { ServiceDef, ServiceName } from '../stack/types.js';

/** Secret keys: the .env secrets the stack reads, plus the web → API proxy secret derived from the JWT secret. */
export type SecretKey = SettingEnv | 'HELFY_PROXY_SECRET';
export const PROXY_SECRET_KEY = 'HELFY_PROXY_SECRET' as const;

export type Part = { text: string } | { secret: SecretKey };

/** The services an export deploys: what a plain `helfy up` starts (optional profiles such as the Temporal UI stay out). */
export function exportedServices(): ServiceDef[] {
  return withDependencies(defaultServices()).map(service);
}

const isSecretSetting = (key: string): key is SettingEnv => Boolean((SETTINGS as readonly Setting[]).find((s) => s.env === key)?.secret);

function settingValue(cfg: HelfyConfig, key: string, fallback: string): string {
  const v = cfg.values.find((x) => x.key === key);
  return v?.raw ?? fallback;
}

/** Splits a compose string into literal text and secret references, resolving every other variable. */
export function resolveCompose(value: string, cfg: HelfyConfig): Part[] {
  const parts: Part[] = [];
  const push = (text: string) => {
    const last = parts.at(-1);
    if (last && 'text' in last) last.text += text;
    else if (text) parts.push({ text });
  };
  const re = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g;
  let at = 0;
  for (const m of value.matchAll(re)) {
    push(value.slice(at, m.index));
    at = m.index + m[0].length;
    if (m[0] === '$$') { push('$'); continue; }
    const key = m[1]!;
    if (isSecretSetting(key)) parts.push({ secret: key });
    else push(settingValue(cfg, key, m[2]?.endsWith('-') ? (m[3] ?? '') : ''));
  }
  push(value.slice(at));
  return parts;
}

export const secretsIn = (parts: readonly Part[]): SecretKey[] => parts.flatMap((p) => ('secret' in p ? [p.secret] : []));

/**
 * The environment of a service as parts. Beyond one machine the web container has no fixed
 * address the API could trust (compose gives it one on the web-api network), so the API believes
 * X-Forwarded-For from any peer that proves the proxy secret, which only the web server holds
 * (PROXY_SECRET, as on the native runtime: templates/api/src/auth/client-address.ts).
 */
export function environmentOf(def: ServiceDef, cfg: HelfyConfig): [string, Part[]][] {
  const env: [string, Part[]][] = Object.entries(def.environment).map(([k, v]) => [k, resolveCompose(v, cfg)]);
  const set = (k: string, parts: Part[]) => {
    const i = env.findIndex(([x]) => x === k);
    if (i >= 0) env[i] = [k, parts];
    else env.push([k, parts]);
  };
  if (def.name === 'api') {
    set('TRUST_PROXY', [{ text: '0.0.0.0/0,::/0' }]);
    set('PROXY_SECRET', [{ secret: PROXY_SECRET_KEY }]);
  }
  if (def.name === 'web') set('PROXY_SECRET', [{ secret: PROXY_SECRET_KEY }]);
  return env;
}

/** `<registry>/<name>:<tag>` for the services built from the apps (the worker runs the api image), else the configured image. */
export function imageOf(def: ServiceDef, cfg: HelfyConfig, registry: string, tag: string): string {
  const b = builder(def);
  return b ? `${registry}/${b.name}:${tag}` : configuredImage(def, cfg);
}

/** Every secret key an export uses: the catalog's references, the bootstrap's passwords, the proxy secret. */
export const BOOTSTRAP_SECRETS: SettingEnv[] = ['HELFY_POSTGRES_PASSWORD', 'HELFY_APP_OWNER_PASSWORD', 'HELFY_APP_PASSWORD', 'HELFY_TEMPORAL_DB_PASSWORD'];

export function secretKeys(defs: readonly ServiceDef[], cfg: HelfyConfig): SecretKey[] {
  const keys = new Set<SecretKey>(BOOTSTRAP_SECRETS);
  for (const d of defs) for (const [, parts] of environmentOf(d, cfg)) for (const k of secretsIn(parts)) keys.add(k);
  keys.add('HELFY_NEO4J_PASSWORD');
  const order = [...(SETTINGS as readonly Setting[]).map((s) => s.env), PROXY_SECRET_KEY] as string[];
  return [...keys].sort((a, b) => order.indexOf(a) - order.indexOf(b));
}

/** The value of each secret key, from the workspace's .env (the proxy secret derived from the JWT secret). */
export function secretValues(keys: readonly SecretKey[], cfg: HelfyConfig): Map<SecretKey, string> {
  const m = new Map<SecretKey, string>();
  for (const k of keys) m.set(k, k === PROXY_SECRET_KEY ? proxySecret(cfg) : settingValue(cfg, k, ''));
  return m;
}

/** The uid each image runs as (its USER), for non-root security contexts and secret files. */
export const RUN_AS: Record<ServiceName, number> = {
  // timescale/timescaledb-ha: user postgres, uid 1000.
  postgres: 1000,
  // neo4j: user neo4j, uid 7474 (the official chart runs it so, with fsGroup 7474).
  neo4j: 7474,
  // temporalio/server, admin-tools and ui: user temporal, uid 1000.
  'temporal-schema': 1000,
  temporal: 1000,
  'temporal-ui': 1000,
  // The app images (templates/*/Dockerfile): USER node, uid 1000 in the Debian node images.
  api: 1000,
  worker: 1000,
  web: 1000,
};

/** Resource requests (what the scheduler reserves); no CPU limits, so a slow start is not throttled. */
export const REQUESTS: Record<string, { cpu: string; memory: string }> = {
  postgres: { cpu: '250m', memory: '512Mi' },
  // Heap 512m + page cache 128m (the catalog's settings) + the JVM's own.
  neo4j: { cpu: '250m', memory: '1Gi' },
  temporal: { cpu: '250m', memory: '512Mi' },
  api: { cpu: '100m', memory: '256Mi' },
  worker: { cpu: '100m', memory: '256Mi' },
  web: { cpu: '100m', memory: '128Mi' },
  step: { cpu: '50m', memory: '64Mi' },
  // cypher-shell is a JVM.
  'step-jvm': { cpu: '100m', memory: '256Mi' },
};
export interface ProbeTarget {
  kind: 'http';
  port: number;
  path: string;
}

/** The HTTP endpoint a catalog healthcheck checks (node's fetch or wget --spider), if it is one. */
export function httpCheckOf(def: ServiceDef): ProbeTarget | undefined {
  const text = def.healthcheck?.test.join(' ') ?? '';
  const m = /https?:\/\/(?:127\.0\.0\.1|localhost):(\d+)(\/[^'"\s)]*)?/.exec(text);
  return m ? { kind: 'http', port: Number(m[1]), path: m[2] ?? '/' } : undefined;
}

/** The path of a ProbeKind served over HTTP (`ready` = /health/ready). */
export function probePath(def: ServiceDef): string | undefined {
  return ({ ready: '/health/ready', health: '/health', http: '/' } as Partial<Record<string, string>>)[def.probe ?? ''];
}
