/** Container listings through dockerode. */
import type { PublishedPort } from '../ports.js';
import { dockerClient } from './engine.js';
import type { LogLine, LogOptions, VolumeInfo } from '../../stack/runtime.js';
import { parseDockerStatus, type ContainerSnapshot, type ContainerState } from '../../stack/health.js';

export type { LogLine, LogOptions, VolumeInfo };

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

// ---------------------------------------------------------------------------------------------
// Project containers, logs, volumes and images (used by up / down / status / logs).


const PROJECT_LABEL = 'com.docker.compose.project';
const SERVICE_LABEL = 'com.docker.compose.service';

/** Every container (running or not) of compose project `project`. */
export async function listProjectContainers(env: NodeJS.ProcessEnv, project: string, timeoutMs = 5000): Promise<ContainerSnapshot[]> {
  const { docker } = await dockerClient(env, timeoutMs);
  const list = await docker.listContainers({ all: true, filters: { label: [`${PROJECT_LABEL}=${project}`] } });
  // When stopped containers stopped: `up` must tell an earlier stop from a failure of this run.
  const finished = new Map<string, number>();
  await Promise.all(
    list.filter((c) => c.State === 'exited' || c.State === 'dead').map(async (c) => {
      try {
        const t = Date.parse((await docker.getContainer(c.Id).inspect()).State?.FinishedAt ?? '');
        if (Number.isFinite(t) && t > 0) finished.set(c.Id, t);
      } catch {
        /* removed meanwhile */
      }
    }),
  );
  return list
    .filter((c) => !c.Labels?.['com.docker.compose.oneoff'] || c.Labels['com.docker.compose.oneoff'] === 'False')
    .map((c) => {
      const parsed = parseDockerStatus(c.Status ?? '');
      return {
        id: c.Id,
        name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''),
        service: c.Labels?.[SERVICE_LABEL] ?? '',
        state: (c.State ?? 'created') as ContainerState,
        ...parsed,
        status: c.Status ?? '',
        image: c.Image,
        labels: c.Labels ?? {},
        ports: (c.Ports ?? []).filter((p) => p.PublicPort).map((p) => ({ host: p.IP ?? '', hostPort: p.PublicPort, containerPort: p.PrivatePort })),
        createdAt: (c.Created ?? 0) * 1000,
        ...(finished.has(c.Id) ? { finishedAt: finished.get(c.Id) } : {}),
      };
    });
}

/** When each container was last started (ms since epoch), for uptime. */
export async function containerStartTimes(env: NodeJS.ProcessEnv, ids: string[], timeoutMs = 5000): Promise<Record<string, number>> {
  const { docker } = await dockerClient(env, timeoutMs);
  const out: Record<string, number> = {};
  await Promise.all(
    ids.map(async (id) => {
      try {
        const info = await docker.getContainer(id).inspect();
        const t = Date.parse(info.State?.StartedAt ?? '');
        if (Number.isFinite(t) && t > 0) out[id] = t;
      } catch {
        /* gone meanwhile */
      }
    }),
  );
  return out;
}

/**
 * Splits Docker's multiplexed log stream (8-byte frame headers: stream, 0, 0, 0, size) into
 * lines. Returns the complete lines and the bytes of an incomplete trailing frame.
 */
export function demuxLogs(buf: Buffer, partial: { stdout: string; stderr: string } = { stdout: '', stderr: '' }): { lines: LogLine[]; rest: Buffer } {
  const lines: LogLine[] = [];
  let off = 0;
  const looksMuxed = buf.length >= 8 && (buf[0] === 1 || buf[0] === 2 || buf[0] === 0) && buf[1] === 0 && buf[2] === 0 && buf[3] === 0;
  if (!looksMuxed && buf.length > 0) {
    // A TTY container: raw text.
    const text = partial.stdout + buf.toString('utf8');
    const parts = text.split('\n');
    partial.stdout = parts.pop() ?? '';
    for (const p of parts) lines.push({ stream: 'stdout', text: p.replace(/\r$/, '') });
    return { lines, rest: Buffer.alloc(0) };
  }
  while (off + 8 <= buf.length) {
    const size = buf.readUInt32BE(off + 4);
    if (off + 8 + size > buf.length) break;
    const stream = buf[off] === 2 ? 'stderr' : 'stdout';
    const text = partial[stream] + buf.subarray(off + 8, off + 8 + size).toString('utf8');
    const parts = text.split('\n');
    partial[stream] = parts.pop() ?? '';
    for (const p of parts) lines.push({ stream, text: p.replace(/\r$/, '') });
    off += 8 + size;
  }
  return { lines, rest: buf.subarray(off) };
}

