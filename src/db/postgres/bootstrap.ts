/**
 * `helfy db bootstrap` for PostgreSQL: roles, databases, privileges and the TimescaleDB extension.
 * Idempotent: every step reads the current state first and changes only what differs, so a second
 * run changes nothing and reports `changed: false`.
 *
 * Layout (one server, three databases):
 *  - helfy_app (owner helfy_owner): application data; the only database with timescaledb.
 *    helfy_owner runs migrations; helfy_api gets data access only: CONNECT, USAGE on schema public,
 *    SELECT/INSERT/UPDATE/DELETE on tables and USAGE on sequences, through default privileges of
 *    helfy_owner so tables created by later migrations are covered. No CREATE/TEMPORARY anywhere.
 *  - helfy_temporal, helfy_temporal_visibility (owner helfy_temporal): created FROM template0,
 *    because the timescale images install timescaledb into template1 and a plain CREATE DATABASE
 *    would inherit it.
 *  - CONNECT is revoked from PUBLIC on all three and granted only as above; on the maintenance
 *    databases `postgres` and `template1` it is revoked from PUBLIC too, so only the superuser
 *    connects there (a helfy role has nothing to do in them).
 * Roles are LOGIN, never SUPERUSER/CREATEDB/CREATEROLE/REPLICATION/BYPASSRLS; their passwords are
 * kept equal to the config. Passwords are sent as SCRAM-SHA-256 verifiers computed here, so the
 * plain text never appears in a statement (server logs, pg_stat_statements).
 *
 * Two bootstraps of one server at once (two `helfy up` in parallel, CI jobs sharing a server)
 * take turns on a session-level advisory lock held on its own connection for the whole run: the
 * second then finds everything in place. Without it both read "no helfy_app" and the loser's
 * CREATE DATABASE fails on pg_database's unique index.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import type { HelfyConfig } from '../../config/load.js';
import type { Logger } from '../../core/context.js';
import { HelfyError } from '../../core/errors.js';
import { BOOTSTRAP_LOCK_KEY, MAINTENANCE_DBS } from './names.js';
import {
  APP_DB,
  ROLE_API,
  ROLE_OWNER,
  ROLE_TEMPORAL,
  TEMPORAL_DB,
  TEMPORAL_VISIBILITY_DB,
  connect,
  describeConnection,
  pgConnectionFor,
  quoteIdent,
  quoteLiteral,
  withClient,
} from './connection.js';

export interface BootstrapChange {
  /** What was touched: `role helfy_api`, `database helfy_app`, `schema helfy_app.public`, ... */
  object: string;
  /** What was done, in words: `created`, `password updated`, `REVOKE CONNECT FROM PUBLIC`, ... */
  action: string;
}

export interface BootstrapReport {
  /** False when the run found everything in place (second run). */
  changed: boolean;
  changes: BootstrapChange[];
  server: { version: string };
  roles: { name: string; created: boolean }[];
  databases: { name: string; owner: string; created: boolean }[];
  timescale: { present: boolean; version?: string };
}

interface RoleSpec {
  name: string;
  password: string;
}

const DATA_PRIVS = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;

export { BOOTSTRAP_LOCK_KEY, MAINTENANCE_DBS } from './names.js';
/** How long a bootstrap waits for another one on the same server before it gives up. */
export const BOOTSTRAP_LOCK_TIMEOUT_MS = 120_000;

export async function bootstrapPostgres(cfg: HelfyConfig, log: Logger, lockTimeoutMs = BOOTSTRAP_LOCK_TIMEOUT_MS): Promise<BootstrapReport> {
  // The lock connection ends with the run (and with the process, even on kill -9), releasing it.
  const conn = pgConnectionFor(cfg, 'superuser');
  return withClient(conn, async (lock) => {
    await takeBootstrapLock(lock, lockTimeoutMs, describeConnection(conn), log);
    return bootstrapLocked(cfg, log);
  });
}

