#!/usr/bin/env bash
# profiling/soak.sh: run a workload for a long time in one backend and tell
# whether memory is stable or leaking.  See --help and profiling/README.md.
set -u
PROF_NAME=soak
PROF_DEFAULT_PORT=54342
# shellcheck source=profiling/lib.sh
. "$(dirname "$0")/lib.sh"

DURATION=""             # seconds; default 600 unless --iterations alone is given
ITERATIONS=0            # 0 = no limit
INTERVAL=5
WARMUP=20               # percent of the run left out of the fits
RATE_KIB_MIN=256        # RssAnon growth rate that counts as a leak (KiB/minute)
MIN_GROWTH_KIB=4096     # ... when the fitted RssAnon growth over the window also exceeds this
ITER_BYTES=512          # context used-bytes growth per iteration that counts as a leak
MIN_CTX_GROWTH_KIB=1024 # ... when the fitted context growth over the window also exceeds this
PAUSE=0
PLOT=1

usage() {
	cat <<EOF
Usage: profiling/soak.sh [options]

Runs a SQL workload over and over in ONE backend (one psql session) for a
duration or a number of iterations.  Meanwhile it samples, every --interval
seconds, every process of the server (the postmaster and all its children)
from /proc: VmRSS, RssAnon, RssShmem, VmHWM from /proc/PID/status and Pss,
Pss_Anon, Private from /proc/PID/smaps_rollup, plus memprof_backends when the
installed memprof has it.  Inside the workload session it records, at most
once per interval, the sum of memprof_contexts (contexts, total and used
bytes) next to the session's own RssAnon and VmRSS, so memory outside
memory contexts shows as RssAnon minus context total.  It keeps the
session's contexts before and after the measured window (memprof_snapshot
and memprof_diff when they exist, memprof_contexts otherwise) and names the
contexts that grew.  Draws soak.png with gnuplot.

Verdict (exit 1 = leaking, 0 = stable, 2 = could not run or could not judge
anything: a run too short for its --interval says "verdict: not judged"):
the first
--warmup percent of the run is left out; over the rest, a least-squares line
is fitted
  - per process, RssAnon (KiB) against time: leaking when the slope exceeds
    --rate KiB/minute AND slope x window exceeds --min-growth KiB (RssAnon
    moves in steps of a few MiB as malloc keeps or returns freed memory;
    the minimum growth keeps such a step from reading as a leak);
    processes seen in fewer than half of the samples (short-lived
    backends) and our own sampler session are not judged;
  - for the workload session, the sum of memprof_contexts used_bytes
    against the iteration number: leaking when the slope exceeds
    --iter-bytes bytes/iteration AND slope x iterations exceeds
    --min-ctx-growth KiB.
The thresholds used are printed with the verdict.

Workload:
  --workload FILE     SQL file run once per iteration with psql's \\i in one
                      session (default: profiling/workloads/memprof_views.sql).
                      Lines "-- memprof-requires: ext, ..." name extensions to
                      create first.
  --leaking           shorthand for --workload profiling/workloads/leak.sql
                      (64 kB leaked per iteration by memprof_test_leak)
  --duration SECONDS  how long (default 600; with --iterations alone: no limit)
  --iterations N      stop after N iterations (default: no limit)
  --pause SECONDS     sleep between iterations (default 0)
Sampling and verdict:
  --interval SECONDS  sampling interval (default $INTERVAL)
  --warmup PERCENT    first part of the run not fitted (default $WARMUP)
  --rate KIB_PER_MIN  RssAnon slope threshold (default $RATE_KIB_MIN KiB/minute)
  --iter-bytes BYTES  context used-bytes slope threshold (default $ITER_BYTES bytes/iteration)
  --min-growth KIB    minimum fitted RssAnon growth for a leak (default $MIN_GROWTH_KIB KiB)
  --min-ctx-growth KIB  minimum fitted context growth for a leak (default $MIN_CTX_GROWTH_KIB KiB)
  --no-plot           skip the PNG (and gnuplot)
$(prof_common_help)

Outputs in --out: samples.csv (one row per process per sample),
iterations.csv (the workload session's context sums), memprof_backends.csv
(when present), ctx_before.csv / ctx_after.csv, memprof_diff.csv (when
memprof_diff exists), soak.png, soak.gnuplot, report.md, psql.err.

Examples:
  profiling/soak.sh --duration 3600 --interval 10          # an hour, clean workload
  profiling/soak.sh --leaking --duration 120 --interval 2  # must say leaking
  profiling/soak.sh --host /tmp/memprof-test/sock --port 54329 --workload my.sql
EOF
}

