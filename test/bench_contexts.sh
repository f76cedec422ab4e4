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
#
# test/bench_contexts.sh --instructions [RUNS]: the same comparison in
# instructions instead of milliseconds, which repeats whatever else the
# machine does.  The throwaway cluster is restarted under valgrind's
# callgrind with instrumentation off; the session touches the tables, reads
# both views once, then counts RUNS (default 20) full reads of each view
# between cgprobe_start() and cgprobe_stop() (test/cgprobe: callgrind client
# requests in the serving backend), and prints instructions per read and
# their ratio.
set -eu
cd "$(dirname "$0")/.."
. test/lib.sh
INSTRUCTIONS=""
if [ "${1:-}" = --instructions ]; then
	INSTRUCTIONS=1
	shift
fi
RUNS=${1:-$([ -n "$INSTRUCTIONS" ] && echo 20 || echo 200)}
TABLES=${BENCH_TABLES:-3000}

. test/bench_lib.sh
bench_cluster 54331
bench_db "$TABLES"

if [ -n "$INSTRUCTIONS" ]; then
	[ -n "${BENCH_DIR:-}" ] || { echo "--instructions needs the throwaway cluster" >&2; exit 2; }
	ensure_packages valgrind
	make -s -C test/cgprobe PG_CONFIG="$PG_CONFIG" >/dev/null
	make -s -C test/cgprobe PG_CONFIG="$PG_CONFIG" install >/dev/null
	$PSQL -d memprof_bench -c "CREATE EXTENSION memprof_cgprobe" >/dev/null
	cluster_stop "$BENCH_DIR"
	rm -rf "$BENCH_DIR/cg"
	mkdir -p "$BENCH_DIR/cg"
	chown postgres "$BENCH_DIR/cg"
	as_pg bash -c "valgrind --tool=callgrind --instr-atstart=no --trace-children=no \
		--callgrind-out-file=$BENCH_DIR/cg/callgrind.out.%p $PGBIN/postgres -D $BENCH_DIR/data \
		-c port=$PGPORT -c listen_addresses= -c unix_socket_directories=$BENCH_DIR/sock \
		-c shared_preload_libraries=memprof -c fsync=off -c autovacuum=off \
		-c memprof.publish_interval=-1 >$BENCH_DIR/cg/server.log 2>&1 &"
	for _ in $(seq 1 300); do "$PGBIN/pg_isready" -q && break; sleep 1; done
	{
		bench_touch_sql "$TABLES"
		echo "\\o /dev/null"
		echo "SELECT count(*) FROM memprof_contexts; SELECT count(*) FROM pg_backend_memory_contexts;"
		for view in memprof_contexts pg_backend_memory_contexts; do
			echo "SELECT cgprobe_start();"
			for _ in $(seq 1 "$RUNS"); do echo "SELECT count(*) FROM $view;"; done
			echo "SELECT cgprobe_stop('$view');"
		done
		echo "\\o"
		echo "SELECT count(*) AS contexts_in_this_backend FROM pg_backend_memory_contexts;"
	} | $PSQL -d memprof_bench
	as_pg "$PGBIN/pg_ctl" -D "$BENCH_DIR/data" -m fast -w -t 300 stop >/dev/null
	ir() {	# ir VIEW: instructions of the dump cgprobe_stop('VIEW') wrote
		local f
		f=$(grep -l "^desc: Trigger: Client Request: $1\$" "$BENCH_DIR"/cg/callgrind.out.* | head -1)
		sed -n 's/^summary: \([0-9]*\).*/\1/p; s/^totals: \([0-9]*\).*/\1/p' "$f" | head -1
	}
	python3 - "$RUNS" "$(ir memprof_contexts)" "$(ir pg_backend_memory_contexts)" <<'PY'
import sys
runs, memprof, core = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print(f"instructions per full read, {runs} reads each (callgrind, in the serving backend)")
print(f"  pg_backend_memory_contexts  {core // runs:>12,}")
print(f"  memprof_contexts            {memprof // runs:>12,}")
print(f"  ratio                       {memprof / core:>12.3f}")
PY
	exit 0
fi

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
