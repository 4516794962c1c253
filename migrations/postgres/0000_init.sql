CREATE TYPE "public"."audit_action" AS ENUM('user.created', 'user.updated', 'user.deleted', 'auth.login', 'auth.login_failed', 'auth.logout', 'auth.token_refreshed', 'auth.token_revoked', 'auth.password_changed', 'data.exported', 'data.imported', 'data.deleted');--> statement-breakpoint
CREATE TYPE "public"."biometric_metric" AS ENUM('heart_rate', 'resting_heart_rate', 'hrv', 'weight', 'body_fat', 'lean_mass', 'bmi', 'steps', 'distance', 'active_energy', 'sleep', 'sleep_score', 'blood_pressure_systolic', 'blood_pressure_diastolic', 'blood_glucose', 'spo2', 'respiratory_rate', 'body_temperature', 'vo2max');--> statement-breakpoint
CREATE TYPE "public"."meal" AS ENUM('breakfast', 'lunch', 'dinner', 'snack', 'pre_workout', 'post_workout', 'other');--> statement-breakpoint
CREATE TYPE "public"."sex" AS ENUM('female', 'male', 'other', 'unspecified');--> statement-breakpoint
CREATE TYPE "public"."unit_system" AS ENUM('metric', 'imperial');--> statement-breakpoint
CREATE TYPE "public"."workout_status" AS ENUM('planned', 'in_progress', 'completed', 'skipped');--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"user_id" uuid,
	"action" "audit_action" NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"ip" "inet"
);
--> statement-breakpoint
CREATE TABLE "biometrics" (
	"time" timestamp with time zone NOT NULL,
	"user_id" uuid NOT NULL,
	"metric" "biometric_metric" NOT NULL,
	"value" double precision NOT NULL,
	"unit" text NOT NULL,
	"source" text DEFAULT 'manual' NOT NULL,
	CONSTRAINT "biometrics_pk" PRIMARY KEY("user_id","metric","source","time")
);
--> statement-breakpoint
CREATE TABLE "nutrition" (
	"time" timestamp with time zone NOT NULL,
	"user_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"food_id" text NOT NULL,
	"meal" "meal" NOT NULL,
	"quantity_g" double precision NOT NULL,
	"energy_kcal" double precision NOT NULL,
	"protein_g" double precision,
	"carbs_g" double precision,
	"fat_g" double precision,
	"fiber_g" double precision,
	CONSTRAINT "nutrition_pk" PRIMARY KEY("id","time"),
	CONSTRAINT "nutrition_quantity_g_ck" CHECK ("nutrition"."quantity_g" > 0),
	CONSTRAINT "nutrition_macros_ck" CHECK ("nutrition"."energy_kcal" >= 0 AND coalesce("nutrition"."protein_g", 0) >= 0 AND coalesce("nutrition"."carbs_g", 0) >= 0 AND coalesce("nutrition"."fat_g", 0) >= 0 AND coalesce("nutrition"."fiber_g", 0) >= 0)
);
--> statement-breakpoint
CREATE TABLE "refresh_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"replaced_by" uuid,
	"user_agent" text
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"display_name" text NOT NULL,
	"password_hash" text,
	"birth_date" date,
	"sex" "sex" DEFAULT 'unspecified' NOT NULL,
	"height_cm" real,
	"timezone" text DEFAULT 'UTC' NOT NULL,
	"locale" text DEFAULT 'en' NOT NULL,
	"unit_system" "unit_system" DEFAULT 'metric' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_email_format_ck" CHECK (position('@' in "users"."email") > 1),
	CONSTRAINT "users_height_cm_ck" CHECK ("users"."height_cm" IS NULL OR ("users"."height_cm" > 0 AND "users"."height_cm" < 300))
);
--> statement-breakpoint
CREATE TABLE "workout_sets" (
	"time" timestamp with time zone NOT NULL,
	"user_id" uuid NOT NULL,
	"workout_id" uuid NOT NULL,
	"set_number" smallint NOT NULL,
	"reps" integer,
	"weight_kg" double precision,
	"duration_s" integer,
	"rpe" real,
	"performed_at" timestamp with time zone,
	CONSTRAINT "workout_sets_pk" PRIMARY KEY("workout_id","time","set_number"),
	CONSTRAINT "workout_sets_set_number_ck" CHECK ("workout_sets"."set_number" >= 1),
	CONSTRAINT "workout_sets_reps_ck" CHECK ("workout_sets"."reps" IS NULL OR "workout_sets"."reps" >= 0),
	CONSTRAINT "workout_sets_weight_kg_ck" CHECK ("workout_sets"."weight_kg" IS NULL OR "workout_sets"."weight_kg" >= 0),
	CONSTRAINT "workout_sets_duration_s_ck" CHECK ("workout_sets"."duration_s" IS NULL OR "workout_sets"."duration_s" >= 0),
	CONSTRAINT "workout_sets_rpe_ck" CHECK ("workout_sets"."rpe" IS NULL OR ("workout_sets"."rpe" >= 0 AND "workout_sets"."rpe" <= 10))
);
--> statement-breakpoint
CREATE TABLE "workouts" (
	"time" timestamp with time zone NOT NULL,
	"user_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"exercise_id" text NOT NULL,
	"status" "workout_status" DEFAULT 'planned' NOT NULL,
	"notes" text,
	"duration_s" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "workouts_pk" PRIMARY KEY("id","time"),
	CONSTRAINT "workouts_duration_s_ck" CHECK ("workouts"."duration_s" IS NULL OR "workouts"."duration_s" >= 0)
);
--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "biometrics" ADD CONSTRAINT "biometrics_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "nutrition" ADD CONSTRAINT "nutrition_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refresh_tokens" ADD CONSTRAINT "refresh_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workout_sets" ADD CONSTRAINT "workout_sets_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workouts" ADD CONSTRAINT "workouts_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_user_id_created_at_idx" ON "audit_log" USING btree ("user_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_log_action_created_at_idx" ON "audit_log" USING btree ("action","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_log_metadata_gin_idx" ON "audit_log" USING gin ("metadata");--> statement-breakpoint
CREATE INDEX "biometrics_user_id_time_idx" ON "biometrics" USING btree ("user_id","time" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "biometrics_user_id_metric_time_idx" ON "biometrics" USING btree ("user_id","metric","time" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "nutrition_user_id_time_idx" ON "nutrition" USING btree ("user_id","time" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "nutrition_user_id_meal_time_idx" ON "nutrition" USING btree ("user_id","meal","time" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "refresh_tokens_token_hash_uq" ON "refresh_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "refresh_tokens_user_id_idx" ON "refresh_tokens" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "refresh_tokens_expires_at_idx" ON "refresh_tokens" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_lower_uq" ON "users" USING btree (lower("email"));--> statement-breakpoint
CREATE INDEX "workout_sets_user_id_time_idx" ON "workout_sets" USING btree ("user_id","time" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "workouts_user_id_time_idx" ON "workouts" USING btree ("user_id","time" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "workouts_user_id_status_time_idx" ON "workouts" USING btree ("user_id","status","time" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "workouts_user_id_exercise_id_time_idx" ON "workouts" USING btree ("user_id","exercise_id","time" DESC NULLS LAST);