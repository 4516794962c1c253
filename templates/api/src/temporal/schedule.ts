/** The nightly Schedule that runs nightlyDailySummaries, created idempotently (create or update). */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
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
