/**
 * `helfy export swarm`: a stack file for `docker stack deploy` from the service catalog (the
 * compose model of src/stack/compose-file.ts, made fit for a swarm):
 *  - images only (`<registry>/<app>:<tag>` for the apps), no `build`; the short `depends_on`
 *    (swarm ignores it; it documents the order the one-off steps keep themselves by waiting);
 *  - the catalog's healthchecks kept; the one-off steps (bootstrap, Temporal schema, migrations,
 *    namespace) as `replicated-job` services that wait for what they need and retry;
 *  - secrets as Docker secrets (files under secrets/, or `external` ones you create): a variable
 *    that carries a secret is exported from /run/secrets by a small `sh -c` wrapper before the
 *    image's command runs (PostgreSQL reads POSTGRES_PASSWORD_FILE itself), so no value sits in the
 *    service spec;
 *  - `endpoint_mode: dnsrr` everywhere and the apps' ports published in host mode: the routing
 *    mesh needs IPVS, which not every kernel has (this one has not). Swarm cannot bind a host-mode
 *    port to one address: api and web listen on every interface of the node they run on; the data
 *    stores and Temporal publish nothing.
 */
import { createHash } from 'node:crypto';
import type { HelfyConfig } from '../config/load.js';
import { builder, service } from '../stack/catalog.js';
import { composeModel } from '../stack/compose-file.js';
import type { ServiceDef, ServiceName } from '../stack/types.js';
import { toYaml, type YamlValue } from '../stack/yaml.js';
import { environmentOf, exportedServices, imageOf, REQUESTS, RUN_AS, secretKeys, secretValues, type Part, type SecretKey } from './model.js';
import type { ExportOptions } from './options.js';
import { MOUNTS, stepFiles } from './scripts.js';

type Obj = { [k: string]: YamlValue | undefined };

export const STACK_FILE = 'docker-stack.yml';

/** How each image starts when the wrapper replaces its entrypoint (compose drops the image's CMD then). */
export const IMAGE_START: Partial<Record<ServiceName, string[]>> = {
  // neo4j: ENTRYPOINT tini -g -- /startup/docker-entrypoint.sh, CMD neo4j.
  neo4j: ['tini', '-g', '--', '/startup/docker-entrypoint.sh', 'neo4j'],
  // temporalio/server 1.30+: CMD /etc/temporal/entrypoint.sh.
  temporal: ['/etc/temporal/entrypoint.sh'],
  // templates/web/Dockerfile: WORKDIR /app, CMD node dist/server/index.mjs.
  web: ['node', '/app/dist/server/index.mjs'],
};

/** Variables an image reads from a file itself (`<VAR>_FILE`). */
const FILE_VARIABLES: Partial<Record<ServiceName, string[]>> = { postgres: ['POSTGRES_PASSWORD'] };

