#!/usr/bin/env bash
# test/bench_snapshot.sh: cost of memprof_snapshot on a backend holding
# about 6,000 contexts (3,000 tables with a primary key and one more index,
# each touched once): the median time of one snapshot over RUNS snapshots
# (default 30), and the bytes stored per context (heap, and heap + primary
# key index, of memprof_snapshot_context plus the header rows).
# Targets: under 50 ms per snapshot, under 200 bytes per context.
# Usage: test/bench_snapshot.sh [RUNS]
set -eu
cd "$(dirname "$0")/.."
. test/lib.sh
. test/bench_lib.sh
RUNS=${1:-30}
TABLES=${BENCH_TABLES:-3000}
bench_cluster 54332
bench_db "$TABLES"

$PSQL -d memprof_bench <<SQL
\\set QUIET on
$(bench_touch_sql "$TABLES")
CREATE TEMP TABLE timings (run int, ms float8);
SELECT memprof_snapshot('warm-up') \\g /dev/null
SELECT memprof_snapshot_prune(keep_last => 0) \\g /dev/null
DO \$\$
DECLARE t0 timestamptz;
BEGIN
  FOR i IN 1..$RUNS LOOP
    t0 := clock_timestamp();
    PERFORM memprof_snapshot('bench');
    INSERT INTO timings VALUES (i, extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
END \$\$;
VACUUM ANALYZE memprof_snapshot_context;
VACUUM ANALYZE memprof_snapshot_header;
\\set QUIET off
\\pset footer off
SELECT $RUNS AS snapshots,
       (SELECT round(avg(contexts)) FROM memprof_snapshots) AS contexts_per_snapshot,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS median_ms,
       round(max(ms)::numeric, 2) AS max_ms
  FROM timings;
SELECT round((pg_relation_size('memprof_snapshot_context') + pg_relation_size('memprof_snapshot_header'))::numeric
             / (SELECT sum(contexts) FROM memprof_snapshots), 1) AS heap_bytes_per_context,
       round((pg_total_relation_size('memprof_snapshot_context') + pg_total_relation_size('memprof_snapshot_header'))::numeric
             / (SELECT sum(contexts) FROM memprof_snapshots), 1) AS with_index_bytes_per_context;
SQL