# soak_opt "$@": one of this script's own options (see prof_parse_args)
soak_opt() {
	case $1 in
	--duration) DURATION=${2:-} ;;
	--iterations) ITERATIONS=${2:-} ;;
	--interval) INTERVAL=${2:-} ;;
	--warmup) WARMUP=${2:-} ;;
	--rate) RATE_KIB_MIN=${2:-} ;;
	--iter-bytes) ITER_BYTES=${2:-} ;;
	--min-growth) MIN_GROWTH_KIB=${2:-} ;;
	--min-ctx-growth) MIN_CTX_GROWTH_KIB=${2:-} ;;
	--pause) PAUSE=${2:-} ;;
	--leaking) PROF_WORKLOAD=$PROF_DIR/workloads/leak.sql; PROF_SHIFT=1 ;;
	--no-plot) PLOT=0; PROF_SHIFT=1 ;;
	*) return 1 ;;
	esac
}
prof_parse_args soak_opt "$@"
if [ -z "$DURATION" ]; then
	if [ "$ITERATIONS" -gt 0 ] 2>/dev/null; then DURATION=0; else DURATION=600; fi
fi
for v in DURATION ITERATIONS; do prof_is_uint "${!v}" || prof_die "--${v,,} must be a whole number"; done
for v in INTERVAL WARMUP RATE_KIB_MIN ITER_BYTES MIN_GROWTH_KIB MIN_CTX_GROWTH_KIB PAUSE; do
	prof_is_num "${!v}" || prof_die "$v must be a number"
done
[ "$DURATION" -gt 0 ] || [ "$ITERATIONS" -gt 0 ] || prof_die "give --duration or --iterations"

prof_workload_default memprof_views.sql
pkgs=()
[ "$PLOT" = 1 ] && pkgs+=(gnuplot-nox)
prof_ensure "${pkgs[@]}"
prof_setup_out
prof_traps
prof_start_cluster autovacuum=off

OUT=$PROF_OUT
rm -f "$OUT"/samples.csv "$OUT"/iterations.csv "$OUT"/memprof_backends.csv "$OUT"/ctx_*.csv \
	"$OUT"/memprof_diff.csv "$OUT"/workload.pid "$OUT"/.stop "$OUT"/.feed

PM=$(prof_postmaster_pid)
[ -n "$PM" ] && [ -d "/proc/$PM" ] || prof_die "cannot find the postmaster's pid (is the server on this machine?)"
HAS_BACKENDS=0; prof_has_backends && HAS_BACKENDS=1
HAS_SNAPSHOT=0; prof_has_snapshot && HAS_SNAPSHOT=1
prof_log "workload: $PROF_WORKLOAD"
prof_log "duration: ${DURATION}s (0 = no limit), iterations: $ITERATIONS (0 = no limit), interval: ${INTERVAL}s"
prof_log "memprof_backends: $([ $HAS_BACKENDS = 1 ] && echo yes || echo 'no (proc only)'), memprof_snapshot/diff: $([ $HAS_SNAPSHOT = 1 ] && echo yes || echo 'no (memprof_contexts before/after)')"

T0=$(date +%s.%N)

# ---- the sampler: every process, every interval ----
sampler_args=(--postmaster "$PM" --interval "$INTERVAL" --csv "$OUT/samples.csv" --t0 "$T0"
	--stop-file "$OUT/.stop" --workload-pid-file "$OUT/workload.pid")
if [ "$HAS_BACKENDS" = 1 ]; then
	sampler_args+=(--psql "$(printf '["%s","-h","%s","-p","%s","-U","%s","-d","%s"]' \
		"$PGBIN/psql" "$PGHOST" "$PGPORT" "$PGUSER" "$PROF_DB")"
		--backends-query "SELECT * FROM memprof_backends" --backends-csv "$OUT/memprof_backends.csv")
fi
python3 "$PROF_DIR/tools/sampler.py" "${sampler_args[@]}" &
SAMPLER=$!
prof_bg "$SAMPLER"

# ---- the workload session: psql reading a script that never ends; it
# quits itself (\q) when the duration or the iteration count is reached ----
big=1000000000000
dur=$DURATION; [ "$dur" -gt 0 ] || dur=$big
maxit=$ITERATIONS; [ "$maxit" -gt 0 ] || maxit=$big
warm_s=$(awk -v d="$DURATION" -v w="$WARMUP" -v b="$big" 'BEGIN { print (d > 0 ? d * w / 100 : b) }')
warm_it=$(awk -v n="$ITERATIONS" -v w="$WARMUP" -v b="$big" 'BEGIN { print (n > 0 ? int(n * w / 100) : b) }')

# the query that prints one iterations.csv row (prefix S)
SAMPLE_SQL="SELECT 'S', :iter, round((extract(epoch FROM clock_timestamp()) - :t0)::numeric, 2),
       c.n, c.total, c.used, p.rss_anon, p.vmrss
  FROM (SELECT count(*) AS n, sum(total_bytes) AS total, sum(used_bytes) AS used FROM memprof_contexts) c,
       (SELECT substring(s FROM 'RssAnon:\\s+(\\d+)') AS rss_anon, substring(s FROM 'VmRSS:\\s+(\\d+)') AS vmrss
          FROM pg_read_file('/proc/self/status') s) p;"
