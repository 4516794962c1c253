/**
 * The Docker adapter of the BackupRuntime port (src/backup/runtime.ts): the steps that need the
 * containers (stop and start services, pg_dump / pg_restore / psql inside the postgres
 * container, neo4j-admin in a one-off container of the neo4j image on the neo4j volumes).
 *
 * Streams: every dump goes from the tool's stdout straight into a host file (no copy inside a
 * container, no bind mount of the backup folder for dumps), every restore from a host file into
 * the tool's stdin; `onBytes` reports progress. A full disk surfaces as ENOSPC from the write.
 *
 * The parts live in ./backup/, each function taking what it needs (the DockerBackupContext or a
 * few of its fields) instead of capturing it:
 *  - context.ts: the options, the docker CLI and the tools' environment (dockerBackupContext);
 *  - labels.ts: the labels and filters by which one-offs and verify's leftovers are found again;
 *  - tools.ts: the docker CLI into / from a file or for its output, its errors;
 *  - containers.ts: the project's service containers, services / stop / start;
 *  - postgres.ts: the `docker exec` arguments of the PostgreSQL tools and the PostgreSQL steps;
 *  - neo4j.ts: neo4j-admin one-offs (dump, load, check);
 *  - scratch.ts: the throw-away Neo4j of `verify --restore-test`;
 *  - sweep.ts: orphaned `docker run` clients, removeOneOffs and the sweep.
 */
import type { BackupRuntime } from '../../backup/runtime.js';
import { listServices, startServices, stopServices } from './backup/containers.js';
import { dockerBackupContext, type DockerBackupOptions } from './backup/context.js';
import { neo4jCheck, neo4jDump, neo4jLoad } from './backup/neo4j.js';
import { archiveList, archiveSql, dumpDatabase, dumpGlobals, pgDumpVersion, psql, restoreDatabase } from './backup/postgres.js';
import { scratchNeo4j } from './backup/scratch.js';
import { removeOneOffs, sweepVerifyLeftovers } from './backup/sweep.js';

export type { BackupRuntime, BackupService, ServiceImage, StreamOpts, StreamResult } from '../../backup/runtime.js';
export { DiskFullError } from '../tool-run.js';
export { ONEOFF_LABEL, OWNER_LABEL } from './backup/labels.js';
export { killOneOffClients } from './backup/sweep.js';
export type { DockerBackupOptions } from './backup/context.js';

export function dockerBackupRuntime(o: DockerBackupOptions): BackupRuntime {
  const ctx = dockerBackupContext(o);
  return {
    services: () => listServices(ctx),
    stop: (services, so = {}) => stopServices(ctx, services, so),
    start: (services) => startServices(ctx, services),
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
