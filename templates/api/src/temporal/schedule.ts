/** The nightly Schedule that runs nightlyDailySummaries, created idempotently (create or update). */
import { Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Connection } from '@temporalio/client';
import { retryConnect, type RetryOptions } from './worker-factory.js';
import { NIGHTLY_SCHEDULE_ID, NIGHTLY_WORKFLOW } from './shared.js';

export async function ensureNightlySchedule(
  client: Client,
  o: { taskQueue: string; cron: string; scheduleId?: string },
): Promise<'created' | 'updated'> {
  const scheduleId = o.scheduleId ?? NIGHTLY_SCHEDULE_ID;
  const spec = { cronExpressions: [o.cron] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: NIGHTLY_WORKFLOW,
    taskQueue: o.taskQueue,
    workflowId: `${scheduleId}-run`,
    args: [],
  };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
    });
    return 'created';
  } catch (e) {
    if (!(e instanceof ScheduleAlreadyRunning)) throw e;
    // Already there (another worker, an earlier start): make its spec and action the current ones.
    await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action }));
    return 'updated';
  }
}

/**
 * The worker's way in: connects a client and ensures the Schedule, retrying the whole step with
 * the worker's back-off until it succeeds — a Temporal that drops right after the worker started,
 * or a create that fails while the server is busy or the namespace is still propagating, is waited
 * for, never given up on (the worker would otherwise run without its nightly Schedule until its
 * next restart). An abort (SIGTERM) ends the wait and rejects.
 */
export async function ensureNightlyScheduleWithRetry(o: {
  connect: () => Promise<Connection>;
  namespace: string;
  taskQueue: string;
  cron: string;
  scheduleId?: string;
} & RetryOptions): Promise<'created' | 'updated'> {
  return retryConnect(async () => {
    const connection = await o.connect();
    try {
      return await ensureNightlySchedule(new Client({ connection, namespace: o.namespace }), o);
    } finally {
      await connection.close().catch(() => {});
    }
  }, o);
}
