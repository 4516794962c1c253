/**
 * The api, worker and web services, built on the Node base image (HELFY_NODE_IMAGE, passed as a
 * build argument) from the app's sources: the workspace copy (`apps/api`, `apps/web`, scaffolded
 * by `helfy init`) when there is one, else the template bundled with helfy — helfy sets the build
 * context variable (HELFY_API_CONTEXT, HELFY_WEB_CONTEXT) to `appSource()`; plain compose falls
 * back to ../templates/<app>. Their image tag is `helfy-local/<svc>:<tag>`, where helfy sets the
 * tag to a hash of that build context and the base image, so an edit to apps/web or a new base
 * image gets a fresh build without `--build`, and nothing else does (plain compose users get `dev`).
 *
 * The worker (Temporal worker of the API: prebundled workflows, activities on helfy_app) runs the
 * api image with its own entrypoint, so it is built once. Both need PostgreSQL healthy (the
 * bootstrap created their role) and Temporal serving; the API also Neo4j. Compose only orders the
 * start for the `serving` ones and the processes connect with retry; `helfy up` waits for the
 * API's readiness (`/health/ready`, through the published port) and the worker's own health.
 */
import type { HealthcheckSpec, ServiceDef, ServiceName } from '../types.js';
import { secret, v } from './vars.js';

/** The compose variable holding a built service's build context (set by helfy to `appSource()`). */
export function contextVar(name: ServiceName): string {
  return `HELFY_${name.toUpperCase().replace(/-/g, '_')}_CONTEXT`;
}

/**
 * The web → api hop. The web server proxies /api/* and sends the browser's address as
 * X-Forwarded-For; the API believes that header only from a peer in TRUST_PROXY. "Trust one hop"
 * (TRUST_PROXY=true) is wrong here: the API's port is also published to the host, and a request
 * through it arrives from the network's gateway, so any client could then write its own
 * X-Forwarded-For and dodge the per-address log-in limit. So web and api share a small network of
 * their own with fixed addresses, and the API trusts exactly the web container's address. helfy
 * picks the /28 per project (a hash of its name, inside 10.254.0.0/16) so several projects can run
 * side by side; plain compose gets the defaults below.
 */
export const PROXY_NETWORK = {
  name: 'web-api',
  subnetVar: 'HELFY_PROXY_SUBNET',
  defaultSubnet: '10.254.254.0/28',
  /** Host offsets inside the /28 (.1 is the gateway). */
  members: {
    web: { addressVar: 'HELFY_WEB_PROXY_ADDRESS', offset: 2 },
    api: { addressVar: 'HELFY_API_PROXY_ADDRESS', offset: 3 },
  } as Partial<Record<ServiceName, { addressVar: string; offset: number }>>,
} as const;

/** `10.254.x.y/28` → the address `offset` hosts into it. */
export function addressIn(subnet: string, offset: number): string {
  const [base] = subnet.split('/');
  const parts = base!.split('.').map(Number);
  return [...parts.slice(0, 3), parts[3]! + offset].join('.');
}

export const proxyAddress = (name: 'web' | 'api') => {
  const m = PROXY_NETWORK.members[name]!;
  return `\${${m.addressVar}:-${addressIn(PROXY_NETWORK.defaultSubnet, m.offset)}}`;
};

/** A Docker healthcheck with the one tool the base image is sure to have: node (fetch is built in). */
function nodeHealthcheck(port: number, path = '/health'): HealthcheckSpec {
  return {
    test: ['CMD', 'node', '-e', `fetch('http://127.0.0.1:${port}${path}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`],
    intervalS: 2,
    timeoutS: 5,
    retries: 30,
    startPeriodS: 60,
  };
}

/**
 * What the API and the worker both read (templates/api/src/config.ts). The worker gets nothing
 * it does not use: no Neo4j password, no JWT secret.
 */
