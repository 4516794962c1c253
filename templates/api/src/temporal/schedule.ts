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
 * The worker's way in: connects a client (retrying like the worker's own connection, so a
 * Temporal that drops right after the worker started is waited for, not fatal), ensures the
 * Schedule and closes the connection. An abort (SIGTERM) ends the wait and rejects.
 */
export async function ensureNightlyScheduleWithRetry(o: {
  connect: () => Promise<Connection>;
  namespace: string;
  taskQueue: string;
  cron: string;
  scheduleId?: string;
} & RetryOptions): Promise<'created' | 'updated'> {
  const connection = await retryConnect(o.connect, o);
  try {
    if (o.signal?.aborted) throw new Error('aborted before the schedule was ensured');
    return await ensureNightlySchedule(new Client({ connection, namespace: o.namespace }), o);
  } finally {
    await connection.close().catch(() => {});
  }
}
