/** /api/nutrition: entries referencing library foods (nutrients computed from the food), daily totals. */
import { createRoute, z } from '@hono/zod-openapi';
import type { App } from '../app.js';
import { mealEnum } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { ApiError } from '../lib/errors.js';
import type { Library } from '../library/queries.js';
import { bodyLimit, cursorTime, Day, decodeCursor, encodeCursor, ErrorBody, jsonBody, Limit, NonBlank, QueryTimestamp, secured, Timestamp, userTimeZone } from './common.js';

const EntryIn = z.strictObject({
  time: Timestamp,
  foodId: NonBlank(200),
  meal: z.enum(mealEnum.enumValues),
  quantityG: z.number().finite().positive('must be more than 0').max(10_000),
});
const EntryOut = z
  .object({
    id: z.string().uuid(),
    time: z.string(),
    foodId: z.string(),
    meal: z.string(),
    quantityG: z.number(),
    energyKcal: z.number(),
    proteinG: z.number().nullable(),
    carbsG: z.number().nullable(),
    fatG: z.number().nullable(),
    fiberG: z.number().nullable(),
  })
  .openapi('NutritionEntry');

const round2 = (n: number) => Math.round(n * 100) / 100;
const toEntry = (x: any) => ({
  id: x.id,
  time: x.time.toISOString(),
  foodId: x.food_id,
  meal: x.meal,
  quantityG: x.quantity_g,
  energyKcal: x.energy_kcal,
  proteinG: x.protein_g,
  carbsG: x.carbs_g,
  fatG: x.fat_g,
  fiberG: x.fiber_g,
});
const COLS = `id, time, food_id, meal::text, quantity_g, energy_kcal, protein_g, carbs_g, fat_g, fiber_g`;

