CREATE TABLE "daily_summaries" (
	"user_id" uuid NOT NULL,
	"day" date NOT NULL,
	"steps" integer,
	"heart_rate_avg" double precision,
	"heart_rate_min" double precision,
	"heart_rate_max" double precision,
	"resting_heart_rate" double precision,
	"hrv_avg" double precision,
	"weight_kg" double precision,
	"sleep_minutes" double precision,
	"workouts" integer DEFAULT 0 NOT NULL,
	"sets" integer DEFAULT 0 NOT NULL,
	"volume_kg" double precision DEFAULT 0 NOT NULL,
	"energy_kcal" double precision DEFAULT 0 NOT NULL,
	"protein_g" double precision DEFAULT 0 NOT NULL,
	"carbs_g" double precision DEFAULT 0 NOT NULL,
	"fat_g" double precision DEFAULT 0 NOT NULL,
	"fiber_g" double precision DEFAULT 0 NOT NULL,
	"workflow_id" text,
	"computed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "daily_summaries_pk" PRIMARY KEY("user_id","day")
);
--> statement-breakpoint
CREATE TABLE "demo_seeds" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"seed" integer NOT NULL,
	"days" integer NOT NULL,
	"last_day" date NOT NULL,
	"generator_version" integer NOT NULL,
	"row_counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP INDEX "workouts_user_id_exercise_id_time_idx";--> statement-breakpoint
-- helfy: hand-edited. A set now names its exercise (a workout holds sets of several exercises).
-- TimescaleDB refuses ADD COLUMN ... NOT NULL without a default on a hypertable with compression
-- enabled, so the column is added with a default, existing sets take their workout's exercise,
-- and the default is dropped again (the final state is what the drizzle snapshot records).
ALTER TABLE "workout_sets" ADD COLUMN "exercise_id" text DEFAULT '' NOT NULL;--> statement-breakpoint
UPDATE "workout_sets" s SET "exercise_id" = w."exercise_id" FROM "workouts" w WHERE s."workout_id" = w."id" AND s."time" = w."time";--> statement-breakpoint
ALTER TABLE "workout_sets" ALTER COLUMN "exercise_id" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "workouts" ADD COLUMN "name" text;--> statement-breakpoint
ALTER TABLE "workouts" ADD COLUMN "routine_id" text;--> statement-breakpoint
ALTER TABLE "daily_summaries" ADD CONSTRAINT "daily_summaries_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "demo_seeds" ADD CONSTRAINT "demo_seeds_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "workout_sets_user_id_exercise_id_time_idx" ON "workout_sets" USING btree ("user_id","exercise_id","time" DESC NULLS LAST);--> statement-breakpoint
ALTER TABLE "workouts" DROP COLUMN "exercise_id";