async function takeBootstrapLock(c: pg.Client, timeoutMs: number, server: string, log: Logger): Promise<void> {
  const key = BOOTSTRAP_LOCK_KEY.toString();
  // The lock lives as long as this session: a server- or role-wide statement_timeout must not cut
  // the wait short with a bare "canceling statement", nor idle_session_timeout (PostgreSQL 14+)
  // end the idle session, and the lock with it, while the bootstrap runs on other connections.
  await c.query(`SET statement_timeout = 0`);
  await c.query(`SET idle_session_timeout = 0`).catch((e: { code?: string }) => {
    if (e.code !== '42704') throw e; // unrecognized parameter: a server before 14 has none
  });
  const free = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]);
  if (free.rows[0]?.ok) return;
  log.info('waiting for another bootstrap of this PostgreSQL server to finish');
  await c.query(`SET lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
  try {
    await c.query('SELECT pg_advisory_lock($1::bigint)', [key]);
  } catch (e) {
    if ((e as { code?: string }).code !== '55P03') throw e;
    throw new HelfyError('OPERATION_FAILED', `gave up after ${Math.round(timeoutMs / 1000)} s waiting for another bootstrap of PostgreSQL at ${server} to finish`, {
      hint: 'Another `helfy up` / `helfy db bootstrap` (or a stuck session) holds the bootstrap lock; see pg_locks and pg_stat_activity.',
    });
  } finally {
    await c.query('RESET lock_timeout').catch(() => {});
  }
}

async function bootstrapLocked(cfg: HelfyConfig, log: Logger): Promise<BootstrapReport> {
  const changes: BootstrapChange[] = [];
  const change = (object: string, action: string) => {
    changes.push({ object, action });
    log.info(`${object}: ${action}`);
  };
  const superConn = pgConnectionFor(cfg, 'superuser');
  const roles: RoleSpec[] = [
    { name: ROLE_OWNER, password: cfg.postgres.appOwnerPassword },
    { name: ROLE_API, password: cfg.postgres.appPassword },
    { name: ROLE_TEMPORAL, password: cfg.postgres.temporalPassword },
  ];
  for (const r of roles) {
    if (!r.password) throw new HelfyError('CONFIG_INVALID', `no password configured for PostgreSQL role ${r.name}`, { hint: 'Run `helfy init --force` to generate missing secrets.' });
  }

  const report: BootstrapReport = { changed: false, changes, server: { version: '' }, roles: [], databases: [], timescale: { present: false } };

  await withClient(superConn, async (c) => {
    const me = await c.query<{ rolsuper: boolean; version: string; preload: string }>(
      `SELECT rolsuper, current_setting('server_version') AS version, current_setting('shared_preload_libraries') AS preload
         FROM pg_roles WHERE rolname = current_user`,
    );
    const info = me.rows[0];
    report.server.version = info?.version ?? '';
    if (!info?.rolsuper) {
      throw new HelfyError('CONFIG_INVALID', `PostgreSQL user ${cfg.postgres.superuser} is not a superuser`, {
        hint: 'HELFY_POSTGRES_USER must be the server\'s superuser (the image\'s POSTGRES_USER).',
      });
    }

    // TimescaleDB first, before changing anything: with `required`, a server without it is refused.
    const avail = await c.query<{ default_version: string }>(`SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'`);
    const preloaded = /(^|[\s,])timescaledb($|[\s,])/.test(info.preload);
    const missingReason = !avail.rows[0]
      ? 'the timescaledb extension is not available (pg_available_extensions lacks it)'
      : !preloaded
        ? 'timescaledb is installed but not in shared_preload_libraries'
        : undefined;
    if (missingReason && cfg.timescale === 'required') {
      throw new HelfyError('TIMESCALE_MISSING', `PostgreSQL at ${describeConnection(superConn)} (image ${cfg.images.postgres}): ${missingReason}`, {
        hint: 'Use a TimescaleDB image such as timescale/timescaledb-ha:pg16 (HELFY_POSTGRES_IMAGE), or set HELFY_TIMESCALE=optional to run on plain PostgreSQL without hypertables.',
        data: { image: cfg.images.postgres },
      });
    }
    if (missingReason) log.warn(`${missingReason}; continuing without TimescaleDB (HELFY_TIMESCALE=optional): time-series tables stay plain tables`);

    for (const r of roles) report.roles.push({ name: r.name, created: await ensureRole(c, r, change) });
    await ensureNoMembership(c, roles.map((r) => r.name), change);

    report.databases.push(await ensureDatabase(c, APP_DB, ROLE_OWNER, undefined, change));
    for (const db of [TEMPORAL_DB, TEMPORAL_VISIBILITY_DB]) report.databases.push(await ensureDatabase(c, db, ROLE_TEMPORAL, 'template0', change));

    await ensureConnect(c, APP_DB, [ROLE_API], [ROLE_TEMPORAL], change);
    for (const db of [TEMPORAL_DB, TEMPORAL_VISIBILITY_DB]) await ensureConnect(c, db, [], [ROLE_OWNER, ROLE_API], change);
    // The maintenance databases: only the superuser (who bypasses the check) connects there.
    for (const db of MAINTENANCE_DBS) await ensureConnect(c, db, [], [ROLE_OWNER, ROLE_API, ROLE_TEMPORAL], change);
    // helfy_api: no CREATE (schemas) or TEMPORARY (temp tables) on its database either.
    const extra = await c.query<{ create: boolean; temp: boolean }>(
      `SELECT has_database_privilege($1::name, $2::text, 'CREATE') AS create, has_database_privilege($1::name, $2::text, 'TEMPORARY') AS temp`,
      [ROLE_API, APP_DB],
    );
    if (extra.rows[0]?.create || extra.rows[0]?.temp) {
      await c.query(`REVOKE CREATE, TEMPORARY ON DATABASE ${quoteIdent(APP_DB)} FROM ${quoteIdent(ROLE_API)}`);
      change(`database ${APP_DB}`, `REVOKE CREATE, TEMPORARY FROM ${ROLE_API}`);
    }
  });

  // helfy_app: extension, schema privileges, default privileges.
  await withClient(pgConnectionFor(cfg, 'superuser', APP_DB), async (c) => {
    if (!(await extensionVersion(c))) {
      const canCreate = (await c.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'`)).rowCount;
      const preload = (await c.query<{ p: string }>(`SELECT current_setting('shared_preload_libraries') AS p`)).rows[0]?.p ?? '';
      if (canCreate && /(^|[\s,])timescaledb($|[\s,])/.test(preload)) {
        await c.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
        change(`database ${APP_DB}`, 'CREATE EXTENSION timescaledb');
      }
    }
    const v = await extensionVersion(c);
    report.timescale = v ? { present: true, version: v } : { present: false };
    await ensurePublicSchema(c, APP_DB, ROLE_OWNER, change);
    await ensureApiAccess(c, change);
  });

  // Temporal databases: no timescaledb, public schema closed to PUBLIC.
  for (const db of [TEMPORAL_DB, TEMPORAL_VISIBILITY_DB]) {
    await withClient(pgConnectionFor(cfg, 'superuser', db), async (c) => {
      if (await extensionVersion(c)) {
        try {
          await c.query('DROP EXTENSION timescaledb');
          change(`database ${db}`, 'DROP EXTENSION timescaledb (inherited from template1)');
        } catch (e) {
          log.warn(`database ${db} has the timescaledb extension and it could not be dropped: ${(e as Error).message}`);
        }
      }
      await ensurePublicSchema(c, db, ROLE_TEMPORAL, change);
    });
  }

  report.changed = changes.length > 0;
  if (!report.changed) log.success('PostgreSQL roles, databases and privileges are already in place; nothing changed');
  else log.success(`PostgreSQL bootstrapped (${changes.length} change${changes.length > 1 ? 's' : ''})`);
  return report;
}

