/**
 * `helfy export kubernetes`: plain manifests plus a kustomization.yaml (`kubectl apply -k <dir>`),
 * built from the service catalog (src/stack): PostgreSQL and Neo4j as StatefulSets with volume
 * claim templates, Temporal, api, worker and web as Deployments, a Service for every port the
 * catalog publishes, probes from the catalog's health checks, and the one-off steps as Jobs:
 *
 *   postgres-bootstrap ─┬─> temporal-schema ──> (temporal starts) ──> temporal-namespace
 *                       └─> migrations (PostgreSQL, then Neo4j)
 *
 * All objects are applied at once; the order is kept by the pods themselves: each step waits for
 * what it needs (an initContainer waits for the bootstrap's mark on helfy_app, the migrations run
 * as two steps of one pod, Temporal waits for its schema), and retries (backoffLimit).
 */
import type { HelfyConfig } from '../config/load.js';
import { service } from '../stack/catalog.js';
import type { HealthcheckSpec, ServiceDef } from '../stack/types.js';
import { toYaml, type YamlValue } from '../stack/yaml.js';
import { environmentOf, exportedServices, httpCheckOf, imageOf, probePath, REQUESTS, RUN_AS, secretKeys, secretValues, type Part, type SecretKey } from './model.js';
import type { ExportOptions } from './options.js';
import { MOUNTS, stepFiles } from './scripts.js';

type Obj = { [k: string]: YamlValue | undefined };

export const SECRET_NAME = 'helfy-secrets';
export const CONFIGMAPS = {
  scripts: 'helfy-scripts',
  postgresMigrations: 'helfy-migrations-postgres',
  neo4jMigrations: 'helfy-migrations-neo4j',
  temporalDynamicConfig: 'temporal-dynamic-config',
} as const;
/** gRPC health service Temporal's frontend answers SERVING for (as `helfy status` probes it). */
export const TEMPORAL_HEALTH_SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';
/** Finished Jobs are removed after this, so the next `kubectl apply -k` runs them again (all steps are idempotent). */
export const JOB_TTL_S = 300;

export const STORAGE: Record<string, string> = { pgdata: '10Gi', 'neo4j-data': '10Gi', 'neo4j-logs': '1Gi' };

interface Env {
  cfg: HelfyConfig;
  opts: ExportOptions;
  namespace: string;
}

export function labels(e: Env, name: string, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/instance': e.cfg.projectName,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': 'helfy',
    'app.kubernetes.io/managed-by': 'helfy',
  };
}

const selector = (e: Env, name: string) => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': e.cfg.projectName });
const meta = (e: Env, name: string, component: string): Obj => ({ name, namespace: e.namespace, labels: labels(e, name, component) });
const component = (def: ServiceDef) => (def.stage === 1 ? 'database' : def.name.startsWith('temporal') ? 'workflow' : 'app');

/** Kubernetes expands `$(VAR)` in env values, command and args: literal `$(` is written `$$(`. */
const kubeLiteral = (s: string) => s.replace(/\$\(/g, '$$$$(');

function kubeValue(parts: readonly Part[]): string {
  return parts.map((p) => ('text' in p ? kubeLiteral(p.text) : `$(${p.secret})`)).join('');
}

const secretRef = (name: string, key: SecretKey): Obj => ({ name, valueFrom: { secretKeyRef: { name: SECRET_NAME, key } } });

/**
 * The env list: a variable that is exactly one secret reads it from the Secret; one that embeds a
 * secret (a URL with a password, NEO4J_AUTH) gets it through `$(KEY)`, defined first.
 */
export function kubeEnv(vars: readonly [string, Part[]][]): Obj[] {
  const helpers: SecretKey[] = [];
  const rest: Obj[] = [];
  for (const [name, parts] of vars) {
    if (parts.length === 1 && 'secret' in parts[0]!) { rest.push(secretRef(name, parts[0].secret)); continue; }
    for (const p of parts) if ('secret' in p && !helpers.includes(p.secret)) helpers.push(p.secret);
    rest.push({ name, value: kubeValue(parts) });
  }
  return [...helpers.map((k) => secretRef(k, k)), ...rest];
}

export const podSecurity = (uid: number): Obj => ({ runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: 'RuntimeDefault' } });
const containerSecurity: Obj = { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } };
const resources = (key: string): Obj => ({ requests: REQUESTS[key]! });

