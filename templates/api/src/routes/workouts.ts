/** /api/workouts: workouts with their sets; every set names a library exercise (unknown id → 422). */
import { createRoute, z } from '@hono/zod-openapi';
import type { App } from '../app.js';
import { inTransaction } from '../db/client.js';
import { workoutStatusEnum } from '../db/schema.js';
import type { Deps } from '../deps.js';
import { ApiError } from '../lib/errors.js';
import type { Library } from '../library/queries.js';
import { bodyLimit, cursorTime, decodeCursor, encodeCursor, ErrorBody, jsonBody, Limit, NonBlank, QueryTimestamp, secured, Timestamp } from './common.js';

const SetIn = z.strictObject({
  exerciseId: NonBlank(200),
  reps: z.number().int().min(0).max(1000).optional(),
  weightKg: z.number().finite().min(0).max(1000).optional(),
  durationS: z.number().int().min(0).max(24 * 3600).optional(),
  rpe: z.number().min(0).max(10).multipleOf(0.5).openapi({ multipleOf: 0.5 }).optional(),
  performedAt: Timestamp.optional(),
});
const WorkoutIn = z.strictObject({
  time: Timestamp,
  name: NonBlank(200).optional(),
  routineId: NonBlank(200).optional(),
  status: z.enum(workoutStatusEnum.enumValues).default('completed'),
  notes: z.string().max(5000).optional(),
  durationS: z.number().int().min(0).max(7 * 24 * 3600).optional(),
  sets: z.array(SetIn).max(500).default([]),
});
const SetOut = z.object({
  setNumber: z.number().int(),
  exerciseId: z.string(),
  reps: z.number().nullable(),
  weightKg: z.number().nullable(),
  durationS: z.number().nullable(),
  rpe: z.number().nullable(),
  performedAt: z.string().nullable(),
});
const WorkoutOut = z
  .object({
    id: z.string().uuid(),
    time: z.string(),
    name: z.string().nullable(),
    routineId: z.string().nullable(),
    status: z.string(),
    notes: z.string().nullable(),
    durationS: z.number().nullable(),
    sets: z.array(SetOut),
  })
  .openapi('Workout');
const IdParam = z.object({ id: z.string().uuid('must be a workout id (uuid)') });

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toWorkout(w: any, sets: any[]) {
  return {
    id: w.id,
    time: w.time.toISOString(),
    name: w.name,
    routineId: w.routine_id,
    status: w.status,
    notes: w.notes,
    durationS: w.duration_s,
    sets: sets.map((s) => ({ setNumber: s.set_number, exerciseId: s.exercise_id, reps: s.reps, weightKg: s.weight_kg, durationS: s.duration_s, rpe: s.rpe, performedAt: iso(s.performed_at) })),
  };
}

