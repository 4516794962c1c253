/**
 * Workflow code (bundled by bundleWorkflowCode at build time): deterministic, imports only
 * @temporalio/workflow and type-only modules.
 */
import { executeChild, ParentClosePolicy, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type * as activities from './activities.js';
import { dailySummaryWorkflowId, type DailySummaryResult } from './shared.js';

const acts = proxyActivities<ReturnType<typeof activities.createActivities>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 },
});

/** Reads one user's UTC day of biometrics, workouts and nutrition and upserts its daily_summaries row. */
export async function dailySummary(userId: string, day: string): Promise<DailySummaryResult> {
  const [bio, work, food] = await Promise.all([
    acts.readDayBiometrics(userId, day),
    acts.readDayWorkouts(userId, day),
    acts.readDayNutrition(userId, day),
  ]);
  const summary: DailySummaryResult = { userId, day, ...bio, ...work, ...food };
  await acts.upsertDailySummary(summary, workflowInfo().workflowId);
  return summary;
}

/** Run by the nightly Schedule: yesterday's (UTC) summary for every user, as child workflows. */
export async function nightlyDailySummaries(dayOverride?: string): Promise<{ day: string; users: number; failed: number }> {
  // Date.now() in a workflow is the deterministic workflow time (the scheduled start).
  const day = dayOverride ?? new Date(Date.now() - 24 * 3600 * 1000).toISOString().slice(0, 10);
  let after: string | null = null;
  let users = 0;
  let failed = 0;
  for (;;) {
    const page: string[] = await acts.listUserIds(after, 100);
    if (page.length === 0) break;
    await Promise.all(
      page.map((userId) =>
        executeChild(dailySummary, {
          args: [userId, day],
          workflowId: dailySummaryWorkflowId(userId, day),
          parentClosePolicy: ParentClosePolicy.ABANDON,
        }).catch(() => {
          // One user's failure (or an already running summary) must not stop the others.
          failed++;
        }),
      ),
    );
    users += page.length;
    after = page[page.length - 1]!;
  }
  return { day, users, failed };
}
