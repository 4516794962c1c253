/** Shared route pieces: error schema, JSON bodies, body limits, the security requirement, cursors. */
import { z } from '@hono/zod-openapi';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import { ApiError } from '../lib/errors.js';

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

/** Timestamps: ISO 8601 with an offset, between 1970 and one day from now (no year 3000). */
export const Timestamp = z
  .string()
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time with offset' })
  .refine((s) => {
    const t = Date.parse(s);
    return t >= 0 && t <= Date.now() + 24 * 3600 * 1000;
  }, 'must be between 1970 and now (+1 day)');

/** Same bounds, for query parameters (a range may end in the future a little further). */
export const QueryTimestamp = z
  .string()
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time with offset' })
  .refine((s) => {
    const t = Date.parse(s);
    return t >= 0 && t <= Date.now() + 366 * 24 * 3600 * 1000;
  }, 'must be between 1970 and one year from now');

export const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'is not a calendar date')
  .refine((s) => Date.parse(`${s}T00:00:00Z`) <= Date.now() + 24 * 3600 * 1000 && s >= '1970-01-01', 'must be between 1970 and today');

export const Limit = z.coerce.number().int().min(1).max(500).default(50);

/** Opaque page cursor: base64url of "<iso time>|<tie-breaker>". Keyset pagination, no OFFSET. */
export function encodeCursor(time: Date, tie: string): string {
  return Buffer.from(`${time.toISOString()}|${tie}`).toString('base64url');
}
export function decodeCursor(cursor: string): { time: Date; tie: string } {
  const s = Buffer.from(cursor, 'base64url').toString('utf8');
  const i = s.indexOf('|');
  const time = new Date(s.slice(0, i));
  if (i < 0 || Number.isNaN(time.getTime())) throw new ApiError(400, 'VALIDATION', 'cursor: is not a cursor this API returned', {}, [{ field: 'cursor', message: 'invalid' }]);
  return { time, tie: s.slice(i + 1) };
}
