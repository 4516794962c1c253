/**
 * Live probes from the host, one per service that has one, each bounded by its own timeout.
 * The store probes live in src/db/probes.ts (only src/db imports the database drivers); the
 * HTTP probe (api, web, temporal-ui) is here.
 */
import type { HelfyConfig } from '../config/load.js';
import type { ServiceDef } from './types.js';

export interface ProbeResult {
  ok: boolean;
  detail: string;
  version?: string;
  info?: Record<string, unknown>;
  durationMs: number;
}

/** Where the host reaches a published port: the bind address, or loopback when it binds to all. */
export function hostFor(cfg: HelfyConfig): string {
  return cfg.bindAddress === '0.0.0.0' || cfg.bindAddress === '::' ? '127.0.0.1' : cfg.bindAddress;
}

export function httpUrl(host: string, port: number, path = ''): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
}

/** GET /health: 2xx with `{status, service, version}` (api, web); any 2xx/3xx elsewhere. */
export async function probeHttp(url: string, timeoutMs: number, expectJson: boolean): Promise<Omit<ProbeResult, 'durationMs'>> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    if (res.status >= 400) return { ok: false, detail: `GET ${url} → HTTP ${res.status}` };
    if (!expectJson) {
      await res.body?.cancel();
      return { ok: true, detail: `HTTP ${res.status}` };
    }
    const body = (await res.json()) as { status?: unknown; service?: unknown; version?: unknown };
    const ok = body.status === 'ok';
    return { ok, detail: `${String(body.service ?? '?')} ${String(body.version ?? '?')}: ${String(body.status ?? 'no status')}`, version: String(body.version ?? '') };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    const reason = err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : err.cause?.code ?? err.message;
    return { ok: false, detail: `GET ${url}: ${reason}` };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timer = new Promise<T>((resolve) => {
    t = setTimeout(() => resolve(onTimeout()), ms);
    t.unref();
  });
  return Promise.race([p, timer]).finally(() => clearTimeout(t));
}

/** Runs the service's live probe; undefined when the service has none. Never throws. */
export async function runProbe(def: ServiceDef, cfg: HelfyConfig, timeoutMs: number): Promise<ProbeResult | undefined> {
  if (!def.probe) return undefined;
  const t0 = performance.now();
  const host = hostFor(cfg);
  const work = (async (): Promise<Omit<ProbeResult, 'durationMs'>> => {
    switch (def.probe) {
      case 'postgres': {
        const { probePostgres } = await import('../db/probes.js');
        return probePostgres(cfg, timeoutMs);
      }
      case 'neo4j': {
        const { probeNeo4j } = await import('../db/probes.js');
        return probeNeo4j(cfg, timeoutMs);
      }
      case 'temporal': {
        const { probeTemporal } = await import('../db/probes.js');
        return probeTemporal(cfg, timeoutMs);
      }
      case 'http': {
        const port = cfg.ports[def.ports[0]!.config];
        const json = def.name === 'api' || def.name === 'web';
        return probeHttp(httpUrl(host, port, json ? '/health' : '/'), timeoutMs, json);
      }
      default:
        return { ok: false, detail: 'no probe' };
    }
  })().catch((e: unknown) => ({ ok: false, detail: (e as Error).message }));
  // A hard cap in case a driver ignores its own timeout (e.g. stuck in a TLS or Bolt handshake).
  const r = await withTimeout(work, timeoutMs + 250, () => ({ ok: false, detail: `no answer within ${timeoutMs} ms` }));
  return { ...r, durationMs: Math.round(performance.now() - t0) };
}
