/** /api/biometrics: batch insert (≤ 10,000 points, one statement), list (time cursor), bucketed series. */
import { createRoute, z } from '@hono/zod-openapi';
import type { App } from '../app.js';
import { biometricMetricEnum } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { BUCKET_SECONDS, BUCKETS, METRICS, rangeError } from '../data/metrics-catalog.js';
import { ADDITIVE_METRICS, addDays, localDay, queryDays } from '../data/daily.js';
import { chooseSource, detectAggregates, isKnownTimeZone, querySeriesFrom, SERIES_SOURCES } from '../data/series.js';
import { ApiError } from '../lib/errors.js';
import { bodyLimit, cursorTime, Day, decodeCursor, encodeCursor, ErrorBody, jsonBody, Limit, QueryTimestamp, secured, Timestamp, userTimeZone } from './common.js';

export const MAX_BATCH = 10_000;
const Metric = z.enum(biometricMetricEnum.enumValues);

const Point = z
  .strictObject({
    time: Timestamp,
    metric: Metric,
    value: z.number().finite(),
    unit: z.string().optional().openapi({ description: "the metric's unit; only that one is accepted (see /openapi.json description)" }),
    source: z.string().trim().min(1).max(64).regex(/^[a-z0-9_.-]+$/, 'must be lowercase letters, digits, _ . -').optional(),
  })
  .superRefine((p, ctx) => {
    const err = rangeError(p.metric, p.value);
    if (err) ctx.addIssue({ code: 'custom', path: ['value'], message: err });
    const unit = METRICS[p.metric].unit;
    if (p.unit !== undefined && p.unit !== unit) ctx.addIssue({ code: 'custom', path: ['unit'], message: `${p.metric} is stored in ${unit}` });
  })
  // The same per-metric range and unit, for /openapi.json: one branch per metric.
  .openapi({
    oneOf: Object.entries(METRICS).map(([metric, m]) => ({
      properties: {
        metric: { const: metric },
        value: m.minExclusive ? { exclusiveMinimum: m.min, maximum: m.max } : { minimum: m.min, maximum: m.max },
        unit: { const: m.unit },
      },
    })),
  });

const Batch = z.strictObject({ points: z.array(Point).min(1).max(MAX_BATCH, `at most ${MAX_BATCH} points per request`) });
const PointOut = z.object({ time: z.string(), metric: Metric, value: z.number(), unit: z.string(), source: z.string() }).openapi('BiometricPoint');

async function ensureTimescaleKnown(deps: Deps): Promise<boolean> {
  if (deps.timescale === undefined) {
    const r = await deps.pool.query(`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`);
    deps.timescale = (r.rowCount ?? 0) > 0;
  }
  return deps.timescale;
}

/** Whether migration 0004's continuous aggregates can be read (checked until they can). */
async function aggregatesReady(deps: Deps, timescale: boolean): Promise<boolean> {
  if (!timescale) return false;
  if (!deps.aggregates) deps.aggregates = await detectAggregates(deps.pool);
  return deps.aggregates;
}