type ChangeFn = (object: string, action: string) => void;

async function extensionVersion(c: pg.Client): Promise<string | undefined> {
  const r = await c.query<{ extversion: string }>(`SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'`);
  return r.rows[0]?.extversion;
}

// ---------------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------------

interface AuthRow {
  rolsuper: boolean;
  rolcreaterole: boolean;
  rolcreatedb: boolean;
  rolcanlogin: boolean;
  rolreplication: boolean;
  rolbypassrls: boolean;
  rolvaliduntil: Date | null;
  rolpassword: string | null;
}

/** Creates the role or fixes its attributes and password. Returns true when it was created. */
async function ensureRole(c: pg.Client, r: RoleSpec, change: ChangeFn): Promise<boolean> {
  const res = await c.query<AuthRow>(
    `SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolvaliduntil, rolpassword
       FROM pg_authid WHERE rolname = $1`,
    [r.name],
  );
  const row = res.rows[0];
  const attrs = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT';
  if (!row) {
    await c.query(`CREATE ROLE ${quoteIdent(r.name)} WITH ${attrs} PASSWORD ${quoteLiteral(scramVerifier(r.password))}`);
    change(`role ${r.name}`, 'created (LOGIN, password from config)');
    return true;
  }
  const fixes: string[] = [];
  if (!row.rolcanlogin) fixes.push('LOGIN');
  if (row.rolsuper) fixes.push('NOSUPERUSER');
  if (row.rolcreatedb) fixes.push('NOCREATEDB');
  if (row.rolcreaterole) fixes.push('NOCREATEROLE');
  if (row.rolreplication) fixes.push('NOREPLICATION');
  if (row.rolbypassrls) fixes.push('NOBYPASSRLS');
  if (row.rolvaliduntil !== null && Number.isFinite(new Date(row.rolvaliduntil).getTime())) fixes.push(`VALID UNTIL 'infinity'`);
  const passwordOk = passwordMatches(row.rolpassword, r.name, r.password);
  if (fixes.length || !passwordOk) {
    const pw = passwordOk ? '' : ` PASSWORD ${quoteLiteral(scramVerifier(r.password))}`;
    await c.query(`ALTER ROLE ${quoteIdent(r.name)} WITH ${fixes.join(' ')}${pw}`);
    change(`role ${r.name}`, [...fixes, ...(passwordOk ? [] : ['password updated to match the config'])].join(', '));
  }
  return false;
}

