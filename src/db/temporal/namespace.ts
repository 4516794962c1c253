/**
 * Temporal namespace bootstrap and status over the frontend's gRPC API (@temporalio/client).
 * Only src/db/* imports @temporalio/client.
 */
import { Connection, isGrpcServiceError } from '@temporalio/client';
import type { Logger } from '../../core/context.js';
import { HelfyError } from '../../core/errors.js';

/** gRPC status codes used here (from the gRPC spec; avoids importing @grpc/grpc-js). */
const GRPC = { DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, UNAVAILABLE: 14, CANCELLED: 1, INVALID_ARGUMENT: 3 } as const;
export const WORKFLOW_SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';
const HEALTH_NAMES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
export type HealthStatus = (typeof HEALTH_NAMES)[number];
const NAMESPACE_STATES = ['UNSPECIFIED', 'REGISTERED', 'DEPRECATED', 'DELETED'] as const;

const quiet: Logger = { info() {}, success() {}, warn() {}, error() {}, debug() {}, raw() {} };

export interface EnsureNamespaceOptions {
  /** Frontend address `host:port`, e.g. `127.0.0.1:7233`. */
  address: string;
  namespace: string;
  retentionHours: number;
  log?: Logger;
  /** Per-call deadline and connect timeout. Default 10 s. */
  timeoutMs?: number;
}

export interface EnsureNamespaceResult {
  created: boolean;
  /** The namespace's retention as the server reports it (may differ from the request when it already existed). */
  retentionHours: number;
}

export interface TemporalStatusOptions {
  address: string;
  namespace: string;
  /** Per-call deadline and connect timeout. Default 5 s. */
  timeoutMs?: number;
}

export interface NamespaceInfo {
  name: string;
  /** REGISTERED | DEPRECATED | DELETED | UNSPECIFIED */
  state: string;
  retentionHours: number;
}

export interface TemporalStatus {
  address: string;
  /** gRPC health of temporal.api.workflowservice.v1.WorkflowService. */
  health: HealthStatus;
  serverVersion: string;
  /** The capability flags the server announces (only the ones it sets). */
  capabilities: Record<string, boolean>;
  /** null when the namespace is not registered. */
  namespace: NamespaceInfo | null;
}

type RetentionPeriod = NonNullable<Parameters<Connection['workflowService']['registerNamespace']>[0]['workflowExecutionRetentionPeriod']>;

function grpcCode(e: unknown): number | undefined {
  return isGrpcServiceError(e) ? e.code : typeof (e as { code?: unknown })?.code === 'number' ? (e as { code: number }).code : undefined;
}

/** Long | number | string | null → number. */
function num(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  return Number(String(v));
}

function durationHours(d: { seconds?: unknown; nanos?: unknown } | null | undefined): number {
  if (!d) return 0;
  return (num(d.seconds) + num(d.nanos) / 1e9) / 3600;
}

function unreachable(address: string, e: unknown): HelfyError {
  const msg = (e as Error)?.message ?? String(e);
  return new HelfyError('CONNECTION_FAILED', `cannot reach Temporal at ${address}: ${msg.split('\n')[0]}`, {
    hint: 'Is Temporal running? `helfy status` shows the stack and `helfy logs temporal` shows why it did not start. The frontend takes ~10-30 s after PostgreSQL is ready.',
    cause: e,
  });
}

async function connect(address: string, timeoutMs: number): Promise<Connection> {
  try {
    return await Connection.connect({ address, connectTimeout: timeoutMs });
  } catch (e) {
    throw unreachable(address, e);
  }
}

/** Runs one call with a deadline; connection-level failures become CONNECTION_FAILED. */
async function call<T>(conn: Connection, address: string, timeoutMs: number, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await conn.withDeadline(Date.now() + timeoutMs, fn);
  } catch (e) {
    const code = grpcCode(e);
    if (code === GRPC.UNAVAILABLE || code === GRPC.DEADLINE_EXCEEDED || code === GRPC.CANCELLED) {
      const err = unreachable(address, e);
      throw new HelfyError('CONNECTION_FAILED', `${err.message} (during ${what})`, { hint: err.hint, cause: e });
    }
    throw e;
  }
}

async function describe(conn: Connection, address: string, namespace: string, timeoutMs: number): Promise<NamespaceInfo | null> {
  try {
    const res = await call(conn, address, timeoutMs, 'DescribeNamespace', () => conn.workflowService.describeNamespace({ namespace }));
    return {
      name: res.namespaceInfo?.name ?? namespace,
      state: NAMESPACE_STATES[num(res.namespaceInfo?.state)] ?? String(res.namespaceInfo?.state),
      retentionHours: durationHours(res.config?.workflowExecutionRetentionTtl),
    };
  } catch (e) {
    if (grpcCode(e) === GRPC.NOT_FOUND) return null;
    throw e;
  }
}

