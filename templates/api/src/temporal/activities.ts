/** Activities of the worker: plain SQL on helfy_app as helfy_api (data privileges only). */
import type pg from 'pg';
import type { DailySummaryResult, DayBiometrics, DayNutrition, DayWorkouts } from './shared.js';

/** The UTC day [start, end) as timestamptz parameters. */
const DAY = `($2::date::timestamp AT TIME ZONE 'UTC')`;
const NEXT_DAY = `(($2::date + 1)::timestamp AT TIME ZONE 'UTC')`;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function createActivities(deps: { pool: pg.Pool }) {
  const { pool } = deps;
  return {
    async readDayBiometrics(userId: string, day: string): Promise<DayBiometrics> {
      const r = await pool.query(
        `SELECT
           sum(value) FILTER (WHERE metric = 'steps') AS steps,
           avg(value) FILTER (WHERE metric = 'heart_rate') AS hr_avg,
           min(value) FILTER (WHERE metric = 'heart_rate') AS hr_min,
           max(value) FILTER (WHERE metric = 'heart_rate') AS hr_max,
           avg(value) FILTER (WHERE metric = 'resting_heart_rate') AS rhr,
           avg(value) FILTER (WHERE metric = 'hrv') AS hrv,
           (array_agg(value ORDER BY time DESC) FILTER (WHERE metric = 'weight'))[1] AS weight,
           sum(value) FILTER (WHERE metric = 'sleep') AS sleep
         FROM biometrics
         WHERE user_id = $1 AND time >= ${DAY} AND time < ${NEXT_DAY}`,
        [userId, day],
      );
      const x = r.rows[0] ?? {};
      return {
        steps: x.steps === null || x.steps === undefined ? null : Math.round(Number(x.steps)),
        heartRateAvg: num(x.hr_avg),
        heartRateMin: num(x.hr_min),
        heartRateMax: num(x.hr_max),
        restingHeartRate: num(x.rhr),
        hrvAvg: num(x.hrv),
        weightKg: num(x.weight),
        sleepMinutes: num(x.sleep),
      };
    },

    async readDayWorkouts(userId: string, day: string): Promise<DayWorkouts> {
      const r = await pool.query(
        `SELECT
           (SELECT count(*) FROM workouts WHERE user_id = $1 AND time >= ${DAY} AND time < ${NEXT_DAY} AND status <> 'skipped')::int AS workouts,
           count(s.*)::int AS sets,
           coalesce(sum(coalesce(s.reps, 0) * coalesce(s.weight_kg, 0)), 0)::float8 AS volume
         FROM workout_sets s
         -- Sets of a skipped workout were never done: left out like the workout itself.
         JOIN workouts w ON w.id = s.workout_id AND w.time = s.time AND w.user_id = s.user_id AND w.status <> 'skipped'
         WHERE s.user_id = $1 AND s.time >= ${DAY} AND s.time < ${NEXT_DAY}`,
        [userId, day],
      );
      const x = r.rows[0]!;
      return { workouts: x.workouts, sets: x.sets, volumeKg: Number(x.volume) };
    },

    async readDayNutrition(userId: string, day: string): Promise<DayNutrition> {
      const r = await pool.query(
        `SELECT coalesce(sum(energy_kcal), 0)::float8 AS e, coalesce(sum(protein_g), 0)::float8 AS p,
                coalesce(sum(carbs_g), 0)::float8 AS c, coalesce(sum(fat_g), 0)::float8 AS f,
                coalesce(sum(fiber_g), 0)::float8 AS fi
         FROM nutrition WHERE user_id = $1 AND time >= ${DAY} AND time < ${NEXT_DAY}`,
        [userId, day],
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

    /** Keyset pagination over users by id. */
    async listUserIds(after: string | null, limit: number): Promise<string[]> {
      const r = await pool.query(
        after ? `SELECT id FROM users WHERE id > $1 ORDER BY id LIMIT $2` : `SELECT id FROM users ORDER BY id LIMIT $1`,
        after ? [after, limit] : [limit],
      );
      return r.rows.map((x) => x.id as string);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
