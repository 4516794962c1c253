/**
 * The bucketed range query of GET /api/biometrics/series.
 *
 * Sources, coarsest first (TimescaleDB with migration 0004's continuous aggregates):
 *  - `biometrics_daily` (per user, metric and UTC day) for 1d/7d buckets of a user whose time zone
 *    is UTC;
 *  - `biometrics_hourly` (per user, metric and UTC hour) for 1h/6h buckets, and for 1d/7d buckets
 *    of a user in any other zone: the hours are regrouped at query time into the user's local days
 *    (`time_bucket(width, hour, timezone)`), which is exact wherever local midnight falls on a UTC
 *    hour — every whole-hour offset, DST included;
 *  - raw `biometrics` rows below an hour, without TimescaleDB (or before migration 0004), and for
 *    the pieces an aggregate row cannot answer exactly: the partial hour at each end of a range
 *    that does not start/end on an hour, and, in a zone with a 30/45-minute offset
 *    (Asia/Kolkata, Asia/Kathmandu, Australia/Adelaide …), the one UTC hour per day that local
 *    midnight splits (its raw rows are bucketed one by one). Those zones' 1h/6h buckets never
 *    line up with UTC hours, so they are answered from the raw rows.
 *
 * Why a query-time shift and not one aggregate per zone: users live in hundreds of zones and may
 * change theirs; one aggregate per zone multiplies storage, refresh work and migrations, while
 * regrouping a year of hourly rows (8,760 per metric) is a few milliseconds. UTC users (the
 * default) get the daily aggregate directly.
 *
 * Every answer equals the same question asked of the raw rows (count/min/max exactly, avg =
 * sum/count up to float rounding): whole aggregate rows are used only inside [from, to) and only
 * where they do not straddle an answer bucket, the rest comes from raw rows.
 *
 * Without TimescaleDB: date_bin(width, local time, origin) with TimescaleDB's default origin for
 * timestamptz (2000-01-03 00:00, a Monday), so both give the same buckets (tests compare them).
 */
import type pg from 'pg';

export const TIMESCALE_ORIGIN = '2000-01-03T00:00:00Z';

export type SeriesSource = 'biometrics_daily' | 'biometrics_hourly' | 'biometrics';
export const SERIES_SOURCES = ['biometrics_daily', 'biometrics_hourly', 'biometrics'] as const;

export interface SeriesQuery {
  userId: string;
  metric: string;
  from: Date;
  to: Date;
  /** PostgreSQL interval, e.g. '1 day'. */
  bucket: string;
  /** IANA zone the buckets follow (users.timezone); default UTC. */
  timezone?: string;
}