CTX_SQL="SELECT array_to_string(path_names, ' > ') AS path, name, total_bytes, used_bytes FROM memprof_contexts;"

ctx_dump() { # FILE
	cat <<EOF
\\pset format csv
\\pset tuples_only off
\\o '$1'
$CTX_SQL
\\o
\\pset format unaligned
\\pset tuples_only on
EOF
}
snap() { # VAR LABEL
	[ "$HAS_SNAPSHOT" = 1 ] || return 0
	cat <<EOF
\\set ON_ERROR_STOP 0
SELECT memprof_snapshot('$2') AS $1 \\gset
\\set ON_ERROR_STOP 1
EOF
}

{
	cat <<EOF
\\set ON_ERROR_STOP 1
\\set QUIET 1
SET client_min_messages = warning;
\\pset pager off
\\pset format unaligned
\\pset tuples_only on
\\pset fieldsep ','
\\set t0 $T0
\\set interval $INTERVAL
\\set duration $dur
\\set max_iter $maxit
\\set warmup_s $warm_s
\\set warmup_iter $warm_it
\\set iter 0
\\set next_sample 0
\\set before_taken 0
SELECT pg_backend_pid() AS wl_pid \\gset
\\o '$OUT/workload.pid'
\\qecho :wl_pid
\\o
EOF
} >"$OUT/soak-head.sql"
{
	cat <<EOF
\\o /dev/null
\\i '$PROF_WORKLOAD'
\\o
EOF
	awk -v p="$PAUSE" 'BEGIN { if (p > 0) printf "SELECT pg_sleep(%s) \\gset dummy_\n", p }'
	cat <<EOF
SELECT :iter + 1 AS iter,
       e - :t0 >= :next_sample AS sample_due,
       :before_taken = 0 AND (e - :t0 >= :warmup_s OR :iter + 1 >= :warmup_iter) AS take_before,
       e - :t0 >= :duration OR :iter + 1 >= :max_iter AS done
  FROM (SELECT extract(epoch FROM clock_timestamp())::float8 AS e) x \\gset
\\if :sample_due
$SAMPLE_SQL
SELECT (floor((extract(epoch FROM clock_timestamp()) - :t0) / :interval) + 1) * :interval AS next_sample \\gset
\\endif
\\if :take_before
\\set before_taken 1
$(ctx_dump "$OUT/ctx_before.csv")
$(snap snap_before "soak $$ before")
\\endif
\\if :done
\\if :sample_due
\\else
$SAMPLE_SQL
\\endif
\\if :before_taken
$(ctx_dump "$OUT/ctx_after.csv")
$(snap snap_after "soak $$ after")
EOF
	if [ "$HAS_SNAPSHOT" = 1 ]; then
		cat <<EOF
\\set ON_ERROR_STOP 0
\\pset format csv
\\pset tuples_only off
\\o '$OUT/memprof_diff.csv'
SELECT * FROM memprof_diff(:snap_before, :snap_after);
\\o
\\set ON_ERROR_STOP 1
EOF
	fi
	cat <<EOF
\\endif
\\q
\\endif
EOF
} >"$OUT/soak-iteration.sql"

mkfifo "$OUT/.feed"
prof_log "running (output: $OUT)"
"$PGBIN/psql" -X -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$PROF_DB" \
	<"$OUT/.feed" >"$OUT/psql.out" 2>"$OUT/psql.err" &
PSQL=$!
prof_bg "$PSQL"
(
	trap '' PIPE
	cat "$OUT/soak-head.sql" || exit 0
	while :; do cat "$OUT/soak-iteration.sql" 2>/dev/null || exit 0; done
) >"$OUT/.feed" 2>/dev/null &
FEED=$!
prof_bg "$FEED"
wait "$PSQL"
rc=$?
prof_kill_pid "$FEED"
touch "$OUT/.stop"
wait "$SAMPLER" 2>/dev/null
rm -f "$OUT/.feed" "$OUT/.stop"
elapsed=$(prof_elapsed "$T0")

prof_psql_status "$rc" "$OUT/psql.err" "the workload session" " after ${elapsed}s"
{
	echo "iter,t_s,contexts,ctx_total_bytes,ctx_used_bytes,rss_anon_kb,vmrss_kb"
	sed -n 's/^S,//p' "$OUT/psql.out"
} >"$OUT/iterations.csv"
prof_log "workload done after ${elapsed}s; analysing"

report_args=(--samples "$OUT/samples.csv" --iterations "$OUT/iterations.csv" --out "$OUT"
	--warmup "$WARMUP" --rate "$RATE_KIB_MIN" --iter-bytes "$ITER_BYTES" --min-growth "$MIN_GROWTH_KIB"
	--min-ctx-growth "$MIN_CTX_GROWTH_KIB"
	--workload "$PROF_WORKLOAD")
[ "$PLOT" = 1 ] && report_args+=(--plot)
python3 "$PROF_DIR/tools/soak_report.py" "${report_args[@]}"