export const secretName = (key: SecretKey) => key.toLowerCase();
const secretPath = (key: SecretKey) => `/run/secrets/${secretName(key)}`;
/** Compose interpolates `$`: a literal one is `$$`. */
const composeLiteral = (s: string) => s.replace(/\$/g, '$$$$');
const shellDouble = (s: string) => s.replace(/[\\"`$]/g, (c) => `\\${c}`);

function shellValue(parts: readonly Part[]): string {
  return parts.map((p) => ('text' in p ? shellDouble(p.text) : `$(cat ${secretPath(p.secret)})`)).join('');
}

interface Wrapped {
  environment: Record<string, string>;
  secrets: SecretKey[];
  /** `export` lines of the wrapper (not compose-escaped yet). */
  exports: string[];
}

/** Splits an environment: plain values stay, `<VAR>_FILE` where the image reads one, the rest go through the wrapper. */
export function splitEnvironment(name: string, vars: readonly [string, Part[]][]): Wrapped {
  const out: Wrapped = { environment: {}, secrets: [], exports: [] };
  const files = FILE_VARIABLES[name as ServiceName] ?? [];
  for (const [k, parts] of vars) {
    const keys = parts.flatMap((p) => ('secret' in p ? [p.secret] : []));
    for (const s of keys) if (!out.secrets.includes(s)) out.secrets.push(s);
    if (!keys.length) out.environment[k] = composeLiteral(parts.map((p) => ('text' in p ? p.text : '')).join(''));
    else if (files.includes(k) && parts.length === 1) out.environment[`${k}_FILE`] = secretPath(keys[0]!);
    else out.exports.push(`export ${k}="${shellValue(parts)}"`);
  }
  return out;
}

/** entrypoint + command: the wrapper exporting the secret variables, then `start` (compose-escaped). */
function wrap(w: Wrapped, start: string[]): { entrypoint?: string[]; command?: string[] } {
  if (!w.exports.length) return { command: start.map(composeLiteral) };
  return { entrypoint: ['/bin/sh', '-c', composeLiteral(['set -e', ...w.exports, 'exec "$@"'].join('\n')), 'helfy-secrets'], command: start.map(composeLiteral) };
}

const secretMounts = (keys: readonly SecretKey[], uid: number): Obj[] =>
  keys.map((k) => ({ source: secretName(k), target: secretName(k), uid: String(uid), gid: String(uid), mode: 0o400 }));

/** Swarm reservations from the Kubernetes requests table (250m → 0.25 CPUs, 512Mi → 512M). */
function reservations(key: string): Obj {
  const r = REQUESTS[key]!;
  return { cpus: String(Number.parseInt(r.cpu, 10) / 1000), memory: r.memory.replace(/Mi$/, 'M').replace(/Gi$/, 'G') };
}

interface Configs {
  /** Top-level configs: key → { file, name }. */
  defs: Record<string, Obj>;
  files: Record<string, string>;
}

function addConfig(c: Configs, project: string, path: string, content: string): string {
  const key = path.replace(/[^A-Za-z0-9]+/g, '_').toLowerCase();
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 10);
  // Swarm configs cannot change: the content hash in the name makes a new one when it does.
  // Swarm takes names of at most 64 characters (the hash and its `_` are 11): a long migration
  // file name is cut, the hash keeps the name unique.
  const base = `${project}_${key}`.slice(0, 64 - 11).replace(/[^A-Za-z0-9]+$/, '');
  c.defs[key] = { file: `./${path}`, name: `${base}_${hash}` };
  c.files[path] = content;
  return key;
}

function daemon(def: ServiceDef, cfg: HelfyConfig, opts: ExportOptions, base: Obj, c: Configs): Obj {
  const w = splitEnvironment(def.name, environmentOf(def, cfg));
  const start = def.entrypoint || def.command ? [...(def.entrypoint ?? []), ...(def.command ?? [])] : (IMAGE_START[def.name] ?? []);
  const run = w.exports.length ? wrap(w, start) : { entrypoint: def.entrypoint?.map(composeLiteral), command: def.command?.map(composeLiteral) };
  const configs = (def.configMounts ?? []).flatMap((m) => {
    const files = stepFiles(cfg).temporalDynamicConfig;
    return Object.entries(files).map(([name, content]) => ({ source: addConfig(c, cfg.projectName, `config/${def.name}/${name}`, content), target: `${m.target}/${name}`, mode: 0o444 }));
  });
  const published = builder(def) ? def.ports : [];
  return {
    image: imageOf(def, cfg, opts.registry, opts.tag),
    ...run,
    environment: Object.keys(w.environment).length ? w.environment : undefined,
    secrets: w.secrets.length ? secretMounts(w.secrets, RUN_AS[def.name]) : undefined,
    configs: configs.length ? configs : undefined,
    volumes: def.volumes.length ? def.volumes.map((v) => `${v.name}:${v.target}`) : undefined,
    ports: published.length ? published.map((p) => ({ target: p.container, published: cfg.ports[p.config], protocol: 'tcp', mode: 'host' })) : undefined,
    depends_on: base.depends_on ? Object.keys(base.depends_on as Obj) : undefined,
    healthcheck: base.healthcheck,
    stop_grace_period: base.stop_grace_period,
    deploy: {
      mode: 'replicated',
      replicas: 1,
      endpoint_mode: 'dnsrr',
      restart_policy: { condition: 'any', delay: '5s' },
      resources: { reservations: reservations(def.name) },
    },
  };
}

interface Step {
  name: string;
  image: string;
  uid: number;
  env: [string, Part[]][];
  /** Shell line run by the step (scripts under MOUNTS.scripts). */
  run: string;
  scripts: string[];
  extra?: { dir: string; files: Record<string, string> };
  dependsOn: string[];
  jvm?: boolean;
}

const text = (t: string): Part[] => [{ text: t }];
const secret = (k: SecretKey): Part[] => [{ secret: k }];

function steps(cfg: HelfyConfig, opts: ExportOptions): Step[] {
  const files = stepFiles(cfg);
  const pg = imageOf(service('postgres'), cfg, opts.registry, opts.tag);
  const tools = imageOf(service('temporal-schema'), cfg, opts.registry, opts.tag);
  const pgEnv = (user: string, db: string, pw: SecretKey): [string, Part[]][] => [
    ['PGHOST', text('postgres')], ['PGPORT', text(String(service('postgres').ports[0]!.container))], ['PGUSER', text(user)], ['PGDATABASE', text(db)], ['PGPASSWORD', secret(pw)],
  ];
  const sh = (name: string) => `sh ${MOUNTS.scripts}/${name}`;
  const bolt = service('neo4j').ports.find((p) => p.scheme === 'bolt')!.container;
  return [
    {
      name: 'postgres-bootstrap', image: pg, uid: RUN_AS.postgres, dependsOn: ['postgres'], run: sh('bootstrap.sh'), scripts: ['bootstrap.sh', 'bootstrap.sql'],
      env: [...pgEnv(cfg.postgres.superuser, 'postgres', 'HELFY_POSTGRES_PASSWORD'), ...(['HELFY_APP_OWNER_PASSWORD', 'HELFY_APP_PASSWORD', 'HELFY_TEMPORAL_DB_PASSWORD'] as const).map((k): [string, Part[]] => [k, secret(k)])],
    },
    {
      name: 'temporal-schema', image: tools, uid: RUN_AS['temporal-schema'], dependsOn: ['postgres-bootstrap'], run: sh('temporal-schema.sh'),
      scripts: ['temporal-schema.sh', 'temporal-schema-once.sh'], env: environmentOf(service('temporal-schema'), cfg),
    },
    {
      name: 'migrate-postgres', image: pg, uid: RUN_AS.postgres, dependsOn: ['postgres-bootstrap'], run: `${sh('wait-for-bootstrap.sh')} && ${sh('migrate-postgres.sh')}`,
      scripts: ['wait-for-bootstrap.sh', 'migrate-postgres.sh', 'migrate-postgres.sql'], env: pgEnv('helfy_owner', 'helfy_app', 'HELFY_APP_OWNER_PASSWORD'),
      extra: { dir: MOUNTS.postgresMigrations, files: files.postgresMigrations },
    },
    {
      name: 'migrate-neo4j', image: imageOf(service('neo4j'), cfg, opts.registry, opts.tag), uid: RUN_AS.neo4j, dependsOn: ['neo4j'], run: sh('migrate-neo4j.sh'), jvm: true,
      scripts: ['migrate-neo4j.sh'], env: [['NEO4J_URI', text(`bolt://neo4j:${bolt}`)], ['NEO4J_USERNAME', text(cfg.neo4j.user)], ['NEO4J_PASSWORD', secret('HELFY_NEO4J_PASSWORD')]],
      extra: { dir: MOUNTS.neo4jMigrations, files: files.neo4jMigrations },
    },
    {
      name: 'temporal-namespace', image: tools, uid: RUN_AS['temporal-schema'], dependsOn: ['temporal'], run: sh('temporal-namespace.sh'), scripts: ['temporal-namespace.sh'],
      env: [['TEMPORAL_ADDRESS', text(`temporal:${service('temporal').ports[0]!.container}`)], ['TEMPORAL_NAMESPACE', text(cfg.temporal.namespace)], ['TEMPORAL_RETENTION', text(`${cfg.temporal.retentionHours}h`)]],
    },
  ];
}

function jobService(s: Step, cfg: HelfyConfig, c: Configs): Obj {
  const all = stepFiles(cfg).scripts;
  const w = splitEnvironment(s.name, s.env);
  const configs: Obj[] = s.scripts.map((n) => ({ source: addConfig(c, cfg.projectName, `scripts/${n}`, all[n]!), target: `${MOUNTS.scripts}/${n}`, mode: 0o444 }));
  const sub = s.extra?.dir.replace(/^\/helfy\//, '');
  for (const [n, content] of Object.entries(s.extra?.files ?? {})) configs.push({ source: addConfig(c, cfg.projectName, `${sub}/${n}`, content), target: `${s.extra!.dir}/${n}`, mode: 0o444 });
  return {
    image: s.image,
    ...wrap(w, ['sh', '-c', s.run]),
    environment: Object.keys(w.environment).length ? w.environment : undefined,
    secrets: w.secrets.length ? secretMounts(w.secrets, s.uid) : undefined,
    configs,
    depends_on: s.dependsOn,
    deploy: {
      mode: 'replicated-job',
      endpoint_mode: 'dnsrr',
      restart_policy: { condition: 'on-failure', delay: '5s', max_attempts: 10 },
      resources: { reservations: reservations(s.jvm ? 'step-jvm' : 'step') },
    },
  };
}

export interface SwarmExport {
  files: { path: string; content: string; mode?: number }[];
  secretKeys: SecretKey[];
  services: string[];
}

export function swarmExport(cfg: HelfyConfig, opts: ExportOptions): SwarmExport {
  const defs = exportedServices();
  const model = composeModel(defs);
  const c: Configs = { defs: {}, files: {} };
  const services: Record<string, Obj> = {};
  for (const def of defs.filter((d) => d.kind === 'daemon')) services[def.name] = daemon(def, cfg, opts, model.services[def.name] as Obj, c);
  for (const s of steps(cfg, opts)) services[s.name] = jobService(s, cfg, c);
  const keys = secretKeys(defs, cfg);
  const used = new Set(Object.values(services).flatMap((s) => ((s.secrets ?? []) as Obj[]).map((x) => String(x.source))));
  const secretKeysUsed = keys.filter((k) => used.has(secretName(k)));
  const secrets: Record<string, Obj> = Object.fromEntries(secretKeysUsed.map((k) => [secretName(k), opts.secrets === 'embed' ? { file: `./secrets/${secretName(k)}` } : { external: true, name: secretName(k) }]));
  const volumes: Record<string, Obj> = Object.fromEntries(defs.flatMap((d) => d.volumes.map((v) => [v.name, { labels: { 'dev.helfy.project': cfg.projectName, 'dev.helfy.data': v.description } }])));
  const header = `# Generated by \`helfy export swarm\` from helfy's service catalog (src/stack); regenerate rather than edit.
# Deploy: docker stack deploy -c ${STACK_FILE} ${cfg.projectName}   (images are pulled, never built: push ${opts.registry}/api:${opts.tag} and ${opts.registry}/web:${opts.tag} first)
# One-off steps run as replicated-job services: postgres-bootstrap, temporal-schema, migrate-postgres, migrate-neo4j, temporal-namespace.
`;
  const stack = header + toYaml({ services: services as YamlValue, volumes: volumes as YamlValue, secrets: secrets as YamlValue, configs: c.defs as YamlValue });
  const files: SwarmExport['files'] = [{ path: STACK_FILE, content: stack }, ...Object.entries(c.files).map(([path, content]) => ({ path, content }))];
  if (opts.secrets === 'embed') {
    const values = secretValues(secretKeysUsed, cfg);
    for (const k of secretKeysUsed) files.push({ path: `secrets/${secretName(k)}`, content: values.get(k)!, mode: 0o600 });
  }
  return { files, secretKeys: secretKeysUsed, services: Object.keys(services) };
}
