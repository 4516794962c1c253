/**
 * What /openapi.json adds to the routes' own schemas, so that the document describes the server
 * as a whole and not only each handler:
 *  - the answers of the frame every route passes through: 401 on every route with a security
 *    requirement (the auth middleware), 400 VALIDATION on every route with validated input (the
 *    shared hook), 413 on every route with a body (its body limit), 503 on every /api route that
 *    reads a store (a dependency down);
 *  - the checks no route schema repeats: no input string may hold U+0000 (lib/validation.ts), and
 *    the time bounds relative to now of Timestamp, QueryTimestamp and Day (common.ts), which a
 *    static schema cannot state: their patterns are computed when the document is served.
 */
import { NUL_MESSAGE } from '../lib/validation.js';

type Json = Record<string, any>;

/** Schema extension naming a time bound of common.ts; replaced by a pattern in the document. */
export const RANGE_KEY = 'x-helfy-range';
export type RangeKind = 'timestamp' | 'query-timestamp' | 'day';

const ERROR_REF = { $ref: '#/components/schemas/Error' };
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ERROR_REF } } });
export const NO_NUL_PATTERN = '^[^\\u0000]*$';
const DAY_MS = 86_400_000;
const pad = (n: number) => String(n).padStart(2, '0');
const alt = (xs: string[]) => (xs.length === 1 ? xs[0]! : `(?:${xs.join('|')})`);
const daysIn = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const days = (a: number, b: number) => (a === 1 && b === 31 ? '(?:0[1-9]|[12]\\d|3[01])' : alt(Array.from({ length: b - a + 1 }, (_, i) => pad(a + i))));
const COMMON_YEAR = '(?:(?:01|03|05|07|08|10|12)-(?:0[1-9]|[12]\\d|3[01])|(?:04|06|09|11)-(?:0[1-9]|[12]\\d|30)|02-(?:0[1-9]|1\\d|2[0-8]))';

/** A regular expression (no anchors) for the calendar dates YYYY-MM-DD in [from, to] (UTC days). */
export function dateRangeRegex(from: Date, to: Date): string {
  const [fy, fm, fd] = [from.getUTCFullYear(), from.getUTCMonth() + 1, from.getUTCDate()];
  const [ty, tm, td] = [to.getUTCFullYear(), to.getUTCMonth() + 1, to.getUTCDate()];
  const parts: string[] = [];
  const boundary = (y: number) => {
    for (let m = y === fy ? fm : 1; m <= (y === ty ? tm : 12); m++) {
      parts.push(`${y}-${pad(m)}-${days(y === fy && m === fm ? fd : 1, y === ty && m === tm ? td : daysIn(y, m))}`);
    }
  };
  boundary(fy);
  const middle = Array.from({ length: Math.max(0, ty - fy - 1) }, (_, i) => fy + 1 + i);
  if (middle.length) {
    parts.push(`${alt(middle.map(String))}-${COMMON_YEAR}`);
    const leap = middle.filter(isLeap);
    if (leap.length) parts.push(`${alt(leap.map(String))}-02-29`);
  }
  if (ty !== fy) boundary(ty);
  return alt(parts);
}

/** ISO 8601 date-time with an offset, at most milliseconds (what zod's datetime({ offset: true }) and common.ts accept). */
const TIME = 'T(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d{1,3})?(?:Z|[+-](?:(?:0\\d|1[0-3]):[0-5]\\d|14:00))';

/**
 * The pattern of a time bound at `now`. A regular expression cannot compare with an offset-shifted
 * instant, so the dates it admits are the widest whole UTC days every offset (±14:00 at most, common.ts) keeps inside the server's bound: from 1970-01-02,
 * up to the day before the bound's last one.
 */
export function rangePattern(kind: RangeKind, now = Date.now()): string {
  const day = (ms: number) => new Date(Math.floor(ms / DAY_MS) * DAY_MS);
  if (kind === 'day') return `^${dateRangeRegex(new Date(0), day(now + DAY_MS))}$`;
  const last = kind === 'timestamp' ? now + DAY_MS : now + 366 * DAY_MS;
  return `^${dateRangeRegex(new Date(DAY_MS), day(last - 2 * DAY_MS))}${TIME}$`;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** Adds the frame's answers and the computed constraints to a generated OpenAPI 3.1 document (in place). */
export function describeServer(doc: Json, now = Date.now()): Json {
  const patterns = new Map<RangeKind, string>();
  const pattern = (k: RangeKind) => patterns.get(k) ?? (patterns.set(k, rangePattern(k, now)), patterns.get(k)!);
  const strict = (schema: unknown) => tightenStrings(schema, doc, pattern, new Set());
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      const responses = (op.responses ??= {});
      const add = (status: string, description: string) => void (responses[status] ??= errorResponse(description));
      const params = (op.parameters ?? []) as Json[];
      for (const p of params) strict(p.schema);
      for (const c of Object.values<Json>(op.requestBody?.content ?? {})) strict(c.schema);
      if (params.length || op.requestBody) add('400', `Invalid input (VALIDATION: the field is named in details); ${NUL_MESSAGE.replace('must', 'no string may')}`);
      if (op.security?.length) add('401', 'No valid access token (TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED), or its account is gone (ACCOUNT_GONE)');
      if (op.requestBody) add('413', 'Body larger than this route accepts (PAYLOAD_TOO_LARGE)');
      if (path.startsWith('/api/') && path !== '/api/health/neo4j') add('503', 'A dependency (PostgreSQL, Neo4j or Temporal) is unavailable (DEPENDENCY_UNAVAILABLE)');
    }
  }
  return doc;
}

/** Every input string gets the patterns of the checks done outside its schema (in place; follows $refs once). */
function tightenStrings(schema: unknown, doc: Json, pattern: (k: RangeKind) => string, seen: Set<unknown>): void {
  if (!schema || typeof schema !== 'object' || seen.has(schema)) return;
  seen.add(schema);
  const s = schema as Json;
  if (typeof s.$ref === 'string' && s.$ref.startsWith('#/components/schemas/')) {
    tightenStrings(doc.components?.schemas?.[s.$ref.slice('#/components/schemas/'.length)], doc, pattern, seen);
    return;
  }
  const kind = s[RANGE_KEY] as RangeKind | undefined;
  if (kind) {
    // The pattern states the bound (and the syntax): a format beside it would only be filtered.
    s.pattern = pattern(kind);
    delete s.format;
    delete s[RANGE_KEY];
  } else if ((s.type === 'string' || (Array.isArray(s.type) && s.type.includes('string'))) && s.pattern === undefined && s.format === undefined && s.enum === undefined && s.const === undefined) {
    s.pattern = NO_NUL_PATTERN;
  }
  for (const v of Object.values(s)) if (v && typeof v === 'object') tightenStrings(v, doc, pattern, seen);
}
