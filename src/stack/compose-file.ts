/**
 * Generates compose/docker-compose.yml from the catalog. The generated file is committed (a
 * user can run it with `docker compose` directly) and a unit test fails when it differs from
 * what the catalog generates; refresh it with `HELFY_WRITE_COMPOSE=1 npx vitest run tests/stack/compose-file.test.ts`.
 *
 * Compatibility: the file uses the Compose Specification without a `version:` key and without a
 * top-level `name:` (docker-compose 1.29 rejects it; helfy passes `-p <project>`). Everything in
 * it is supported by docker-compose 1.29 (v1, Debian's package) and compose v2:
 * `depends_on.condition: service_completed_successfully` since 1.29.0, `profiles` since 1.28.0,
 * `start_period` since 1.17 and `${VAR:?msg}` interpolation. Not used: `start_interval`,
 * `develop`, `include`, `name` (v2 only).
 */
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../config/paths.js';
import { CATALOG, topoOrder } from './catalog.js';
import { addressIn, contextVar, PROXY_NETWORK } from './services/app.js';
import { BIND, PROJECT, v } from './services/vars.js';
import type { DependencyCondition, ServiceDef, ServiceName } from './types.js';
import { toYaml, type YamlValue } from './yaml.js';

/** Absolute path of the compose file shipped with helfy (compose/docker-compose.yml). */
export const COMPOSE_FILE = join(PACKAGE_ROOT, 'compose', 'docker-compose.yml');

export const LABEL_PROJECT = 'dev.helfy.project';
export const LABEL_SERVICE = 'dev.helfy.service';
export const LABEL_CONFIG_HASH = 'dev.helfy.config-hash';

/** Name of the env var carrying a service's configuration hash (set by helfy, see env.ts). */
export function hashVar(name: ServiceName): string {
  return `HELFY_HASH_${name.toUpperCase().replace(/-/g, '_')}`;
}

const CONDITION: Record<DependencyCondition, string> = {
  healthy: 'service_healthy',
  started: 'service_started',
  completed: 'service_completed_successfully',
  // Compose cannot wait for these; the dependent retries (see DependencyCondition).
  serving: 'service_started',
};

/** `${VAR:-./default}`: a configuration folder, the workspace copy when helfy runs compose. */
export function configMountSource(m: NonNullable<ServiceDef['configMounts']>[number]): string {
  return `\${${m.dirVar}:-${m.source}}`;
}

/**
 * The networks of a service: the default one, plus the web → api network with a fixed address
 * for its members (the web server needs nothing else, so it is on that network only). Absent
 * (compose's default) when the stack has no such pair.
 */
function networksOf(def: ServiceDef, defs: readonly ServiceDef[]): YamlValue | undefined {
  const members = Object.keys(PROXY_NETWORK.members).filter((n) => defs.some((d) => d.name === n));
  if (members.length < 2) return undefined;
  const m = PROXY_NETWORK.members[def.name];
  if (!m) return undefined;
  const own = { [PROXY_NETWORK.name]: { ipv4_address: `\${${m.addressVar}:-${addressIn(PROXY_NETWORK.defaultSubnet, m.offset)}}` } };
  return def.name === 'web' ? own : { default: {}, ...own };
}

function serviceModel(def: ServiceDef, defs: readonly ServiceDef[] = CATALOG): { [k: string]: YamlValue | undefined } {
  const from = def.imageFrom ? CATALOG.find((d) => d.name === def.imageFrom) : def;
  const image = from?.build ? `helfy-local/${from.name}:\${${from.build.tagVar}:-dev}` : v(def.imageSetting);
  const deps = Object.entries(def.dependsOn) as [ServiceName, DependencyCondition][];
  const hc = def.healthcheck;
  return {
    image,
    build: def.build
      ? {
          // The workspace copy of the app when helfy runs compose (env.ts), else the template.
          context: `\${${contextVar(def.name)}:-../${def.build.context}}`,
          args: { HELFY_NODE_IMAGE: v('HELFY_NODE_IMAGE') },
          // No build labels: compose turns each into a LABEL instruction appended to the
          // Dockerfile, i.e. one more container commit per label (~45 s each on vfs under load),
          // and the image is shared by every project anyway (its tag is a content hash).
        }
      : undefined,
    profiles: def.profile ? [def.profile] : undefined,
    entrypoint: def.entrypoint,
    command: def.command,
    environment: Object.keys(def.environment).length ? def.environment : undefined,
    ports: def.ports.length ? def.ports.map((p) => `${BIND}:${v(p.setting)}:${p.container}`) : undefined,
    volumes: def.volumes.length || def.configMounts?.length
      ? [...def.volumes.map((vol) => `${vol.name}:${vol.target}`), ...(def.configMounts ?? []).map((m) => `${configMountSource(m)}:${m.target}:ro`)]
      : undefined,
    networks: networksOf(def, defs),
    depends_on: deps.length ? Object.fromEntries(deps.map(([n, c]) => [n, { condition: CONDITION[c] }])) : undefined,
    healthcheck: hc
      ? { test: hc.test, interval: `${hc.intervalS}s`, timeout: `${hc.timeoutS}s`, retries: hc.retries, start_period: `${hc.startPeriodS}s` }
      : undefined,
    restart: def.restart,
    stop_grace_period: def.stopGracePeriodS ? `${def.stopGracePeriodS}s` : undefined,
    labels: {
      [LABEL_PROJECT]: PROJECT,
      [LABEL_SERVICE]: def.name,
      [LABEL_CONFIG_HASH]: `\${${hashVar(def.name)}:-none}`,
    },
  };
}

