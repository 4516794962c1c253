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
