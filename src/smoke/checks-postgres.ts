/** The `postgres` checks of `helfy smoke`: the API role's round trip, timescaledb, migrations. */
import type { HelfyConfig } from '../config/load.js';
import { SkipCheck, type CheckDef } from './scheduler.js';

/** helfy_app as `postgresStatus` describes it (absent when it is not listed). */
export interface AppDatabaseView {
  exists: boolean;
  timescaledb: string | null;
}

/** timescaledb on helfy_app: its version; an Error when required (or the database is missing); else a skip. */
export function timescaleVerdict(app: AppDatabaseView | undefined, mode: HelfyConfig['timescale']): string {
  if (!app?.exists) throw new Error('database helfy_app does not exist (run `helfy db bootstrap`)');
  if (app.timescaledb) return `timescaledb ${app.timescaledb}`;
  if (mode === 'required') throw new Error('timescaledb is not installed on helfy_app (HELFY_TIMESCALE=required)');
  throw new SkipCheck('timescaledb absent; HELFY_TIMESCALE=optional (plain tables)');
}

/** The PostgreSQL migration status: how many are applied, or an Error listing those that are not. */
export function migrationsVerdict(postgres: readonly { tag: string; state: string }[] | undefined): string {
  const bad = (postgres ?? []).filter((m) => m.state !== 'applied');
  if (bad.length) throw new Error(`${bad.length} migration(s) not applied: ${bad.map((m) => `${m.tag} (${m.state})`).join(', ')}`);
  return `${postgres?.length ?? 0} applied`;
}

export function postgresRoundtripCheck(cfg: HelfyConfig, email: string, timeoutMs: number): CheckDef {
  return {
    id: 'postgres.roundtrip', group: 'postgres', name: 'helfy_api writes and reads back a row in a rolled-back transaction', timeoutMs, service: 'postgres',
    async run() {
      const { apiRoleRoundTrip } = await import('../db/smoke.js');
      const row = await apiRoleRoundTrip(cfg, `roundtrip-${email}`, timeoutMs);
      return `wrote and read back users row ${row.id}, rolled back`;
    },
  };
}

export function timescaleCheck(cfg: HelfyConfig, timeoutMs: number): CheckDef {
  return {
    id: 'postgres.timescaledb', group: 'postgres', name: 'timescaledb on helfy_app (when required)', timeoutMs, service: 'postgres',
    async run() {
      const { postgresStatus } = await import('../db/postgres/bootstrap.js');
      const app = (await postgresStatus(cfg)).databases.find((d) => d.purpose === 'app');
      return timescaleVerdict(app, cfg.timescale);
    },
  };
}

export function migrationsCheck(cfg: HelfyConfig, timeoutMs: number): CheckDef {
  return {
    id: 'postgres.migrations', group: 'postgres', name: 'PostgreSQL migrations up to date', timeoutMs, service: 'postgres',
    async run() {
      const { migrationStatus } = await import('../db/orchestrate.js');
      const { postgres } = await migrationStatus(cfg, ['postgres']);
      return migrationsVerdict(postgres);
    },
  };
}

/** The postgres group, in report order; the round trip's row is named after the throwaway user's email. */
export function postgresChecks(cfg: HelfyConfig, email: string, timeoutMs: number): CheckDef[] {
  return [postgresRoundtripCheck(cfg, email, timeoutMs), timescaleCheck(cfg, timeoutMs), migrationsCheck(cfg, timeoutMs)];
}