export interface ComposeModel {
  services: Record<string, { [k: string]: YamlValue | undefined }>;
  volumes: Record<string, { [k: string]: YamlValue | undefined }>;
  networks: Record<string, { [k: string]: YamlValue | undefined }>;
}

/** The compose document as data (services in dependency order). */
export function composeModel(defs: readonly ServiceDef[] = CATALOG): ComposeModel {
  const order = topoOrder(defs);
  const services: ComposeModel['services'] = {};
  for (const name of order) services[name] = serviceModel(defs.find((d) => d.name === name)!, defs);
  const volumes: ComposeModel['volumes'] = {};
  for (const d of defs) {
    for (const vol of d.volumes) volumes[vol.name] = { labels: { [LABEL_PROJECT]: PROJECT, [LABEL_SERVICE]: d.name, 'dev.helfy.data': vol.description } };
  }
  const networks: ComposeModel['networks'] = { default: { labels: { [LABEL_PROJECT]: PROJECT } } };
  if (Object.values(services).some((svc) => svc.networks)) {
    networks[PROXY_NETWORK.name] = {
      labels: { [LABEL_PROJECT]: PROJECT, 'dev.helfy.purpose': 'web to api (the API trusts X-Forwarded-For from the web container only)' },
      ipam: { config: [{ subnet: `\${${PROXY_NETWORK.subnetVar}:-${PROXY_NETWORK.defaultSubnet}}` }] },
    };
  }
  return { services, volumes, networks };
}

const HEADER = `# Generated from src/stack (the service catalog) — do not edit by hand.
# Run it through helfy (\`helfy up\`), or directly from a helfy workspace:
#   docker compose -p <project> --env-file .env -f <helfy>/compose/docker-compose.yml up -d
# Host ports bind to HELFY_BIND_ADDRESS (default 127.0.0.1); every image is pinned and can be
# overridden with its HELFY_*_IMAGE variable. Works with docker-compose 1.29 (v1) and compose v2.
# Note: the databases and roles of Temporal (helfy_temporal, ...) are created by helfy's
# PostgreSQL bootstrap, which \`helfy up\` runs between starting postgres and the other services.
# helfy mounts Temporal's dynamic config from the workspace copy it writes (.helfy/temporal/...,
# HELFY_TEMPORAL_CONFIG_DIR); without that variable compose mounts ./temporal/dynamicconfig here.
# The worker runs the api image (helfy-local/api): build it first (\`compose build api\`).
# api and web build from HELFY_API_CONTEXT / HELFY_WEB_CONTEXT: helfy sets them to the workspace
# copies (apps/api, apps/web) when they exist; without them compose builds ../templates/<app>.
`;

export function composeYaml(defs: readonly ServiceDef[] = CATALOG): string {
  const m = composeModel(defs);
  return HEADER + toYaml({ services: m.services as YamlValue, volumes: m.volumes as YamlValue, networks: m.networks as YamlValue });
}

/**
 * Structural checks of a compose model: what every helfy stack must guarantee. Returns one line
 * per problem (empty when valid).
 */
export function validateComposeModel(m: ComposeModel): string[] {
  const problems: string[] = [];
  const names = Object.keys(m.services);
  for (const [name, s] of Object.entries(m.services)) {
    const image = String(s.image ?? '');
    if (!image) problems.push(`${name}: no image`);
    if (/:latest(\}|$)/.test(image)) problems.push(`${name}: image uses latest`);
    const m2 = /^\$\{(HELFY_[A-Z0-9_]+):-([^}]+)\}$/.exec(image);
    // An image another service of the file builds (the worker runs the api image).
    const builtByOther = !s.build && Object.values(m.services).some((o) => o.build && o.image === s.image);
    if (!s.build && !builtByOther) {
      if (!m2) problems.push(`${name}: image ${image} is not overridable by a HELFY_*_IMAGE variable with a pinned default`);
      else if (!/:[^/]+$/.test(m2[2]!) || /:latest$/.test(m2[2]!)) problems.push(`${name}: default image ${m2[2]} is not pinned to a tag`);
    }
    const labels = (s.labels ?? {}) as Record<string, unknown>;
    if (labels[LABEL_PROJECT] !== PROJECT) problems.push(`${name}: missing label ${LABEL_PROJECT}`);
    for (const p of (s.ports ?? []) as string[]) {
      if (!p.startsWith(`${BIND}:`)) problems.push(`${name}: port ${p} is not bound to HELFY_BIND_ADDRESS`);
    }
    for (const vol of (s.volumes ?? []) as string[]) {
      // Only read-only mounts of configuration folders (shipped in compose/, or helfy's workspace
      // copy of one through a HELFY_*_DIR variable) may be bind mounts; data lives in named volumes.
      const conf = /^\$\{HELFY_[A-Z0-9_]+_DIR:-(\.\/[^}]+)\}:[^:]+:ro$/.exec(vol);
      if (conf && !conf[1]!.includes('..')) continue;
      const src = vol.split(':')[0]!;
      if (src.startsWith('./') && vol.endsWith(':ro') && !src.includes('..')) continue;
      if (src.startsWith('/') || src.startsWith('.')) problems.push(`${name}: bind mount ${vol} (use a named volume)`);
      else if (!m.volumes[src]) problems.push(`${name}: volume ${src} is not declared`);
    }
    for (const dep of Object.keys((s.depends_on ?? {}) as object)) {
      if (!names.includes(dep)) problems.push(`${name}: depends on unknown service ${dep}`);
    }
  }
  for (const [vol, def] of Object.entries(m.volumes)) {
    if (((def.labels ?? {}) as Record<string, unknown>)[LABEL_PROJECT] !== PROJECT) problems.push(`volume ${vol}: missing label ${LABEL_PROJECT}`);
  }
  return problems;
}
