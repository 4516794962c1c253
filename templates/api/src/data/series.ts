/**
 * The bucketed range query. With TimescaleDB: time_bucket(width, time); without: date_bin(width,
 * time, origin) with TimescaleDB's default origin for timestamptz (2000-01-03 00:00 UTC, a
 * Monday), so both give the same buckets (tests compare them on the TimescaleDB build).
 */
import type pg from 'pg';

export const TIMESCALE_ORIGIN = '2000-01-03T00:00:00Z';

export interface SeriesQuery {
  userId: string;
  metric: string;
  from: Date;
  to: Date;
  /** PostgreSQL interval, e.g. '1 day'. */
  bucket: string;
}

export interface SeriesRow {
  bucket: string;
  avg: number;
  min: number;
  max: number;
  count: number;
}

export function seriesSql(timescale: boolean): string {
  const b = timescale ? `time_bucket($4::interval, time)` : `date_bin($4::interval, time, '${TIMESCALE_ORIGIN}'::timestamptz)`;
  return `SELECT ${b} AS bucket, avg(value) AS avg, min(value) AS min, max(value) AS max, count(*)::int AS count
            FROM biometrics
           WHERE user_id = $1 AND metric = $2 AND time >= $3 AND time < $5
           GROUP BY 1 ORDER BY 1`;
}

export async function querySeries(q: Pick<pg.Pool, 'query'>, timescale: boolean, s: SeriesQuery): Promise<SeriesRow[]> {
  const r = await q.query({ text: seriesSql(timescale), values: [s.userId, s.metric, s.from, s.bucket, s.to], rowMode: 'array' });
  return r.rows.map((x: [Date, number, number, number, number] | any[]) => ({
    bucket: x[0].toISOString(),
    avg: Number(x[1]),
    min: Number(x[2]),
    max: Number(x[3]),
    count: x[4],
  }));
}
