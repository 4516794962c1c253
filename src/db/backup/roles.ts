/**
 * After `helfy restore` applied a backup's roles: the three helfy roles get the passwords of
 * .env again (as SCRAM verifiers, the same way `helfy db bootstrap` sets them), so the API and
 * Temporal, started again on the restored data, authenticate with what their containers hold.
 */
import type { HelfyConfig } from '../../config/load.js';
import { passwordMatches, scramVerifier } from '../postgres/bootstrap.js';
import { pgConnectionFor, quoteIdent, quoteLiteral, ROLE_API, ROLE_OWNER, ROLE_TEMPORAL, withClient } from '../postgres/connection.js';

/** The roles whose passwords .env owns (the superuser helfy connects as first). */
export function envManagedRoles(cfg: HelfyConfig): string[] {
  return [cfg.postgres.superuser, ROLE_OWNER, ROLE_API, ROLE_TEMPORAL];
}

/** Sets the .env password of each helfy role that exists and does not match it; returns their names. */
export async function applyEnvRolePasswords(cfg: HelfyConfig): Promise<string[]> {
  const roles = [
    { name: ROLE_OWNER, password: cfg.postgres.appOwnerPassword },
    { name: ROLE_API, password: cfg.postgres.appPassword },
    { name: ROLE_TEMPORAL, password: cfg.postgres.temporalPassword },
  ].filter((r) => r.password);
  return withClient(pgConnectionFor(cfg, 'superuser'), async (c) => {
    const res = await c.query<{ rolname: string; rolpassword: string | null }>('SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1::name[])', [roles.map((r) => r.name)]);
    const changed: string[] = [];
    for (const r of roles) {
      const row = res.rows.find((x) => x.rolname === r.name);
      if (!row || passwordMatches(row.rolpassword, r.name, r.password)) continue;
      await c.query(`ALTER ROLE ${quoteIdent(r.name)} PASSWORD ${quoteLiteral(scramVerifier(r.password))}`);
      changed.push(r.name);
    }
    return changed;
  });
}
