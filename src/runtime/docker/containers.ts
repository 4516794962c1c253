/** Container listings through dockerode. */
import type { PublishedPort } from '../ports.js';
import { dockerClient } from './engine.js';

/** Host ports published by running containers; empty when the engine is unreachable. */
export async function publishedPorts(env: NodeJS.ProcessEnv, timeoutMs = 2000): Promise<PublishedPort[]> {
  try {
    const { docker } = await dockerClient(env, timeoutMs);
    const list = await docker.listContainers();
    return list.flatMap((c) =>
      (c.Ports ?? [])
        .filter((p) => p.PublicPort)
        .map((p) => ({
          container: (c.Names?.[0] ?? c.Id).replace(/^\//, ''),
          project: c.Labels?.['com.docker.compose.project'],
          service: c.Labels?.['com.docker.compose.service'],
          publicPort: p.PublicPort,
        })),
    );
  } catch {
    return [];
  }
}
