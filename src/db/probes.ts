/**
 * Live probes of the stores for `helfy status` and `helfy up`: one small round trip each,
 * bounded by a timeout, never throwing (a failed probe is a result). The drivers are imported
 * lazily so a probe that is not run costs nothing.
 */
import type { HelfyConfig } from '../config/load.js';

export interface StoreProbeResult {
  ok: boolean;
  /** One line: the server version, or why the probe failed. */
  detail: string;
  /** Server version when known. */
  version?: string;
  /** Extra facts (e.g. Temporal capabilities, Neo4j edition). */
  info?: Record<string, unknown>;
}

function firstLine(e: unknown): string {
  return ((e as Error)?.message ?? String(e)).split('\n')[0]!;
}

/** PostgreSQL: connect as the superuser and run `select version()`. */
export async function probePostgres(cfg: HelfyConfig, timeoutMs: number): Promise<StoreProbeResult> {
  const [{ connect, pgConnectionFor }] = await Promise.all([import('./postgres/connection.js')]);
  try {
    const c = await connect({ ...pgConnectionFor(cfg, 'superuser'), connectionTimeoutMillis: timeoutMs, statement_timeout: timeoutMs, query_timeout: timeoutMs });
    try {
      const r = await c.query<{ version: string }>('select version() as version');
      const full = r.rows[0]?.version ?? '';
      const version = /PostgreSQL ([\d.]+)/.exec(full)?.[1] ?? full;
      // Where the timescaledb extension is: on helfy_app only (absent on the Temporal databases).
      const { postgresStatus } = await import('./postgres/bootstrap.js');
      const st = await postgresStatus(cfg);
      const app = st.databases.find((d) => d.purpose === 'app');
      const timescale = !app?.exists ? 'helfy_app not created yet' : app.timescaledb ? `timescaledb ${app.timescaledb} on helfy_app` : 'timescaledb: absent (plain tables)';
      const databases = st.databases.map((d) => ({ name: d.name, exists: d.exists, timescaledb: d.timescaledb, ok: d.ok, problems: d.problems }));
      // TimescaleDB's background jobs (compression, retention, ...): a job whose last run failed is
      // a warning naming it — a TimescaleDB whose jobs cannot run must not pass unnoticed.
      const jobs = app?.timescaledb ? await timescaleJobs(cfg, timeoutMs).catch(() => undefined) : undefined;
      const failing = (jobs ?? []).filter((j) => j.lastRunStatus === 'Failed');
      // Job names carry their id already ("Compression Policy [1001]").
      const warnings = failing.map((j) => `TimescaleDB job ${j.name} failed its last run${j.lastError ? `: ${j.lastError}` : ''}`);
      const jobsNote = failing.length ? `; ${failing.length} of ${jobs!.length} background jobs failing (${failing.map((j) => j.name).join(', ')})` : '';
      return { ok: true, detail: `PostgreSQL ${version}; ${timescale}${jobsNote}`, version, info: { timescale, databases, ...(jobs ? { jobs } : {}), ...(warnings.length ? { warnings } : {}) } };
    } finally {
      await c.end().catch(() => {});
    }
  } catch (e) {
    return { ok: false, detail: firstLine(e) };
  }
}

export interface TimescaleJob {
  id: number;
  name: string;
  /** 'Success' | 'Failed' | null (never run yet). */
  lastRunStatus: string | null;
  totalFailures: number;
  /** The message of its newest recorded error, when its last run failed. */
  lastError?: string;
}

/** TimescaleDB's background jobs on helfy_app, with how their last run ended. */
async function timescaleJobs(cfg: HelfyConfig, timeoutMs: number): Promise<TimescaleJob[]> {
  const { APP_DB, pgConnectionFor, withClient } = await import('./postgres/connection.js');
  return withClient({ ...pgConnectionFor(cfg, 'superuser', APP_DB), statement_timeout: timeoutMs, query_timeout: timeoutMs }, async (c) => {
    const r = await c.query<{ id: number; name: string; status: string | null; failures: number; err: string | null }>(
      `SELECT j.job_id AS id, j.application_name AS name, s.last_run_status AS status, coalesce(s.total_failures, 0)::int AS failures,
              (SELECT e.err_message FROM timescaledb_information.job_errors e WHERE e.job_id = j.job_id ORDER BY e.finish_time DESC LIMIT 1) AS err
         FROM timescaledb_information.jobs j LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
        ORDER BY j.job_id`,
    );
    return r.rows.map((x) => ({
      id: x.id,
      name: x.name,
      lastRunStatus: x.status,
      totalFailures: x.failures,
      ...(x.status === 'Failed' && x.err ? { lastError: x.err.split('\n')[0]! } : {}),
    }));
  });
}