export function registerBiometricRoutes(app: App, deps: Deps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/biometrics',
      tags: ['biometrics'],
      summary: `Store up to ${MAX_BATCH} points in one statement (all or nothing); a point with the key of a stored one (time, metric, source) replaces its value`,
      description: `Units: ${Object.entries(METRICS).map(([k, v]) => `${k}=${v.unit} [${v.min}, ${v.max}]`).join(', ')}`,
      security: secured,
      middleware: [bodyLimit(2 * 1024 * 1024)] as const,
      request: { body: jsonBody(Batch) },
      responses: {
        201: {
          description: 'Stored: `inserted` new points, `updated` stored points whose value changed (a corrected reading), `duplicates` points equal to a stored one or repeated in the batch (the last one counts)',
          content: { 'application/json': { schema: z.object({ inserted: z.number().int(), updated: z.number().int(), duplicates: z.number().int() }) } },
        },
        400: ErrorBody('Invalid point (the field is named)'),
        413: ErrorBody('Body over 2 MiB'),
      },
    }),
    async (c) => {
      const { points } = c.req.valid('json');
      const userId = c.get('userId');
      const times: string[] = [];
      const metrics: string[] = [];
      const values: number[] = [];
      const units: string[] = [];
      const sources: string[] = [];
      // One row per key (the last occurrence wins): ON CONFLICT DO UPDATE refuses a statement
      // that touches the same row twice.
      const byKey = new Map<string, (typeof points)[number]>();
      for (const p of points) {
        const k = `${new Date(p.time).toISOString()}|${p.metric}|${p.source ?? 'manual'}`;
        byKey.delete(k);
        byKey.set(k, p);
      }
      for (const p of byKey.values()) {
        times.push(p.time);
        metrics.push(p.metric);
        values.push(p.value);
        units.push(METRICS[p.metric].unit);
        sources.push(p.source ?? 'manual');
      }
      // One statement: either every row lands or none does.
      const r = await deps.pool.query(
        `INSERT INTO biometrics (time, user_id, metric, value, unit, source)
         SELECT t, $1, m::biometric_metric, v, u, s
           FROM unnest($2::timestamptz[], $3::text[], $4::float8[], $5::text[], $6::text[]) AS x(t, m, v, u, s)
         ON CONFLICT (user_id, metric, source, time) DO UPDATE SET value = EXCLUDED.value
           WHERE biometrics.value IS DISTINCT FROM EXCLUDED.value
         RETURNING (xmax = 0) AS inserted`,
        [userId, times, metrics, values, units, sources],
      );
      // Returned: new rows (xmax = 0) and changed ones; unchanged conflicts return nothing.
      const inserted = r.rows.filter((x) => x.inserted).length;
      const updated = r.rows.length - inserted;
      return c.json({ inserted, updated, duplicates: points.length - inserted - updated }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/biometrics',
      tags: ['biometrics'],
      summary: 'The caller’s points, newest first, paged by a time cursor',
      security: secured,
      request: {
        query: z.strictObject({ metric: Metric.optional(), from: QueryTimestamp.optional(), to: QueryTimestamp.optional(), limit: Limit, cursor: z.string().max(200).optional() }),
      },
      responses: {
        200: { description: 'A page', content: { 'application/json': { schema: z.object({ items: z.array(PointOut), nextCursor: z.string().nullable() }) } } },
        400: ErrorBody('Invalid query'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const userId = c.get('userId');
      const where = ['user_id = $1'];
      const vals: unknown[] = [userId];
      if (q.metric) where.push(`metric = $${vals.push(q.metric)}`);
      if (q.from) where.push(`time >= $${vals.push(q.from)}`);
      if (q.to) where.push(`time < $${vals.push(q.to)}`);
      if (q.cursor) {
        const cur = decodeCursor(q.cursor);
        const [m, s] = cur.tie.split('|');
        where.push(`(time, metric::text, source) < ($${vals.push(cur.time)}::timestamptz, $${vals.push(m ?? '')}, $${vals.push(s ?? '')})`);
      }
      const r = await deps.pool.query(
        `SELECT time, ${cursorTime('time')}, metric::text AS metric, value, unit, source FROM biometrics WHERE ${where.join(' AND ')}
         ORDER BY time DESC, metric::text DESC, source DESC LIMIT $${vals.push(q.limit + 1)}`,
        vals,
      );
      const rows = r.rows.slice(0, q.limit);
      const last = rows[rows.length - 1];
      return c.json(
        {
          items: rows.map((x) => ({ time: (x.time as Date).toISOString(), metric: x.metric, value: x.value, unit: x.unit, source: x.source })),
          nextCursor: r.rows.length > q.limit && last ? encodeCursor(last.cursor_time, `${last.metric}|${last.source}`) : null,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/biometrics/series',
      tags: ['biometrics'],
      summary: "avg/min/max/count/sum per time bucket in the caller's time zone, from the continuous aggregates where they answer exactly",
      description:
        "Buckets follow the caller's `timezone` (a day starts at local midnight). With TimescaleDB: 1d/7d buckets come from `biometrics_daily` (UTC users) or from `biometrics_hourly` regrouped into local days (other zones), 1h/6h from `biometrics_hourly`, narrower ones from the raw rows; partial hours at the ends of the range, and the hour split by local midnight in a zone with a 30/45-minute offset, come from the raw rows, so the answer always equals the raw computation. `source` names the main source. Without TimescaleDB: date_bin over the raw rows (same buckets). Rows written a moment ago are included at once (real-time aggregates); a correction of data older than the aggregates' watermark shows after their next refresh (every 15 minutes).",
      security: secured,
      request: {
        query: z.strictObject({
          metric: Metric,
          from: QueryTimestamp,
          to: QueryTimestamp,
          bucket: z.enum(Object.keys(BUCKETS) as [keyof typeof BUCKETS, ...(keyof typeof BUCKETS)[]]).default('1d'),
        }),
      },
      responses: {
        200: {
          description: 'Buckets with data, oldest first',
          content: {
            'application/json': {
              schema: z.object({
                metric: Metric,
                unit: z.string(),
                bucket: z.string(),
                engine: z.enum(['time_bucket', 'date_bin']),
                source: z.enum(SERIES_SOURCES).openapi({ description: 'biometrics_daily / biometrics_hourly: the continuous aggregate that answered (raw rows fill partial hours); biometrics: raw rows' }),
                timezone: z.string().openapi({ description: "the caller's IANA time zone the buckets follow" }),
                buckets: z.array(
                  z.object({
                    bucket: z.string().openapi({ description: 'start of the bucket (local midnight for days), as a UTC instant' }),
                    avg: z.number(),
                    min: z.number(),
                    max: z.number(),
                    count: z.number().int(),
                    sum: z.number().openapi({ description: 'total of the values (the figure for additive metrics: steps, distance, active_energy)' }),
                  }),
                ),
              }),
            },
          },
        },
        400: ErrorBody('Invalid query'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const from = new Date(q.from);
      const to = new Date(q.to);
      if (to <= from) throw new ApiError(400, 'VALIDATION', 'to: must be after from', {}, [{ field: 'to', message: 'must be after from' }]);
      if ((to.getTime() - from.getTime()) / 1000 / BUCKET_SECONDS[q.bucket] > 10_000) {
        throw new ApiError(400, 'VALIDATION', 'bucket: more than 10000 buckets in the range; use a wider bucket', {}, [{ field: 'bucket', message: 'too many buckets' }]);
      }
      const timescale = await ensureTimescaleKnown(deps);
      const userId = c.get('userId');
      const [aggregates, timezone] = await Promise.all([aggregatesReady(deps, timescale), userTimeZone(deps, userId)]);
      const bucket = BUCKETS[q.bucket];
      const source = chooseSource({ timescale, aggregates, bucket, timezone, from, to });
      const buckets = await querySeriesFrom(deps.pool, source, timescale, { userId, metric: q.metric, from, to, bucket, timezone });
      const engine = timescale ? ('time_bucket' as const) : ('date_bin' as const);
      return c.json({ metric: q.metric, unit: METRICS[q.metric].unit, bucket, engine, source, timezone, buckets }, 200);
    },
  );

  registerDailyRoute(app, deps);
}

const METRIC_NAMES = biometricMetricEnum.enumValues;
const METRIC_LIST = new RegExp(`^(${METRIC_NAMES.join('|')})(,(${METRIC_NAMES.join('|')}))*$`);
const MAX_DAYS = 366;

/** GET /api/biometrics/daily: the day figures of several metrics over the caller's local days (the dashboard's tiles). */
function registerDailyRoute(app: App, deps: Deps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/biometrics/daily',
      tags: ['biometrics'],
      summary: "Per metric and local day of the caller: avg/min/max/count/sum and the day's figure, from the daily aggregate",
      description: `Days are the caller's local days (\`timezone\`, from users.timezone). \`from\`/\`to\` (local days, both included, at most ${MAX_DAYS} days) default to the 30 days ending the caller's local today. \`value\` is the day's figure: the total for additive metrics (${[...ADDITIVE_METRICS].join(', ')}), the average otherwise. With TimescaleDB the figures come from \`biometrics_daily\` (UTC users) or \`biometrics_hourly\` regrouped into local days, exactly equal to the raw rows (rows written a moment ago included); without it, from the raw rows.`,
      security: secured,
      request: {
        query: z.strictObject({
          metrics: z.string().max(500).regex(METRIC_LIST, 'must be a comma-separated list of metrics').openapi({ description: `comma-separated: ${METRIC_NAMES.join(', ')}` }),
          from: Day.optional(),
          to: Day.optional(),
        }),
      },
      responses: {
        200: {
          description: 'Days with data, by metric, then day',
          content: {
            'application/json': {
              schema: z.object({
                timezone: z.string().openapi({ description: "the caller's IANA time zone the days follow" }),
                today: z.string().openapi({ description: "the caller's local date now (YYYY-MM-DD)" }),
                from: z.string(),
                to: z.string(),
                start: z.string().openapi({ description: 'local midnight starting `from`, as a UTC instant' }),
                end: z.string().openapi({ description: 'local midnight ending `to`, as a UTC instant' }),
                source: z.enum(SERIES_SOURCES),
                days: z.array(
                  z.object({
                    day: z.string(),
                    start: z.string().openapi({ description: 'local midnight starting the day, as a UTC instant' }),
                    metric: Metric,
                    unit: z.string(),
                    value: z.number().openapi({ description: "the day's figure: sum for additive metrics, avg otherwise" }),
                    avg: z.number(),
                    min: z.number(),
                    max: z.number(),
                    count: z.number().int(),
                    sum: z.number(),
                  }),
                ),
              }),
            },
          },
        },
        400: ErrorBody('Invalid query'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const userId = c.get('userId');
      const timescale = await ensureTimescaleKnown(deps);
      const [aggregates, timezone] = await Promise.all([aggregatesReady(deps, timescale), userTimeZone(deps, userId)]);
      const today = localDay(new Date(), timezone);
      const to = q.to ?? (q.from ? addDays(q.from, 29) : today);
      const from = q.from ?? addDays(to, -29);
      const span = (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1;
      if (span < 1) throw new ApiError(400, 'VALIDATION', 'to: must not be before from', {}, [{ field: 'to', message: 'must not be before from' }]);
      if (span > MAX_DAYS) throw new ApiError(400, 'VALIDATION', `to: at most ${MAX_DAYS} days from from`, {}, [{ field: 'to', message: `at most ${MAX_DAYS} days` }]);
      const metrics = [...new Set(q.metrics.split(','))] as (keyof typeof METRICS)[];
      const r = await queryDays(deps.pool, { timescale, aggregates }, { userId, metrics, fromDay: from, toDay: to, timezone });
      const days = r.days.map((d) => ({
        day: d.day,
        start: d.bucket,
        metric: d.metric as keyof typeof METRICS,
        unit: METRICS[d.metric as keyof typeof METRICS].unit,
        value: d.value,
        avg: d.avg,
        min: d.min,
        max: d.max,
        count: d.count,
        sum: d.sum,
      }));
      return c.json({ timezone, today, from, to, start: r.from.toISOString(), end: r.to.toISOString(), source: r.source, days }, 200);
    },
  );
}
