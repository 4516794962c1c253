/**
 * The api, worker and web services, built from templates/api and templates/web on the Node base
 * image (HELFY_NODE_IMAGE, passed as a build argument). Their image tag is `helfy-local/<svc>:<tag>`,
 * where helfy sets the tag to a hash of the template files and the base image, so a changed
 * template or base image gets a fresh build without `--build` (plain compose users get `dev`).
 *
 * The worker (Temporal worker of the API: prebundled workflows, activities on helfy_app) runs the
 * api image with its own entrypoint, so it is built once. Both need PostgreSQL healthy (the
 * bootstrap created their role) and Temporal serving; the API also Neo4j. Compose only orders the
 * start for the `serving` ones and the processes connect with retry; `helfy up` waits for the
 * API's readiness (`/health/ready`, through the published port) and the worker's own health.
 */
import type { HealthcheckSpec, ServiceDef } from '../types.js';
import { secret, v } from './vars.js';

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
  summary: 'Helfy API (templates/api: Hono + Drizzle)',
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
    // The origin the browser loads the web app from (CORS allows only that one).
    WEB_ORIGIN: `http://${v('HELFY_BIND_ADDRESS')}:${v('HELFY_WEB_PORT')}`,
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
  summary: 'Helfy web app (templates/web)',
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