/**
 * The library `helfy seed` loads, as `status` shows it: node counts from Neo4j's count store
 * (constant time, whatever the graph's size) and the seed's completion markers (a part whose
 * load was killed has no marker, so it does not count as loaded).
 */
const LIBRARY_QUERY = `CALL dbms.components() YIELD name, versions, edition
  RETURN name, versions[0] AS version, edition,
    COUNT { (:Exercise) } AS exercises, COUNT { (:Food) } AS foods, COUNT { (:Routine) } AS routines,
    COLLECT { MATCH (m:__HelfySeed) RETURN m.part } AS parts`;

export interface LibraryProbe {
  exercises: number;
  foods: number;
  routines: number;
  /** Every part (exercises, foods, routines) completely loaded by `helfy seed`. */
  loaded: boolean;
}

/** Neo4j: Bolt connect, `CALL dbms.components()` and the library's size, in one query. */
export async function probeNeo4j(cfg: HelfyConfig, timeoutMs: number): Promise<StoreProbeResult> {
  const { connectNeo4j } = await import('./neo4j/connect.js');
  const driver = connectNeo4j({ host: cfg.neo4j.host, boltPort: cfg.neo4j.boltPort, user: cfg.neo4j.user, password: cfg.neo4j.password }, { connectionTimeoutMs: timeoutMs });
  try {
    const res = await driver.executeQuery(LIBRARY_QUERY, {}, { transactionConfig: { timeout: timeoutMs } });
    const rec = res.records[0];
    const version = String(rec?.get('version') ?? '');
    const edition = String(rec?.get('edition') ?? '');
    const parts = new Set(((rec?.get('parts') ?? []) as unknown[]).map(String));
    const library: LibraryProbe = {
      exercises: Number(rec?.get('exercises') ?? 0),
      foods: Number(rec?.get('foods') ?? 0),
      routines: Number(rec?.get('routines') ?? 0),
      loaded: ['exercises', 'foods', 'routines'].every((p) => parts.has(p)),
    };
    const n = (x: number) => x.toLocaleString('en-US');
    const lib = library.loaded
      ? `library: ${n(library.exercises)} exercises, ${n(library.foods)} foods, ${n(library.routines)} routines`
      : library.exercises + library.foods + library.routines > 0
        ? `library: partly loaded (${n(library.exercises)} exercises, ${n(library.foods)} foods, ${n(library.routines)} routines; run helfy seed)`
        : 'library: not seeded (helfy seed)';
    return { ok: true, detail: `${`${rec?.get('name') ?? 'Neo4j'} ${version} ${edition}`.trim()}; ${lib}`, version, info: { edition, library } };
  } catch (e) {
    return { ok: false, detail: firstLine(e) };
  } finally {
    await driver.close().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Temporal. The probe speaks gRPC itself over node:http2 (two tiny unary calls, protobuf encoded
// by hand): loading @temporalio/client costs ~0.5 s of CPU, several times the probe itself, and
// the probe runs every half second while `up` waits and in parallel with the others in `status`.

export const WORKFLOW_SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';
const HEALTH_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** Reads the protobuf fields of a message: number → [wire type, value]. Only what the probe needs. */
export function protoFields(buf: Buffer): Map<number, { wire: number; value: number | Buffer }> {
  const out = new Map<number, { wire: number; value: number | Buffer }>();
  let i = 0;
  const readVarint = () => {
    let shift = 0;
    let v = 0;
    for (;;) {
      const b = buf[i++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) out.set(field, { wire, value: readVarint() });
    else if (wire === 2) {
      const len = readVarint();
      out.set(field, { wire, value: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 5) i += 4;
    else if (wire === 1) i += 8;
    else break;
  }
  return out;
}

/** A protobuf message with one string field 1 (grpc.health.v1.HealthCheckRequest). */
export function encodeStringField1(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.from([0x0a, ...varint(b.length), ...b]);
}

/** One unary gRPC call over h2c. Resolves the response message; rejects with the gRPC status. */
export async function grpcUnary(address: string, path: string, message: Buffer, timeoutMs: number): Promise<Buffer> {
  const http2 = await import('node:http2');
  return new Promise<Buffer>((resolve, reject) => {
    const session = http2.connect(`http://${address}`);
    const timer = setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    let settled = false;
    function fail(e: Error) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      reject(e);
    }
    session.on('error', (e) => fail(e));
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': `${timeoutMs}m` });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let grpcMessage = '';
    req.on('response', (h) => {
      if (h['grpc-status'] !== undefined) {
        status = String(h['grpc-status']);
        grpcMessage = String(h['grpc-message'] ?? '');
      }
    });
    req.on('trailers', (t) => {
      status = String(t['grpc-status'] ?? status ?? '');
      grpcMessage = decodeURIComponent(String(t['grpc-message'] ?? grpcMessage));
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', (e) => fail(e));
    req.on('end', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.close();
      if (status !== '0') {
        reject(Object.assign(new Error(`gRPC status ${status ?? '?'}${grpcMessage ? `: ${grpcMessage}` : ''}`), { grpcStatus: Number(status) }));
        return;
      }
      const body = Buffer.concat(chunks);
      resolve(body.length >= 5 ? body.subarray(5, 5 + body.readUInt32BE(1)) : Buffer.alloc(0));
    });
    req.end(frame);
  });
}

const NAMESPACE_STATES = ['UNSPECIFIED', 'REGISTERED', 'DEPRECATED', 'DELETED'] as const;

/**
 * DescribeNamespace: DescribeNamespaceRequest{1: namespace} → DescribeNamespaceResponse{
 * 1: NamespaceInfo{1: name, 2: state}, 2: NamespaceConfig{1: workflow_execution_retention_ttl
 * Duration{1: seconds}}}. null when the namespace is not registered (gRPC NOT_FOUND).
 */
export async function describeNamespace(address: string, namespace: string, timeoutMs: number): Promise<{ name: string; state: string; retentionHours: number } | null> {
  let res: Buffer;
  try {
    res = await grpcUnary(address, `/${WORKFLOW_SERVICE}/DescribeNamespace`, encodeStringField1(namespace), timeoutMs);
  } catch (e) {
    if ((e as { grpcStatus?: number }).grpcStatus === 5) return null;
    throw e;
  }
  const sub = (m: Map<number, { value: number | Buffer }>, f: number) => {
    const v = m.get(f)?.value;
    return Buffer.isBuffer(v) ? protoFields(v) : new Map<number, { wire: number; value: number | Buffer }>();
  };
  const top = protoFields(res);
  const info = sub(top, 1);
  const ttl = sub(sub(top, 2), 1);
  const name = info.get(1)?.value;
  return {
    name: Buffer.isBuffer(name) ? name.toString('utf8') : namespace,
    state: NAMESPACE_STATES[Number(info.get(2)?.value ?? 0)] ?? 'UNSPECIFIED',
    retentionHours: Number(ttl.get(1)?.value ?? 0) / 3600,
  };
}

/** Temporal: gRPC health of the WorkflowService (must be SERVING), GetSystemInfo, the namespace. */
export async function probeTemporal(cfg: HelfyConfig, timeoutMs: number): Promise<StoreProbeResult> {
  const host = cfg.temporal.host.includes(':') && !cfg.temporal.host.startsWith('[') ? `[${cfg.temporal.host}]` : cfg.temporal.host;
  const address = `${host}:${cfg.temporal.port}`;
  try {
    const health = protoFields(await grpcUnary(address, '/grpc.health.v1.Health/Check', encodeStringField1(WORKFLOW_SERVICE), timeoutMs));
    const status = HEALTH_STATUS[Number(health.get(1)?.value ?? 0)] ?? 'UNKNOWN';
    if (status !== 'SERVING') return { ok: false, detail: `WorkflowService ${status}`, info: { health: status } };
    const info = protoFields(await grpcUnary(address, `/${WORKFLOW_SERVICE}/GetSystemInfo`, Buffer.alloc(0), timeoutMs));
    const v = info.get(1)?.value;
    const version = Buffer.isBuffer(v) ? v.toString('utf8') : '';
    const namespace = await describeNamespace(address, cfg.temporal.namespace, timeoutMs);
    const ns = namespace ? `namespace ${namespace.name} ${namespace.state.toLowerCase()} (retention ${namespace.retentionHours} h)` : `namespace ${cfg.temporal.namespace} not registered`;
    return { ok: true, detail: `WorkflowService SERVING, server ${version || '?'}, ${ns}`, version, info: { health: status, namespace } };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, detail: `${address}: ${code && !String((e as Error).message).includes(code) ? `${code} ` : ''}${firstLine(e)}` };
  }
}
