/**
 * neo4j-admin of the Docker backup runtime: dump / load in a `docker run --rm` one-off of the neo4j
 * container's own image with its volumes (Neo4j stopped first), check in a one-off on the dump
 * folder mounted read-only.
 */
import type { StreamOpts, StreamResult } from '../../../backup/runtime.js';
import { HelfyError } from '../../../core/errors.js';
import type { DockerBackupContext } from './context.js';
import { containerOf } from './containers.js';
import { oneOffLabels, verifyLabels } from './labels.js';
import { fromFile, toFile } from './tools.js';

/** `docker run --rm -i` of the image `imageId` with the volumes of `containerId`, labelled as a one-off of `tag`. */
export function neo4jOneOffArgs(project: string, tag: string | undefined, containerId: string, imageId: string, extra: string[], cmd: string[]): string[] {
  return ['run', '--rm', '-i', ...oneOffLabels(project, tag), '--volumes-from', containerId, ...extra, imageId, ...cmd];
}

/** The one-off's arguments for the project's (stopped) neo4j container. */
export async function neo4jOneOff(ctx: Pick<DockerBackupContext, 'env' | 'project'>, so: StreamOpts, extra: string[], cmd: string[]): Promise<string[]> {
  const c = await containerOf(ctx, 'neo4j');
  if (c.running) throw new HelfyError('INTERNAL', 'neo4j must be stopped before neo4j-admin touches its store');
  return neo4jOneOffArgs(ctx.project, so.tag, c.id, c.imageId, extra, cmd);
}

export function neo4jDumpCmd(db: string): string[] {
  return ['neo4j-admin', 'database', 'dump', db, '--to-stdout'];
}

export function neo4jLoadCmd(db: string): string[] {
  return ['neo4j-admin', 'database', 'load', db, '--from-stdin', '--overwrite-destination=true'];
}

/** `docker run` of neo4j-admin's check on the dumps in host folder `dir` (read-only). */
export function neo4jCheckArgs(labels: string[], dir: string, imageId: string, db: string): string[] {
  return ['run', '--rm', ...labels, '-v', `${dir}:/backup:ro`,
    // Root without the entrypoint's drop to the neo4j user: the dumps are 0600, owned by whoever ran helfy.
    '--user', '0:0', '--entrypoint', 'neo4j-admin', imageId,
    'database', 'check', '--from-path=/backup', '--temp-path=/tmp', '--report-path=/tmp/check.report', '--max-off-heap-memory=256m', db];
}

export async function neo4jDump(ctx: DockerBackupContext, db: string, file: string, so: StreamOpts): Promise<StreamResult> {
  return toFile(ctx, await neo4jOneOff(ctx, so, [], neo4jDumpCmd(db)), file, so);
}

export async function neo4jLoad(ctx: DockerBackupContext, db: string, file: string, so: StreamOpts): Promise<StreamResult> {
  return fromFile(ctx, await neo4jOneOff(ctx, so, [], neo4jLoadCmd(db)), file, so);
}

export async function neo4jCheck(ctx: DockerBackupContext, dir: string, db: string, so: StreamOpts): Promise<{ ok: boolean; output: string }> {
  const c = await containerOf(ctx, 'neo4j');
  const { execa } = await import('execa');
  const r = await execa(ctx.dockerBin, neo4jCheckArgs(verifyLabels(ctx.project, so.tag ?? 'check'), dir, c.imageId, db), {
    env: ctx.env, extendEnv: false, reject: false, all: true, stdin: 'ignore', ...(so.signal ? { cancelSignal: so.signal } : {}), cleanup: false,
  });
  if (r.isCanceled) throw new HelfyError('INTERRUPTED', 'interrupted');
  return { ok: r.exitCode === 0, output: String(r.all ?? '') };
}
