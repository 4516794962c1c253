/**
 * pg_dump / pg_dumpall / pg_restore / psql of the native backup runtime: the located PostgreSQL's
 * binDir, over TCP to the configured host and port, as the superuser; the password is in the
 * child's environment only (PGPASSWORD: never on a command line, never logged). pg_dump /
 * pg_restore must be of the server's major: checked once (pgDumpVersion or the first
 * dump/restore), a clear error naming both versions otherwise.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StreamOpts, StreamResult } from '../../../backup/runtime.js';
import { HelfyError } from '../../../core/errors.js';
import type { PostgresInstall } from '../types.js';
import { toolBaseEnv, type NativeBackupContext, type NativeBackupOptions } from './context.js';
import { newMarkerDir } from './markers.js';
import { capture, fromFile, toFile } from './tools.js';

/** The major of a version string: "pg_dump (PostgreSQL) 16.4 (Debian …)" / "16.4" / "9.6.24" (not supported anyway). */
export function parseMajor(version: string): number {
  const m = /(\d+)(?:\.(\d+))?/.exec(version.replace(/^[^\d]*/, ''));
  return m ? Number(m[1]) : NaN;
}

/** The data folder's major (its PG_VERSION), undefined when unreadable or not a number. */
export async function readPgMajor(pgData: string): Promise<number | undefined> {
  try {
    return Number.parseInt(await readFile(join(pgData, 'PG_VERSION'), 'utf8'), 10) || undefined;
  } catch {
    return undefined;
  }
}

/** The PostgreSQL installation, asked of the options once per runtime (with the data folder's major). */
export function pgInstall(ctx: Pick<NativeBackupContext, 'o' | 'pgData' | 'cache'>): Promise<PostgresInstall> {
  return (ctx.cache.install ??= (async () => {
    const wantMajor = await readPgMajor(ctx.pgData);
    return ctx.o.postgres(wantMajor ? { wantMajor } : {});
  })());
}

/** The tools' environment: `base` plus the connection and the password (PG*), and the install's libDir. */
export function pgToolEnv(base: Record<string, string>, pg: NativeBackupOptions['pg'], install: Pick<PostgresInstall, 'libDir'>, ldLibraryPath: string | undefined): Record<string, string> {
  return {
    ...base,
    PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password,
    PGCONNECT_TIMEOUT: '10', PGAPPNAME: 'helfy-backup',
    ...(install.libDir ? { LD_LIBRARY_PATH: [install.libDir, ldLibraryPath].filter(Boolean).join(':') } : {}),
  };
}

export async function pgEnv(ctx: NativeBackupContext): Promise<Record<string, string>> {
  const i = await pgInstall(ctx);
  return pgToolEnv(toolBaseEnv(ctx), ctx.o.pg, i, ctx.env.LD_LIBRARY_PATH);
}

/** The path of one of the installation's tools. */
export async function pgTool(ctx: NativeBackupContext, name: string): Promise<string> {
  return join((await pgInstall(ctx)).binDir, name);
}

/** The refusal when pg_dump's major is not the server's; undefined when they match. */
export function versionMismatch(pgDump: string, server: string, binDir: string): HelfyError | undefined {
  const [a, b] = [parseMajor(pgDump), parseMajor(server)];
  if (a === b) return undefined;
  return new HelfyError('TOOL_MISSING', `${pgDump} (${binDir}) does not match the server's PostgreSQL ${server}: pg_dump and pg_restore must be of the server's major (${b})`, {
    hint: `Point HELFY_POSTGRES_BIN at the bin folder of PostgreSQL ${b} (e.g. /usr/lib/postgresql/${b}/bin; apt-get install postgresql-client-${b}).`,
    data: { pgDump, server, binDir },
  });
}

/**
 * pg_dump's version, checked against the server's major (pg_dump refuses a newer server; an older
 * one writes archives the server's pg_restore may not read). Asked once; again after a failure.
 */