/** None of the three roles may be a member of another (helfy_api in helfy_owner would own the tables). */
async function ensureNoMembership(c: pg.Client, names: string[], change: ChangeFn): Promise<void> {
  const r = await c.query<{ role: string; member: string }>(
    `SELECT g.rolname AS role, m.rolname AS member
       FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
      WHERE g.rolname = ANY($1::name[]) AND m.rolname = ANY($1::name[])`,
    [names],
  );
  for (const row of r.rows) {
    await c.query(`REVOKE ${quoteIdent(row.role)} FROM ${quoteIdent(row.member)}`);
    change(`role ${row.member}`, `removed from role ${row.role}`);
  }
}

/** The SCRAM-SHA-256 verifier PostgreSQL itself would store (RFC 5802/7677, 4096 iterations). */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const { storedKey, serverKey } = scramKeys(password, salt, iterations);
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

function scramKeys(password: string, salt: Buffer, iterations: number): { storedKey: Buffer; serverKey: Buffer } {
  // PostgreSQL applies SASLprep and falls back to the raw bytes when it fails; NFKC covers the
  // mapping part for the passwords helfy generates (ASCII) and most typed ones.
  const salted = pbkdf2Sync(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return {
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: createHmac('sha256', salted).update('Server Key').digest(),
  };
}

/** True when a stored pg_authid.rolpassword (SCRAM or md5) is the verifier of `password`. */
export function passwordMatches(stored: string | null, role: string, password: string): boolean {
  if (!stored) return false;
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(stored);
  if (m) {
    const { storedKey, serverKey } = scramKeys(password, Buffer.from(m[2]!, 'base64'), Number(m[1]));
    const a = Buffer.from(m[3]!, 'base64');
    const b = Buffer.from(m[4]!, 'base64');
    return a.length === storedKey.length && b.length === serverKey.length && timingSafeEqual(a, storedKey) && timingSafeEqual(b, serverKey);
  }
  if (/^md5[0-9a-f]{32}$/.test(stored)) {
    // Counts as "not in sync": md5 is deprecated, rewriting it as SCRAM is the change we want.
    return false;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Databases
// ---------------------------------------------------------------------------------------------

async function ensureDatabase(
  c: pg.Client,
  name: string,
  owner: string,
  template: string | undefined,
  change: ChangeFn,
): Promise<{ name: string; owner: string; created: boolean }> {
  const r = await c.query<{ owner: string }>(`SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1`, [name]);
  if (!r.rows[0]) {
    await c.query(`CREATE DATABASE ${quoteIdent(name)} OWNER ${quoteIdent(owner)}${template ? ` TEMPLATE ${quoteIdent(template)}` : ''}`);
    change(`database ${name}`, `created (owner ${owner}${template ? `, FROM ${template}` : ''})`);
    return { name, owner, created: true };
  }
  if (r.rows[0].owner !== owner) {
    await c.query(`ALTER DATABASE ${quoteIdent(name)} OWNER TO ${quoteIdent(owner)}`);
    change(`database ${name}`, `owner ${r.rows[0].owner} → ${owner}`);
  }
  return { name, owner, created: false };
}

/** CONNECT on `db`: not for PUBLIC, granted to `allow` (the owner has it anyway), revoked from `deny`. */
async function ensureConnect(c: pg.Client, db: string, allow: string[], deny: string[], change: ChangeFn): Promise<void> {
  const pub = await c.query<{ conn: boolean; temp: boolean; create: boolean }>(
    `SELECT has_database_privilege('public'::name, $1::text, 'CONNECT') AS conn, has_database_privilege('public'::name, $1::text, 'TEMPORARY') AS temp,
            has_database_privilege('public'::name, $1::text, 'CREATE') AS create`,
    [db],
  );
  const p = pub.rows[0];
  if (p?.conn || p?.temp || p?.create) {
    await c.query(`REVOKE ALL ON DATABASE ${quoteIdent(db)} FROM PUBLIC`);
    change(`database ${db}`, 'REVOKE ALL (CONNECT, TEMPORARY) FROM PUBLIC');
  }
  for (const role of allow) {
    const has = await c.query<{ ok: boolean }>(`SELECT has_database_privilege($1::name, $2::text, 'CONNECT') AS ok`, [role, db]);
    if (!has.rows[0]?.ok) {
      await c.query(`GRANT CONNECT ON DATABASE ${quoteIdent(db)} TO ${quoteIdent(role)}`);
      change(`database ${db}`, `GRANT CONNECT TO ${role}`);
    }
  }
  for (const role of deny) {
    const has = await c.query<{ ok: boolean }>(`SELECT has_database_privilege($1::name, $2::text, 'CONNECT') AS ok`, [role, db]);
    if (has.rows[0]?.ok) {
      await c.query(`REVOKE ALL ON DATABASE ${quoteIdent(db)} FROM ${quoteIdent(role)}`);
      change(`database ${db}`, `REVOKE ALL FROM ${role}`);
    }
  }
}

/**
 * Schema public of `db`: owned by the database owner (PostgreSQL 15+: pg_database_owner, which
 * is; older servers: the bootstrap superuser, so it is handed over), nothing for PUBLIC.
 */
async function ensurePublicSchema(c: pg.Client, db: string, owner: string, change: ChangeFn): Promise<void> {
  const r = await c.query<{ owner: string; usage: boolean; create: boolean }>(
    `SELECT pg_get_userbyid(nspowner) AS owner, has_schema_privilege('public'::name, oid, 'USAGE') AS usage,
            has_schema_privilege('public'::name, oid, 'CREATE') AS create
       FROM pg_namespace WHERE nspname = 'public'`,
  );
  const s = r.rows[0];
  if (!s) return;
  if (s.owner !== owner && s.owner !== 'pg_database_owner') {
    await c.query(`ALTER SCHEMA public OWNER TO ${quoteIdent(owner)}`);
    change(`schema ${db}.public`, `owner ${s.owner} → ${owner}`);
  }
  if (s.usage || s.create) {
    await c.query('REVOKE ALL ON SCHEMA public FROM PUBLIC');
    change(`schema ${db}.public`, 'REVOKE ALL FROM PUBLIC');
  }
}

/** helfy_api on helfy_app: USAGE on public (no CREATE), data privileges now and by default. */
async function ensureApiAccess(c: pg.Client, change: ChangeFn): Promise<void> {
  const s = await c.query<{ usage: boolean; create: boolean }>(
    `SELECT has_schema_privilege($1::name, 'public'::text, 'USAGE') AS usage, has_schema_privilege($1::name, 'public'::text, 'CREATE') AS create`,
    [ROLE_API],
  );
  if (!s.rows[0]?.usage) {
    await c.query(`GRANT USAGE ON SCHEMA public TO ${quoteIdent(ROLE_API)}`);
    change(`schema ${APP_DB}.public`, `GRANT USAGE TO ${ROLE_API}`);
  }
  if (s.rows[0]?.create) {
    await c.query(`REVOKE CREATE ON SCHEMA public FROM ${quoteIdent(ROLE_API)}`);
    change(`schema ${APP_DB}.public`, `REVOKE CREATE FROM ${ROLE_API}`);
  }

  // Default privileges of helfy_owner in public: exactly the data privileges for helfy_api.
  const wanted: Record<'r' | 'S', { kind: string; privs: readonly string[] }> = {
    r: { kind: 'TABLES', privs: DATA_PRIVS },
    S: { kind: 'SEQUENCES', privs: ['USAGE'] },
  };
  for (const objtype of ['r', 'S'] as const) {
    const cur = await c.query<{ privilege_type: string }>(
      `SELECT a.privilege_type
         FROM pg_default_acl d CROSS JOIN LATERAL aclexplode(d.defaclacl) a
        WHERE d.defaclrole = $1::text::regrole AND d.defaclnamespace = 'public'::regnamespace AND d.defaclobjtype = $3::"char"
          AND a.grantee = $2::text::regrole`,
      [ROLE_OWNER, ROLE_API, objtype],
    );
    const have = new Set(cur.rows.map((x) => x.privilege_type));
    const { kind, privs } = wanted[objtype];
    if (have.size !== privs.length || privs.some((p) => !have.has(p))) {
      const scope = `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(ROLE_OWNER)} IN SCHEMA public`;
      if (have.size) await c.query(`${scope} REVOKE ALL ON ${kind} FROM ${quoteIdent(ROLE_API)}`);
      await c.query(`${scope} GRANT ${privs.join(', ')} ON ${kind} TO ${quoteIdent(ROLE_API)}`);
      change(`schema ${APP_DB}.public`, `default privileges of ${ROLE_OWNER}: ${privs.join(', ')} ON ${kind} TO ${ROLE_API}`);
    }
  }

  // Tables and sequences that already exist (e.g. migrated before this bootstrap).
  const missing = await c.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_class
      WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'v')
        AND NOT (has_table_privilege($1::name, oid, 'SELECT') AND has_table_privilege($1::name, oid, 'INSERT')
             AND has_table_privilege($1::name, oid, 'UPDATE') AND has_table_privilege($1::name, oid, 'DELETE'))`,
    [ROLE_API],
  );
  if ((missing.rows[0]?.n ?? 0) > 0) {
    await c.query(`GRANT ${DATA_PRIVS.join(', ')} ON ALL TABLES IN SCHEMA public TO ${quoteIdent(ROLE_API)}`);
    change(`schema ${APP_DB}.public`, `GRANT ${DATA_PRIVS.join(', ')} ON ALL TABLES (${missing.rows[0]!.n}) TO ${ROLE_API}`);
  }
  const seq = await c.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_class
      WHERE relnamespace = 'public'::regnamespace
        AND CASE WHEN relkind = 'S' THEN NOT has_sequence_privilege($1::name, oid, 'USAGE') ELSE false END`,
    [ROLE_API],
  );
  if ((seq.rows[0]?.n ?? 0) > 0) {
    await c.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${quoteIdent(ROLE_API)}`);
    change(`schema ${APP_DB}.public`, `GRANT USAGE ON ALL SEQUENCES (${seq.rows[0]!.n}) TO ${ROLE_API}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------------------------

export interface PostgresDatabaseStatus {
  name: string;
  purpose: 'app' | 'temporal' | 'temporal_visibility';
  exists: boolean;
  owner: string | null;
  expectedOwner: string;
  /** Installed timescaledb version, null when absent. */
  timescaledb: string | null;
  /** True when the database is as bootstrap leaves it. */
  ok: boolean;
  problems: string[];
}

export interface PostgresStatus {
  reachable: boolean;
  /** Why it is not reachable. */
  error?: string;
  serverVersion?: string;
  /** timescaledb default_version offered by the server, null when the server lacks it. */
  timescaleAvailable?: string | null;
  roles: { name: string; exists: boolean; canLogin: boolean }[];
  databases: PostgresDatabaseStatus[];
}

/** Per-database state for `helfy status`; never throws for an unreachable server. */
export async function postgresStatus(cfg: HelfyConfig): Promise<PostgresStatus> {
  const specs = [
    { name: APP_DB, purpose: 'app' as const, expectedOwner: ROLE_OWNER },
    { name: TEMPORAL_DB, purpose: 'temporal' as const, expectedOwner: ROLE_TEMPORAL },
    { name: TEMPORAL_VISIBILITY_DB, purpose: 'temporal_visibility' as const, expectedOwner: ROLE_TEMPORAL },
  ];
  let c: pg.Client;
  try {
    c = await connect(pgConnectionFor(cfg, 'superuser'));
  } catch (e) {
    return { reachable: false, error: (e as Error).message, roles: [], databases: [] };
  }
  const out: PostgresStatus = { reachable: true, roles: [], databases: [] };
  try {
    const v = await c.query<{ v: string; ts: string | null }>(
      `SELECT current_setting('server_version') AS v, (SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb') AS ts`,
    );
    out.serverVersion = v.rows[0]?.v;
    out.timescaleAvailable = v.rows[0]?.ts ?? null;
    const roles = await c.query<{ rolname: string; rolcanlogin: boolean }>(`SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY($1)`, [[ROLE_OWNER, ROLE_API, ROLE_TEMPORAL]]);
    for (const name of [ROLE_OWNER, ROLE_API, ROLE_TEMPORAL]) {
      const r = roles.rows.find((x) => x.rolname === name);
      out.roles.push({ name, exists: Boolean(r), canLogin: Boolean(r?.rolcanlogin) });
    }
    const dbs = await c.query<{ datname: string; owner: string }>(`SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = ANY($1)`, [specs.map((s) => s.name)]);
    for (const s of specs) {
      const row = dbs.rows.find((d) => d.datname === s.name);
      const st: PostgresDatabaseStatus = { ...s, exists: Boolean(row), owner: row?.owner ?? null, timescaledb: null, ok: false, problems: [] };
      if (!row) st.problems.push('does not exist (run `helfy db bootstrap`)');
      else {
        try {
          st.timescaledb = (await withClient(pgConnectionFor(cfg, 'superuser', s.name), extensionVersion)) ?? null;
        } catch (e) {
          st.problems.push(`cannot connect: ${(e as Error).message}`);
        }
        if (row.owner !== s.expectedOwner) st.problems.push(`owned by ${row.owner}, expected ${s.expectedOwner}`);
        if (s.purpose === 'app' && !st.timescaledb && cfg.timescale === 'required') st.problems.push('timescaledb extension missing');
        if (s.purpose !== 'app' && st.timescaledb) st.problems.push(`has the timescaledb extension (${st.timescaledb}); it must not`);
      }
      st.ok = st.problems.length === 0;
      out.databases.push(st);
    }
    return out;
  } catch (e) {
    return { ...out, reachable: false, error: (e as Error).message };
  } finally {
    await c.end().catch(() => {});
  }
}