/** The probe handler of a catalog healthcheck: HTTP when it fetches a local URL, else the command itself. */
function healthHandler(def: ServiceDef): Obj | undefined {
  const hc = def.healthcheck;
  if (!hc) return undefined;
  const http = httpCheckOf(def);
  if (http) return { httpGet: { path: http.path, port: http.port } };
  const [kind, ...rest] = hc.test;
  return { exec: { command: kind === 'CMD-SHELL' ? ['sh', '-c', rest.join(' ').replace(/\$\$/g, '$')] : rest } };
}

/** Readiness: the catalog's probe kind (api: /health/ready; Temporal: its gRPC health), else the healthcheck. */
function readinessHandler(def: ServiceDef): Obj | undefined {
  const path = probePath(def);
  if (path && def.ports[0]) return { httpGet: { path, port: def.ports[0].container } };
  if (def.probe === 'temporal') return { grpc: { port: def.ports[0]!.container, service: TEMPORAL_HEALTH_SERVICE } };
  return healthHandler(def);
}

const DEFAULT_TIMING: HealthcheckSpec = { test: [], intervalS: 5, timeoutS: 5, retries: 6, startPeriodS: 120 };

/** startupProbe covers the start period (Neo4j's slow JVM start), liveness the healthcheck's retries, readiness the probe. */
export function probes(def: ServiceDef): Obj {
  const ready = readinessHandler(def);
  const live = healthHandler(def) ?? ready;
  if (!ready || !live) return {};
  const hc = def.healthcheck ?? DEFAULT_TIMING;
  return {
    startupProbe: { ...live, periodSeconds: hc.intervalS, timeoutSeconds: hc.timeoutS, failureThreshold: Math.ceil(hc.startPeriodS / hc.intervalS) + hc.retries },
    readinessProbe: { ...ready, periodSeconds: Math.max(hc.intervalS, 5), timeoutSeconds: hc.timeoutS, failureThreshold: 3 },
    livenessProbe: { ...live, periodSeconds: 10, timeoutSeconds: hc.timeoutS, failureThreshold: Math.max(3, Math.ceil((hc.retries * hc.intervalS) / 10)) },
  };
}

const PORT_NAMES: Record<string, string> = { postgres: 'postgres', http: 'http', bolt: 'bolt', grpc: 'grpc' };

export function containerPorts(def: ServiceDef): Obj[] {
  const ports: Obj[] = def.ports.map((p) => ({ name: PORT_NAMES[p.scheme]!, containerPort: p.container, protocol: 'TCP' }));
  const health = httpCheckOf(def);
  if (health && !def.ports.some((p) => p.container === health.port)) ports.push({ name: 'health', containerPort: health.port, protocol: 'TCP' });
  return ports;
}

function serviceContainer(e: Env, def: ServiceDef, extra: { env?: Obj[]; volumeMounts?: Obj[] } = {}): Obj {
  return {
    name: def.name,
    image: imageOf(def, e.cfg, e.opts.registry, e.opts.tag),
    command: def.entrypoint?.map(kubeLiteral),
    args: def.command?.map(kubeLiteral),
    env: [...kubeEnv(environmentOf(def, e.cfg)), ...(extra.env ?? [])],
    ports: containerPorts(def),
    ...probes(def),
    resources: resources(def.name),
    securityContext: containerSecurity,
    volumeMounts: extra.volumeMounts,
  };
}

/** A pod spec's common part: non-root, no service account token, no service links (they would inject TEMPORAL_PORT=tcp://… into Temporal). */
function podSpec(uid: number, def: Pick<ServiceDef, 'stopGracePeriodS'> | undefined, spec: Obj): Obj {
  return {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: podSecurity(uid),
    terminationGracePeriodSeconds: def?.stopGracePeriodS,
    ...spec,
  };
}

