#!/usr/bin/env bash
# profiling/baseline.sh: a memory-budget table for one backend: after
# connecting, after memprof is loaded, after small, medium and large
# workloads, against the budgets in profiling/baseline.conf.
# See --help and profiling/README.md.
set -u
PROF_NAME=baseline
PROF_DEFAULT_PORT=54343
# shellcheck source=profiling/lib.sh
. "$(dirname "$0")/lib.sh"

CONF=$PROF_DIR/baseline.conf
MEASURE=0
REPEAT=1

usage() {
	cat <<EOF
Usage: profiling/baseline.sh [options]

Measures one backend's memory at the end of each stage of the config file
(default profiling/baseline.conf), each stage in a fresh session:

  connect   nothing but the measurement (core's pg_backend_memory_contexts)
  load      memprof's views called once
  small, medium, large (rows.<stage> in the config: 1K, 10K, 100K rows)
            memprof's views called once, then the workload with psql
            -v rows=N (default profiling/workloads/baseline.sql)

Measured in the session itself: the sum of its memory contexts (contexts,
total and used bytes) and its /proc/self/status and smaps_rollup (RssAnon,
VmRSS, VmHWM, Pss_Anon), so "outside" = RssAnon minus the context total
shows memory outside memory contexts.  For the workload stages it also
lists the contexts that grew over the workload (memprof_contexts before
and after; memprof_snapshot is not used here because its own writes would
be counted against the budget).

Prints a markdown table, one row per stage and metric with its budget and
status (ok / OVER / -), and writes it to OUT/baseline.md.
Verdict: exit 1 when any metric is over its budget, 0 when all are within,
2 when it could not run.

Options:
  --config FILE       budgets and stages (default profiling/baseline.conf)
  --workload FILE     SQL run with -v rows=N (default profiling/workloads/baseline.sql)
  --repeat N          run every stage N times and keep the median of each
                      metric (default $REPEAT; 3 smooths out noise)
  --measure           print the figures and a baseline.conf proposal
                      (1.5 x measured, rounded up) instead of judging
$(prof_common_help)

Outputs in --out: baseline.md, measurements.csv, STAGE.csv (each run),
STAGE.before.csv / STAGE.after.csv (contexts), STAGE.out (workload output),
baseline.conf.proposed (with --measure).

Examples:
  profiling/baseline.sh
  profiling/baseline.sh --repeat 3 --measure
  profiling/baseline.sh --host /tmp/memprof-test/sock --port 54329
EOF
}

# baseline_opt "$@": one of this script's own options (see prof_parse_args)
baseline_opt() {
	case $1 in
	--config) CONF=${2:-} ;;
	--repeat) REPEAT=${2:-} ;;
	--measure) MEASURE=1; PROF_SHIFT=1 ;;
	*) return 1 ;;
	esac
}
prof_parse_args baseline_opt "$@"
[ -r "$CONF" ] || prof_die "no config file $CONF"
prof_is_uint "$REPEAT" && [ "$REPEAT" -ge 1 ] || prof_die "--repeat must be at least 1"
CONF=$(cd "$(dirname "$CONF")" && pwd)/$(basename "$CONF")

prof_workload_default baseline.sql
prof_ensure
prof_setup_out
prof_traps
prof_start_cluster

OUT=$PROF_OUT
rm -f "$OUT"/*.csv "$OUT"/*.out "$OUT"/baseline.md "$OUT"/baseline.conf.proposed
MEAS=$PROF_DIR/tools/measure_session.sql
DUMP=$PROF_DIR/tools/ctx_dump.sql

# the workload stages, in config order: "name rows"
mapfile -t STAGES < <(sed -n 's/^[[:space:]]*rows\.\([A-Za-z0-9_]*\)[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1 \2/p' "$CONF")

psql_s() { # LOG ARGS...
	local log=$1
	shift
	PGOPTIONS="-c client_min_messages=warning" prof_fg "$log" "$log" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
		-h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$PROF_DB" "$@"
}

T0=$(prof_now)
for run in $(seq "$REPEAT"); do
	psql_s "$OUT/connect.out" -v out="$OUT/connect.$run.csv" -v core=1 -f "$MEAS" \
		|| { cat "$OUT/connect.out" >&2; prof_die "stage connect failed"; }
	psql_s "$OUT/load.out" -c "SELECT count(*) FROM memprof_contexts" \
		-c "SELECT * FROM memprof_context_groups LIMIT 1" \
		-v out="$OUT/load.$run.csv" -f "$MEAS" || { cat "$OUT/load.out" >&2; prof_die "stage load failed"; }
	for st in "${STAGES[@]}"; do
		name=${st% *} rows=${st#* }
		T1=$(prof_now)
		# (psql sets every -v before running any -c or -f: hence \set between the files)
		psql_s "$OUT/$name.out" -v rows="$rows" -c "\\set ctx_out '$OUT/$name.before.csv'" -f "$DUMP" \
			-f "$PROF_WORKLOAD" \
			-c "\\set out '$OUT/$name.$run.csv'" -f "$MEAS" \
			-c "\\set ctx_out '$OUT/$name.after.csv'" -f "$DUMP" \
			|| { tail -20 "$OUT/$name.out" >&2; prof_die "stage $name failed"; }
		prof_log "run $run, stage $name ($rows rows): $(prof_elapsed "$T1")s"
	done
done
prof_log "measured in $(prof_elapsed "$T0")s"

rep_args=(--conf "$CONF" --out "$OUT" --repeat "$REPEAT" --workload "$PROF_WORKLOAD")
[ "$MEASURE" = 1 ] && rep_args+=(--measure)
python3 "$PROF_DIR/tools/baseline_report.py" "${rep_args[@]}"
