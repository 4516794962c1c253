/**
 * The Helfy application schema (database `helfy_app`), for drizzle-orm and drizzle-kit.
 *
 * This file is the one source of truth: the API and worker import it, and helfy's
 * `drizzle.config.ts` points drizzle-kit at it to generate `migrations/postgres`. It lives in the
 * API template (its own Docker build context), so it depends on drizzle-orm only (no relative
 * imports, nothing from the CLI).
 *
 * TimescaleDB: `biometrics`, `workouts`, `workout_sets` and `nutrition` become hypertables in
 * the custom migration `migrations/postgres/*_timescale.sql` (drizzle-kit does not know about
 * hypertables). Rules that follow from that, kept by every table below:
 *  - every primary key / unique index on a hypertable includes its `time` column;
 *  - hypertables may reference `users` (FK), but nothing may reference a hypertable, so
 *    `workout_sets` points at its workout by value (`workout_id` + `workout_time`), without an FK;
 *  - the hypertables are created with `create_default_indexes => false`: the indexes below are the
 *    ones the API's queries use (per user, newest first).
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  date,
  doublePrecision,
  index,
  inet,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  real,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
const updatedAt = () =>
  timestamp('updated_at', { withTimezone: true, mode: 'date' })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());
/** The partitioning column of every hypertable. */
const timeCol = () => timestamp('time', { withTimezone: true, mode: 'date' }).notNull();
/** FK from a (hyper)table to users; deleting a user deletes their data. */
const userRef = () =>
  uuid('user_id')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' });

// ---------------------------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------------------------

export const sexEnum = pgEnum('sex', ['female', 'male', 'other', 'unspecified']);
export const unitSystemEnum = pgEnum('unit_system', ['metric', 'imperial']);

export const auditActionEnum = pgEnum('audit_action', [
  'user.created',
  'user.updated',
  'user.deleted',
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'auth.token_refreshed',
  'auth.token_revoked',
  'auth.password_changed',
  'data.exported',
  'data.imported',
  'data.deleted',
]);

export const biometricMetricEnum = pgEnum('biometric_metric', [
  'heart_rate',
  'resting_heart_rate',
  'hrv',
  'weight',
  'body_fat',
  'lean_mass',
  'bmi',
  'steps',
  'distance',
  'active_energy',
  'sleep',
  'sleep_score',
  'blood_pressure_systolic',
  'blood_pressure_diastolic',
  'blood_glucose',
  'spo2',
  'respiratory_rate',
  'body_temperature',
  'vo2max',
]);

export const workoutStatusEnum = pgEnum('workout_status', ['planned', 'in_progress', 'completed', 'skipped']);

export const mealEnum = pgEnum('meal', ['breakfast', 'lunch', 'dinner', 'snack', 'pre_workout', 'post_workout', 'other']);

// ---------------------------------------------------------------------------------------------
// Plain tables
// ---------------------------------------------------------------------------------------------

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Stored as entered; uniqueness is case-insensitive (index on lower(email)). */
    email: text('email').notNull(),
    displayName: text('display_name').notNull(),
    /** Argon2/bcrypt hash; null for accounts that only log in through an identity provider. */
    passwordHash: text('password_hash'),
    birthDate: date('birth_date', { mode: 'string' }),
    sex: sexEnum('sex').notNull().default('unspecified'),
    heightCm: real('height_cm'),
    timezone: text('timezone').notNull().default('UTC'),
    locale: text('locale').notNull().default('en'),
    unitSystem: unitSystemEnum('unit_system').notNull().default('metric'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('users_email_lower_uq').on(sql`lower(${t.email})`),
    check('users_email_format_ck', sql`position('@' in ${t.email}) > 1`),
    check('users_height_cm_ck', sql`${t.heightCm} IS NULL OR (${t.heightCm} > 0 AND ${t.heightCm} < 300)`),
  ],
);

export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: userRef(),
    /** sha256 of the opaque token handed to the client; the token itself is never stored. */
    tokenHash: text('token_hash').notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    /** Rotation chain: the token that replaced this one (same table, not a hypertable). */
    replacedBy: uuid('replaced_by'),
    userAgent: text('user_agent'),
  },
  (t) => [
    uniqueIndex('refresh_tokens_token_hash_uq').on(t.tokenHash),
    index('refresh_tokens_user_id_idx').on(t.userId),
    index('refresh_tokens_expires_at_idx').on(t.expiresAt),
  ],
);

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    createdAt: createdAt(),
    /** Kept when the user is deleted (set to null), so the log outlives the account. */
    userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
    action: auditActionEnum('action').notNull(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    ip: inet('ip'),
  },
  (t) => [
    index('audit_log_user_id_created_at_idx').on(t.userId, t.createdAt.desc()),
    index('audit_log_action_created_at_idx').on(t.action, t.createdAt.desc()),
    index('audit_log_metadata_gin_idx').using('gin', t.metadata),
    // The log-in limits (auth/service.ts) read the newest N failures per address and per e-mail
    // (and the last success per e-mail): partial indexes keep those reads at N index entries
    // however many failures a flood has written.
    index('audit_log_login_failed_ip_idx').on(t.ip, t.createdAt.desc()).where(sql`${t.action} = 'auth.login_failed'`),
    index('audit_log_login_email_idx')
      .on(sql`(${t.metadata}->>'email')`, t.action, t.createdAt.desc())
      .where(sql`${t.action} IN ('auth.login', 'auth.login_failed')`),
  ],
);