function failed(what: string, e: unknown, hint?: string): HelfyError {
  if (e instanceof HelfyError) return e;
  return new HelfyError('OPERATION_FAILED', `Temporal ${what} failed: ${(e as Error)?.message ?? String(e)}`, { hint, cause: e });
}

/**
 * Registers the namespace when it does not exist. A concurrent registration ("already exists")
 * counts as success. An existing namespace is left as it is (a different retention is warned about).
 */
export async function ensureNamespace(opts: EnsureNamespaceOptions): Promise<EnsureNamespaceResult> {
  const log = opts.log ?? quiet;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  if (!(opts.retentionHours > 0)) {
    throw new HelfyError('CONFIG_INVALID', `Temporal retention must be positive, got ${opts.retentionHours}h`, { hint: 'Set HELFY_TEMPORAL_RETENTION, e.g. 72h or 3d.' });
  }
  const conn = await connect(opts.address, timeoutMs);
  try {
    let existing: NamespaceInfo | null;
    try {
      existing = await describe(conn, opts.address, opts.namespace, timeoutMs);
    } catch (e) {
      throw failed(`DescribeNamespace ${opts.namespace}`, e);
    }
    if (existing) {
      if (Math.abs(existing.retentionHours - opts.retentionHours) > 1e-6) {
        log.warn(`Temporal namespace ${opts.namespace} keeps its retention of ${existing.retentionHours}h (configured: ${opts.retentionHours}h)`);
      }
      log.debug(`Temporal namespace ${opts.namespace} exists`);
      return { created: false, retentionHours: existing.retentionHours };
    }
    try {
      await call(conn, opts.address, timeoutMs, 'RegisterNamespace', () => conn.workflowService.registerNamespace({
        namespace: opts.namespace,
        description: 'Helfy workflows',
        // int64 fields are typed as Long; protobufjs encodes a plain number just as well.
        workflowExecutionRetentionPeriod: { seconds: Math.round(opts.retentionHours * 3600) } as unknown as RetentionPeriod,
      }));
    } catch (e) {
      if (grpcCode(e) === GRPC.ALREADY_EXISTS) {
        // Registered by a concurrent `helfy` between our describe and register.
        log.debug(`Temporal namespace ${opts.namespace} was registered concurrently`);
        const now = await describe(conn, opts.address, opts.namespace, timeoutMs).catch(() => null);
        return { created: false, retentionHours: now?.retentionHours ?? opts.retentionHours };
      }
      throw failed(`RegisterNamespace ${opts.namespace}`, e, grpcCode(e) === GRPC.INVALID_ARGUMENT ? 'Check HELFY_TEMPORAL_NAMESPACE and HELFY_TEMPORAL_RETENTION (at least 1h).' : undefined);
    }
    log.success(`registered Temporal namespace ${opts.namespace} (retention ${opts.retentionHours}h)`);
    return { created: true, retentionHours: opts.retentionHours };
  } finally {
    await conn.close();
  }
}

/** Health, version and namespace of a Temporal frontend, each call bounded by `timeoutMs`. */
export async function temporalStatus(opts: TemporalStatusOptions): Promise<TemporalStatus> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const conn = await connect(opts.address, timeoutMs);
  try {
    let health: HealthStatus;
    try {
      const h = await call(conn, opts.address, timeoutMs, 'health check', () => conn.healthService.check({ service: WORKFLOW_SERVICE }));
      health = HEALTH_NAMES[num(h.status)] ?? 'UNKNOWN';
    } catch (e) {
      if (e instanceof HelfyError) throw e;
      // NOT_FOUND: the server does not know the service name.
      health = grpcCode(e) === GRPC.NOT_FOUND ? 'SERVICE_UNKNOWN' : 'UNKNOWN';
    }
    const info = await call(conn, opts.address, timeoutMs, 'GetSystemInfo', () => conn.workflowService.getSystemInfo({}))
      .catch((e: unknown) => { throw failed('GetSystemInfo', e); });
    const capabilities: Record<string, boolean> = {};
    const caps = info.capabilities as Record<string, unknown> | null | undefined;
    if (caps) for (const [k, v] of Object.entries(caps)) if (typeof v === 'boolean') capabilities[k] = v;
    const namespace = await describe(conn, opts.address, opts.namespace, timeoutMs).catch((e: unknown) => { throw failed(`DescribeNamespace ${opts.namespace}`, e); });
    return { address: opts.address, health, serverVersion: info.serverVersion ?? '', capabilities, namespace };
  } finally {
    await conn.close();
  }
}

/** `host:port` from HelfyConfig['temporal']. */
export function temporalAddress(cfg: { host: string; port: number }): string {
  const host = cfg.host.includes(':') && !cfg.host.startsWith('[') ? `[${cfg.host}]` : cfg.host;
  return `${host}:${cfg.port}`;
}
