/**
 * The throw-away Neo4j of `backup verify --restore-test` on Docker: a labelled volume, the dump
 * loaded into it by a one-off neo4j-admin of the project's neo4j image, then a detached container
 * on it (no auth, small memory, Bolt published on a loopback port). remove() (or, after a kill -9,
 * the sweep by owner label) removes both.
 */
import type { StreamOpts } from '../../../backup/runtime.js';
import type { DockerBackupContext } from './context.js';
import { containerOf } from './containers.js';
import { verifyLabels } from './labels.js';
import { capture, fromFile } from './tools.js';

/** The volume (and container) name of one scratch Neo4j. */
export function scratchVolumeName(pid: number, now: number): string {
  return `helfy-verify-${pid}-${now.toString(36)}`;
}

/** `docker run` of neo4j-admin loading the dump on stdin into the scratch volume. */
export function scratchLoadArgs(labels: string[], vol: string, imageId: string): string[] {
  return ['run', '--rm', '-i', ...labels, '-v', `${vol}:/data`, imageId, 'neo4j-admin', 'database', 'load', 'neo4j', '--from-stdin', '--overwrite-destination=true'];
}

/** `docker run -d` of the scratch server on the volume: no auth, small memory, Bolt on a loopback port. */
export function scratchServerArgs(labels: string[], name: string, vol: string, imageId: string): string[] {
  return ['run', '-d', ...labels, '--name', name, '-v', `${vol}:/data`, '-e', 'NEO4J_AUTH=none',
    '-e', 'NEO4J_server_memory_heap_max__size=512m', '-e', 'NEO4J_server_memory_pagecache_size=64m', '-p', '127.0.0.1::7687', imageId];
}

/** The host port in `docker port <name> 7687/tcp`'s first line (`127.0.0.1:49153`). */
export function boltPortOf(portOutput: string): number {
  const port = portOutput.split('\n')[0]!.trim();
  return Number(port.slice(port.lastIndexOf(':') + 1));
}

export async function scratchNeo4j(ctx: DockerBackupContext, dumpFile: string, so: StreamOpts): Promise<{ boltPort: number; remove(): Promise<void> }> {
  const c = await containerOf(ctx, 'neo4j');
  const { execa } = await import('execa');
  const vol = scratchVolumeName(process.pid, Date.now());
  const label = verifyLabels(ctx.project, so.tag ?? 'verify');
  await capture(ctx, ['volume', 'create', ...label, vol]);
  let name: string | undefined;
  const remove = async () => {
    if (name) await execa(ctx.dockerBin, ['rm', '-f', '-v', name], { env: ctx.env, extendEnv: false, reject: false });
    await execa(ctx.dockerBin, ['volume', 'rm', '-f', vol], { env: ctx.env, extendEnv: false, reject: false });
  };
  try {
    await fromFile(ctx, scratchLoadArgs(label, vol, c.imageId), dumpFile, so);
    name = vol;
    await capture(ctx, scratchServerArgs(label, name, vol, c.imageId));
    const boltPort = boltPortOf(await capture(ctx, ['port', name, '7687/tcp']));
    return { boltPort, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}