function serviceObject(e: Env, def: ServiceDef, headless: boolean): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(e, def.name, component(def)),
    spec: {
      ...(headless ? { clusterIP: 'None' } : { type: 'ClusterIP' }),
      selector: selector(e, def.name),
      ports: def.ports.map((p) => ({ name: PORT_NAMES[p.scheme]!, port: p.container, targetPort: PORT_NAMES[p.scheme]!, protocol: 'TCP' })),
    },
  };
}

function statefulSet(e: Env, def: ServiceDef): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(e, def.name, component(def)),
    spec: {
      serviceName: def.name,
      replicas: 1,
      selector: { matchLabels: selector(e, def.name) },
      template: {
        metadata: { labels: labels(e, def.name, component(def)) },
        spec: podSpec(RUN_AS[def.name], def, {
          containers: [serviceContainer(e, def, { volumeMounts: def.volumes.map((v) => ({ name: v.name, mountPath: v.target })) })],
        }),
      },
      volumeClaimTemplates: def.volumes.map((v) => ({
        metadata: { name: v.name, labels: labels(e, def.name, component(def)) },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: STORAGE[v.name] ?? '1Gi' } } },
      })),
    },
  };
}

const scriptsVolume: Obj = { name: 'scripts', configMap: { name: CONFIGMAPS.scripts, defaultMode: 0o555 } };
const scriptsMount: Obj = { name: 'scripts', mountPath: MOUNTS.scripts, readOnly: true };

/** A step container: one script of the helfy-scripts ConfigMap. */
function stepContainer(name: string, image: string, script: string, env: Obj[], mounts: Obj[] = [], jvm = false): Obj {
  return {
    name,
    image,
    command: ['sh', `${MOUNTS.scripts}/${script}`],
    env,
    resources: resources(jvm ? 'step-jvm' : 'step'),
    securityContext: containerSecurity,
    volumeMounts: [scriptsMount, ...mounts],
  };
}

/** PG* variables for psql in a step: PostgreSQL's service, the role and database a step works as. */
function pgEnv(role: string, database: string, passwordKey: SecretKey): Obj[] {
  return [
    { name: 'PGHOST', value: 'postgres' },
    { name: 'PGPORT', value: String(service('postgres').ports[0]!.container) },
    { name: 'PGUSER', value: role },
    { name: 'PGDATABASE', value: database },
    secretRef('PGPASSWORD', passwordKey),
  ];
}

function deployment(e: Env, def: ServiceDef): Obj {
  const extraEnv: Obj[] = [];
  const mounts: Obj[] = [];
  const volumes: Obj[] = [];
  const init: Obj[] = [];
  if (def.name === 'temporal') {
    // Several Temporal pods must find each other by address (membership); the pod's own.
    extraEnv.push({ name: 'TEMPORAL_BROADCAST_ADDRESS', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
    for (const m of def.configMounts ?? []) {
      volumes.push({ name: 'dynamic-config', configMap: { name: CONFIGMAPS.temporalDynamicConfig } });
      mounts.push({ name: 'dynamic-config', mountPath: m.target, readOnly: true });
    }
    volumes.push(scriptsVolume);
    init.push(stepContainer('wait-for-temporal-schema', postgresImage(e), 'wait-for-temporal-schema.sh', pgEnv('helfy_temporal', 'helfy_temporal', 'HELFY_TEMPORAL_DB_PASSWORD')));
  }
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(e, def.name, component(def)),
    spec: {
      replicas: 1,
      selector: { matchLabels: selector(e, def.name) },
      template: {
        metadata: { labels: labels(e, def.name, component(def)) },
        spec: podSpec(RUN_AS[def.name], def, {
          initContainers: init.length ? init : undefined,
          containers: [serviceContainer(e, def, { env: extraEnv, volumeMounts: mounts.length ? mounts : undefined })],
          volumes: volumes.length ? volumes : undefined,
        }),
      },
    },
  };
}

const postgresImage = (e: Env) => imageOf(service('postgres'), e.cfg, e.opts.registry, e.opts.tag);

function job(e: Env, name: string, uid: number, backoffLimit: number, spec: Obj): Obj {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { ...meta(e, name, 'setup'), annotations: { 'helfy.dev/step': 'one-off; waits for what it needs, idempotent, removed after it finished' } },
    spec: {
      backoffLimit,
      ttlSecondsAfterFinished: JOB_TTL_S,
      template: {
        metadata: { labels: labels(e, name, 'setup') },
        spec: podSpec(uid, undefined, { restartPolicy: 'Never', ...spec }),
      },
    },
  };
}

