/**
 * The roles step of `helfy restore` on a real PostgreSQL 15 (tests/support/services): the
 * globals of a real `pg_dumpall --globals-only` taken before the passwords in .env changed,
 * rewritten by idempotentGlobals and applied as restore does, must leave the superuser and the
 * helfy roles on .env's passwords, keep the backup's hash for a role of the user's own, and give a
 * helfy role the backup re-created (absent before) .env's password.
 */
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotentGlobals } from '../../src/backup/plan.js';
import { scratchDatabaseGone, scratchSuffix } from '../../src/backup/lock.js';
import { dropScratchDatabases } from '../../src/db/backup/figures.js';
import { applyEnvRolePasswords, envManagedRoles } from '../../src/db/backup/roles.js';
import type { HelfyConfig } from '../../src/config/load.js';
import { startPostgres, type PostgresServer } from '../support/services/index.js';
import { makeConfig, tryConnect, withPg } from '../db/postgres/fixtures.js';

let pgs: PostgresServer;
beforeAll(async () => {
  pgs = await startPostgres();
}, 120_000);
afterAll(async () => {
  await pgs?.stop();
});

const conn = (user: string, password: string) => ({ host: pgs.host, port: pgs.port, user, password, database: 'postgres' });

describe('restore: roles from the backup, passwords from .env', () => {
  it('a backup taken before the passwords were rotated does not lock helfy, the API or Temporal out', async () => {
    const old = makeConfig(pgs);
    const su = (sql: string, cfg: HelfyConfig = old) => withPg(conn(cfg.postgres.superuser, cfg.postgres.superuserPassword), (c) => c.query(sql));
    // As restore applies it: psql with ON_ERROR_STOP (the dump has psql meta-commands such as \restrict).
    const psql = (sql: string, cfg: HelfyConfig) => execa(`${pgs.binDir}/psql`, ['-v', 'ON_ERROR_STOP=1', '-X', '-q', '-h', pgs.host, '-p', String(pgs.port), '-U', cfg.postgres.superuser, '-d', 'postgres'], { input: sql, env: { PGPASSWORD: cfg.postgres.superuserPassword } });
    const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
    // The cluster at backup time: the helfy roles with the old .env passwords, plus a role of the user's own.
    await su(`CREATE ROLE helfy_owner LOGIN PASSWORD ${lit(old.postgres.appOwnerPassword)};
              CREATE ROLE helfy_api LOGIN PASSWORD ${lit(old.postgres.appPassword)};
              CREATE ROLE helfy_temporal LOGIN PASSWORD ${lit(old.postgres.temporalPassword)};
              CREATE ROLE reporting LOGIN PASSWORD 'reporting-pw';`);
    const dump = await execa(`${pgs.binDir}/pg_dumpall`, ['--globals-only', '-h', pgs.host, '-p', String(pgs.port), '-U', pgs.user, '-l', 'postgres'], { env: { PGPASSWORD: pgs.password } });
    const globals = dump.stdout;
    // What made the bug: the dump sets the superuser's password too.
    expect(globals).toMatch(new RegExp(`^ALTER ROLE ${pgs.user} WITH SUPERUSER .* PASSWORD 'SCRAM-SHA-256\\$`, 'm'));

    // Later: secrets rotated (cluster and .env agree on the new ones); helfy_temporal dropped (say, a fresh cluster lacked it).
    const now: HelfyConfig = { ...old, postgres: { ...old.postgres, superuserPassword: 'su-new', appOwnerPassword: 'owner-new', appPassword: 'api-new', temporalPassword: 'temporal-new' } };
    await su(`ALTER ROLE ${pgs.user} PASSWORD 'su-new'; ALTER ROLE helfy_owner PASSWORD 'owner-new'; ALTER ROLE helfy_api PASSWORD 'api-new';
              DROP ROLE helfy_temporal; DROP ROLE reporting;`);

    // The restore's roles step: the rewritten globals, then .env's passwords.
    const rewritten = idempotentGlobals(globals, envManagedRoles(now));
    expect(rewritten).not.toMatch(new RegExp(`^ALTER ROLE (${pgs.user}|helfy_owner|helfy_api|helfy_temporal) .*PASSWORD`, 'm'));
    expect(rewritten).toMatch(/^ALTER ROLE reporting WITH .*PASSWORD 'SCRAM-SHA-256\$/m);
    await psql(rewritten, now);
    expect(await applyEnvRolePasswords(now)).toEqual(['helfy_temporal']);
    expect(await applyEnvRolePasswords(now)).toEqual([]);

    expect(await tryConnect(conn(pgs.user, 'su-new'))).toBe('ok');
    expect(await tryConnect(conn('helfy_owner', 'owner-new'))).toBe('ok');
    expect(await tryConnect(conn('helfy_api', 'api-new'))).toBe('ok');
    expect(await tryConnect(conn('helfy_temporal', 'temporal-new'))).toBe('ok');
    expect(await tryConnect(conn('helfy_api', old.postgres.appPassword))).toMatchObject({ code: '28P01' });
    // The user's own role comes back with the backup's password.
    expect(await tryConnect(conn('reporting', 'reporting-pw'))).toBe('ok');
    // Without the rewrite (the old behaviour) the superuser would be back on the backup's password.
    await psql(idempotentGlobals(globals), now);
    expect(await tryConnect(conn(pgs.user, 'su-new'))).toMatchObject({ code: '28P01' });
    expect(await tryConnect(conn(pgs.user, pgs.password))).toBe('ok');
  }, 60_000);

  it('scratch databases of a killed `verify --restore-test` (its pid gone) are dropped; a live one\'s and other names stay', async () => {
    const cfg = makeConfig(pgs);
    const dead = execa('node', ['-e', '']);
    const deadPid = dead.pid!;
    await dead;
    const mine = `helfy_verify_app_${scratchSuffix()}`;
    const gone = `helfy_verify_temporal_${scratchSuffix().replace(`_${process.pid}_`, `_${deadPid}_`)}`;
    const foreignHost = `helfy_verify_app_zzzzzz_${deadPid}_abc`;
    const other = 'helfy_verify_notes';
    for (const n of [mine, gone, foreignHost, other]) await withPg(conn(pgs.user, pgs.password), (c) => c.query(`CREATE DATABASE "${n}"`));
    expect(await dropScratchDatabases(cfg, scratchDatabaseGone)).toEqual([gone]);
    const left = await withPg(conn(pgs.user, pgs.password), (c) => c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'helfy_verify%' ORDER BY 1"));
    expect(left.rows.map((r) => r.datname)).toEqual([mine, foreignHost, other].sort());
  }, 60_000);
});
