/**
 * Temporal in its current layout (the `temporalio/auto-setup` image is deprecated):
 *  - `temporal-schema`: a one-shot job on `temporalio/admin-tools` that sets up and updates the
 *    schemas of two databases with temporal-sql-tool. The visibility tables cannot share the
 *    main database (both use `schema_version`, temporal#7657). The databases and the
 *    `helfy_temporal` role that owns them are created by helfy's PostgreSQL bootstrap, so the job
 *    connects as that role, never as the superuser. `setup-schema -v 0.0` is idempotent (it
 *    leaves a newer version alone) and `update-schema` applies only what is missing, so the job
 *    runs at every `up`.
 *  - `temporal`: `temporalio/server` with its env contract (DB=postgres12, DBNAME,
 *    VISIBILITY_DBNAME, POSTGRES_SEEDS, POSTGRES_USER, POSTGRES_PWD), started once the schema job
 *    completed successfully.
 *  - `temporal-ui`: optional (`ui` profile): `helfy up temporal-ui`.
 *
 * Health of `temporal`: healthy means the frontend's gRPC health for
 * temporal.api.workflowservice.v1.WorkflowService answers SERVING; an open port 7233 is not
 * enough. The official server image ships only temporal-server on Alpine (no gRPC client, no
 * CLI), so a Docker healthcheck cannot check that inside the container; helfy checks it from the
 * host through the published port (readiness `probe`). If the image declares a HEALTHCHECK of its
 * own, that must pass as well.
 */
import type { ServiceDef } from '../types.js';
import { secret, TEMPORAL_DB, TEMPORAL_ROLE, TEMPORAL_VISIBILITY_DB, v } from './vars.js';

/** temporal-sql-tool over both databases; schema dirs as laid out in the admin-tools image. */
const SCHEMA_SCRIPT = [
  'set -eu',
  'base="$${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema}/postgresql/v12"',
  'for pair in "$$DBNAME:temporal" "$$VISIBILITY_DBNAME:visibility"; do',
  '  db="$${pair%%:*}"; kind="$${pair##*:}"',
  '  echo "temporal-schema: $$db ($$kind)"',
  '  temporal-sql-tool --db "$$db" setup-schema -v 0.0',
  '  temporal-sql-tool --db "$$db" update-schema -d "$$base/$$kind/versioned"',
  'done',
  'echo "temporal-schema: done"',
].join('\n');

export const temporalSchema: ServiceDef = {
  name: 'temporal-schema',
  summary: 'One-shot job: Temporal schemas (temporal-sql-tool setup-schema + update-schema)',
  kind: 'job',
  imageSetting: 'HELFY_TEMPORAL_ADMIN_TOOLS_IMAGE',
  stage: 2,
  dependsOn: { postgres: 'healthy' },
  ports: [],
  volumes: [],
  environment: {
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: 'postgres',
    SQL_PORT: '5432',
    SQL_USER: TEMPORAL_ROLE,
    SQL_PASSWORD: secret('HELFY_TEMPORAL_DB_PASSWORD'),
    DBNAME: TEMPORAL_DB,
    VISIBILITY_DBNAME: TEMPORAL_VISIBILITY_DB,
  },
  entrypoint: ['/bin/sh', '-c'],
  command: [SCHEMA_SCRIPT],
  readiness: 'completed',
  restart: 'no',
};

export const temporal: ServiceDef = {
  name: 'temporal',
  summary: 'Temporal server (frontend, history, matching, worker)',
  kind: 'daemon',
  imageSetting: 'HELFY_TEMPORAL_IMAGE',
  stage: 2,
  dependsOn: { postgres: 'healthy', 'temporal-schema': 'completed' },
  ports: [{ config: 'temporal', setting: 'HELFY_TEMPORAL_PORT', container: 7233, scheme: 'grpc', label: 'Temporal gRPC' }],
  volumes: [],
  environment: {
    DB: 'postgres12',
    DB_PORT: '5432',
    DBNAME: TEMPORAL_DB,
    VISIBILITY_DBNAME: TEMPORAL_VISIBILITY_DB,
    POSTGRES_SEEDS: 'postgres',
    POSTGRES_USER: TEMPORAL_ROLE,
    POSTGRES_PWD: secret('HELFY_TEMPORAL_DB_PASSWORD'),
    // Listen on every interface of the container so the published port reaches the frontend.
    BIND_ON_IP: '0.0.0.0',
    // Server images from 1.30 on ship no dynamic config file and exit without one.
    DYNAMIC_CONFIG_FILE_PATH: 'config/dynamicconfig/helfy.yaml',
    // The frontend runs without an authorizer (a local stack on loopback); 1.31 warns that later
    // versions refuse to start that way unless it is said explicitly.
    TEMPORAL_ALLOW_NO_AUTH: 'true',
  },
  // Mounted from the workspace copy (.helfy/temporal/dynamicconfig, written by `helfy up`).
  configMounts: [{ source: './temporal/dynamicconfig', target: '/etc/temporal/config/dynamicconfig', dirVar: 'HELFY_TEMPORAL_CONFIG_DIR' }],
  readiness: 'probe',
  probe: 'temporal',
  stopGracePeriodS: 20,
};

export const temporalUi: ServiceDef = {
  name: 'temporal-ui',
  summary: 'Temporal Web UI (optional: helfy up temporal-ui)',
  kind: 'daemon',
  imageSetting: 'HELFY_TEMPORAL_UI_IMAGE',
  profile: 'ui',
  stage: 2,
  dependsOn: { temporal: 'started' },
  ports: [{ config: 'temporalUi', setting: 'HELFY_TEMPORAL_UI_PORT', container: 8080, scheme: 'http', label: 'Temporal UI' }],
  volumes: [],
  environment: {
    TEMPORAL_ADDRESS: 'temporal:7233',
    TEMPORAL_UI_PORT: '8080',
    // Open on helfy's namespace rather than `default` (which helfy never registers).
    TEMPORAL_DEFAULT_NAMESPACE: v('HELFY_TEMPORAL_NAMESPACE'),
    // Served over plain http on loopback: a Secure CSRF cookie would never be sent back, and
    // every action of the UI would fail its CSRF check.
    TEMPORAL_CSRF_COOKIE_INSECURE: 'true',
  },
  readiness: 'probe',
  probe: 'http',
};
