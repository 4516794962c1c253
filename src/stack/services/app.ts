/**
 * The api and web services, built from templates/api and templates/web on the Node base image
 * (HELFY_NODE_IMAGE, passed as a build argument). Their image tag is `helfy-local/<svc>:<tag>`,
 * where helfy sets the tag to a hash of the template files and the base image, so a changed
 * template or base image gets a fresh build without `--build` (plain compose users get `dev`).
 */
import type { ServiceDef } from '../types.js';
import { secret } from './vars.js';

function nodeHealthcheck(port: number) {
  return {
    // Node is the only tool the base image is sure to have; fetch is built into Node >= 18.
    test: ['CMD', 'node', '-e', `fetch('http://127.0.0.1:${port}/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`],
    intervalS: 2,
    timeoutS: 5,
    retries: 30,
    startPeriodS: 60,
  };
}

export const api: ServiceDef = {
  name: 'api',
  summary: 'Helfy API (templates/api)',
  kind: 'daemon',
  imageSetting: 'HELFY_NODE_IMAGE',
  build: { context: 'templates/api', tagVar: 'HELFY_API_IMAGE_TAG' },
  stage: 2,
  dependsOn: { postgres: 'healthy' },
  ports: [{ config: 'api', setting: 'HELFY_API_PORT', container: 3000, scheme: 'http', label: 'API' }],
  volumes: [],
  environment: {
    PORT: '3000',
    HELFY_SERVICE: 'api',
    DATABASE_URL: `postgres://helfy_api:${secret('HELFY_APP_PASSWORD')}@postgres:5432/helfy_app`,
    NEO4J_URL: 'bolt://neo4j:7687',
    TEMPORAL_ADDRESS: 'temporal:7233',
    JWT_SECRET: secret('HELFY_JWT_SECRET'),
  },
  healthcheck: nodeHealthcheck(3000),
  readiness: 'docker-health',
  probe: 'http',
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
  probe: 'http',
  stopGracePeriodS: 10,
};