/** The last lines of a container's output (stdout and stderr, in order). */
export async function containerLogs(env: NodeJS.ProcessEnv, id: string, opts: LogOptions = {}, timeoutMs = 10_000): Promise<LogLine[]> {
  const { docker } = await dockerClient(env, timeoutMs);
  const buf = (await docker.getContainer(id).logs({
    stdout: true, stderr: true, follow: false,
    ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
    ...(opts.since !== undefined ? { since: opts.since } : {}),
    timestamps: Boolean(opts.timestamps),
  })) as unknown as Buffer;
  const partial = { stdout: '', stderr: '' };
  const { lines } = demuxLogs(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)), partial);
  for (const s of ['stdout', 'stderr'] as const) if (partial[s]) lines.push({ stream: s, text: partial[s] });
  return lines;
}

/**
 * Streams a container's output line by line until the container stops or `signal` fires.
 * Resolves when the stream ends.
 */
export async function followLogs(env: NodeJS.ProcessEnv, id: string, opts: LogOptions, onLine: (l: LogLine) => void, signal: AbortSignal): Promise<void> {
  const { docker } = await dockerClient(env);
  const stream = (await docker.getContainer(id).logs({
    stdout: true, stderr: true, follow: true,
    ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
    ...(opts.since !== undefined ? { since: opts.since } : {}),
    timestamps: Boolean(opts.timestamps),
  })) as NodeJS.ReadableStream & { destroy?: () => void };
  await new Promise<void>((resolve) => {
    let pending = Buffer.alloc(0);
    const partial = { stdout: '', stderr: '' };
    const done = () => {
      for (const s of ['stdout', 'stderr'] as const) if (partial[s]) onLine({ stream: s, text: partial[s] });
      partial.stdout = partial.stderr = '';
      signal.removeEventListener('abort', abort);
      resolve();
    };
    const abort = () => {
      stream.destroy?.();
      done();
    };
    signal.addEventListener('abort', abort, { once: true });
    stream.on('data', (chunk: Buffer) => {
      const { lines, rest } = demuxLogs(Buffer.concat([pending, chunk]), partial);
      pending = Buffer.from(rest);
      lines.forEach(onLine);
    });
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

/** The named volumes of compose project `project`, with their sizes (docker system df). */
export async function listProjectVolumes(env: NodeJS.ProcessEnv, project: string, timeoutMs = 30_000): Promise<VolumeInfo[]> {
  const { docker } = await dockerClient(env, timeoutMs);
  const res = await docker.listVolumes({ filters: { label: [`${PROJECT_LABEL}=${project}`] } });
  const vols = res.Volumes ?? [];
  if (vols.length === 0) return [];
  let sizes: Record<string, number> = {};
  try {
    const df = (await docker.df()) as { Volumes?: { Name: string; UsageData?: { Size?: number } }[] };
    sizes = Object.fromEntries((df.Volumes ?? []).map((v) => [v.Name, v.UsageData?.Size ?? -1]));
  } catch {
    /* sizes unknown */
  }
  return vols.map((v) => ({ name: v.Name, size: sizes[v.Name] ?? -1, labels: v.Labels ?? {} })).sort((a, b) => a.name.localeCompare(b.name));
}

/** Which of `refs` are not present in the engine's image store. */
export async function missingImages(env: NodeJS.ProcessEnv, refs: string[], timeoutMs = 5000): Promise<string[]> {
  const { docker } = await dockerClient(env, timeoutMs);
  const missing: string[] = [];
  await Promise.all(
    [...new Set(refs)].map(async (ref) => {
      try {
        await docker.getImage(ref).inspect();
      } catch {
        missing.push(ref);
      }
    }),
  );
  return missing.sort();
}
