/**
 * Workflow code (bundled by bundleWorkflowCode at build time): deterministic, imports only
 * @temporalio/workflow and type-only modules.
 */
import { continueAsNew, executeChild, ParentClosePolicy, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type * as activities from './activities.js';
import { dailySummaryWorkflowId, type DailySummaryResult, type NightlyResult } from './shared.js';

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

/** Where a scheduled run continues from (carried across continueAsNew). */
export interface NightlyProgress {
  after?: string | null;
  users?: number;
  summarized?: number;
  failed?: number;
  /** Users per page (and per run); 100 by default. */
  pageSize?: number;
}

/**
 * Run by the Schedule (hourly by default, DAILY_SUMMARY_CRON): the summary of every user whose local
 * yesterday has been over for two hours and is not summarized yet — every user gets their own day,
 * once, soon after their own midnight, whatever their zone. With `dayOverride` (a backfill or a
 * rerun): that day for every user, summarized again. Child workflows, one per user.
 * One page of users per run, then continueAsNew with the progress: a run's history stays at a few
 * hundred events whatever the number of users (one run for all of them would reach Temporal's
 * 51,200-event limit at roughly 15k users and be terminated part-way). The last run returns the totals.
 */
export async function nightlyDailySummaries(dayOverride?: string | null, progress: NightlyProgress = {}): Promise<NightlyResult> {
  // Date.now() in a workflow is the deterministic workflow time.
  const at = new Date(Date.now()).toISOString();
  const day = dayOverride ?? null;
  const pageSize = progress.pageSize ?? 100;
  let users = progress.users ?? 0;
  let summarized = progress.summarized ?? 0;
  let failed = progress.failed ?? 0;
  const page = await acts.listDueSummaries({ after: progress.after ?? null, limit: pageSize, at, day });
  await Promise.all(
    page.due.map((d) =>
      executeChild(dailySummary, {
        args: [d.userId, d.day],
        workflowId: dailySummaryWorkflowId(d.userId, d.day),
        parentClosePolicy: ParentClosePolicy.ABANDON,
      }).catch(() => {
        // One user's failure (or an already running summary) must not stop the others.
        failed++;
      }),
    ),
  );
  users += page.scanned;
  summarized += page.due.length;
  if (page.scanned < pageSize) return { day, users, summarized, failed };
  return continueAsNew<typeof nightlyDailySummaries>(day, { after: page.last, users, summarized, failed, pageSize });
}
