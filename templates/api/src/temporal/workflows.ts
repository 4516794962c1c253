/**
 * Workflow code (bundled by bundleWorkflowCode at build time): deterministic, imports only
 * @temporalio/workflow and type-only modules.
 */
import { continueAsNew, executeChild, ParentClosePolicy, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type * as activities from './activities.js';
import { dailySummaryWorkflowId, type DailySummaryResult } from './shared.js';

const acts = proxyActivities<ReturnType<typeof activities.createActivities>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 },
});

/**
 * Reads one user's day (their local day, users.timezone) of biometrics (the daily figures of the
 * continuous aggregates), workouts and nutrition and upserts its daily_summaries row.
 */
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

/** Where a nightly run continues from (carried across continueAsNew). */
export interface NightlyProgress {
  after?: string | null;
  users?: number;
  failed?: number;
  /** Users per page (and per run); 100 by default. */
  pageSize?: number;
}

/**
 * Run by the nightly Schedule: yesterday's (UTC) summary for every user, as child workflows.
 * One page of users per run, then continueAsNew with the progress: a run's history stays at a few
 * hundred events whatever the number of users (one run for all of them would reach Temporal's
 * 51,200-event limit at roughly 15k users and be terminated part-way). The last run returns the totals.
 */
export async function nightlyDailySummaries(dayOverride?: string, progress: NightlyProgress = {}): Promise<{ day: string; users: number; failed: number }> {
  // Date.now() in a workflow is the deterministic workflow time (the scheduled start).
  const day = dayOverride ?? new Date(Date.now() - 24 * 3600 * 1000).toISOString().slice(0, 10);
  const pageSize = progress.pageSize ?? 100;
  let users = progress.users ?? 0;
  let failed = progress.failed ?? 0;
  const page: string[] = await acts.listUserIds(progress.after ?? null, pageSize);
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
  if (page.length < pageSize) return { day, users, failed };
  return continueAsNew<typeof nightlyDailySummaries>(day, { after: page[page.length - 1]!, users, failed, pageSize });
}
