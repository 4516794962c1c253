/**
 * `helfy db stats`: what TimescaleDB holds in helfy_app. Per hypertable: rows (approximate:
 * `approximate_row_count`, from the planner's statistics, so exact only right after ANALYZE; an
 * exact count would read every chunk, compressed ones decompressed), chunks, compressed chunks,
 * the compressed chunks' size before and after compression (`hypertable_compression_stats`) and
 * their ratio, the total size. Per continuous aggregate: its materialized rows (approximate) and
 * size, and its refresh policy's schedule and last run (`timescaledb_information.job_stats`; a
 * manual `CALL refresh_continuous_aggregate` is not a job run and does not show there).
 *
 * Without the extension in helfy_app (HELFY_TIMESCALE=optional) there is nothing of that kind:
 * `timescale` is null and the lists are empty.
 */
import type { HelfyConfig } from '../../config/load.js';
import { APP_DB, connect, pgConnectionFor, type PgConnection } from './connection.js';

export interface HypertableStats {
  name: string;
  /** approximate_row_count(): planner statistics (exact after ANALYZE). */
  approximateRows: number;
  chunks: number;
  compressedChunks: number;
  /** Size of the compressed chunks before compression (bytes); null when none is compressed. */
  bytesBeforeCompression: number | null;
  /** Their size after compression (bytes); null when none is compressed. */
  bytesAfterCompression: number | null;
  /** before / after; null when no chunk is compressed. */
  compressionRatio: number | null;
  /** hypertable_size(): every chunk, compressed or not, with indexes and TOAST. */
  totalBytes: number;
}

export interface AggregateStats {
  name: string;
  /** The hypertable (or aggregate) it is computed from. */
  source: string;
  materializedOnly: boolean;
  approximateRows: number;
  totalBytes: number;
  /** Its refresh policy's job; null without a policy. */
  refresh: {
    jobId: number;
    scheduleInterval: string;
    /** Start of the policy's last run (ISO), null before its first. */
    lastRunStartedAt: string | null;
    /** 'Success' | 'Failed' | null (never run). */
    lastRunStatus: string | null;
    lastSuccessfulFinish: string | null;
    nextStart: string | null;
    totalRuns: number;
    totalFailures: number;
  } | null;
}

export interface DbStats {
  database: string;
  /** The extension's version in the database; null without TimescaleDB (HELFY_TIMESCALE=optional). */
  timescale: string | null;
  hypertables: HypertableStats[];
  continuousAggregates: AggregateStats[];
}

const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : String(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

const HYPERTABLES_SQL = `
SELECT h.hypertable_name AS name,
       approximate_row_count(format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass)::bigint AS rows,
       (SELECT count(*) FROM timescaledb_information.chunks c WHERE c.hypertable_schema = h.hypertable_schema AND c.hypertable_name = h.hypertable_name)::int AS chunks,
       (SELECT count(*) FROM timescaledb_information.chunks c WHERE c.hypertable_schema = h.hypertable_schema AND c.hypertable_name = h.hypertable_name AND c.is_compressed)::int AS compressed,
       s.before_compression_total_bytes AS before, s.after_compression_total_bytes AS after,
       hypertable_size(format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass) AS total
  FROM timescaledb_information.hypertables h
  LEFT JOIN LATERAL (
    SELECT sum(before_compression_total_bytes)::bigint AS before_compression_total_bytes, sum(after_compression_total_bytes)::bigint AS after_compression_total_bytes
      FROM hypertable_compression_stats(format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass)
  ) s ON true
 WHERE h.hypertable_schema = current_schema()
 ORDER BY h.hypertable_name`;

const AGGREGATES_SQL = `
SELECT a.view_name AS name, a.materialized_only,
       -- A hierarchical aggregate's source is its parent's materialization hypertable: named by the parent.
       coalesce((SELECT p.view_name FROM timescaledb_information.continuous_aggregates p
                  WHERE p.materialization_hypertable_schema = a.hypertable_schema AND p.materialization_hypertable_name = a.hypertable_name),
                a.hypertable_name) AS source,
       approximate_row_count(format('%I.%I', a.materialization_hypertable_schema, a.materialization_hypertable_name)::regclass)::bigint AS rows,
       hypertable_size(format('%I.%I', a.materialization_hypertable_schema, a.materialization_hypertable_name)::regclass) AS total,
       j.job_id, j.schedule_interval::text AS every,
       s.last_run_started_at, s.last_run_status, s.last_successful_finish, s.next_start, s.total_runs, s.total_failures
  FROM timescaledb_information.continuous_aggregates a
  LEFT JOIN timescaledb_information.jobs j
    ON j.proc_name = 'policy_refresh_continuous_aggregate' AND j.hypertable_schema = a.view_schema AND j.hypertable_name = a.view_name
  LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
 WHERE a.view_schema = current_schema()
 ORDER BY a.view_name`;

/** The figures of one database (the connection's). */
export async function readStatsOf(conn: PgConnection): Promise<DbStats> {
  const c = await connect(typeof conn === 'string' ? { connectionString: conn, statement_timeout: 60_000 } : { ...conn, statement_timeout: 60_000 });
  try {
    const meta = await c.query<{ db: string; version: string | null }>(`SELECT current_database() AS db, (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS version`);
    const { db, version } = meta.rows[0]!;
    if (!version) return { database: db, timescale: null, hypertables: [], continuousAggregates: [] };
    const [h, a] = [await c.query(HYPERTABLES_SQL), await c.query(AGGREGATES_SQL)];
    const hypertables = h.rows.map((r): HypertableStats => {
      const before = numOrNull(r.before);
      const after = numOrNull(r.after);
      return {
        name: r.name,
        approximateRows: Number(r.rows),
        chunks: r.chunks,
        compressedChunks: r.compressed,
        bytesBeforeCompression: r.compressed ? before : null,
        bytesAfterCompression: r.compressed ? after : null,
        compressionRatio: r.compressed && before !== null && after ? before / after : null,
        totalBytes: Number(r.total),
      };
    });
    const continuousAggregates = a.rows.map(
      (r): AggregateStats => ({
        name: r.name,
        source: r.source ?? '',
        materializedOnly: r.materialized_only,
        approximateRows: Number(r.rows),
        totalBytes: Number(r.total),
        refresh:
          r.job_id === null
            ? null
            : {
                jobId: r.job_id,
                scheduleInterval: r.every,
                lastRunStartedAt: r.total_runs > 0 ? iso(r.last_run_started_at) : null,
                lastRunStatus: r.last_run_status ?? null,
                lastSuccessfulFinish: r.total_runs > 0 ? iso(r.last_successful_finish) : null,
                nextStart: iso(r.next_start),
                totalRuns: Number(r.total_runs ?? 0),
                totalFailures: Number(r.total_failures ?? 0),
              },
      }),
    );
    return { database: db, timescale: version, hypertables, continuousAggregates };
  } finally {
    await c.end().catch(() => {});
  }
}

/** `helfy db stats`: helfy_app, as the superuser (the stats functions read every chunk's catalog). */
export function readDbStats(cfg: HelfyConfig): Promise<DbStats> {
  return readStatsOf(pgConnectionFor(cfg, 'superuser', APP_DB));
}
