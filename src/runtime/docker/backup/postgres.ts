/**
 * pg_dump / pg_dumpall / pg_restore / psql of the Docker backup runtime: `docker exec` in the
 * project's running postgres container, over its loopback, as the superuser. The password reaches
 * the tool through the docker CLI's environment only (`-e PGPASSWORD`).
 */
import type { StreamOpts, StreamResult } from '../../../backup/runtime.js';
import type { DockerBackupContext } from './context.js';
import { runningPostgres } from './containers.js';
import { capture, fromFile, toFile } from './tools.js';

// ---- arguments of the docker CLI ----------------------------------------------------------

/**
 * `-e NAME` without a value: docker takes it from the CLI's own environment, so the password
 * never appears on a command line (ps) or in the container's configuration.
 */
export function pgExecEnv(): string[] {
  return ['-e', 'PGPASSWORD', '-e', 'PGUSER'];
}

export function pgDumpVersionArgs(id: string): string[] {
  return ['exec', id, 'pg_dump', '--version'];
}

export function dumpGlobalsArgs(id: string): string[] {
  return ['exec', ...pgExecEnv(), id, 'pg_dumpall', '--globals-only', '-h', '127.0.0.1', '-l', 'postgres'];
}

export function dumpDatabaseArgs(id: string, db: string): string[] {
  return ['exec', ...pgExecEnv(), id, 'pg_dump', '-Fc', '--create', '-h', '127.0.0.1', '-d', db];
}

/** pg_restore -l of the archive on stdin. */
export function archiveListArgs(id: string): string[] {
  return ['exec', '-i', id, 'pg_restore', '-C', '-l'];
}

/** Where archiveSql puts the list inside the container. */
export function archiveListPath(pid: number, now: number): string {
  return `/tmp/helfy-restore-${pid}-${now}.list`;
}

/** Writes stdin to `listPath` inside the container. */
export function writeListArgs(id: string, listPath: string): string[] {
  return ['exec', '-i', id, 'sh', '-c', `cat > ${listPath}`];
}

/** pg_restore -L `listPath` of the archive on stdin, the SQL to stdout. */
export function archiveSqlArgs(id: string, listPath: string): string[] {
  return ['exec', '-i', id, 'pg_restore', '-C', '-L', listPath, '-f', '-'];
}

export function removeListArgs(id: string, listPath: string): string[] {
  return ['exec', id, 'rm', '-f', listPath];
}

/** psql with the SQL on stdin, stopping at the first error. */
export function psqlArgs(id: string, db: string): string[] {
  return ['exec', '-i', ...pgExecEnv(), id, 'psql', '-h', '127.0.0.1', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, '-f', '-'];
}

/** pg_restore of the archive on stdin into `db`, stopping at the first error. */
export function restoreArgs(id: string, db: string, extraArgs: string[] = []): string[] {
  return ['exec', '-i', ...pgExecEnv(), id, 'pg_restore', '-h', '127.0.0.1', '--exit-on-error', ...extraArgs, '-d', db];
}

// ---- the port's PostgreSQL steps ------------------------------------------------------------

export async function pgDumpVersion(ctx: DockerBackupContext): Promise<string> {
  const id = await runningPostgres(ctx);
  return (await capture(ctx, pgDumpVersionArgs(id))).trim();
}

export async function dumpGlobals(ctx: DockerBackupContext, file: string, so: StreamOpts): Promise<StreamResult> {
  const id = await runningPostgres(ctx);
  return toFile(ctx, dumpGlobalsArgs(id), file, so);
}

export async function dumpDatabase(ctx: DockerBackupContext, db: string, file: string, so: StreamOpts): Promise<StreamResult> {
  const id = await runningPostgres(ctx);
  return toFile(ctx, dumpDatabaseArgs(id, db), file, so);
}

export async function archiveList(ctx: DockerBackupContext, file: string, so: StreamOpts): Promise<string> {
  const id = await runningPostgres(ctx);
  return capture(ctx, archiveListArgs(id), { ...so, inputFile: file });
}

export async function archiveSql(ctx: DockerBackupContext, file: string, list: string, so: StreamOpts): Promise<string> {
  const id = await runningPostgres(ctx);
  // The list goes in through a file inside the container: pg_restore reads the archive from stdin.
  const listPath = archiveListPath(process.pid, Date.now());
  await capture(ctx, writeListArgs(id, listPath), { input: list });
  try {
    return await capture(ctx, archiveSqlArgs(id, listPath), { ...so, inputFile: file });
  } finally {
    await capture(ctx, removeListArgs(id, listPath)).catch(() => '');
  }
}

export async function psql(ctx: DockerBackupContext, sql: string, db: string, so: StreamOpts = {}): Promise<string> {
  const id = await runningPostgres(ctx);
  return capture(ctx, psqlArgs(id, db), { ...so, input: sql });
}

export async function restoreDatabase(ctx: DockerBackupContext, db: string, file: string, so: StreamOpts & { extraArgs?: string[] }): Promise<StreamResult> {
  const id = await runningPostgres(ctx);
  return fromFile(ctx, restoreArgs(id, db, so.extraArgs ?? []), file, so);
}
