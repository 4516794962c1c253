/**
 * Cleaning up after a kill -9 on Docker: the orphaned `docker run` clients of a backup's
 * one-offs, the one-off containers themselves, and verify's containers and volumes whose owner is
 * gone.
 */
import { dockerClient } from '../engine.js';
import type { DockerBackupContext } from './context.js';
import { oneOffClientMatcher, oneOffFilters, ownerOf, verifyLeftoverLabels } from './labels.js';

/**
 * SIGKILLs this user's `docker run` clients of this project's one-offs of `tag` still running on
 * this host: after a kill -9 of helfy they are orphans that go on creating, attaching and starting
 * their container. Found by the labels in their argv; returns the pids it killed.
 */
export async function killOneOffClients(project: string, tag: string): Promise<number[]> {
  const { pidsWhere, procUid } = await import('../../../core/proc.js');
  const matches = oneOffClientMatcher(project, tag);
  const uid = process.getuid?.();
  // Only this user's: helfy started them, and another user's process is none of its business.
  const pids = pidsWhere(matches);
  const killed: number[] = [];
  for (const pid of pids) {
    if (uid !== undefined && procUid(pid) !== uid) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      /* gone meanwhile */
    }
  }
  return killed;
}

/**
 * Whether removeOneOffs is done listing: at once when it killed no client; after killing some
 * (whose create request may still land), once two lists in a row were empty or `until` has passed.
 */
export function doneLooking(killedClients: number, emptyLists: number, now: number, until: number): boolean {
  return !killedClients || emptyLists >= 2 || now > until;
}

export async function removeOneOffs(ctx: Pick<DockerBackupContext, 'env' | 'project'>, tag?: string): Promise<number> {
  // First the `docker run` clients a backup killed with -9 left running: one may still be
  // creating its container (seconds on vfs), which would then appear after the list below and
  // take Neo4j's store from under the Neo4j started next.
  const clients = tag ? await killOneOffClients(ctx.project, tag) : [];
  const { docker } = await dockerClient(ctx.env, 15_000);
  const filters = oneOffFilters(ctx.project, tag);
  let removed = 0;
  // A killed client's create request may still land in the daemon (seconds on vfs): after
  // killing any, keep looking until two lists a second apart are empty (at most 15 s).
  const until = Date.now() + 15_000;
  for (let empty = 0; ;) {
    const list = await docker.listContainers({ all: true, filters });
    for (const c of list) await docker.getContainer(c.Id).remove({ force: true }).then(() => removed++, () => undefined);
    empty = list.length ? 0 : empty + 1;
    if (doneLooking(clients.length, empty, Date.now(), until)) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return removed;
}

export async function sweepVerifyLeftovers(ctx: Pick<DockerBackupContext, 'env' | 'project'>, isGone: (owner: string) => boolean): Promise<{ containers: number; volumes: number }> {
  const { docker } = await dockerClient(ctx.env, 15_000);
  const label = verifyLeftoverLabels(ctx.project);
  let containers = 0;
  for (const c of await docker.listContainers({ all: true, filters: { label } })) {
    if (!isGone(ownerOf(c.Labels))) continue;
    await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
    containers++;
  }
  let volumes = 0;
  for (const v of (await docker.listVolumes({ filters: { label } })).Volumes ?? []) {
    if (!isGone(ownerOf(v.Labels))) continue;
    await docker.getVolume(v.Name).remove({ force: true }).then(() => volumes++, () => undefined);
  }
  return { containers, volumes };
}
