/** Activities of the worker: plain SQL on helfy_app as helfy_api (data privileges only). */
import type pg from 'pg';
import { addDays, lastReading, localDay, localMidnight, queryDays } from '../data/daily.js';
import { detectAggregates, isKnownTimeZone } from '../data/series.js';
import { SUMMARY_GRACE_MS, type DailySummaryResult, type DayBiometrics, type DayNutrition, type DayWorkouts, type DueSummaries } from './shared.js';

/** The user's local day [start, end) as timestamptz parameters $2 and $3. */
const DAY = `$2::timestamptz`;
const NEXT_DAY = `$3::timestamptz`;

/** The metrics readDayBiometrics reads from the daily figures (weight: the day's last reading). */
const SUMMARY_METRICS = ['steps', 'heart_rate', 'resting_heart_rate', 'hrv', 'sleep'] as const;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function createActivities(deps: { pool: pg.Pool }) {
  const { pool } = deps;
  let timescale: boolean | undefined;
  let aggregates = false;
  /** Detected on first use; the aggregates are checked again until they exist (migration 0004 may come later). */
  const sources = async () => {
    if (timescale === undefined) timescale = ((await pool.query(`SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'`)).rowCount ?? 0) > 0;
    if (timescale && !aggregates) aggregates = await detectAggregates(pool);
    return { timescale, aggregates };
  };
  /** The user's zone (users.timezone; an unknown name counts as UTC) and the local day's bounds. */
  const localDayOf = async (userId: string, day: string) => {
    const r = await pool.query(`SELECT timezone FROM users WHERE id = $1`, [userId]);
    const tz = (r.rows[0]?.timezone as string | undefined) ?? 'UTC';
    const timezone = isKnownTimeZone(tz) ? tz : 'UTC';
    return { timezone, start: localMidnight(day, timezone), end: localMidnight(addDays(day, 1), timezone) };
  };
  return {
    /**
     * The day's biometric figures in the user's time zone, from the daily aggregate (biometrics_daily
     * for a UTC user, biometrics_hourly regrouped into local days otherwise; raw rows without
     * TimescaleDB), rows written a moment ago included. The weight is the day's last reading (an
     * aggregate keeps no "last"): one index probe on the raw rows.
     */
    async readDayBiometrics(userId: string, day: string): Promise<DayBiometrics> {
      const [src, d] = await Promise.all([sources(), localDayOf(userId, day)]);
      const [figures, weight] = await Promise.all([
        queryDays(pool, src, { userId, metrics: SUMMARY_METRICS, fromDay: day, toDay: day, timezone: d.timezone }),
        lastReading(pool, userId, 'weight', d.start, d.end),
      ]);
      const of = (metric: (typeof SUMMARY_METRICS)[number]) => figures.days.find((x) => x.metric === metric && x.day === day);
      const steps = of('steps');
      const hr = of('heart_rate');
      return {
        steps: steps ? Math.round(steps.sum) : null,
        heartRateAvg: num(hr?.avg),
        heartRateMin: num(hr?.min),
        heartRateMax: num(hr?.max),
        restingHeartRate: num(of('resting_heart_rate')?.avg),
        hrvAvg: num(of('hrv')?.avg),
        weightKg: weight,
        sleepMinutes: num(of('sleep')?.sum),
      };
    },

    /** The workouts of the user's local day (the same day as readDayBiometrics). */
    async readDayWorkouts(userId: string, day: string): Promise<DayWorkouts> {
      const d = await localDayOf(userId, day);
      const r = await pool.query(
        `SELECT
           (SELECT count(*) FROM workouts WHERE user_id = $1 AND time >= ${DAY} AND time < ${NEXT_DAY} AND status <> 'skipped')::int AS workouts,
           count(s.*)::int AS sets,
           coalesce(sum(coalesce(s.reps, 0) * coalesce(s.weight_kg, 0)), 0)::float8 AS volume
         FROM workout_sets s
         -- Sets of a skipped workout were never done: left out like the workout itself.
         JOIN workouts w ON w.id = s.workout_id AND w.time = s.time AND w.user_id = s.user_id AND w.status <> 'skipped'
         WHERE s.user_id = $1 AND s.time >= ${DAY} AND s.time < ${NEXT_DAY}`,
        [userId, d.start, d.end],
      );
      const x = r.rows[0]!;
      return { workouts: x.workouts, sets: x.sets, volumeKg: Number(x.volume) };
    },

    /** What the user ate on their local day. */
    async readDayNutrition(userId: string, day: string): Promise<DayNutrition> {
      const d = await localDayOf(userId, day);
      const r = await pool.query(
        `SELECT coalesce(sum(energy_kcal), 0)::float8 AS e, coalesce(sum(protein_g), 0)::float8 AS p,
                coalesce(sum(carbs_g), 0)::float8 AS c, coalesce(sum(fat_g), 0)::float8 AS f,
                coalesce(sum(fiber_g), 0)::float8 AS fi
         FROM nutrition WHERE user_id = $1 AND time >= ${DAY} AND time < ${NEXT_DAY}`,
        [userId, d.start, d.end],
      );
      const x = r.rows[0]!;
      return { energyKcal: x.e, proteinG: x.p, carbsG: x.c, fatG: x.f, fiberG: x.fi };
    },

    async upsertDailySummary(s: DailySummaryResult, workflowId: string): Promise<void> {
      const cols = [
        'steps', 'heart_rate_avg', 'heart_rate_min', 'heart_rate_max', 'resting_heart_rate', 'hrv_avg', 'weight_kg',
        'sleep_minutes', 'workouts', 'sets', 'volume_kg', 'energy_kcal', 'protein_g', 'carbs_g', 'fat_g', 'fiber_g',
      ];
      const vals = [
        s.steps, s.heartRateAvg, s.heartRateMin, s.heartRateMax, s.restingHeartRate, s.hrvAvg, s.weightKg,
        s.sleepMinutes, s.workouts, s.sets, s.volumeKg, s.energyKcal, s.proteinG, s.carbsG, s.fatG, s.fiberG,
      ];
      const ph = cols.map((_, i) => `$${i + 4}`).join(', ');
      await pool.query(
        `INSERT INTO daily_summaries (user_id, day, workflow_id, ${cols.join(', ')}, computed_at)
         VALUES ($1, $2, $3, ${ph}, now())
         ON CONFLICT (user_id, day) DO UPDATE SET workflow_id = EXCLUDED.workflow_id, computed_at = now(),
           ${cols.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`,
        [s.userId, s.day, workflowId, ...vals],
      );
    },

    /**
     * One page of users (keyset pagination by id) and the summaries due among them: with `day`, that
     * day for each; otherwise each user's local yesterday as of `at` minus the grace period (a day is
     * summarized once it has been over for SUMMARY_GRACE_MS in the user's zone, for readings that
     * arrive late), left out where daily_summaries already has it — so an hourly run summarizes a
     * user in Tokyo after Tokyo's midnight and one in Los Angeles after LA's, each day once.
     */
    async listDueSummaries(o: { after: string | null; limit: number; at: string; day: string | null }): Promise<DueSummaries> {
      const r = await pool.query(
        o.after ? `SELECT id, timezone FROM users WHERE id > $1 ORDER BY id LIMIT $2` : `SELECT id, timezone FROM users ORDER BY id LIMIT $1`,
        o.after ? [o.after, o.limit] : [o.limit],
      );
      const page = r.rows as { id: string; timezone: string }[];
      const last = page.at(-1)?.id ?? null;
      if (o.day) return { scanned: page.length, last, due: page.map((u) => ({ userId: u.id, day: o.day! })) };
      const graced = new Date(Date.parse(o.at) - SUMMARY_GRACE_MS);
      const wanted = page.map((u) => ({ userId: u.id, day: addDays(localDay(graced, isKnownTimeZone(u.timezone) ? u.timezone : 'UTC'), -1) }));
      if (!wanted.length) return { scanned: 0, last, due: [] };
      const done = await pool.query(
        `SELECT s.user_id FROM daily_summaries s JOIN unnest($1::uuid[], $2::date[]) AS w(user_id, day) USING (user_id, day)`,
        [wanted.map((w) => w.userId), wanted.map((w) => w.day)],
      );
      const have = new Set(done.rows.map((x) => x.user_id as string));
      return { scanned: page.length, last, due: wanted.filter((w) => !have.has(w.userId)) };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
