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

if [ -n "${BENCH_PGPORT:-}" ]; then
	export PGHOST=${BENCH_PGHOST:-/tmp} PGPORT=$BENCH_PGPORT PGUSER=${PGUSER:-postgres}
else
	ensure_packages
	build_install >/dev/null
	DIR=/tmp/memprof-bench PORT=54331
	trap 'cluster_stop $DIR' EXIT
	cluster_init "$DIR"
	cluster_start "$DIR" "$PORT" memprof
	export PGHOST="$DIR/sock" PGPORT="$PORT" PGUSER=postgres
fi
PSQL="$PGBIN/psql -X -q -v ON_ERROR_STOP=1"

$PSQL -c "DROP DATABASE IF EXISTS memprof_bench" -c "CREATE DATABASE memprof_bench" >/dev/null
$PSQL -d memprof_bench >/dev/null <<SQL
CREATE EXTENSION memprof;
SELECT format('CREATE TABLE bench_t%s (id int PRIMARY KEY, v int); CREATE INDEX ON bench_t%s (v)', i, i)
  FROM generate_series(1, $TABLES) i
\gexec
SQL

$PSQL -d memprof_bench <<SQL
\set QUIET on
-- touch every table once in this session: its relcache entry and both
-- index entries get their own contexts (one statement each, so that
-- locks are released as it goes)
\o /dev/null
SELECT format('SELECT * FROM bench_t%s WHERE id = 1 AND v = 1', i)
  FROM generate_series(1, $TABLES) i
\gexec
\o
SELECT count(*) AS contexts_in_this_backend FROM pg_backend_memory_contexts;
CREATE TEMP TABLE timings (run int, which text, ms float8);
DO \$\$
DECLARE
  t0 timestamptz; t1 timestamptz; t2 timestamptz;
  n bigint;
BEGIN
  -- warm up both
  PERFORM count(*) FROM memprof_contexts;
  PERFORM count(*) FROM pg_backend_memory_contexts;
  FOR i IN 1..$RUNS LOOP
    IF i % 2 = 0 THEN
      t0 := clock_timestamp();
      SELECT count(*) INTO n FROM memprof_contexts;
      t1 := clock_timestamp();
      SELECT count(*) INTO n FROM pg_backend_memory_contexts;
      t2 := clock_timestamp();
      INSERT INTO timings VALUES (i, 'memprof', extract(epoch FROM t1 - t0) * 1000),
                                 (i, 'core', extract(epoch FROM t2 - t1) * 1000);
    ELSE
      t0 := clock_timestamp();
      SELECT count(*) INTO n FROM pg_backend_memory_contexts;
      t1 := clock_timestamp();
      SELECT count(*) INTO n FROM memprof_contexts;
      t2 := clock_timestamp();
      INSERT INTO timings VALUES (i, 'core', extract(epoch FROM t1 - t0) * 1000),
                                 (i, 'memprof', extract(epoch FROM t2 - t1) * 1000);
    END IF;
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