export function checkedVersions(ctx: NativeBackupContext): Promise<{ pgDump: string; server: string }> {
  return (ctx.cache.versions ??= (async () => {
    const i = await pgInstall(ctx);
    const pgDump = (await capture(await pgTool(ctx, 'pg_dump'), ['--version'], await pgEnv(ctx), {})).trim();
    const server = (await capture(await pgTool(ctx, 'psql'), serverVersionArgs(), await pgEnv(ctx), {})).trim();
    const mismatch = versionMismatch(pgDump, server, i.binDir);
    if (mismatch) throw mismatch;
    return { pgDump, server };
  })().catch((e: unknown) => {
    ctx.cache.versions = undefined;
    throw e;
  }));
}

// ---- arguments ----------------------------------------------------------------------------

/** psql: the server's version. */
export function serverVersionArgs(): string[] {
  return ['-X', '-At', '-d', 'postgres', '-c', 'SHOW server_version'];
}

/** pg_dumpall: roles and tablespaces only. */
export function dumpGlobalsArgs(): string[] {
  return ['--globals-only', '-l', 'postgres'];
}

/** pg_dump: the custom-format archive of `db`, with its CREATE DATABASE. */
export function dumpDatabaseArgs(db: string): string[] {
  return ['-Fc', '--create', '-d', db];
}

/** pg_restore: the table of contents of the archive `file`. */
export function archiveListArgs(file: string): string[] {
  return ['-C', '-l', file];
}

/** pg_restore: the SQL of the TOC entries listed in `listFile`, to stdout. */
export function archiveSqlArgs(listFile: string, file: string): string[] {
  return ['-C', '-L', listFile, '-f', '-', file];
}

/** psql: SQL from stdin into `db`, stopping at the first error. */
export function psqlArgs(db: string): string[] {
  return ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, '-f', '-'];
}

/** pg_restore: the archive from stdin into `db`, stopping at the first error. */
export function restoreArgs(db: string, extraArgs: string[] = []): string[] {
  return ['--exit-on-error', ...extraArgs, '-d', db];
}

// ---- the port's PostgreSQL steps ------------------------------------------------------------

export async function pgDumpVersion(ctx: NativeBackupContext): Promise<string> {
  return (await checkedVersions(ctx)).pgDump;
}

export async function dumpGlobals(ctx: NativeBackupContext, file: string, so: StreamOpts): Promise<StreamResult> {
  await checkedVersions(ctx);
  return toFile(await pgTool(ctx, 'pg_dumpall'), dumpGlobalsArgs(), await pgEnv(ctx), file, so);
}

export async function dumpDatabase(ctx: NativeBackupContext, db: string, file: string, so: StreamOpts): Promise<StreamResult> {
  await checkedVersions(ctx);
  return toFile(await pgTool(ctx, 'pg_dump'), dumpDatabaseArgs(db), await pgEnv(ctx), file, so);
}

export async function archiveList(ctx: NativeBackupContext, file: string, so: StreamOpts): Promise<string> {
  await checkedVersions(ctx);
  return capture(await pgTool(ctx, 'pg_restore'), archiveListArgs(file), await pgEnv(ctx), so);
}

/** The list goes in through a file in a marked temp folder (removed afterwards). */
export async function archiveSql(ctx: NativeBackupContext, file: string, list: string, so: StreamOpts): Promise<string> {
  await checkedVersions(ctx);
  const m = await newMarkerDir(ctx, 'oneoff', 'archive-sql');
  try {
    const listFile = join(m.dir, 'restore.list');
    await writeFile(listFile, list, { mode: 0o600 });
    return await capture(await pgTool(ctx, 'pg_restore'), archiveSqlArgs(listFile, file), await pgEnv(ctx), so);
  } finally {
    await rm(m.dir, { recursive: true, force: true });
  }
}

export async function psql(ctx: NativeBackupContext, sql: string, db: string, so: StreamOpts = {}): Promise<string> {
  return capture(await pgTool(ctx, 'psql'), psqlArgs(db), await pgEnv(ctx), { ...so, input: sql });
}

export async function restoreDatabase(ctx: NativeBackupContext, db: string, file: string, so: StreamOpts & { extraArgs?: string[] }): Promise<StreamResult> {
  await checkedVersions(ctx);
  return fromFile(await pgTool(ctx, 'pg_restore'), restoreArgs(db, so.extraArgs ?? []), await pgEnv(ctx), file, so);
}
