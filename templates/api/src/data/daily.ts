/**
 * Daily figures of several metrics over whole local days of one user: what the dashboard's tiles
 * (GET /api/biometrics/daily) and the dailySummary workflow (readDayBiometrics) show.
 *
 * Same sources and same exactness as the series route (data/series.ts), with the days of the
 * user's time zone: a UTC user's days come from `biometrics_daily` as they are; in any other zone
 * the hours of `biometrics_hourly` are regrouped into local days (query-time shift; the one UTC
 * hour that local midnight splits in a :30/:45 zone comes from its raw rows); without TimescaleDB
 * (HELFY_TIMESCALE=optional) or before migration 0004, the raw rows. One statement for all the
 * metrics (`metric = ANY(...)`). Rows written a moment ago are included (real-time aggregates).
 */
import type pg from 'pg';
import { aggregateSeriesSql, chooseSource, offsetMinutes, seriesSql, splitRange, toRows, type SeriesRow, type SeriesSource } from './series.js';

const DAYS_SQL = aggregateSeriesSql(true, true);
const DAYS_FROM_HOURS_SQL = aggregateSeriesSql(true, false);

/** Metrics whose day figure is the total of the day (the rest: the day's average). */
export const ADDITIVE_METRICS: ReadonlySet<string> = new Set(['steps', 'distance', 'active_energy', 'sleep']);

export interface DayFigures extends SeriesRow {
  /** The local day, YYYY-MM-DD. */
  day: string;
  metric: string;
  /** The day's figure: `sum` for additive metrics (ADDITIVE_METRICS), `avg` for the others. */
  value: number;
}

export interface DaysQuery {
  userId: string;
  metrics: readonly string[];
  /** First and last local day (YYYY-MM-DD), both included. */
  fromDay: string;
  toDay: string;
  /** IANA zone (users.timezone). */
  timezone: string;
}

export interface DaysAnswer {
  source: SeriesSource;
  /** Local midnight starting fromDay, and the one ending toDay, as UTC instants. */
  from: Date;
  to: Date;
  days: DayFigures[];
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();
/** The local date (YYYY-MM-DD) of an instant in a zone. */
export function localDay(at: Date, timezone: string): string {
  let f = dayFormats.get(timezone);
  if (!f) dayFormats.set(timezone, (f = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  return f.format(at);
}

/** The UTC instant of local midnight starting `day` (YYYY-MM-DD) in the zone. */
export function localMidnight(day: string, timezone: string): Date {
  const naive = Date.parse(`${day}T00:00:00Z`);
  let t = naive - offsetMinutes(timezone, new Date(naive)) * 60_000;
  t = naive - offsetMinutes(timezone, new Date(t)) * 60_000; // the offset at the instant itself (DST)
  return new Date(t);
}

/** YYYY-MM-DD plus n days. */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/**
 * avg/min/max/count/sum and the day's figure per metric and local day (days without data are
 * absent), ordered by metric, then day.
 */
export async function queryDays(q: Pick<pg.Pool, 'query'>, o: { timescale: boolean; aggregates: boolean }, s: DaysQuery): Promise<DaysAnswer> {
  const from = localMidnight(s.fromDay, s.timezone);
  const to = localMidnight(addDays(s.toDay, 1), s.timezone);
  const bucket = '1 day';
  const source = chooseSource({ timescale: o.timescale, aggregates: o.aggregates, bucket, timezone: s.timezone, from, to });
  const metrics = [...s.metrics];
  let rows: unknown[][];
  if (source === 'biometrics') {
    const r = await q.query({ text: seriesSql(o.timescale, true, true), values: [s.userId, metrics, from, bucket, to, s.timezone], rowMode: 'array' });
    rows = r.rows;
  } else {
    const daily = source === 'biometrics_daily';
    const { fh, th, fd, td } = splitRange(from, to, daily);
    const r = await q.query({ text: daily ? DAYS_SQL : DAYS_FROM_HOURS_SQL, values: [s.userId, metrics, bucket, s.timezone, from, to, fh, th, fd, td], rowMode: 'array' });
    rows = r.rows;
  }
  const figures = toRows(rows.map((x) => x.slice(1)));
  const days = figures.map((f, i) => {
    const metric = String(rows[i]![0]);
    return { ...f, day: localDay(new Date(f.bucket), s.timezone), metric, value: ADDITIVE_METRICS.has(metric) ? f.sum : f.avg };
  });
  return { source, from, to, days };
}

/** The last reading of a metric in [from, to) (the day's weight), or null: one index probe. */
export async function lastReading(q: Pick<pg.Pool, 'query'>, userId: string, metric: string, from: Date, to: Date): Promise<number | null> {
  const r = await q.query(
    `SELECT value FROM biometrics WHERE user_id = $1 AND metric = $2 AND time >= $3 AND time < $4 ORDER BY time DESC LIMIT 1`,
    [userId, metric, from, to],
  );
  return r.rows.length ? Number(r.rows[0].value) : null;
}
