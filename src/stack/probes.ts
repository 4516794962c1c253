/**
 * Live probes from the host, one per service that has one, each bounded by its own timeout.
 * The store probes live in src/db/probes.ts (only src/db imports the database drivers); the
 * HTTP probes (api readiness, web health, temporal-ui) are here.
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
/** The least time a /health/ready probe is given (see runProbe). */
export const READY_TIMEOUT_MS = 4000;

export function hostFor(cfg: HelfyConfig): string {
  return cfg.bindAddress === '0.0.0.0' || cfg.bindAddress === '::' ? '127.0.0.1' : cfg.bindAddress;
}

export function httpUrl(host: string, port: number, path = ''): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
}

function failure(url: string, e: unknown, timeoutMs: number): Omit<ProbeResult, 'durationMs'> {
  const err = e as Error & { cause?: { code?: string } };
  const reason = err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : err.cause?.code ?? err.message;
  return { ok: false, detail: `GET ${url}: ${reason}` };
}

/** GET /health: 2xx with `{status, service, version}` (api, web); any 2xx/3xx elsewhere. */
export async function probeHttp(url: string, timeoutMs: number, expectJson: boolean): Promise<Omit<ProbeResult, 'durationMs'>> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    if (res.status >= 400) {
      await res.body?.cancel();
      return { ok: false, detail: `GET ${url} → HTTP ${res.status}` };
    }
    if (!expectJson) {
      await res.body?.cancel();
      return { ok: true, detail: `HTTP ${res.status}` };
    }
    const body = (await res.json()) as { status?: unknown; service?: unknown; version?: unknown };
    const ok = body.status === 'ok';
    return { ok, detail: `${String(body.service ?? '?')} ${String(body.version ?? '?')}: ${String(body.status ?? 'no status')}`, version: String(body.version ?? '') };
  } catch (e) {
    return failure(url, e, timeoutMs);
  }
}

export interface DependencyCheck {
  name: string;
  ok: boolean;
  latencyMs?: number;
  error?: string;
}

/**
 * The per-dependency results of a readiness document, read generically: the first object-valued
 * member (e.g. `checks` or `dependencies`) whose entries carry `ok: boolean` or a `status` string
 * (`ok`/`up` = fine), each with an optional latency and error.
 */
export function readinessChecks(body: unknown): DependencyCheck[] {
  if (!body || typeof body !== 'object') return [];
  for (const value of Object.values(body as Record<string, unknown>)) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
    const entries = Object.entries(value as Record<string, unknown>).filter(([, x]) => x && typeof x === 'object' && ('ok' in x || 'status' in x));
    if (!entries.length) continue;
    return entries.map(([name, raw]) => {
      const x = raw as { ok?: unknown; status?: unknown; latencyMs?: unknown; latency_ms?: unknown; error?: unknown; message?: unknown };
      const ok = typeof x.ok === 'boolean' ? x.ok : ['ok', 'up', 'healthy'].includes(String(x.status));
      const latency = Number(x.latencyMs ?? x.latency_ms);
      const error = x.error ?? (ok ? undefined : x.message);
      return { name, ok, ...(Number.isFinite(latency) ? { latencyMs: Math.round(latency) } : {}), ...(error !== undefined ? { error: typeof error === 'string' ? error : JSON.stringify(error) } : {}) };
    });
  }
  return [];
}

/**
 * GET /health/ready: 200 only when every dependency answers; a 503 names what is down. Detail:
 * `api 0.1.0: ready (postgres 2 ms, neo4j 3 ms, temporal 1 ms)` or `not ready: neo4j down (...)`.
 */
export async function probeReady(url: string, timeoutMs: number): Promise<Omit<ProbeResult, 'durationMs'>> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    const text = await res.text();
    let body: { service?: unknown; version?: unknown; status?: unknown } | undefined;
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = undefined;
    }
    const checks = readinessChecks(body);
    const who = body?.service !== undefined ? `${String(body.service)} ${String(body.version ?? '?')}: ` : '';
    const info = { ...(checks.length ? { checks } : {}), httpStatus: res.status };
    const version = body?.version !== undefined ? { version: String(body.version) } : {};
    if (res.status === 200) {
      const figures = checks.map((c) => `${c.name}${c.latencyMs !== undefined ? ` ${c.latencyMs} ms` : ''}`).join(', ');
      return { ok: true, detail: `${who}ready${figures ? ` (${figures})` : ''}`, ...version, info };
    }
    const down = checks.filter((c) => !c.ok);
    const what = down.length
      ? `${down.map((c) => c.name).join(', ')} down${down[0]!.error ? ` (${down[0]!.name}: ${down[0]!.error.slice(0, 200)})` : ''}`
      : `HTTP ${res.status}`;
    return { ok: false, detail: `${who}not ready: ${what}`, ...version, info };
  } catch (e) {
    return failure(url, e, timeoutMs);
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
export async function runProbe(def: ServiceDef, cfg: HelfyConfig, requestedTimeoutMs: number): Promise<ProbeResult | undefined> {
  if (!def.probe) return undefined;
  // The API bounds each dependency check by its own timeout (3 s by default): give its readiness
  // answer the time to name what is down instead of cutting it off first.
  const timeoutMs = def.probe === 'ready' ? Math.max(requestedTimeoutMs, READY_TIMEOUT_MS) : requestedTimeoutMs;
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
      case 'http':
      case 'health': {
        const port = cfg.ports[def.ports[0]!.config];
        const json = def.probe === 'health';
        return probeHttp(httpUrl(host, port, json ? '/health' : '/'), timeoutMs, json);
      }
      case 'ready':
        return probeReady(httpUrl(host, cfg.ports[def.ports[0]!.config], '/health/ready'), timeoutMs);
      default:
        return { ok: false, detail: 'no probe' };
    }
  })().catch((e: unknown) => ({ ok: false, detail: (e as Error).message }));
  // A hard cap in case a driver ignores its own timeout (e.g. stuck in a TLS or Bolt handshake).
  const r = await withTimeout(work, timeoutMs + 250, () => ({ ok: false, detail: `no answer within ${timeoutMs} ms` }));
  return { ...r, durationMs: Math.round(performance.now() - t0) };
}