export function jobs(e: Env): Obj[] {
  const pg = postgresImage(e);
  const pgUid = RUN_AS.postgres;
  const superuser = e.cfg.postgres.superuser;
  const bootstrap = job(e, 'postgres-bootstrap', pgUid, 6, {
    containers: [stepContainer('bootstrap', pg, 'bootstrap.sh', [
      ...pgEnv(superuser, 'postgres', 'HELFY_POSTGRES_PASSWORD'),
      secretRef('HELFY_APP_OWNER_PASSWORD', 'HELFY_APP_OWNER_PASSWORD'),
      secretRef('HELFY_APP_PASSWORD', 'HELFY_APP_PASSWORD'),
      secretRef('HELFY_TEMPORAL_DB_PASSWORD', 'HELFY_TEMPORAL_DB_PASSWORD'),
    ])],
    volumes: [scriptsVolume],
  });
  const ownerEnv = pgEnv('helfy_owner', 'helfy_app', 'HELFY_APP_OWNER_PASSWORD');
  const neo4j = service('neo4j');
  const bolt = neo4j.ports.find((p) => p.scheme === 'bolt')!.container;
  const migrations = job(e, 'migrations', RUN_AS.neo4j, 4, {
    // initContainers run one after another: wait for the bootstrap, migrate PostgreSQL, then Neo4j.
    initContainers: [
      { ...stepContainer('wait-for-bootstrap', pg, 'wait-for-bootstrap.sh', ownerEnv), securityContext: { ...containerSecurity, runAsUser: pgUid, runAsGroup: pgUid } },
      {
        ...stepContainer('migrate-postgres', pg, 'migrate-postgres.sh', ownerEnv, [{ name: 'postgres-migrations', mountPath: MOUNTS.postgresMigrations, readOnly: true }]),
        securityContext: { ...containerSecurity, runAsUser: pgUid, runAsGroup: pgUid },
      },
    ],
    containers: [stepContainer('migrate-neo4j', imageOf(neo4j, e.cfg, e.opts.registry, e.opts.tag), 'migrate-neo4j.sh', [
      { name: 'NEO4J_URI', value: `bolt://neo4j:${bolt}` },
      { name: 'NEO4J_USERNAME', value: e.cfg.neo4j.user },
      secretRef('NEO4J_PASSWORD', 'HELFY_NEO4J_PASSWORD'),
    ], [{ name: 'neo4j-migrations', mountPath: MOUNTS.neo4jMigrations, readOnly: true }], true)],
    volumes: [
      scriptsVolume,
      { name: 'postgres-migrations', configMap: { name: CONFIGMAPS.postgresMigrations } },
      { name: 'neo4j-migrations', configMap: { name: CONFIGMAPS.neo4jMigrations } },
    ],
  });
  const schemaDef = service('temporal-schema');
  const temporalSchema = job(e, 'temporal-schema', RUN_AS['temporal-schema'], 4, {
    initContainers: [{
      ...stepContainer('wait-for-bootstrap', pg, 'wait-for-bootstrap.sh', pgEnv('helfy_temporal', 'helfy_temporal', 'HELFY_TEMPORAL_DB_PASSWORD')),
      securityContext: { ...containerSecurity, runAsUser: pgUid, runAsGroup: pgUid },
    }],
    containers: [stepContainer('temporal-schema', imageOf(schemaDef, e.cfg, e.opts.registry, e.opts.tag), 'temporal-schema.sh', kubeEnv(environmentOf(schemaDef, e.cfg)))],
    volumes: [scriptsVolume],
  });
  const temporalNamespace = job(e, 'temporal-namespace', RUN_AS['temporal-schema'], 6, {
    containers: [stepContainer('temporal-namespace', imageOf(schemaDef, e.cfg, e.opts.registry, e.opts.tag), 'temporal-namespace.sh', [
      { name: 'TEMPORAL_ADDRESS', value: `temporal:${service('temporal').ports[0]!.container}` },
      { name: 'TEMPORAL_NAMESPACE', value: e.cfg.temporal.namespace },
      { name: 'TEMPORAL_RETENTION', value: `${e.cfg.temporal.retentionHours}h` },
    ])],
    volumes: [scriptsVolume],
  });
  return [bootstrap, migrations, temporalSchema, temporalNamespace];
}

