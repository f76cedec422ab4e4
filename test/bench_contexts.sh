#!/usr/bin/env bash
# test/bench_contexts.sh: memprof_contexts against core's
# pg_backend_memory_contexts on one backend holding about 6,000 contexts.
#
# Builds 3,000 tables, each with a primary key and one more index, touches
# each once in one session (about 6,000 relcache "index info" contexts),
# then in that same session times both views alternately RUNS times
# (default 200), each read in full, and prints both medians and the ratio.
# Target: ratio <= 1.2 while returning more columns (id, parent_id, path,
# type, ...).  Usage: test/bench_contexts.sh [RUNS]
# Uses a throwaway cluster (port 54331) unless BENCH_PGHOST/BENCH_PGPORT name
# a running one with memprof installed.
set -eu
cd "$(dirname "$0")/.."
. test/lib.sh
RUNS=${1:-200}
TABLES=${BENCH_TABLES:-3000}

. test/bench_lib.sh
bench_cluster 54331
bench_db "$TABLES"

$PSQL -d memprof_bench <<SQL
\set QUIET on
$(bench_touch_sql "$TABLES")
SELECT count(*) AS contexts_in_this_backend FROM pg_backend_memory_contexts;
CREATE TEMP TABLE timings (run int, which text, ms float8);
DO \$\$
DECLARE
  t0 timestamptz;
  n bigint;
  which text;
BEGIN
  -- warm up both
  PERFORM count(*) FROM memprof_contexts;
  PERFORM count(*) FROM pg_backend_memory_contexts;
  -- alternately memprof first and core first
  FOR i IN 1..$RUNS LOOP
    FOREACH which IN ARRAY CASE WHEN i % 2 = 0 THEN ARRAY['memprof', 'core'] ELSE ARRAY['core', 'memprof'] END LOOP
      t0 := clock_timestamp();
      IF which = 'memprof' THEN
        SELECT count(*) INTO n FROM memprof_contexts;
      ELSE
        SELECT count(*) INTO n FROM pg_backend_memory_contexts;
      END IF;
      INSERT INTO timings VALUES (i, which, extract(epoch FROM clock_timestamp() - t0) * 1000);
    END LOOP;
  END LOOP;
END \$\$;
\set QUIET off
\pset footer off
SELECT $RUNS AS runs,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE which = 'core')::numeric, 3) AS core_median_ms,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE which = 'memprof')::numeric, 3) AS memprof_median_ms,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE which = 'memprof') /
              percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE which = 'core'))::numeric, 3) AS ratio
  FROM timings;
SQL
