/** Names shared by the API, the worker and the workflow bundle (no imports: workflow-safe). */
export const DAILY_SUMMARY_WORKFLOW = 'dailySummary';
export const NIGHTLY_WORKFLOW = 'nightlyDailySummaries';
export const NIGHTLY_SCHEDULE_ID = 'helfy-daily-summaries-nightly';

export function dailySummaryWorkflowId(userId: string, day: string): string {
  return `daily-summary:${userId}:${day}`;
}

/** What the dailySummary workflow returns (and the daily_summaries row it upserts). */
export interface DailySummaryResult {
  userId: string;
  day: string;
  steps: number | null;
  heartRateAvg: number | null;
  heartRateMin: number | null;
  heartRateMax: number | null;
  restingHeartRate: number | null;
  hrvAvg: number | null;
  weightKg: number | null;
  sleepMinutes: number | null;
  workouts: number;
  sets: number;
  volumeKg: number;
  energyKcal: number;
  proteinG: number;
  carbsG: number;
  fatG: number;
  fiberG: number;
}

export type DayBiometrics = Pick<DailySummaryResult, 'steps' | 'heartRateAvg' | 'heartRateMin' | 'heartRateMax' | 'restingHeartRate' | 'hrvAvg' | 'weightKg' | 'sleepMinutes'>;
export type DayWorkouts = Pick<DailySummaryResult, 'workouts' | 'sets' | 'volumeKg'>;
export type DayNutrition = Pick<DailySummaryResult, 'energyKcal' | 'proteinG' | 'carbsG' | 'fatG' | 'fiberG'>;

/** How long a local day has to be over before the scheduled run summarizes it (late readings). */
export const SUMMARY_GRACE_MS = 2 * 3_600_000;

/** A page of users scanned by the scheduled run, and the (user, local day) summaries due among them. */
export interface DueSummaries {
  scanned: number;
  /** The page's last user id: where the next page starts. */
  last: string | null;
  due: { userId: string; day: string }[];
}

/** What a scheduled run (all its continued runs together) did. */
export interface NightlyResult {
  /** The day given to the run (a backfill), or null: each user's own local yesterday. */
  day: string | null;
  /** Users looked at. */
  users: number;
  /** Summaries started (failed ones included). */
  summarized: number;
  failed: number;
}
