/**
 * bootstrapPostgres / postgresStatus against a real PostgreSQL 15. The shared server is Debian's
 * own without TimescaleDB (startPostgres({ timescale: false })), so 'optional' continues with a
 * warning and 'required' is refused; the concurrent-bootstrap test runs on a server with real
 * TimescaleDB, where the extension is created once in helfy_app. Every privilege rule is tried
 * by connecting as the role itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOTSTRAP_LOCK_KEY, bootstrapPostgres, passwordMatches, postgresStatus, scramVerifier } from '../../../src/db/postgres/bootstrap.js';
import { pgConnectionFor } from '../../../src/db/postgres/connection.js';
import { HelfyError } from '../../../src/core/errors.js';
import { makeConfig, recordingLogger, tryConnect, trySql, withPg } from './fixtures.js';
import { startPostgres } from './servers.js';

type Server = Awaited<ReturnType<typeof startPostgres>>;
let server: Server;

beforeAll(async () => {
  server = await startPostgres({ timescale: false });
  // What the timescale images do: something installed into template1. The Temporal databases
  // must not inherit it (FROM template0); helfy_app may.
  await withPg(server.url.replace(/\/postgres$/, '/template1'), (c) => c.query('CREATE TABLE template_marker (x int)'));
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('scram verifier', () => {
  it('matches its own password and nothing else', () => {
    const v = scramVerifier('s3cret');
    expect(v).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(passwordMatches(v, 'r', 's3cret')).toBe(true);
    expect(passwordMatches(v, 'r', 's3cret ')).toBe(false);
    expect(passwordMatches(null, 'r', 's3cret')).toBe(false);
  });
});

describe('bootstrapPostgres', () => {
  it("refuses with TIMESCALE_MISSING when timescale is 'required' and the server lacks it, before changing anything", async () => {
    const cfg = makeConfig(server, { timescale: 'required', image: 'postgres:16-alpine' });
    const err = await bootstrapPostgres(cfg, recordingLogger()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HelfyError);
    const he = err as HelfyError;
    expect(he.code).toBe('TIMESCALE_MISSING');
    expect(he.exitCode).toBe(3);
    expect(he.message).toContain('postgres:16-alpine');
    expect(he.hint).toContain('timescale/timescaledb-ha');
    expect(he.hint).toContain('HELFY_TIMESCALE=optional');
    const roles = await withPg(server.url, (c) => c.query(`SELECT rolname FROM pg_roles WHERE rolname LIKE 'helfy%'`));
    expect(roles.rows).toEqual([]);
  });

  const cfg = () => sharedCfg;
  let sharedCfg: ReturnType<typeof makeConfig>;

  it('creates roles, databases and privileges, warning once that TimescaleDB is absent (optional)', async () => {
    sharedCfg = makeConfig(server, { timescale: 'optional' });
    const log = recordingLogger();
    const report = await bootstrapPostgres(cfg(), log);
    expect(report.changed).toBe(true);
    expect(report.timescale).toEqual({ present: false });
    expect(report.roles).toEqual([
      { name: 'helfy_owner', created: true },
      { name: 'helfy_api', created: true },
      { name: 'helfy_temporal', created: true },
    ]);
    expect(report.databases).toEqual([
      { name: 'helfy_app', owner: 'helfy_owner', created: true },
      { name: 'helfy_temporal', owner: 'helfy_temporal', created: true },
      { name: 'helfy_temporal_visibility', owner: 'helfy_temporal', created: true },
    ]);
    const actions = report.changes.map((c) => `${c.object}: ${c.action}`);
    expect(actions).toContain('database helfy_temporal: created (owner helfy_temporal, FROM template0)');
    expect(actions).toContain('database helfy_app: REVOKE ALL (CONNECT, TEMPORARY) FROM PUBLIC');
    expect(actions).toContain('database helfy_app: GRANT CONNECT TO helfy_api');
    expect(actions).toContain('schema helfy_app.public: REVOKE ALL FROM PUBLIC');
    expect(actions).toContain('database postgres: REVOKE ALL (CONNECT, TEMPORARY) FROM PUBLIC');
    expect(actions).toContain('database template1: REVOKE ALL (CONNECT, TEMPORARY) FROM PUBLIC');
    expect(log.of('warn')).toHaveLength(1);
    expect(log.of('warn')[0]).toMatch(/timescaledb/);
  });

  it('changes nothing on the second run and says so', async () => {
    const log = recordingLogger();
    const report = await bootstrapPostgres(cfg(), log);
    expect(report.changes).toEqual([]);
    expect(report.changed).toBe(false);
    expect(report.roles.every((r) => !r.created)).toBe(true);
    expect(report.databases.every((d) => !d.created)).toBe(true);
    expect(log.of('success').join('\n')).toMatch(/nothing changed/);
  });

  it('created the Temporal databases from template0 and helfy_app from template1', async () => {
    const sup = (db: string) => pgConnectionFor(cfg(), 'superuser', db);
    const marker = (db: string) => withPg(sup(db), (c) => c.query(`SELECT to_regclass('public.template_marker') AS t`)).then((r) => r.rows[0].t);
    expect(await marker('helfy_temporal')).toBeNull();
    expect(await marker('helfy_temporal_visibility')).toBeNull();
    expect(await marker('helfy_app')).toBe('template_marker');
  });

  it('roles: LOGIN, no SUPERUSER/CREATEDB/CREATEROLE, passwords from the config', async () => {
    const r = await withPg(server.url, (c) =>
      c.query(`SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication FROM pg_roles WHERE rolname LIKE 'helfy%' ORDER BY 1`),
    );
    expect(r.rows).toEqual(
      ['helfy_api', 'helfy_owner', 'helfy_temporal'].map((rolname) => ({ rolname, rolcanlogin: true, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false })),
    );
  });

  describe('privileges, tried as each role', () => {
    const as = (role: 'owner' | 'api' | 'temporal', db?: string) => pgConnectionFor(cfg(), role, db);

    it('helfy_temporal cannot connect to helfy_app; helfy_owner and helfy_api cannot connect to the Temporal databases', async () => {
      for (const [role, db] of [
        ['temporal', 'helfy_app'],
        ['owner', 'helfy_temporal'],
        ['owner', 'helfy_temporal_visibility'],
        ['api', 'helfy_temporal'],
        ['api', 'helfy_temporal_visibility'],
      ] as const) {
        const r = await tryConnect(as(role, db));
        expect(r, `${role} -> ${db}`).not.toBe('ok');
        expect(r === 'ok' ? '' : r.code, `${role} -> ${db}`).toBe('42501');
        expect(r === 'ok' ? '' : r.message).toMatch(/permission denied for database/);
      }
      for (const [role, db] of [
        ['owner', 'helfy_app'],
        ['api', 'helfy_app'],
        ['temporal', 'helfy_temporal'],
        ['temporal', 'helfy_temporal_visibility'],
      ] as const) {
        expect(await tryConnect(as(role, db)), `${role} -> ${db}`).toBe('ok');
      }
    });

    it('only the superuser can connect to the maintenance databases postgres and template1', async () => {
      for (const role of ['owner', 'api', 'temporal'] as const) {
        for (const db of ['postgres', 'template1']) {
          const r = await tryConnect(as(role, db));
          expect(r === 'ok' ? 'ok' : r.code, `${role} -> ${db}`).toBe('42501');
          expect(r === 'ok' ? '' : r.message, `${role} -> ${db}`).toBe(`permission denied for database "${db}"`);
        }
      }
      await withPg(server.url, async (c) => {
        expect((await c.query('SELECT current_database() AS db')).rows).toEqual([{ db: 'postgres' }]);
        // PUBLIC has nothing left on either; CREATE DATABASE still copies template1 (no CONNECT needed).
        const acl = await c.query<{ datname: string; pub: boolean }>(
          `SELECT datname, has_database_privilege('public'::name, datname, 'CONNECT') OR has_database_privilege('public'::name, datname, 'TEMPORARY') AS pub
             FROM pg_database WHERE datname IN ('postgres', 'template1') ORDER BY datname`,
        );
        expect(acl.rows).toEqual([{ datname: 'postgres', pub: false }, { datname: 'template1', pub: false }]);
        await c.query('CREATE DATABASE from_template1_probe');
        await c.query('DROP DATABASE from_template1_probe');
      });
    });

    it('no role can create databases or roles', async () => {
      for (const role of ['owner', 'api', 'temporal'] as const) {
        await withPg(as(role), async (c) => {
          expect(await trySql(c, 'CREATE DATABASE nope'), role).toBe('42501');
          expect(await trySql(c, 'CREATE ROLE nope'), role).toBe('42501');
        });
      }
    });

    it('helfy_api cannot create tables, temp tables or schemas; helfy_owner can; helfy_api gets data access to the owner\'s new tables', async () => {
      await withPg(as('api'), async (c) => {
        expect(await trySql(c, 'CREATE TABLE api_table (x int)')).toBe('42501');
        expect(await trySql(c, 'CREATE TABLE public.api_table (x int)')).toBe('42501');
        expect(await trySql(c, 'CREATE TEMP TABLE api_tmp (x int)')).toBe('42501');
        expect(await trySql(c, 'CREATE SCHEMA api_schema')).toBe('42501');
      });
      await withPg(as('owner'), async (c) => {
        expect(await trySql(c, 'CREATE TABLE owner_table (id serial PRIMARY KEY, x int)')).toBe('ok');
      });
      await withPg(as('api'), async (c) => {
        expect(await trySql(c, 'INSERT INTO owner_table (x) VALUES (1)')).toBe('ok'); // also needs USAGE on the sequence
        expect(await trySql(c, 'UPDATE owner_table SET x = 2')).toBe('ok');
        expect((await c.query('SELECT x FROM owner_table')).rows).toEqual([{ x: 2 }]);
        expect(await trySql(c, 'DELETE FROM owner_table')).toBe('ok');
        expect(await trySql(c, 'TRUNCATE owner_table')).toBe('42501');
        expect(await trySql(c, 'DROP TABLE owner_table')).toBe('42501');
        expect(await trySql(c, 'ALTER TABLE owner_table ADD COLUMN y int')).toBe('42501');
      });
      await withPg(as('owner'), (c) => c.query('DROP TABLE owner_table'));
    });

    it('helfy_temporal can create tables in its databases, and they have no timescaledb', async () => {
      for (const db of ['helfy_temporal', 'helfy_temporal_visibility']) {
        await withPg(as('temporal', db), async (c) => {
          expect(await trySql(c, 'CREATE TABLE t_probe (x int)')).toBe('ok');
          expect(await trySql(c, 'DROP TABLE t_probe')).toBe('ok');
          expect((await c.query(`SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'timescaledb'`)).rows[0].n).toBe(0);
        });
      }
    });
  });

  it('repairs drift: a changed password, CREATEDB, a stray CONNECT grant and PUBLIC access', async () => {
    await withPg(server.url, async (c) => {
      await c.query('ALTER ROLE helfy_api CREATEDB NOLOGIN');
      await c.query('GRANT CONNECT ON DATABASE helfy_temporal TO helfy_api');
      await c.query('GRANT CONNECT ON DATABASE helfy_temporal_visibility TO PUBLIC');
      await c.query('GRANT CONNECT ON DATABASE postgres TO helfy_api');
    });
    const before = cfg().postgres.appOwnerPassword;
    sharedCfg = { ...cfg(), postgres: { ...cfg().postgres, appOwnerPassword: 'rotated-owner-password' } };
    const report = await bootstrapPostgres(cfg(), recordingLogger());
    const actions = report.changes.map((c) => `${c.object}: ${c.action}`).sort();
    expect(actions).toEqual(
      [
        'database helfy_temporal: REVOKE ALL FROM helfy_api',
        'database helfy_temporal_visibility: REVOKE ALL (CONNECT, TEMPORARY) FROM PUBLIC',
        'database postgres: REVOKE ALL FROM helfy_api',
        'role helfy_api: LOGIN, NOCREATEDB',
        'role helfy_owner: password updated to match the config',
      ].sort(),
    );
    expect(await tryConnect(pgConnectionFor(cfg(), 'owner'))).toBe('ok');
    const old = await tryConnect({ ...pgConnectionFor(cfg(), 'owner'), password: before });
    expect(old === 'ok' ? 'ok' : old.code).toBe('28P01');
    expect(await tryConnect(pgConnectionFor(cfg(), 'api', 'helfy_temporal'))).not.toBe('ok');
    expect((await bootstrapPostgres(cfg(), recordingLogger())).changed).toBe(false);
  });

  it('postgresStatus reports each database, its owner and the timescaledb extension', async () => {
    const st = await postgresStatus(cfg());
    expect(st.reachable).toBe(true);
    expect(st.serverVersion).toMatch(/^15\./);
    expect(st.timescaleAvailable).toBeNull();
    expect(st.roles.map((r) => [r.name, r.exists, r.canLogin])).toEqual([
      ['helfy_owner', true, true],
      ['helfy_api', true, true],
      ['helfy_temporal', true, true],
    ]);
    expect(st.databases.map((d) => ({ name: d.name, exists: d.exists, owner: d.owner, timescaledb: d.timescaledb, ok: d.ok }))).toEqual([
      { name: 'helfy_app', exists: true, owner: 'helfy_owner', timescaledb: null, ok: true },
      { name: 'helfy_temporal', exists: true, owner: 'helfy_temporal', timescaledb: null, ok: true },
      { name: 'helfy_temporal_visibility', exists: true, owner: 'helfy_temporal', timescaledb: null, ok: true },
    ]);
    const required = await postgresStatus({ ...cfg(), timescale: 'required' });
    expect(required.databases[0]!.ok).toBe(false);
    expect(required.databases[0]!.problems).toEqual(['timescaledb extension missing']);
  });

  it('postgresStatus on an unreachable server says so instead of throwing', async () => {
    const st = await postgresStatus({ ...cfg(), postgres: { ...cfg().postgres, port: 1 } });
    expect(st.reachable).toBe(false);
    expect(st.error).toMatch(/ECONNREFUSED|connect/);
  });

  it('a wrong superuser password is a CONNECTION_FAILED error with a hint', async () => {
    const err = (await bootstrapPostgres({ ...cfg(), postgres: { ...cfg().postgres, superuserPassword: 'wrong' } }, recordingLogger()).catch((e: unknown) => e)) as HelfyError;
    expect(err.code).toBe('CONNECTION_FAILED');
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/password authentication failed/);
    expect(err.hint).toBeTruthy();
  });

  // Two `helfy up` at once on one server: without the lock both read "no helfy_app" and the loser's
  // CREATE DATABASE failed with `duplicate key value violates unique constraint
  // "pg_database_datname_index"` (seen in the native two-ups test in CI).
  it('four bootstraps of a fresh server at once all succeed, and each role and database is created exactly once', async () => {
    const fresh = await startPostgres();
    try {
      const c = makeConfig(fresh, { timescale: 'required' });
      const logs = [0, 1, 2, 3].map(() => recordingLogger());
      const reports = await Promise.all(logs.map((l) => bootstrapPostgres(c, l)));
      for (const name of ['helfy_app', 'helfy_temporal', 'helfy_temporal_visibility']) {
        expect(reports.filter((r) => r.databases.find((d) => d.name === name)?.created)).toHaveLength(1);
      }
      for (const name of ['helfy_owner', 'helfy_api', 'helfy_temporal']) {
        expect(reports.filter((r) => r.roles.find((x) => x.name === name)?.created)).toHaveLength(1);
      }
      expect(reports.filter((r) => r.changed)).toHaveLength(1);
      // TimescaleDB created once, in helfy_app only; every run reports it.
      expect(reports.map((r) => r.timescale)).toEqual(Array(4).fill({ present: true, version: '2.28.3' }));
      const ext = await withPg(fresh.url, (c2) => c2.query(`SELECT datname FROM pg_database WHERE datname LIKE 'helfy%' ORDER BY 1`));
      for (const { datname } of ext.rows) {
        const n = await withPg(fresh.url.replace(/\/postgres$/, `/${datname}`), (c2) => c2.query(`SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'timescaledb'`));
        expect([datname, n.rows[0].n]).toEqual([datname, datname === 'helfy_app' ? 1 : 0]);
      }
      // The others waited, and said so.
      expect(logs.filter((l) => l.of('info').some((m) => /waiting for another bootstrap/.test(m))).length).toBeGreaterThanOrEqual(1);
    } finally {
      await fresh.stop();
    }
  }, 120_000);

  it('gives up with OPERATION_FAILED and a hint when another session keeps the bootstrap lock, changing nothing', async () => {
    await withPg(server.url, async (holder) => {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [BOOTSTRAP_LOCK_KEY.toString()]);
      const drifted = { ...cfg(), postgres: { ...cfg().postgres, appPassword: `changed-${Date.now()}` } };
      const t0 = Date.now();
      const err = (await bootstrapPostgres(drifted, recordingLogger(), 400).catch((e: unknown) => e)) as HelfyError;
      expect(err).toBeInstanceOf(HelfyError);
      expect(err.code).toBe('OPERATION_FAILED');
      expect(err.message).toMatch(/waiting for another bootstrap/);
      expect(err.hint).toMatch(/pg_locks/);
      expect(Date.now() - t0).toBeLessThan(10_000);
      // Nothing was changed while it waited: helfy_api still has its old password.
      expect(await tryConnect({ ...pgConnectionFor(cfg(), 'api') })).toBe('ok');
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [BOOTSTRAP_LOCK_KEY.toString()]);
    });
  });
});
