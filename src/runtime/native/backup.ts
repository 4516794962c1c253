/**
 * The runtime side of `helfy backup` / `helfy restore` on the native runtime: the same
 * BackupRuntime as src/runtime/docker/backup.ts, over local processes instead of containers.
 *
 *  - services / stop / start: the supervisor's records (stop = supervisor.stop; start = the
 *    caller's `startService(name)`, which starts the service's spec again: this file need not
 *    know how a spec is made).
 *  - pg_dump / pg_dumpall / pg_restore / psql: the located PostgreSQL's binDir, over TCP to the
 *    configured host and port, as the superuser; the password is in the child's environment
 *    only (PGPASSWORD: never on a command line, never logged). pg_dump / pg_restore must be of
 *    the server's major: checked once (pgDumpVersion or the first dump/restore), a clear error
 *    naming both versions otherwise.
 *  - Neo4j: `java -cp <lib>/* org.neo4j.cli.AdminTool database dump|load|check …` with
 *    NEO4J_HOME / NEO4J_CONF at the workspace's Neo4j home (.helfy/data/neo4j, conf/neo4j.conf
 *    written by the service definition), Neo4j itself stopped first, as under Docker.
 *  - verify: the check and the throw-away Neo4j of `--restore-test` run in temp folders under
 *    .helfy/tmp/backup, each with an `owner.json` marker (`<host>:<pid>` of helfy, the tag, the
 *    pid and start time of the process it runs), so removeOneOffs / sweepVerifyLeftovers find
 *    them again after a kill -9 (the pid is signalled only when its start time still matches).
 *
 * Streams: dumps go from the tool's stdout straight into the host file, restores from the file
 * into the tool's stdin; `onBytes` reports progress and the sha256 is computed on the way, as in
 * the Docker runtime. A full disk surfaces as DiskFullError.
 *
 * The parts live in ./backup/, each function taking what it needs (the NativeBackupContext or a
 * few of its fields) instead of capturing it:
 *  - context.ts: the options, the folders and caches of one runtime (nativeBackupContext);
 *  - tools.ts: running a local tool into / from a file or for its output, its errors;
 *  - postgres.ts: the installation, the tools' environment, the version check, the arguments and
 *    the PostgreSQL steps;
 *  - neo4j.ts: neo4j-admin's command line, dump / load on the workspace's store, check;
 *  - scratch.ts: the throw-away Neo4j of `verify --restore-test`;
 *  - markers.ts: the marked temp folders, removeOneOffs and the sweep;
 *  - services.ts: services / stop / start over the supervisor.
 */
import type { BackupRuntime } from '../../backup/runtime.js';
import { nativeBackupContext, type NativeBackupOptions } from './backup/context.js';
import { removeOneOffs, sweepVerifyLeftovers } from './backup/markers.js';
import { neo4jCheck, neo4jDump, neo4jLoad } from './backup/neo4j.js';
import { archiveList, archiveSql, dumpDatabase, dumpGlobals, pgDumpVersion, psql, restoreDatabase } from './backup/postgres.js';
import { scratchNeo4j } from './backup/scratch.js';
import { listServices, startServices, stopServices } from './backup/services.js';

export { nativeBackupTmp, type NativeBackupOptions } from './backup/context.js';

export function nativeBackupRuntime(o: NativeBackupOptions): BackupRuntime {
  const ctx = nativeBackupContext(o);
  return {
    services: () => listServices(ctx),
    stop: (services, so = {}) => stopServices(o.supervisor, services, so),
    start: (services) => startServices(o, services),
    pgDumpVersion: () => pgDumpVersion(ctx),
    dumpGlobals: (file, so) => dumpGlobals(ctx, file, so),
    dumpDatabase: (db, file, so) => dumpDatabase(ctx, db, file, so),
    archiveList: (file, so) => archiveList(ctx, file, so),
    archiveSql: (file, list, so) => archiveSql(ctx, file, list, so),
    psql: (sql, db, so = {}) => psql(ctx, sql, db, so),
    restoreDatabase: (db, file, so) => restoreDatabase(ctx, db, file, so),
    neo4jDump: (db, file, so) => neo4jDump(ctx, db, file, so),
    neo4jLoad: (db, file, so) => neo4jLoad(ctx, db, file, so),
    neo4jCheck: (dir, db, so) => neo4jCheck(ctx, dir, db, so),
    scratchNeo4j: (dumpFile, so) => scratchNeo4j(ctx, dumpFile, so),
    removeOneOffs: (tag) => removeOneOffs(ctx, tag),
    sweepVerifyLeftovers: (isGone) => sweepVerifyLeftovers(ctx, isGone),
  };
}
