/** The URL table `up` prints and `status` reports. */
import type { HelfyConfig } from '../config/load.js';
import { hostFor } from './probes.js';
import type { ServiceDef } from './types.js';

export interface ServiceUrl {
  label: string;
  url: string;
}

export function serviceUrls(def: ServiceDef, cfg: HelfyConfig): ServiceUrl[] {
  const host = hostFor(cfg);
  const h = host.includes(':') ? `[${host}]` : host;
  return def.ports.map((p) => {
    const port = cfg.ports[p.config];
    switch (p.scheme) {
      case 'postgres':
        return { label: p.label, url: `postgres://${cfg.postgres.superuser}@${h}:${port}/postgres` };
      case 'bolt':
        return { label: p.label, url: `bolt://${h}:${port}` };
      case 'grpc':
        return { label: p.label, url: `${h}:${port}` };
      default:
        return { label: p.label, url: `http://${h}:${port}` };
    }
  });
}