const appEnvironment = {
  DATABASE_URL: `postgres://helfy_api:${secret('HELFY_APP_PASSWORD')}@postgres:5432/helfy_app`,
  TEMPORAL_ADDRESS: 'temporal:7233',
  TEMPORAL_NAMESPACE: v('HELFY_TEMPORAL_NAMESPACE'),
  TEMPORAL_TASK_QUEUE: 'helfy',
  LOG_LEVEL: 'info',
  NODE_ENV: 'production',
};

export const WORKER_HEALTH_PORT = 3100;

export const api: ServiceDef = {
  name: 'api',
  summary: 'Helfy API (Hono + Drizzle; apps/api, else templates/api)',
  kind: 'daemon',
  imageSetting: 'HELFY_NODE_IMAGE',
  build: { context: 'templates/api', tagVar: 'HELFY_API_IMAGE_TAG' },
  stage: 2,
  dependsOn: { postgres: 'healthy', neo4j: 'serving', temporal: 'serving' },
  ports: [{ config: 'api', setting: 'HELFY_API_PORT', container: 3000, scheme: 'http', label: 'API' }],
  volumes: [],
  environment: {
    PORT: '3000',
    HELFY_SERVICE: 'api',
    ...appEnvironment,
    NEO4J_URL: 'bolt://neo4j:7687',
    NEO4J_USER: 'neo4j',
    NEO4J_PASSWORD: secret('HELFY_NEO4J_PASSWORD'),
    JWT_SECRET: secret('HELFY_JWT_SECRET'),
    // The origin the browser loads the web app from (CORS allows only that one): the web URL
    // helfy prints — the bind address, or 127.0.0.1 when bound to every interface (0.0.0.0 / ::
    // is not an address a browser opens). helfy sets HELFY_WEB_HOST (see env.ts); plain compose
    // gets 127.0.0.1 and the port it publishes the web app on. Two plain `${X:-d}`: compose v1
    // does not take a nested default.
    WEB_ORIGIN: `http://\${HELFY_WEB_HOST:-127.0.0.1}:${v('HELFY_WEB_PORT')}`,
    // Only the web container's X-Forwarded-For is believed (see PROXY_NETWORK).
    TRUST_PROXY: proxyAddress('web'),
  },
  command: ['node', '/app/dist/server.js'],
  // Liveness inside the container (no dependency touched); readiness is the host probe below.
  healthcheck: nodeHealthcheck(3000),
  readiness: 'probe',
  probe: 'ready',
  stopGracePeriodS: 10,
};

export const worker: ServiceDef = {
  name: 'worker',
  summary: 'Temporal worker of the API (same image, dist/worker.js)',
  kind: 'daemon',
  imageSetting: 'HELFY_NODE_IMAGE',
  imageFrom: 'api',
  stage: 2,
  dependsOn: { postgres: 'healthy', temporal: 'serving' },
  ports: [],
  volumes: [],
  environment: {
    HELFY_SERVICE: 'worker',
    HEALTH_PORT: String(WORKER_HEALTH_PORT),
    ...appEnvironment,
  },
  command: ['node', '/app/dist/worker.js'],
  // 200 only while its Temporal worker runs (connected, polling the task queue).
  healthcheck: nodeHealthcheck(WORKER_HEALTH_PORT),
  readiness: 'docker-health',
  stopGracePeriodS: 10,
};

export const web: ServiceDef = {
  name: 'web',
  summary: 'Helfy web app (Vike + React; apps/web, else templates/web)',
  kind: 'daemon',
  imageSetting: 'HELFY_NODE_IMAGE',
  build: { context: 'templates/web', tagVar: 'HELFY_WEB_IMAGE_TAG' },
  stage: 2,
  dependsOn: { api: 'started' },
  ports: [{ config: 'web', setting: 'HELFY_WEB_PORT', container: 3000, scheme: 'http', label: 'Web app' }],
  volumes: [],
  environment: { PORT: '3000', HELFY_SERVICE: 'web', API_URL: 'http://api:3000' },
  healthcheck: nodeHealthcheck(3000),
  readiness: 'docker-health',
  probe: 'health',
  stopGracePeriodS: 10,
};