export interface SeriesRow {
  bucket: string;
  avg: number;
  min: number;
  max: number;
  count: number;
  /** Total of the values (meaningful for additive metrics: steps, distance, active energy). */
  sum: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const INTERVAL_MS: Record<string, number> = {
  '1 minute': 60_000,
  '5 minutes': 300_000,
  '15 minutes': 900_000,
  '1 hour': HOUR,
  '6 hours': 6 * HOUR,
  '1 day': DAY,
  '7 days': 7 * DAY,
};

const UTC_ZONES = /^(Etc\/)?(UTC|UCT|GMT|GMT0|GMT[+-]0|Greenwich|Universal|Zulu)$/;

/** A name of UTC itself (offset 0 all year). */
export const isUtcZone = (tz: string): boolean => UTC_ZONES.test(tz);

/** True for a zone name both Intl and (practically) PostgreSQL know. */
export function isKnownTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The zone's UTC offset at `at`, in minutes. */
export function offsetMinutes(tz: string, at: Date): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' }).formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(name);
  if (!m || !m[1]) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** Which source answers a query (pure; the SQL is exact whichever is chosen). */
export function chooseSource(o: { timescale: boolean; aggregates: boolean; bucket: string; timezone: string; from: Date; to: Date }): SeriesSource {
  const width = INTERVAL_MS[o.bucket];
  if (!o.timescale || !o.aggregates || width === undefined || width < HOUR) return 'biometrics';
  const utc = isUtcZone(o.timezone);
  if (width >= DAY && utc) return 'biometrics_daily';
  // Local hours at :30/:45 UTC never line up with the hourly aggregate's hours.
  const wholeHours = utc || [o.from, o.to].every((d) => offsetMinutes(o.timezone, d) % 60 === 0);
  if (width < DAY && !wholeHours) return 'biometrics';
  return 'biometrics_hourly';
}

/**
 * The raw query (also the only one without TimescaleDB). $1 user, $2 metric, $3 from, $4 width,
 * $5 to, and when `zoned`, $6 the zone; unzoned it is the UTC query (5 parameters, as
 * bench/api-series.ts sends). `many`: $2 is an array of metrics and every row starts with its
 * metric (grouped by metric, then bucket).
 */
export function seriesSql(timescale: boolean, zoned = false, many = false): string {
  const b = !zoned
    ? timescale
      ? `time_bucket($4::interval, time)`
      : `date_bin($4::interval, time, '${TIMESCALE_ORIGIN}'::timestamptz)`
    : timescale
      ? `time_bucket($4::interval, time, $6::text)`
      : `(date_bin($4::interval, time AT TIME ZONE $6::text, '${TIMESCALE_ORIGIN.slice(0, 10)} 00:00'::timestamp) AT TIME ZONE $6::text)`;
  const k = many ? 'metric::text, ' : '';
  const g = many ? '1, 2' : '1';
  return `SELECT ${k}${b} AS bucket, avg(value) AS avg, min(value) AS min, max(value) AS max, count(*)::int AS count, sum(value) AS sum
            FROM biometrics
           WHERE user_id = $1 AND ${many ? 'metric = ANY($2::biometric_metric[])' : 'metric = $2'} AND time >= $3 AND time < $5
           GROUP BY ${g} ORDER BY ${g}`;
}

/**
 * The aggregate query. $1 user, $2 metric, $3 width, $4 zone, $5 from, $6 to, $7 first whole hour
 * (fh), $8 end of the last whole hour (th), $9 first whole UTC day (fd), $10 end of the last whole
 * UTC day (td), with from ≤ fh ≤ fd ≤ td ≤ th ≤ to: daily rows on [fd, td), hourly rows on
 * [fh, fd) and [td, th) (those that do not straddle an answer bucket; the straddling ones are
 * replaced by their raw rows), raw rows on [from, fh) and [th, to). `many`: $2 is an array of
 * metrics and every row starts with its metric (the daily figures of several metrics at once).
 * `daily: false` (the hourly source, where fd = td) leaves the daily branch, empty then, out of
 * the statement. `splits: false` leaves out the raw rows of split hours: in UTC no hour straddles
 * an hour, 6-hour, day or week bucket, so those branches are always empty there, and planning them
 * over a year of chunks costs more than the answer. The daily source answers UTC zones only
 * (chooseSource), so it never needs them; the hourly one needs them in other zones (a :30 or :45
 * offset, which a zone may have for part of the range only).
 */
export function aggregateSeriesSql(many = false, daily = true, splits = !daily): string {
  const m = many ? 'metric = ANY($2::biometric_metric[])' : 'metric = $2';
  const k = many ? 'metric, ' : '';
  const g = many ? '1, 2' : '1';
  return `
WITH h AS (
  SELECT ${k}bucket, count, sum, min, max,
         time_bucket($3::interval, bucket, $4::text) <> time_bucket($3::interval, bucket + interval '1 hour' - interval '1 microsecond', $4::text) AS split
    FROM biometrics_hourly WHERE user_id = $1 AND ${m} AND bucket >= $7 AND bucket < $9
  UNION ALL
  SELECT ${k}bucket, count, sum, min, max,
         time_bucket($3::interval, bucket, $4::text) <> time_bucket($3::interval, bucket + interval '1 hour' - interval '1 microsecond', $4::text)
    FROM biometrics_hourly WHERE user_id = $1 AND ${m} AND bucket >= $10 AND bucket < $8
), parts AS (
${daily ? `  SELECT ${k}bucket AS t, count, sum, min, max FROM biometrics_daily WHERE user_id = $1 AND ${m} AND bucket >= $9 AND bucket < $10
  UNION ALL
` : ''}  SELECT ${k}bucket${daily ? '' : ' AS t'}, count, sum, min, max FROM h WHERE NOT split
  UNION ALL
${!splits ? '' : `  SELECT ${many ? 'r.metric, ' : ''}r.time, 1, r.value, r.value, r.value
    FROM h JOIN biometrics r ON r.user_id = $1 AND r.metric = ${many ? 'h.metric' : '$2'} AND r.time >= h.bucket AND r.time < h.bucket + interval '1 hour'
   -- Constant bounds, one join per end: without them every chunk of the range (compressed ones
   -- too) is planned and set up for the join, which costs more than the whole answer.
   WHERE h.split AND h.bucket < $9 AND r.time >= $7 AND r.time < $9
  UNION ALL
  SELECT ${many ? 'r.metric, ' : ''}r.time, 1, r.value, r.value, r.value
    FROM h JOIN biometrics r ON r.user_id = $1 AND r.metric = ${many ? 'h.metric' : '$2'} AND r.time >= h.bucket AND r.time < h.bucket + interval '1 hour'
   WHERE h.split AND h.bucket >= $10 AND r.time >= $10 AND r.time < $8
  UNION ALL
`}  SELECT ${k}time, 1, value, value, value FROM biometrics WHERE user_id = $1 AND ${m} AND time >= $5 AND time < $7
  UNION ALL
  SELECT ${k}time, 1, value, value, value FROM biometrics WHERE user_id = $1 AND ${m} AND time >= $8 AND time < $6
)
SELECT ${many ? 'metric::text, ' : ''}time_bucket($3::interval, t, $4::text) AS bucket, sum(sum) / sum(count) AS avg, min(min) AS min, max(max) AS max, sum(count)::int AS count, sum(sum) AS sum
  FROM parts GROUP BY ${g} ORDER BY ${g}`;
}

/** The aggregate query for one metric (see aggregateSeriesSql): daily (UTC), hourly in any zone, hourly in UTC. */
export const AGGREGATE_SERIES_SQL = aggregateSeriesSql(false);
export const HOURLY_SERIES_SQL = aggregateSeriesSql(false, false);
export const HOURLY_UTC_SERIES_SQL = aggregateSeriesSql(false, false, false);

/** The split points of [from, to) for the aggregate query (see AGGREGATE_SERIES_SQL). */
export function splitRange(from: Date, to: Date, daily: boolean): { fh: Date; th: Date; fd: Date; td: Date } {
  const ceil = (t: number, w: number) => Math.ceil(t / w) * w;
  const floor = (t: number, w: number) => Math.floor(t / w) * w;
  const f = from.getTime();
  const t = to.getTime();
  let fh = ceil(f, HOUR);
  let th = floor(t, HOUR);
  if (fh >= th) fh = th = t; // no whole hour: raw rows only ([from, to) then [to, to))
  let fd = th;
  let td = th;
  if (daily) {
    const a = ceil(f, DAY);
    const b = floor(t, DAY);
    if (a < b) [fd, td] = [a, b];
  }
  return { fh: new Date(fh), th: new Date(th), fd: new Date(fd), td: new Date(td) };
}

export function toRows(rows: unknown[][]): SeriesRow[] {
  return rows.map((x) => ({
    bucket: (x[0] as Date).toISOString(),
    avg: Number(x[1]),
    min: Number(x[2]),
    max: Number(x[3]),
    count: Number(x[4]),
    sum: Number(x[5]),
  }));
}

/** The raw query (time_bucket with TimescaleDB, date_bin without). */
export async function querySeries(q: Pick<pg.Pool, 'query'>, timescale: boolean, s: SeriesQuery): Promise<SeriesRow[]> {
  const r = await q.query({ text: seriesSql(timescale, true), values: [s.userId, s.metric, s.from, s.bucket, s.to, s.timezone ?? 'UTC'], rowMode: 'array' });
  return toRows(r.rows);
}

/** The answer from the given source (a raw source runs the raw query). */
export async function querySeriesFrom(q: Pick<pg.Pool, 'query'>, source: SeriesSource, timescale: boolean, s: SeriesQuery): Promise<SeriesRow[]> {
  if (source === 'biometrics') return querySeries(q, timescale, s);
  const { fh, th, fd, td } = splitRange(s.from, s.to, source === 'biometrics_daily');
  const r = await q.query({
    text: source === 'biometrics_daily' ? AGGREGATE_SERIES_SQL : isUtcZone(s.timezone ?? 'UTC') ? HOURLY_UTC_SERIES_SQL : HOURLY_SERIES_SQL,
    values: [s.userId, s.metric, s.bucket, s.timezone ?? 'UTC', s.from, s.to, fh, th, fd, td],
    rowMode: 'array',
  });
  return toRows(r.rows);
}

/** Whether migration 0004's continuous aggregates exist and the connected role may read them. */
export async function detectAggregates(q: Pick<pg.Pool, 'query'>): Promise<boolean> {
  const r = await q.query(
    `SELECT count(*)::int AS n FROM timescaledb_information.continuous_aggregates
      WHERE view_schema = current_schema() AND view_name IN ('biometrics_hourly', 'biometrics_daily')
        AND has_table_privilege(format('%I.%I', view_schema, view_name), 'SELECT')`,
  );
  return r.rows[0]?.n === 2;
}
