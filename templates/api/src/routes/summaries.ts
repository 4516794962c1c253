/**
 * /api/summaries/daily: start the dailySummary workflow (Temporal) for one of the caller's days,
 * read a run's status and result, and read the stored daily_summaries rows.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { App } from '../app.js';
import type { Deps } from '../deps.js';
import { ApiError, DependencyError, withTimeout } from '../lib/errors.js';
import { DAILY_SUMMARY_WORKFLOW, dailySummaryWorkflowId } from '../temporal/shared.js';
import { bodyLimit, Day, ErrorBody, jsonBody, secured } from './common.js';

const Summary = z
  .object({
    userId: z.string(),
    day: z.string(),
    steps: z.number().nullable(),
    heartRateAvg: z.number().nullable(),
    heartRateMin: z.number().nullable(),
    heartRateMax: z.number().nullable(),
    restingHeartRate: z.number().nullable(),
    hrvAvg: z.number().nullable(),
    weightKg: z.number().nullable(),
    sleepMinutes: z.number().nullable(),
    workouts: z.number().int(),
    sets: z.number().int(),
    volumeKg: z.number(),
    energyKcal: z.number(),
    proteinG: z.number(),
    carbsG: z.number(),
    fatG: z.number(),
    fiberG: z.number(),
  })
  .openapi('DailySummary');

/** Temporal errors from an unreachable server (gRPC UNAVAILABLE = 14 / DEADLINE_EXCEEDED = 4) → 503. */
function temporalUnavailable(e: unknown): boolean {
  const x = e as { code?: number; cause?: { code?: number }; message?: string };
  if ([14, 4].includes(x?.code ?? -1) || [14, 4].includes(x?.cause?.code ?? -1)) return true;
  return /UNAVAILABLE|DEADLINE_EXCEEDED|No connection established/.test(x?.message ?? '');
}

export function registerSummaryRoutes(app: App, deps: Deps): void {
  const t = deps.temporal;
  const ms = deps.config.DEPENDENCY_TIMEOUT_MS;

  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await withTimeout('temporal', ms * 2, t.connection.withDeadline(Date.now() + ms * 2, fn));
    } catch (e) {
      if (e instanceof ApiError || e instanceof WorkflowNotFoundError) throw e;
      if (temporalUnavailable(e)) throw new DependencyError('temporal', (e as Error).message.split('\n')[0] ?? 'unreachable');
      throw e;
    }
  };

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/summaries/daily',
      tags: ['summaries'],
      summary: 'Start the dailySummary workflow for one of the caller’s days (their local day, users.timezone); returns the workflow id',
      security: secured,
      middleware: [bodyLimit(1024)] as const,
      request: { body: jsonBody(z.strictObject({ day: Day })) },
      responses: {
        202: { description: 'Started (or already running)', content: { 'application/json': { schema: z.object({ workflowId: z.string(), runId: z.string() }) } } },
        400: ErrorBody('Invalid day'),
        503: ErrorBody('Temporal unavailable'),
      },
    }),
    async (c) => {
      const { day } = c.req.valid('json');
      const userId = c.get('userId');
      const workflowId = dailySummaryWorkflowId(userId, day);
      const handle = await call(() =>
        t.client.workflow.start(DAILY_SUMMARY_WORKFLOW, {
          taskQueue: t.taskQueue,
          workflowId,
          args: [userId, day],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowExecutionTimeout: '10 minutes',
        }),
      );
      deps.metrics.workflowStarts.inc({ workflow: DAILY_SUMMARY_WORKFLOW });
      return c.json({ workflowId, runId: handle.firstExecutionRunId }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/summaries/daily/runs/{workflowId}',
      tags: ['summaries'],
      summary: 'Status of a dailySummary workflow of the caller, with its result once completed',
      security: secured,
      request: { params: z.object({ workflowId: z.string().min(1).max(200) }) },
      responses: {
        200: {
          description: 'Status',
          content: {
            'application/json': {
              schema: z.object({ workflowId: z.string(), runId: z.string(), status: z.string(), result: Summary.nullable(), failure: z.string().nullable() }),
            },
          },
        },
        404: ErrorBody('No such workflow of the caller'),
        503: ErrorBody('Temporal unavailable'),
      },
    }),
    async (c) => {
      const { workflowId } = c.req.valid('param');
      const userId = c.get('userId');
      // The id embeds the user: another user's workflow id is refused without asking Temporal.
      if (!workflowId.startsWith(`daily-summary:${userId}:`)) throw new ApiError(404, 'NOT_FOUND', 'no such workflow');
      const handle = t.client.workflow.getHandle(workflowId);
      let d;
      try {
        d = await call(() => handle.describe());
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) throw new ApiError(404, 'NOT_FOUND', 'no such workflow');
        throw e;
      }
      const status = d.status.name;
      let result = null;
      let failure: string | null = null;
      if (status === 'COMPLETED') result = await call(() => handle.result());
      else if (status === 'FAILED' || status === 'TIMED_OUT' || status === 'TERMINATED' || status === 'CANCELLED') {
        failure = status;
        await call(() => handle.result()).catch((e: Error) => (failure = e.message.split('\n')[0] ?? status));
      }
      return c.json({ workflowId, runId: d.runId, status, result, failure }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/summaries/daily',
      tags: ['summaries'],
      summary: 'The caller’s stored daily summaries over [from, to]',
      security: secured,
      request: { query: z.strictObject({ from: Day, to: Day }) },
      responses: {
        200: { description: 'Rows, oldest first', content: { 'application/json': { schema: z.object({ days: z.array(Summary.extend({ workflowId: z.string().nullable(), computedAt: z.string() })) }) } } },
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      if (q.to < q.from) throw new ApiError(400, 'VALIDATION', 'to: must not be before from', {}, [{ field: 'to', message: 'must not be before from' }]);
      const r = await deps.pool.query(
        `SELECT user_id, to_char(day, 'YYYY-MM-DD') AS day, steps, heart_rate_avg, heart_rate_min, heart_rate_max, resting_heart_rate, hrv_avg,
                weight_kg, sleep_minutes, workouts, sets, volume_kg, energy_kcal, protein_g, carbs_g, fat_g, fiber_g, workflow_id, computed_at
           FROM daily_summaries WHERE user_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day LIMIT 1000`,
        [c.get('userId'), q.from, q.to],
      );
      return c.json(
        {
          days: r.rows.map((x) => ({
            userId: x.user_id,
            day: x.day,
            steps: x.steps,
            heartRateAvg: x.heart_rate_avg,
            heartRateMin: x.heart_rate_min,
            heartRateMax: x.heart_rate_max,
            restingHeartRate: x.resting_heart_rate,
            hrvAvg: x.hrv_avg,
            weightKg: x.weight_kg,
            sleepMinutes: x.sleep_minutes,
            workouts: x.workouts,
            sets: x.sets,
            volumeKg: x.volume_kg,
            energyKcal: x.energy_kcal,
            proteinG: x.protein_g,
            carbsG: x.carbs_g,
            fatG: x.fat_g,
            fiberG: x.fiber_g,
            workflowId: x.workflow_id,
            computedAt: x.computed_at.toISOString(),
          })),
        },
        200,
      );
    },
  );
}
