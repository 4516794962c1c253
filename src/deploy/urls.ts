/**
 * The URLs of a deployment: the API and the web app publish host-mode ports (the export,
 * src/export/swarm.ts), so they answer on the swarm node's own address at the configured ports.
 * A local engine (a unix socket) is this machine: the loopback address helfy prints for `up`; an
 * engine reached over tcp:// is the host named there.
 */
import type { HelfyConfig } from '../config/load.js';
import { hostFor } from '../stack/probes.js';

export interface DeployUrl {
  label: string;
  url: string;
}

export function nodeHost(cfg: HelfyConfig, env: NodeJS.ProcessEnv): string {
  const m = /^(?:tcp|https?):\/\/([^:/]+|\[[^\]]+\])(?::\d+)?\/?$/.exec(env.DOCKER_HOST?.trim() ?? '');
  const host = m ? m[1]! : hostFor(cfg);
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export function deployUrls(cfg: HelfyConfig, env: NodeJS.ProcessEnv): DeployUrl[] {
  const h = nodeHost(cfg, env);
  return [
    { label: 'api', url: `http://${h}:${cfg.ports.api}` },
    { label: 'web', url: `http://${h}:${cfg.ports.web}` },
  ];
}
