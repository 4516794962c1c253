/**
 * The Docker engine through dockerode. Connection settings come from the context's environment
 * (DOCKER_HOST: unix://, tcp://), not from whatever process.env happens to hold.
 */
import type Docker from 'dockerode';
import { HelfyError } from '../../core/errors.js';

export interface EngineTarget {
  /** What we connect to, for messages: a socket path or host:port. */
  label: string;
  options: Docker.DockerOptions;
}

export function engineTarget(env: NodeJS.ProcessEnv): EngineTarget {
  const host = env.DOCKER_HOST?.trim();
  if (!host) return { label: '/var/run/docker.sock', options: { socketPath: '/var/run/docker.sock' } };
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length) || '/var/run/docker.sock';
    return { label: socketPath, options: { socketPath } };
  }
  const m = /^(tcp|http|https):\/\/([^:/]+):(\d+)\/?$/.exec(host);
  if (m) {
    const tls = m[1] === 'https' || (env.DOCKER_TLS_VERIFY ?? '') !== '';
    return { label: `${m[2]}:${m[3]}`, options: { host: m[2], port: Number(m[3]), protocol: tls ? 'https' : 'http' } };
  }
  throw new HelfyError('DOCKER_UNREACHABLE', `DOCKER_HOST=${host} is not a supported address`, {
    hint: 'Use unix:///path/to/docker.sock or tcp://host:port, or unset DOCKER_HOST.',
  });
}

export async function dockerClient(env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<{ docker: Docker; target: EngineTarget }> {
  const target = engineTarget(env);
  const { default: DockerCtor } = await import('dockerode');
  return { docker: new DockerCtor({ ...target.options, ...(timeoutMs ? { timeout: timeoutMs } : {}) }), target };
}

export interface EngineInfo {
  target: string;
  version: string;
  apiVersion: string;
}

/** Pings the engine within `timeoutMs`; throws DOCKER_UNREACHABLE (exit 3) with a hint otherwise. */
export async function pingEngine(env: NodeJS.ProcessEnv, timeoutMs = 2000): Promise<EngineInfo> {
  const { docker, target } = await dockerClient(env, timeoutMs);
  const timer = new Promise<never>((_, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    t.unref();
  });
  try {
    await Promise.race([docker.ping(), timer]);
    const v = (await Promise.race([docker.version(), timer])) as { Version: string; ApiVersion: string };
    return { target: target.label, version: v.Version, apiVersion: v.ApiVersion };
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new HelfyError('DOCKER_UNREACHABLE', `Docker engine unreachable at ${target.label} (${reason})`, {
      hint: env.DOCKER_HOST
        ? 'Start the Docker engine, or fix/unset DOCKER_HOST.'
        : 'Start Docker (Docker Desktop, or `sudo systemctl start docker`), or set DOCKER_HOST.',
      cause: e,
    });
  }
}
