-- TimescaleDB: hypertables, retention and compression for the time-series tables.
-- Custom migration (drizzle-kit generate --custom): drizzle-kit knows nothing about hypertables.
--
-- Guarded: on a server without the timescaledb extension in this database (plain PostgreSQL,
-- HELFY_TIMESCALE=optional) the tables stay plain tables and one NOTICE prefixed `helfy:` is
-- raised, which the migration runner logs as a single warning. Runs as helfy_owner, the owner of
-- the tables (create_hypertable and the policy functions need the table owner, not a superuser).
--
-- Chunk intervals: biometrics is the high-volume table (7 days); workouts, sets and nutrition are
-- a few rows per user per day (30 days). Retention: raw biometrics are kept 2 years; workouts and
-- nutrition are the user's history and are kept. Compression (community licence only; the
-- Apache-only build lacks it, so it is skipped there with a notice) segments by user, since every
-- API query filters on user_id, and orders by time DESC for "latest first" reads.
DO $$
DECLARE
  tables text[] := ARRAY['biometrics', 'workouts', 'workout_sets', 'nutrition'];
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
    RAISE NOTICE 'helfy: the timescaledb extension is not installed in database %; % stay plain PostgreSQL tables (no hypertables, retention or compression)',
      current_database(), array_to_string(tables, ', ');
    RETURN;
  END IF;

  PERFORM create_hypertable('biometrics', by_range('time', INTERVAL '7 days'), create_default_indexes => false, if_not_exists => true);
  PERFORM create_hypertable('workouts', by_range('time', INTERVAL '30 days'), create_default_indexes => false, if_not_exists => true);
  PERFORM create_hypertable('workout_sets', by_range('time', INTERVAL '30 days'), create_default_indexes => false, if_not_exists => true);
  PERFORM create_hypertable('nutrition', by_range('time', INTERVAL '30 days'), create_default_indexes => false, if_not_exists => true);

  PERFORM add_retention_policy('biometrics', drop_after => INTERVAL '2 years', if_not_exists => true);

  IF coalesce(current_setting('timescaledb.license', true), 'timescale') = 'apache' THEN
    RAISE NOTICE 'helfy: timescaledb is the Apache-only build; compression policies skipped';
    RETURN;
  END IF;

  -- Every column of a table's primary key is in segmentby/orderby, so uniqueness checks on
  -- compressed chunks stay cheap (TimescaleDB warns otherwise).
  ALTER TABLE biometrics SET (timescaledb.compress, timescaledb.compress_segmentby = 'user_id', timescaledb.compress_orderby = 'metric, source, time DESC');
  ALTER TABLE workouts SET (timescaledb.compress, timescaledb.compress_segmentby = 'user_id', timescaledb.compress_orderby = 'time DESC, id');
  ALTER TABLE workout_sets SET (timescaledb.compress, timescaledb.compress_segmentby = 'user_id', timescaledb.compress_orderby = 'time DESC, workout_id, set_number');
  ALTER TABLE nutrition SET (timescaledb.compress, timescaledb.compress_segmentby = 'user_id', timescaledb.compress_orderby = 'time DESC, id');

  -- Compress once a chunk is unlikely to be edited any more.
  PERFORM add_compression_policy('biometrics', compress_after => INTERVAL '30 days', if_not_exists => true);
  PERFORM add_compression_policy('workouts', compress_after => INTERVAL '90 days', if_not_exists => true);
  PERFORM add_compression_policy('workout_sets', compress_after => INTERVAL '90 days', if_not_exists => true);
  PERFORM add_compression_policy('nutrition', compress_after => INTERVAL '90 days', if_not_exists => true);
END
$$;
