/** Shared route pieces: error schema, JSON bodies, body limits, the security requirement, cursors. */
import { z } from '@hono/zod-openapi';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import { isKnownTimeZone } from '../data/series.js';
import type { Deps } from '../deps.js';
import { ApiError } from '../lib/errors.js';
import { RANGE_KEY, type RangeKind } from './openapi.js';

/** Marks a time string with its bound relative to now: /openapi.json states it as a pattern (routes/openapi.ts). */
const bounded = (kind: RangeKind, description: string) => ({ [RANGE_KEY]: kind, description }) as { description: string };

export const ErrorSchema = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  })
  .openapi('Error');

export const ErrorBody = (description: string) => ({ description, content: { 'application/json': { schema: ErrorSchema } } });

export const jsonBody = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } }, required: true });

export const secured = [{ bearer: [] as string[] }];

/** 413 `{ error: { code: 'PAYLOAD_TOO_LARGE' } }` above maxSize bytes (checked while streaming). */
export const bodyLimit = (maxSize: number) =>
  honoBodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `the request body is larger than this route's limit of ${maxSize} bytes`);
    },
  });

/** Real offsets are within ±14:00; zod's syntax admits ±23:59, which PostgreSQL refuses (a 500). */
const offsetOk = (s: string) => {
  const m = /([+-])(\d{2}):(\d{2})$/.exec(s);
  return !m || Number(m[2]) * 60 + Number(m[3]) <= 14 * 60;
};
const OFFSET_MESSAGE = 'must have an offset between -14:00 and +14:00';

/**
 * Timestamps: ISO 8601 with an offset, at most millisecond precision (what a JS Date holds: a
 * finer time would come back from node-postgres truncated, so a workout's sets or a page cursor
 * would no longer match the stored row), between 1970 and one day from now (no year 3000).
 */
export const Timestamp = z
  .string()
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time with offset' })
  .refine((s) => !/[.,]\d{4,}/.test(s), 'must have at most millisecond precision (3 decimals)')
  .refine(offsetOk, OFFSET_MESSAGE)
  .refine((s) => {
    const t = Date.parse(s);
    return t >= 0 && t <= Date.now() + 24 * 3600 * 1000;
  }, 'must be between 1970 and now (+1 day)')
  .openapi(bounded('timestamp', 'ISO 8601 date-time with an offset, at most milliseconds, between 1970 and now + 1 day'));

/** Same bounds, for query parameters (a range may end in the future a little further). */
export const QueryTimestamp = z
  .string()
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time with offset' })
  .refine(offsetOk, OFFSET_MESSAGE)
  .refine((s) => {
    const t = Date.parse(s);
    return t >= 0 && t <= Date.now() + 366 * 24 * 3600 * 1000;
  }, 'must be between 1970 and one year from now')
  .openapi(bounded('query-timestamp', 'ISO 8601 date-time with an offset, between 1970 and one year from now'));

export const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'is not a calendar date')
  .refine((s) => Date.parse(`${s}T00:00:00Z`) <= Date.now() + 24 * 3600 * 1000 && s >= '1970-01-01', 'must be between 1970 and today')
  .openapi(bounded('day', 'a calendar date YYYY-MM-DD (UTC) between 1970-01-01 and tomorrow'));

/**
 * A string that trim() leaves non-empty: at least one character outside JavaScript's whitespace
 * (what String.prototype.trim strips) and no NUL. For /openapi.json; zod checks trim().min(1).
 */
const JS_SPACE = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
export const NON_BLANK = { pattern: `^[^\\u0000]*[^\\u0000${JS_SPACE}][^\\u0000]*$` };
export const NonBlank = (max: number) => z.string().trim().min(1).max(max).openapi(NON_BLANK);

export const Limit = z.coerce.number().int().min(1).max(500).default(50);

/**
 * The row's time as PostgreSQL stores it (microseconds, UTC) for the page cursor: a JS Date keeps
 * only milliseconds, and a truncated cursor time would skip rows inside that millisecond (rows
 * written by other writers than this API, e.g. `helfy seed`, may carry microseconds).
 */
export const cursorTime = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_time`;

/** Opaque page cursor: base64url of "<iso time, µs>|<tie-breaker>". Keyset pagination, no OFFSET. */
export function encodeCursor(time: string, tie: string): string {
  return Buffer.from(`${time}|${tie}`).toString('base64url');
}
/** The time comes back as an ISO string with microseconds; bind it as `$n::timestamptz`. */
export function decodeCursor(cursor: string): { time: string; tie: string } {
  const s = Buffer.from(cursor, 'base64url').toString('utf8');
  const i = s.indexOf('|');
  const time = s.slice(0, i);
  if (i < 0 || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(time) || Number.isNaN(Date.parse(time))) throw new ApiError(400, 'VALIDATION', 'cursor: is not a cursor this API returned', {}, [{ field: 'cursor', message: 'invalid' }]);
  return { time, tie: s.slice(i + 1) };
}

/** users.timezone by user id, kept a minute: read on every chart and summary request, changed almost never. */
const ZONE_TTL_MS = 60_000;
const ZONE_CACHE_MAX = 10_000;
const zoneCache = new Map<string, { tz: string; at: number }>();

/**
 * The caller's time zone (users.timezone); an unknown name answers in UTC. Cached per user for a
 * minute (bounded, oldest out first), so a chart costs one round trip to PostgreSQL, not two; a
 * changed zone shows within that minute.
 */
export async function userTimeZone(deps: Pick<Deps, 'pool' | 'log'>, userId: string): Promise<string> {
  const now = Date.now();
  const hit = zoneCache.get(userId);
  if (hit && now - hit.at < ZONE_TTL_MS) return hit.tz;
  const r = await deps.pool.query(`SELECT timezone FROM users WHERE id = $1`, [userId]);
  let tz = (r.rows[0]?.timezone as string | undefined) ?? 'UTC';
  if (!isKnownTimeZone(tz)) {
    deps.log.warn('unknown time zone in users.timezone; answering in UTC', { timezone: tz });
    tz = 'UTC';
  }
  if (r.rows.length) {
    zoneCache.delete(userId);
    zoneCache.set(userId, { tz, at: now });
    if (zoneCache.size > ZONE_CACHE_MAX) zoneCache.delete(zoneCache.keys().next().value!);
  }
  return tz;
}