export function registerNutritionRoutes(app: App, deps: Deps, library: Library): void {
  const { pool } = deps;

  /** Checks every food, computes nutrients (per 100 g × quantity) and inserts all in one statement. */
  async function store(userId: string, entries: z.infer<typeof EntryIn>[], field: (i: number) => string) {
    const foods = await library.foodNutrients(entries.map((e) => e.foodId));
    const unknown = entries.flatMap((e, i) => (foods.has(e.foodId) ? [] : [i]));
    if (unknown.length) {
      const ids = [...new Set(unknown.map((i) => entries[i]!.foodId))];
      throw new ApiError(422, 'UNKNOWN_FOOD', `${field(unknown[0]!)}: ${ids.join(', ')} ${ids.length === 1 ? 'is' : 'are'} not in the food library`, {}, {
        unknownFoodIds: ids,
        fields: unknown.map(field),
      });
    }
    // energy_kcal is NOT NULL and feeds daily totals and summaries: a food whose energy the
    // library does not know is refused, never stored as 0 kcal (a silent under-count).
    const noEnergy = entries.flatMap((e, i) => (foods.get(e.foodId)!.energyKcal == null ? [i] : []));
    if (noEnergy.length) {
      const ids = [...new Set(noEnergy.map((i) => entries[i]!.foodId))];
      throw new ApiError(422, 'FOOD_ENERGY_UNKNOWN', `${field(noEnergy[0]!)}: the food library has no energy value for ${ids.join(', ')}; pick another food`, {}, {
        foodIds: ids,
        fields: noEnergy.map(field),
      });
    }
    const cols: unknown[][] = [[], [], [], [], [], [], [], [], []];
    for (const e of entries) {
      const per = foods.get(e.foodId)!;
      const k = e.quantityG / 100;
      const scaled = (v: number | null) => (v === null || v === undefined ? null : round2(v * k));
      [e.time, e.foodId, e.meal, e.quantityG, scaled(per.energyKcal), scaled(per.proteinG), scaled(per.carbsG), scaled(per.fatG), scaled(per.fiberG)].forEach((v, j) => cols[j]!.push(v));
    }
    const r = await pool.query(
      `INSERT INTO nutrition (time, user_id, food_id, meal, quantity_g, energy_kcal, protein_g, carbs_g, fat_g, fiber_g)
       SELECT t, $1, f, m::meal, q, e, p, c, fa, fi
         FROM unnest($2::timestamptz[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[])
              WITH ORDINALITY AS x(t, f, m, q, e, p, c, fa, fi, n)
        ORDER BY n
       RETURNING ${COLS}`,
      [userId, ...cols],
    );
    return r.rows.map(toEntry);
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/nutrition',
      tags: ['nutrition'],
      summary: 'Log a food eaten; energy and macros are computed from the library food (per 100 g × quantity)',
      security: secured,
      middleware: [bodyLimit(16 * 1024)] as const,
      request: { body: jsonBody(EntryIn) },
      responses: { 201: { description: 'Stored', content: { 'application/json': { schema: EntryOut } } }, 400: ErrorBody('Invalid body'), 422: ErrorBody('Unknown food id, or a food without an energy value (FOOD_ENERGY_UNKNOWN)') },
    }),
    async (c) => {
      const [entry] = await store(c.get('userId'), [c.req.valid('json')], (i) => (i === 0 ? 'foodId' : `entries.${i}.foodId`));
      return c.json(entry!, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/nutrition/batch',
      tags: ['nutrition'],
      summary: 'Log several foods (a meal) in one transaction: every food is checked first, all or nothing',
      security: secured,
      middleware: [bodyLimit(64 * 1024)] as const,
      request: { body: jsonBody(z.strictObject({ entries: z.array(EntryIn).min(1).max(50, 'at most 50 entries per request') })) },
      responses: {
        201: { description: 'Stored', content: { 'application/json': { schema: z.object({ items: z.array(EntryOut) }) } } },
        400: ErrorBody('Invalid body'),
        422: ErrorBody('Unknown food id, or a food without an energy value (FOOD_ENERGY_UNKNOWN); nothing stored'),
      },
    }),
    async (c) => c.json({ items: await store(c.get('userId'), c.req.valid('json').entries, (i) => `entries.${i}.foodId`) }, 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/nutrition',
      tags: ['nutrition'],
      summary: 'The caller’s entries, newest first, paged by a time cursor',
      security: secured,
      request: { query: z.strictObject({ from: QueryTimestamp.optional(), to: QueryTimestamp.optional(), limit: Limit, cursor: z.string().max(200).optional() }) },
      responses: { 200: { description: 'A page', content: { 'application/json': { schema: z.object({ items: z.array(EntryOut), nextCursor: z.string().nullable() }) } } } },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const where = ['user_id = $1'];
      const vals: unknown[] = [c.get('userId')];
      if (q.from) where.push(`time >= $${vals.push(q.from)}`);
      if (q.to) where.push(`time < $${vals.push(q.to)}`);
      if (q.cursor) {
        const cur = decodeCursor(q.cursor);
        where.push(`(time, id) < ($${vals.push(cur.time)}::timestamptz, $${vals.push(/^[0-9a-f-]{36}$/.test(cur.tie) ? cur.tie : '00000000-0000-0000-0000-000000000000')}::uuid)`);
      }
      const r = await pool.query(`SELECT ${COLS}, ${cursorTime('time')} FROM nutrition WHERE ${where.join(' AND ')} ORDER BY time DESC, id DESC LIMIT $${vals.push(q.limit + 1)}`, vals);
      const rows = r.rows.slice(0, q.limit);
      const last = rows[rows.length - 1];
      return c.json({ items: rows.map(toEntry), nextCursor: r.rows.length > q.limit && last ? encodeCursor(last.cursor_time, last.id) : null }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/nutrition/daily',
      tags: ['nutrition'],
      summary: "Daily totals of energy and macros over [from, to], in the caller's local days (users.timezone)",
      security: secured,
      request: { query: z.strictObject({ from: Day, to: Day }) },
      responses: {
        200: {
          description: 'One row per day with entries',
          content: {
            'application/json': {
              schema: z.object({
                days: z.array(z.object({ day: z.string(), entries: z.number().int(), energyKcal: z.number(), proteinG: z.number(), carbsG: z.number(), fatG: z.number(), fiberG: z.number() })),
              }),
            },
          },
        },
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      if (q.to < q.from) throw new ApiError(400, 'VALIDATION', 'to: must not be before from', {}, [{ field: 'to', message: 'must not be before from' }]);
      if ((Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 > 366) throw new ApiError(400, 'VALIDATION', 'to: at most 366 days per request', {}, [{ field: 'to', message: 'range too long' }]);
      // Local days: a day runs from the caller's midnight to the next (23 or 25 hours across DST).
      const timezone = await userTimeZone(deps, c.get('userId'));
      const r = await pool.query(
        `SELECT to_char((time AT TIME ZONE $4::text)::date, 'YYYY-MM-DD') AS day, count(*)::int AS entries,
                sum(energy_kcal)::float8 AS e, coalesce(sum(protein_g), 0)::float8 AS p, coalesce(sum(carbs_g), 0)::float8 AS c,
                coalesce(sum(fat_g), 0)::float8 AS f, coalesce(sum(fiber_g), 0)::float8 AS fi
           FROM nutrition
          WHERE user_id = $1 AND time >= ($2::date::timestamp AT TIME ZONE $4::text) AND time < (($3::date + 1)::timestamp AT TIME ZONE $4::text)
          GROUP BY 1 ORDER BY 1`,
        [c.get('userId'), q.from, q.to, timezone],
      );
      return c.json({ days: r.rows.map((x) => ({ day: x.day, entries: x.entries, energyKcal: round2(x.e), proteinG: round2(x.p), carbsG: round2(x.c), fatG: round2(x.f), fiberG: round2(x.fi) })) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/nutrition/{id}',
      tags: ['nutrition'],
      summary: 'Delete one of the caller’s entries',
      security: secured,
      request: { params: z.object({ id: z.string().uuid('must be an entry id (uuid)') }) },
      responses: { 204: { description: 'Deleted' }, 404: ErrorBody('Not the caller’s entry') },
    }),
    async (c) => {
      const r = await pool.query(`DELETE FROM nutrition WHERE id = $1 AND user_id = $2`, [c.req.valid('param').id, c.get('userId')]);
      if (!r.rowCount) throw new ApiError(404, 'NOT_FOUND', 'no such nutrition entry');
      return c.body(null, 204);
    },
  );
}
