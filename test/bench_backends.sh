#!/usr/bin/env bash
# test/bench_backends.sh: figures for memprof's cross-process parts.
#
#  1. Latency of memprof_backend_contexts(pid) for an IDLE backend holding
#     about 6,000 contexts (3,000 tables with a primary key and one more
#     index, each touched once in that backend), RUNS fetches (default 100),
#     median and p90.  Target: under 50 ms.
#  2. The cost of publication: pgbench select-only TPS with memprof preloaded
#     against memprof not loaded, in alternating pairs (PAIRS, default 5,
#     each run SECS seconds, default 10), median ratio.  Target: >= 0.99.
#  3. Whether perf can count instructions here (the per-transaction
#     instruction count is not measured yet; see README).
# Usage: test/bench_backends.sh [RUNS] [PAIRS] [SECS]
set -eu
cd "$(dirname "$0")/.."
. test/lib.sh
. test/bench_lib.sh
RUNS=${1:-100}
PAIRS=${2:-5}
SECS=${3:-10}
TABLES=${BENCH_TABLES:-3000}
bench_cluster 54333

echo "== 1. memprof_backend_contexts latency, idle backend with ~6,000 contexts"
bench_db "$TABLES"
$PSQL -d memprof_bench <<SQL
\\set QUIET on
CREATE EXTENSION dblink;
SELECT dblink_connect('idle', format('dbname=memprof_bench port=%s host=%s user=postgres',
                                     current_setting('port'), current_setting('unix_socket_directories'))) \\g /dev/null
SELECT p AS target FROM dblink('idle', 'SELECT pg_backend_pid()') AS t(p int) \\gset
SELECT count(*) FROM generate_series(1, $TABLES) i,
       LATERAL dblink('idle', format('SELECT * FROM bench_t%s WHERE id = 1 AND v = 1', i)) AS t(id int, v int) \\g /dev/null
SELECT set_config('bench.target', :'target', false) \\g /dev/null
CREATE TEMP TABLE timings (run int, ms float8, contexts bigint);
DO \$\$
DECLARE t0 timestamptz; n bigint; target int := current_setting('bench.target')::int;
BEGIN
  PERFORM count(*) FROM memprof_backend_contexts(target);
  FOR i IN 1..$RUNS LOOP
    t0 := clock_timestamp();
    SELECT count(*) INTO n FROM memprof_backend_contexts(target);
    INSERT INTO timings VALUES (i, extract(epoch FROM clock_timestamp() - t0) * 1000, n);
  END LOOP;
END \$\$;
\\set QUIET off
\\pset footer off
SELECT $RUNS AS fetches, max(contexts) AS contexts_in_target,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS median_ms,
       round(percentile_cont(0.9) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p90_ms
  FROM timings;
SQL

if [ -n "${BENCH_PGPORT:-}" ]; then
	echo "== 2./3. need a throwaway cluster (they restart it); skipped with BENCH_PGPORT"
	exit 0
fi

echo "== 2. pgbench select-only, memprof preloaded vs not loaded, $PAIRS alternating pairs of ${SECS}s"
$PSQL -c "DROP DATABASE IF EXISTS memprof_pgbench" -c "CREATE DATABASE memprof_pgbench" >/dev/null 2>&1
"$PGBIN/pgbench" -q -i -s 10 memprof_pgbench >/dev/null 2>&1
restart() {
	cluster_stop "$BENCH_DIR"
	cluster_start "$BENCH_DIR" "$PGPORT" "$1"
}
tps() {
	"$PGBIN/pgbench" -n -S -M prepared -c 2 -j 2 -T "$SECS" memprof_pgbench 2>/dev/null \
		| sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
ratios=()
for p in $(seq 1 "$PAIRS"); do
	if [ $((p % 2)) -eq 1 ]; then
		restart memprof; with=$(tps); restart ""; without=$(tps)
	else
		restart ""; without=$(tps); restart memprof; with=$(tps)
	fi
	r=$(python3 -c "print(f'{$with / $without:.4f}')")
	ratios+=("$r")
	echo "pair $p: with memprof $with tps, without $without tps, ratio $r"
done
printf '%s\n' "${ratios[@]}" | python3 -c "import sys, statistics; v=[float(x) for x in sys.stdin]; print(f'median ratio (with/without): {statistics.median(v):.4f} over {len(v)} pairs')"

echo "== 3. instructions per transaction"
if command -v perf >/dev/null && perf stat -e instructions -x, true 2>&1 | grep -q '^[0-9]'; then
	echo "perf can count instructions here, but this script does not measure them yet (see README)"
else
	echo "perf cannot count instructions on this machine (perf stat -e instructions: <not supported>)"
fi