function configMap(e: Env, name: string, data: Record<string, string>): Obj {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(e, name, 'config'), data };
}

export interface KubeFile {
  path: string;
  docs: Obj[];
}

/** Every manifest file, by name, as data (the kustomization lists them). */
export function kubernetesFiles(cfg: HelfyConfig, opts: ExportOptions, namespace: string): { files: KubeFile[]; secretKeys: SecretKey[] } {
  const e: Env = { cfg, opts, namespace };
  const defs = exportedServices().filter((d) => d.kind === 'daemon');
  const keys = secretKeys(exportedServices(), cfg);
  const steps = stepFiles(cfg);
  const files: KubeFile[] = [{ path: 'namespace.yaml', docs: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'app.kubernetes.io/part-of': 'helfy' } } }] }];
  if (opts.secrets === 'embed') {
    const values = secretValues(keys, cfg);
    files.push({ path: 'secret.yaml', docs: [{ apiVersion: 'v1', kind: 'Secret', metadata: meta(e, SECRET_NAME, 'config'), type: 'Opaque', stringData: Object.fromEntries(keys.map((k) => [k, values.get(k)!])) }] });
  }
  files.push({
    path: 'config.yaml',
    docs: [
      configMap(e, CONFIGMAPS.scripts, steps.scripts),
      configMap(e, CONFIGMAPS.postgresMigrations, steps.postgresMigrations),
      configMap(e, CONFIGMAPS.neo4jMigrations, steps.neo4jMigrations),
      configMap(e, CONFIGMAPS.temporalDynamicConfig, steps.temporalDynamicConfig),
    ],
  });
  for (const def of defs) {
    const docs: Obj[] = [];
    if (def.ports.length) docs.push(serviceObject(e, def, def.volumes.length > 0));
    docs.push(def.volumes.length ? statefulSet(e, def) : deployment(e, def));
    files.push({ path: `${def.name}.yaml`, docs });
  }
  const [bootstrap, migrations, schema, namespaceJob] = jobs(e);
  files.push({ path: 'jobs.yaml', docs: [bootstrap!, schema!, namespaceJob!, migrations!] });
  files.push({
    path: 'kustomization.yaml',
    docs: [{
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      namespace,
      resources: files.map((f) => f.path),
    }],
  });
  return { files, secretKeys: keys };
}

const HEADER = (what: string) => `# Generated by \`helfy export kubernetes\` from helfy's service catalog (src/stack): ${what}.
# Regenerate it rather than editing it; adjust with kustomize patches beside it.
`;

export function renderKubeFile(f: KubeFile): string {
  const what = f.path === 'kustomization.yaml' ? '`kubectl apply -k .` deploys every file listed below' : f.docs.map((d) => `${String(d.kind)} ${String((d.metadata as Obj).name)}`).join(', ');
  return HEADER(what) + f.docs.map((d) => toYaml(d)).join('---\n');
}

