/** /api/library/*: the exercise and food library from Neo4j. */
import { createRoute, z } from '@hono/zod-openapi';
import type { App } from '../app.js';
import type { Deps } from '../deps.js';
import { ApiError } from '../lib/errors.js';
import type { Library } from '../library/queries.js';
import { ErrorBody, NonBlank, secured } from './common.js';

const Name = NonBlank(100);
const LibLimit = z.coerce.number().int().min(1).max(100).default(25);
const ExerciseSummary = z
  .object({ id: z.string(), name: z.string(), level: z.string().nullable(), category: z.string().nullable(), primaryMuscles: z.array(z.string()), equipment: z.array(z.string()) })
  .openapi('ExerciseSummary');
const MuscleRef = z.object({ name: z.string(), region: z.string().nullable() });
const Exercise = z
  .object({
    id: z.string(),
    name: z.string(),
    level: z.string().nullable(),
    force: z.string().nullable(),
    mechanic: z.string().nullable(),
    instructions: z.array(z.string()),
    category: z.string().nullable(),
    primaryMuscles: z.array(MuscleRef),
    secondaryMuscles: z.array(MuscleRef),
    equipment: z.array(z.string()),
  })
  .openapi('Exercise');
const Food = z
  .object({
    id: z.string(),
    name: z.string(),
    brand: z.string().nullable(),
    per100g: z.object({ energyKcal: z.number().nullable(), proteinG: z.number().nullable(), fatG: z.number().nullable(), carbsG: z.number().nullable(), fiberG: z.number().nullable(), sugarG: z.number().nullable() }),
    group: z.object({ code: z.string(), name: z.string() }).nullable(),
    portions: z.array(z.object({ id: z.string(), description: z.string(), grams: z.number() })),
  })
  .openapi('Food');
const IdParam = z.object({ id: z.string().min(1).max(200) });

export function registerLibraryRoutes(app: App, deps: Deps, library: Library): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/library/exercises',
      tags: ['library'],
      summary: 'Search exercises by name (full-text) and filter by muscle, region, equipment, category, level',
      security: secured,
      request: {
        query: z.strictObject({
          q: z.string().trim().max(100).optional(),
          muscle: Name.optional(),
          region: z.enum(['legs', 'back', 'chest', 'arms', 'shoulders', 'core']).optional(),
          equipment: Name.optional(),
          category: Name.optional(),
          level: z.enum(['beginner', 'intermediate', 'expert']).optional(),
          limit: LibLimit,
        }),
      },
      responses: { 200: { description: 'Matches, best first', content: { 'application/json': { schema: z.object({ items: z.array(ExerciseSummary) }) } } }, 400: ErrorBody('Invalid query'), 503: ErrorBody('Neo4j unavailable') },
    }),
    async (c) => c.json({ items: await library.searchExercises(c.req.valid('query')) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/library/exercises/{id}',
      tags: ['library'],
      summary: 'An exercise with its muscles (each with its region), equipment and category',
      security: secured,
      request: { params: IdParam },
      responses: { 200: { description: 'The exercise', content: { 'application/json': { schema: Exercise } } }, 404: ErrorBody('Unknown exercise') },
    }),
    async (c) => {
      const e = await library.exercise(c.req.valid('param').id);
      if (!e) throw new ApiError(404, 'NOT_FOUND', 'no exercise with this id');
      return c.json(e, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/library/exercises/{id}/alternatives',
      tags: ['library'],
      summary: 'Exercises training the same primary muscle with no equipment or only the listed equipment, ranked by shared muscles',
      security: secured,
      request: {
        params: IdParam,
        query: z.strictObject({
          equipment: z.string().max(1000).optional().openapi({ description: 'comma-separated equipment the caller has, e.g. "dumbbell,body only"' }),
          limit: LibLimit,
        }),
      },
      responses: {
        200: {
          description: 'Alternatives',
          content: { 'application/json': { schema: z.object({ items: z.array(z.object({ id: z.string(), name: z.string(), sharedMuscles: z.array(z.string()), equipment: z.array(z.string()) })) }) } },
        },
        404: ErrorBody('Unknown exercise'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const available = (q.equipment ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const items = await library.alternatives(c.req.valid('param').id, available, q.limit);
      if (!items) throw new ApiError(404, 'NOT_FOUND', 'no exercise with this id');
      return c.json({ items }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/library/foods',
      tags: ['library'],
      summary: 'Search foods by name or brand (full-text), optionally in one food group',
      security: secured,
      request: { query: z.strictObject({ q: z.string().trim().max(100).optional(), group: z.string().regex(/^(\d{2}|other)$/, 'must be a two-digit food group code').optional(), limit: LibLimit }) },
      responses: {
        200: {
          description: 'Matches',
          content: { 'application/json': { schema: z.object({ items: z.array(z.object({ id: z.string(), name: z.string(), brand: z.string().nullable(), group: z.string().nullable(), energyKcal: z.number().nullable() })) }) } },
        },
      },
    }),
    async (c) => c.json({ items: await library.searchFoods(c.req.valid('query')) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/library/foods/{id}',
      tags: ['library'],
      summary: 'A food with its nutrients per 100 g, group and portions',
      security: secured,
      request: { params: IdParam },
      responses: { 200: { description: 'The food', content: { 'application/json': { schema: Food } } }, 404: ErrorBody('Unknown food') },
    }),
    async (c) => {
      const f = await library.food(c.req.valid('param').id);
      if (!f) throw new ApiError(404, 'NOT_FOUND', 'no food with this id');
      return c.json(f, 200);
    },
  );
  void deps;
}