export function registerWorkoutRoutes(app: App, deps: Deps, library: Library): void {
  const { pool } = deps;

  async function load(userId: string, id: string) {
    const w = await pool.query(`SELECT id, time, name, routine_id, status::text, notes, duration_s FROM workouts WHERE id = $1 AND user_id = $2`, [id, userId]);
    if (!w.rows[0]) return undefined;
    const s = await pool.query(
      `SELECT set_number, exercise_id, reps, weight_kg, duration_s, rpe, performed_at FROM workout_sets
        WHERE workout_id = $1 AND time = $2 AND user_id = $3 ORDER BY set_number`,
      [id, w.rows[0].time, userId],
    );
    return toWorkout(w.rows[0], s.rows);
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/workouts',
      tags: ['workouts'],
      summary: 'Record a workout with its sets (one transaction); sets are numbered in order',
      security: secured,
      middleware: [bodyLimit(256 * 1024)] as const,
      request: { body: jsonBody(WorkoutIn) },
      responses: {
        201: { description: 'Created', content: { 'application/json': { schema: WorkoutOut } } },
        400: ErrorBody('Invalid body'),
        422: ErrorBody('A set names an exercise that is not in the library'),
        503: ErrorBody('PostgreSQL or Neo4j unavailable'),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const userId = c.get('userId');
      const unknown = await library.unknownExercises(body.sets.map((s) => s.exerciseId));
      if (unknown.length) {
        throw new ApiError(422, 'UNKNOWN_EXERCISE', `sets name exercises that are not in the library: ${unknown.slice(0, 10).join(', ')}`, {}, {
          unknownExerciseIds: unknown,
          fields: body.sets.flatMap((s, i) => (unknown.includes(s.exerciseId) ? [`sets.${i}.exerciseId`] : [])),
        });
      }
      const id = await inTransaction(pool, async (tx) => {
        const w = await tx.query(
          `INSERT INTO workouts (time, user_id, name, routine_id, status, notes, duration_s) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, time`,
          [body.time, userId, body.name ?? null, body.routineId ?? null, body.status, body.notes ?? null, body.durationS ?? null],
        );
        const { id, time } = w.rows[0];
        if (body.sets.length) {
          await tx.query(
            `INSERT INTO workout_sets (time, user_id, workout_id, set_number, exercise_id, reps, weight_kg, duration_s, rpe, performed_at)
             SELECT $1, $2, $3, n, e, r, wkg, d, rpe, p
               FROM unnest($4::int[], $5::text[], $6::int[], $7::float8[], $8::int[], $9::real[], $10::timestamptz[]) AS x(n, e, r, wkg, d, rpe, p)`,
            [
              time,
              userId,
              id,
              body.sets.map((_, i) => i + 1),
              body.sets.map((s) => s.exerciseId),
              body.sets.map((s) => s.reps ?? null),
              body.sets.map((s) => s.weightKg ?? null),
              body.sets.map((s) => s.durationS ?? null),
              body.sets.map((s) => s.rpe ?? null),
              body.sets.map((s) => s.performedAt ?? null),
            ],
          );
        }
        return id as string;
      });
      return c.json((await load(userId, id))!, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/workouts',
      tags: ['workouts'],
      summary: 'The caller’s workouts, newest first, paged by a time cursor (with set counts)',
      security: secured,
      request: { query: z.strictObject({ from: QueryTimestamp.optional(), to: QueryTimestamp.optional(), limit: Limit, cursor: z.string().max(200).optional() }) },
      responses: {
        200: {
          description: 'A page',
          content: {
            'application/json': {
              schema: z.object({
                items: z.array(WorkoutOut.omit({ sets: true }).extend({ sets: z.number().int(), volumeKg: z.number() })),
                nextCursor: z.string().nullable(),
              }),
            },
          },
        },
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const where = ['w.user_id = $1'];
      const vals: unknown[] = [c.get('userId')];
      if (q.from) where.push(`w.time >= $${vals.push(q.from)}`);
      if (q.to) where.push(`w.time < $${vals.push(q.to)}`);
      if (q.cursor) {
        const cur = decodeCursor(q.cursor);
        where.push(`(w.time, w.id) < ($${vals.push(cur.time)}::timestamptz, $${vals.push(/^[0-9a-f-]{36}$/.test(cur.tie) ? cur.tie : '00000000-0000-0000-0000-000000000000')}::uuid)`);
      }
      const r = await pool.query(
        `SELECT w.id, w.time, ${cursorTime('w.time')}, w.name, w.routine_id, w.status::text, w.notes, w.duration_s,
                (SELECT count(*)::int FROM workout_sets s WHERE s.workout_id = w.id AND s.time = w.time) AS sets,
                (SELECT coalesce(sum(coalesce(reps, 0) * coalesce(weight_kg, 0)), 0)::float8 FROM workout_sets s WHERE s.workout_id = w.id AND s.time = w.time) AS volume
           FROM workouts w WHERE ${where.join(' AND ')}
          ORDER BY w.time DESC, w.id DESC LIMIT $${vals.push(q.limit + 1)}`,
        vals,
      );
      const rows = r.rows.slice(0, q.limit);
      const last = rows[rows.length - 1];
      return c.json(
        {
          items: rows.map((w) => {
            const { sets: _s, ...rest } = toWorkout(w, []);
            return { ...rest, sets: w.sets as number, volumeKg: Number(w.volume) };
          }),
          nextCursor: r.rows.length > q.limit && last ? encodeCursor(last.cursor_time, last.id) : null,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/workouts/{id}',
      tags: ['workouts'],
      summary: 'One of the caller’s workouts with its sets (another user’s id is 404)',
      security: secured,
      request: { params: IdParam },
      responses: { 200: { description: 'The workout', content: { 'application/json': { schema: WorkoutOut } } }, 404: ErrorBody('Not the caller’s workout') },
    }),
    async (c) => {
      const w = await load(c.get('userId'), c.req.valid('param').id);
      if (!w) throw new ApiError(404, 'NOT_FOUND', 'no such workout');
      return c.json(w, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/workouts/{id}',
      tags: ['workouts'],
      summary: 'Delete one of the caller’s workouts and its sets',
      security: secured,
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, 404: ErrorBody('Not the caller’s workout') },
    }),
    async (c) => {
      const userId = c.get('userId');
      const id = c.req.valid('param').id;
      const deleted = await inTransaction(pool, async (tx) => {
        const w = await tx.query(`DELETE FROM workouts WHERE id = $1 AND user_id = $2 RETURNING time`, [id, userId]);
        if (!w.rows[0]) return false;
        await tx.query(`DELETE FROM workout_sets WHERE workout_id = $1 AND time = $2 AND user_id = $3`, [id, w.rows[0].time, userId]);
        return true;
      });
      if (!deleted) throw new ApiError(404, 'NOT_FOUND', 'no such workout');
      return c.body(null, 204);
    },
  );
}
