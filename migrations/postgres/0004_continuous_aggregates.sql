-- TimescaleDB continuous aggregates over biometrics: per user, metric and UTC hour
-- (biometrics_hourly), and per user, metric and UTC day on top of it (biometrics_daily, a
-- hierarchical aggregate). Custom migration (drizzle-kit generate --custom): drizzle-kit knows
-- nothing about continuous aggregates.
--
-- Guarded like 0001_timescale: without the timescaledb extension in this database
-- (HELFY_TIMESCALE=optional) nothing is created and the API answers from the raw rows. The notice
-- raised then has no `helfy:` prefix on purpose: 0001's one warning already says that the
-- database is plain PostgreSQL, and the runner would log a second one.
--
-- Columns: count, sum, min and max, so that every coarser answer is exact (avg = sum / count;
-- an average of averages would be wrong). sum is kept for every metric: it is the total for the
-- additive ones (steps, distance, active_energy) and the numerator of the average for the others.
--
-- materialized_only = false: a query sees the materialized buckets plus, above the watermark,
-- the rows not yet materialized (real-time aggregation), so rows inserted a moment ago are in the
-- answer at once. A corrected or late row below the watermark invalidates its range, which the
-- next refresh recomputes: the policies below run every 15 minutes (hourly first, then daily on
-- top of it), so an aggregate-backed answer disagrees with the raw rows for at most ~30 minutes
-- after a correction of old data.
--
-- Refresh windows end 700 days back, inside the 2-year retention of the raw rows: a refresh never
-- covers a dropped chunk, so the aggregates keep the history after its raw rows are gone.
--
-- Indexes: the API reads one user's one metric over a time range (`user_id = $1 AND metric = $2
-- AND bucket >= .. AND bucket < ..`), so one index (user_id, metric, bucket) per aggregate replaces
-- TimescaleDB's default per-column group indexes (create_group_indexes = false).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
    RAISE NOTICE 'no timescaledb extension in database %: no continuous aggregates (the API reads raw biometrics)', current_database();
    RETURN;
  END IF;

  -- WITH NO DATA: creating an aggregate with data cannot run inside a transaction (the runner
  -- applies this file in one); the policies (or CALL refresh_continuous_aggregate) fill them.
  EXECUTE $sql$
    CREATE MATERIALIZED VIEW IF NOT EXISTS biometrics_hourly
    WITH (timescaledb.continuous, timescaledb.materialized_only = false, timescaledb.create_group_indexes = false) AS
    SELECT user_id, metric, time_bucket(INTERVAL '1 hour', time) AS bucket,
           count(*) AS count, sum(value) AS sum, min(value) AS min, max(value) AS max
      FROM biometrics
     GROUP BY user_id, metric, time_bucket(INTERVAL '1 hour', time)
    WITH NO DATA
  $sql$;
  EXECUTE $sql$
    CREATE MATERIALIZED VIEW IF NOT EXISTS biometrics_daily
    WITH (timescaledb.continuous, timescaledb.materialized_only = false, timescaledb.create_group_indexes = false) AS
    SELECT user_id, metric, time_bucket(INTERVAL '1 day', bucket) AS bucket,
           sum(count)::bigint AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max
      FROM biometrics_hourly
     GROUP BY user_id, metric, time_bucket(INTERVAL '1 day', bucket)
    WITH NO DATA
  $sql$;

  CREATE INDEX IF NOT EXISTS biometrics_hourly_user_metric_bucket_idx ON biometrics_hourly (user_id, metric, bucket DESC);
  CREATE INDEX IF NOT EXISTS biometrics_daily_user_metric_bucket_idx ON biometrics_daily (user_id, metric, bucket DESC);

  -- The open hour / day stays real-time (end_offset); older ranges are refreshed when invalidated.
  -- First runs 10 and 12 minutes after the migration (initial_start), not at once: the policies of
  -- 0001 all start right after a fresh migration, and more jobs starting together than there are
  -- background worker slots end as "failed to start" (seen with the test servers); until the first
  -- refresh, real-time aggregation answers from the raw rows.
  PERFORM add_continuous_aggregate_policy('biometrics_hourly',
    start_offset => INTERVAL '700 days', end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '15 minutes',
    initial_start => now() + INTERVAL '10 minutes', if_not_exists => true);
  PERFORM add_continuous_aggregate_policy('biometrics_daily',
    start_offset => INTERVAL '700 days', end_offset => INTERVAL '1 day', schedule_interval => INTERVAL '15 minutes',
    initial_start => now() + INTERVAL '12 minutes', if_not_exists => true);
END
$$;
