/**
 * PostgreSQL, on the timescale/timescaledb-ha image. That image declares no VOLUME, runs as
 * uid 1000 and keeps PGDATA at /home/postgres/pgdata/data, so the data volume is mounted at
 * /home/postgres/pgdata. The healthcheck goes through TCP on 127.0.0.1: during the first
 * initdb the entrypoint's temporary server listens on the socket only, so the check does not
 * pass before the real server is up.
 */
import type { ServiceDef } from '../types.js';
import { secret, v } from './vars.js';

export const postgres: ServiceDef = {
  name: 'postgres',
  summary: 'PostgreSQL 16 with TimescaleDB (timescaledb-ha)',
  kind: 'daemon',
  imageSetting: 'HELFY_POSTGRES_IMAGE',
  stage: 1,
  dependsOn: {},
  ports: [{ config: 'postgres', setting: 'HELFY_POSTGRES_PORT', container: 5432, scheme: 'postgres', label: 'PostgreSQL' }],
  volumes: [{ name: 'pgdata', target: '/home/postgres/pgdata', description: 'PostgreSQL data (PGDATA)' }],
  // TimescaleDB's telemetry (on by default in the image) would report to Timescale's servers from
  // every developer's machine; an unknown placeholder setting when the extension is absent.
  command: ['postgres', '-c', 'timescaledb.telemetry_level=off'],
  environment: {
    POSTGRES_USER: v('HELFY_POSTGRES_USER'),
    POSTGRES_PASSWORD: secret('HELFY_POSTGRES_PASSWORD'),
    POSTGRES_DB: 'postgres',
  },
  healthcheck: {
    test: ['CMD-SHELL', 'pg_isready -q -h 127.0.0.1 -p 5432 -U "$${POSTGRES_USER:-postgres}" -d postgres'],
    intervalS: 2,
    timeoutS: 5,
    retries: 30,
    startPeriodS: 60,
  },
  readiness: 'docker-health',
  probe: 'postgres',
  stopGracePeriodS: 30,
};
