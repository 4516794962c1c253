/**
 * The project's compose containers for the Docker backup runtime: finding a service's container,
 * services / stop / start over the engine API.
 */
import type Docker from 'dockerode';
import type { ServiceImage } from '../../../backup/runtime.js';
import { HelfyError } from '../../../core/errors.js';
import { dockerClient } from '../engine.js';
import type { DockerBackupContext } from './context.js';
import { PROJECT_LABEL, SERVICE_LABEL } from './labels.js';

export type EnginePlace = Pick<DockerBackupContext, 'env' | 'project'>;

/** What the runtime reads of a listed container. */
export type ContainerRow = Pick<Docker.ContainerInfo, 'Id' | 'Image' | 'ImageID' | 'State' | 'Labels'>;

/** The compose services' own containers of a list: not `docker compose run` one-offs. */
export function serviceContainers<T extends Pick<ContainerRow, 'Labels'>>(list: T[]): T[] {
  return list.filter((c) => !c.Labels?.['com.docker.compose.oneoff'] || c.Labels['com.docker.compose.oneoff'] === 'False');
}

/** The container of compose service `service` in a list. */
export function findService<T extends Pick<ContainerRow, 'Labels'>>(list: T[], service: string): T | undefined {
  return list.find((x) => x.Labels?.[SERVICE_LABEL] === service);
}

/** The project's service containers. `timeoutMs` 0: no client timeout (a stop waits up to its grace period). */
export async function projectContainers(ctx: EnginePlace, timeoutMs = 15_000): Promise<{ docker: Docker; list: Docker.ContainerInfo[] }> {
  const { docker } = await dockerClient(ctx.env, timeoutMs || undefined);
  const list = await docker.listContainers({ all: true, filters: { label: [`${PROJECT_LABEL}=${ctx.project}`] } });
  return { docker, list: serviceContainers(list) };
}

export async function containerOf(ctx: EnginePlace, service: string): Promise<{ id: string; running: boolean; imageId: string }> {
  const { list } = await projectContainers(ctx);
  const c = findService(list, service);
  if (!c) {
    throw new HelfyError('STACK_NOT_RUNNING', `the ${service} container of ${ctx.project} does not exist`, { hint: 'Start the stack with `helfy up`.' });
  }
  return { id: c.Id, running: c.State === 'running', imageId: c.ImageID };
}

/** The id of the project's running postgres container (STACK_NOT_RUNNING otherwise). */
export async function runningPostgres(ctx: EnginePlace): Promise<string> {
  const c = await containerOf(ctx, 'postgres');
  if (!c.running) throw new HelfyError('STACK_NOT_RUNNING', `PostgreSQL of ${ctx.project} is not running`, { hint: 'Start it with `helfy up postgres`.' });
  return c.id;
}

/** The service containers of a list as the port's ServiceImages (with `digests` of their images), by service name. */
export function serviceImages(list: ContainerRow[], digests: ReadonlyMap<string, string[]>): ServiceImage[] {
  return list
    .filter((c) => c.Labels?.[SERVICE_LABEL])
    .map((c) => ({
      service: c.Labels[SERVICE_LABEL]!, containerId: c.Id, running: c.State === 'running',
      image: c.Image, imageId: c.ImageID, digests: digests.get(c.ImageID) ?? [],
    }))
    .sort((a, b) => a.service.localeCompare(b.service));
}

export async function listServices(ctx: EnginePlace): Promise<ServiceImage[]> {
  const { docker, list } = await projectContainers(ctx);
  const images = new Map<string, string[]>();
  await Promise.all([...new Set(list.map((c) => c.ImageID))].map(async (id) => {
    try {
      images.set(id, (await docker.getImage(id).inspect()).RepoDigests ?? []);
    } catch {
      images.set(id, []);
    }
  }));
  return serviceImages(list, images);
}

/** Whether an engine error says the container already was in the wanted state (304). */
export function notModified(e: unknown): boolean {
  return (e as { statusCode?: number }).statusCode === 304;
}

export async function stopServices(ctx: EnginePlace, services: readonly string[], so: { graceS?: number; onStopped?: (service: string) => void } = {}): Promise<string[]> {
  const graceS = so.graceS ?? 30;
  const { docker, list } = await projectContainers(ctx, 0);
  const stopped: string[] = [];
  for (const s of services) {
    const c = findService(list, s);
    if (!c || c.State !== 'running') continue;
    try {
      await docker.getContainer(c.Id).stop({ t: graceS });
    } catch (e) {
      // 304: already stopped meanwhile.
      if (!notModified(e)) throw e;
    }
    stopped.push(s);
    so.onStopped?.(s);
  }
  return stopped;
}

export async function startServices(ctx: EnginePlace, services: readonly string[]): Promise<void> {
  const { docker, list } = await projectContainers(ctx, 0);
  for (const s of services) {
    const c = findService(list, s);
    if (!c) continue;
    const info = await docker.getContainer(c.Id).inspect();
    if (info.State?.Running) continue;
    try {
      await docker.getContainer(c.Id).start();
    } catch (e) {
      if (!notModified(e)) throw e;
    }
  }
}