// ---------------------------------------------------------------------------------------------
// Hypertables (see the file comment)
// ---------------------------------------------------------------------------------------------

export const biometrics = pgTable(
  'biometrics',
  {
    time: timeCol(),
    userId: userRef(),
    metric: biometricMetricEnum('metric').notNull(),
    value: doublePrecision('value').notNull(),
    unit: text('unit').notNull(),
    /** Where the sample came from: 'manual', a device or an import ('apple_health', 'garmin', ...). */
    source: text('source').notNull().default('manual'),
  },
  (t) => [
    // One sample per user, metric, source and instant: lets imports use ON CONFLICT DO NOTHING.
    primaryKey({ name: 'biometrics_pk', columns: [t.userId, t.metric, t.source, t.time] }),
    index('biometrics_user_id_time_idx').on(t.userId, t.time.desc()),
    index('biometrics_user_id_metric_time_idx').on(t.userId, t.metric, t.time.desc()),
  ],
);

export const workouts = pgTable(
  'workouts',
  {
    /** When the workout is planned for / started. */
    time: timeCol(),
    userId: userRef(),
    id: uuid('id').notNull().defaultRandom(),
    /** What the user calls it ("Push day"); optional. */
    name: text('name'),
    /** The Neo4j Routine it follows, if any (no FK: another database). */
    routineId: text('routine_id'),
    status: workoutStatusEnum('status').notNull().default('planned'),
    notes: text('notes'),
    durationS: integer('duration_s'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // (id, time): the time column must be part of every unique index on a hypertable.
    primaryKey({ name: 'workouts_pk', columns: [t.id, t.time] }),
    index('workouts_user_id_time_idx').on(t.userId, t.time.desc()),
    index('workouts_user_id_status_time_idx').on(t.userId, t.status, t.time.desc()),
    check('workouts_duration_s_ck', sql`${t.durationS} IS NULL OR ${t.durationS} >= 0`),
  ],
);

export const workoutSets = pgTable(
  'workout_sets',
  {
    /**
     * The parent workout's `time` (not when the set was done, see `performed_at`): together with
     * `workout_id` it is the workout's key, so a join on (workout_id, time) hits one chunk.
     */
    time: timeCol(),
    userId: userRef(),
    /** By-value reference to workouts.id (no FK: nothing may reference a hypertable). */
    workoutId: uuid('workout_id').notNull(),
    setNumber: smallint('set_number').notNull(),
    /** Id of the exercise in the Neo4j exercise library (no FK: another database; the API checks it). */
    exerciseId: text('exercise_id').notNull(),
    reps: integer('reps'),
    weightKg: doublePrecision('weight_kg'),
    durationS: integer('duration_s'),
    /** Rate of perceived exertion, 0-10 (halves allowed). */
    rpe: real('rpe'),
    performedAt: timestamp('performed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    primaryKey({ name: 'workout_sets_pk', columns: [t.workoutId, t.time, t.setNumber] }),
    index('workout_sets_user_id_time_idx').on(t.userId, t.time.desc()),
    index('workout_sets_user_id_exercise_id_time_idx').on(t.userId, t.exerciseId, t.time.desc()),
    check('workout_sets_set_number_ck', sql`${t.setNumber} >= 1`),
    check('workout_sets_reps_ck', sql`${t.reps} IS NULL OR ${t.reps} >= 0`),
    check('workout_sets_weight_kg_ck', sql`${t.weightKg} IS NULL OR ${t.weightKg} >= 0`),
    check('workout_sets_duration_s_ck', sql`${t.durationS} IS NULL OR ${t.durationS} >= 0`),
    check('workout_sets_rpe_ck', sql`${t.rpe} IS NULL OR (${t.rpe} >= 0 AND ${t.rpe} <= 10)`),
  ],
);

export const nutrition = pgTable(
  'nutrition',
  {
    time: timeCol(),
    userId: userRef(),
    id: uuid('id').notNull().defaultRandom(),
    /** Id of the food in the Neo4j food library (no FK: another database). */
    foodId: text('food_id').notNull(),
    meal: mealEnum('meal').notNull(),
    quantityG: doublePrecision('quantity_g').notNull(),
    energyKcal: doublePrecision('energy_kcal').notNull(),
    proteinG: doublePrecision('protein_g'),
    carbsG: doublePrecision('carbs_g'),
    fatG: doublePrecision('fat_g'),
    fiberG: doublePrecision('fiber_g'),
  },
  (t) => [
    primaryKey({ name: 'nutrition_pk', columns: [t.id, t.time] }),
    index('nutrition_user_id_time_idx').on(t.userId, t.time.desc()),
    index('nutrition_user_id_meal_time_idx').on(t.userId, t.meal, t.time.desc()),
    check('nutrition_quantity_g_ck', sql`${t.quantityG} > 0`),
    check(
      'nutrition_macros_ck',
      sql`${t.energyKcal} >= 0 AND coalesce(${t.proteinG}, 0) >= 0 AND coalesce(${t.carbsG}, 0) >= 0 AND coalesce(${t.fatG}, 0) >= 0 AND coalesce(${t.fiberG}, 0) >= 0`,
    ),
  ],
);

// ---------------------------------------------------------------------------------------------
// Derived and bookkeeping tables (plain tables)
// ---------------------------------------------------------------------------------------------

/**
 * One row per user and calendar day (UTC), upserted by the worker's `dailySummary` workflow from
 * that day's biometrics, workouts and nutrition. Null means "no data that day".
 */
export const dailySummaries = pgTable(
  'daily_summaries',
  {
    userId: userRef(),
    day: date('day', { mode: 'string' }).notNull(),
    steps: integer('steps'),
    heartRateAvg: doublePrecision('heart_rate_avg'),
    heartRateMin: doublePrecision('heart_rate_min'),
    heartRateMax: doublePrecision('heart_rate_max'),
    restingHeartRate: doublePrecision('resting_heart_rate'),
    hrvAvg: doublePrecision('hrv_avg'),
    weightKg: doublePrecision('weight_kg'),
    sleepMinutes: doublePrecision('sleep_minutes'),
    workouts: integer('workouts').notNull().default(0),
    sets: integer('sets').notNull().default(0),
    /** Sum of reps x weight over the day's sets. */
    volumeKg: doublePrecision('volume_kg').notNull().default(0),
    energyKcal: doublePrecision('energy_kcal').notNull().default(0),
    proteinG: doublePrecision('protein_g').notNull().default(0),
    carbsG: doublePrecision('carbs_g').notNull().default(0),
    fatG: doublePrecision('fat_g').notNull().default(0),
    fiberG: doublePrecision('fiber_g').notNull().default(0),
    /** The Temporal workflow run that wrote this row. */
    workflowId: text('workflow_id'),
    computedAt: timestamp('computed_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'daily_summaries_pk', columns: [t.userId, t.day] })],
);

/**
 * Marks the users `helfy seed` created (demo users) and what it generated for them, so a rerun
 * can tell "up to date" from "regenerate", and `helfy seed --reset` deletes exactly these users
 * (their rows go with them through ON DELETE CASCADE). A user and all their rows, plus this row,
 * are written in one transaction: a killed seed leaves no half user.
 */
export const demoSeeds = pgTable('demo_seeds', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  /** The generator's inputs: --seed, --days, the last day generated (UTC) and the generator version. */
  seed: integer('seed').notNull(),
  days: integer('days').notNull(),
  lastDay: date('last_day', { mode: 'string' }).notNull(),
  generatorVersion: integer('generator_version').notNull(),
  /** Rows written per table, for the summary and for checks. */
  rowCounts: jsonb('row_counts').$type<Record<string, number>>().notNull().default({}),
  createdAt: createdAt(),
});

/** Tables that the timescale migration turns into hypertables (partitioned on `time`). */
export const HYPERTABLES = ['biometrics', 'workouts', 'workout_sets', 'nutrition'] as const;

export type User = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type RefreshToken = typeof refreshTokens.$inferSelect;
export type NewRefreshToken = typeof refreshTokens.$inferInsert;
export type AuditLogEntry = typeof auditLog.$inferSelect;
export type NewAuditLogEntry = typeof auditLog.$inferInsert;
export type Biometric = typeof biometrics.$inferSelect;
export type NewBiometric = typeof biometrics.$inferInsert;
export type Workout = typeof workouts.$inferSelect;
export type NewWorkout = typeof workouts.$inferInsert;
export type WorkoutSet = typeof workoutSets.$inferSelect;
export type NewWorkoutSet = typeof workoutSets.$inferInsert;
export type NutritionEntry = typeof nutrition.$inferSelect;
export type NewNutritionEntry = typeof nutrition.$inferInsert;
export type DailySummary = typeof dailySummaries.$inferSelect;
export type DemoSeed = typeof demoSeeds.$inferSelect;
export type BiometricMetric = (typeof biometricMetricEnum.enumValues)[number];
export type WorkoutStatus = (typeof workoutStatusEnum.enumValues)[number];
export type Meal = (typeof mealEnum.enumValues)[number];
export type AuditAction = (typeof auditActionEnum.enumValues)[number];
