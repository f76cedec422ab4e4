#!/usr/bin/env bash
# test/bench_fetch.sh: back-to-back latency of memprof_backend_contexts(pid)
# for an idle backend (a dblink session) holding about 6,000 and about
# 100,000 contexts (siblings built by the test-only module memprof_test).
# A tree that fits in one fetch buffer (memprof.fetch_buffer_size, 1 MB by
# default: about 10,000 contexts) takes one round; a larger one takes one
# round per buffer-full.  RUNS fetches (default 50) per size, after one
# warm-up; prints rows fetched, median and p90.
# Usage: test/bench_fetch.sh [RUNS]
set -eu
cd "$(dirname "$0")/.."
. test/lib.sh
. test/bench_lib.sh
RUNS=${1:-50}
bench_cluster 54334
$PSQL -c "DROP DATABASE IF EXISTS memprof_bench_fetch" -c "CREATE DATABASE memprof_bench_fetch" >/dev/null 2>&1
$PSQL -d memprof_bench_fetch <<SQL
\\set QUIET on
CREATE EXTENSION memprof;
CREATE EXTENSION memprof_test;
CREATE EXTENSION dblink;
SELECT dblink_connect('idle', format('dbname=memprof_bench_fetch port=%s host=%s user=postgres',
                                     current_setting('port'), current_setting('unix_socket_directories'))) \\g /dev/null
SELECT p AS target FROM dblink('idle', 'SELECT pg_backend_pid()') AS t(p int) \\gset
SELECT set_config('bench.target', :'target', false) \\g /dev/null
CREATE TEMP TABLE timings (size text, run int, ms float8, contexts bigint);
CREATE FUNCTION pg_temp.measure(label text, tree int) RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; n bigint; target int := current_setting('bench.target')::int;
BEGIN
  PERFORM t.k FROM dblink('idle', format('SELECT memprof_test_tree(%s, %L)', tree, 'wide')) AS t(k int);
  PERFORM count(*) FROM memprof_backend_contexts(target, 60000);
  FOR i IN 1..$RUNS LOOP
    t0 := clock_timestamp();
    SELECT count(*) INTO n FROM memprof_backend_contexts(target, 60000);
    INSERT INTO timings VALUES (label, i, extract(epoch FROM clock_timestamp() - t0) * 1000, n);
  END LOOP;
END \$\$;
SELECT pg_temp.measure('~6,000', 5900) \\g /dev/null
SELECT pg_temp.measure('~100,000', 99900) \\g /dev/null
\\set QUIET off
\\pset footer off
SELECT size, count(*) AS fetches, max(contexts) AS contexts,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS median_ms,
       round(percentile_cont(0.9) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p90_ms
  FROM timings GROUP BY size ORDER BY max(contexts);
SQL
