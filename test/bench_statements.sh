#!/usr/bin/env bash
# test/bench_statements.sh: what statement tracking and the guards cost.
#
#  1. TPS: pgbench select-only and tpcb-like (scale 10, 2 clients), memprof
#     preloaded with statement tracking on against memprof not loaded, in
#     alternating pairs (PAIRS, default 6, each run SECS, default 8), median
#     ratio per workload.  Targets: >= 0.98 (aim 0.99).  TPS on 2 cores is
#     noisy; the instruction counts below are the steady figure.
#  2. Instructions per transaction, counted by valgrind's callgrind (perf
#     cannot count instructions on this machine; where it can, the same
#     figure comes from `perf stat -e instructions`): the server runs under
#     callgrind, one pgbench client runs T1 and then T2 select-only
#     transactions in separate connections (after a warm-up connection that
#     builds the relcache init file), and (I(T2) - I(T1)) / (T2 - T1) of the
#     serving backend removes connection start-up; the same for tpcb-like.
#     Caveat: callgrind gives a forked child its parent's counters, so the
#     difference also carries the postmaster's work between the two forks;
#     a function-level profile (callgrind_annotate) is the sharper figure,
#     see README.md.  Configurations:
#     not loaded; preloaded, tracking off; preloaded, tracking on (the
#     allocation-counting path); preloaded, tracking on and both guards on.
# Usage: test/bench_statements.sh [PAIRS] [SECS]
# (BENCH_SKIP_TPS=1 runs only part 2, which does not depend on machine load.)
set -eu
cd "$(dirname "$0")/.."
. test/lib.sh
PAIRS=${1:-6}
SECS=${2:-8}
ensure_packages valgrind
build_install >/dev/null
DIR=/tmp/memprof-bench-stmt PORT=54334
trap 'cluster_stop $DIR' EXIT
cluster_stop "$DIR"
cluster_init "$DIR"
export PGHOST="$DIR/sock" PGPORT="$PORT" PGUSER=postgres
cluster_start "$DIR" "$PORT" ""
"$PGBIN/createdb" bench
"$PGBIN/pgbench" -q -i -s 10 bench >/dev/null 2>&1

restart() { cluster_stop "$DIR"; cluster_start "$DIR" "$PORT" "$@"; }
tps() {
	"$PGBIN/pgbench" -n "$@" -M prepared -c 2 -j 2 -T "$SECS" bench 2>/dev/null \
		| sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
median() { python3 -c "import sys, statistics; v=[float(x) for x in sys.argv[1:]]; print(f'{statistics.median(v):.4f}')" "$@"; }

echo "== 1. TPS, memprof preloaded (track_statements on) / not loaded, $PAIRS alternating pairs of ${SECS}s"
[ -n "${BENCH_SKIP_TPS:-}" ] && echo "(skipped: BENCH_SKIP_TPS)"
for workload in $([ -z "${BENCH_SKIP_TPS:-}" ] && echo select-only tpcb-like); do
	flag=$([ "$workload" = select-only ] && echo -S || echo "")
	ratios=()
	for p in $(seq 1 "$PAIRS"); do
		if [ $((p % 2)) -eq 1 ]; then
			restart memprof; with=$(tps $flag); restart ""; without=$(tps $flag)
		else
			restart ""; without=$(tps $flag); restart memprof; with=$(tps $flag)
		fi
		r=$(python3 -c "print(f'{$with / $without:.4f}')")
		ratios+=("$r")
		echo "$workload pair $p: with $with, without $without, ratio $r"
	done
	echo "$workload: median ratio $(median "${ratios[@]}") over $PAIRS pairs"
done

[ -n "${BENCH_SKIP_INSTR:-}" ] && { echo "== 2. skipped (BENCH_SKIP_INSTR)"; exit 0; }
echo "== 2. instructions per transaction (callgrind)"
T1=${BENCH_T1:-300}
T2=${BENCH_T2:-2300}
instr() {
	# $1: label, $2: shared_preload_libraries, rest: -c settings
	local label=$1 preload=$2
	shift 2
	cluster_stop "$DIR"
	rm -rf "$DIR/cg"; mkdir -p "$DIR/cg"; chown postgres "$DIR/cg"
	# memprof.publish_interval=60s: under callgrind a transaction takes ~50x
	# longer, so once-a-second work would land on 50x fewer transactions
	# than at native speed and dominate the per-transaction count; at native
	# speed a publication (~60k instructions for ~150 contexts) is spread
	# over every transaction of that second
	local opts="-c port=$PORT -c listen_addresses= -c unix_socket_directories=$DIR/sock -c shared_preload_libraries=$preload -c autovacuum=off -c fsync=off"
	[ -n "$preload" ] && opts="$opts -c memprof.publish_interval=60s"
	local s
	for s in "$@"; do opts="$opts -c $s"; done
	as_pg bash -c "valgrind --tool=callgrind --trace-children=yes --callgrind-out-file=$DIR/cg/cg.%p \
		$PGBIN/postgres -D $DIR/data $opts >$DIR/cg/server.log 2>&1 &"
	for _ in $(seq 1 120); do "$PGBIN/pg_isready" -q && break; sleep 1; done
	local a b c d
	# a first connection builds the relcache init file and warms the
	# server; only later connections are counted
	"$PGBIN/pgbench" -n -S -M prepared -c 1 -t 50 bench >/dev/null 2>&1
	"$PGBIN/pgbench" -n -M prepared -c 1 -t 50 bench >/dev/null 2>&1
	sleep 2
	a=$(run_counted "$T1" -S)
	b=$(run_counted "$T2" -S)
	c=$(run_counted "$T1")
	d=$(run_counted "$T2")
	as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w -t 120 stop >/dev/null 2>&1 || true
	python3 -c "print(f'$label: select-only {($b - $a) / ($T2 - $T1):,.0f}, tpcb-like {($d - $c) / ($T2 - $T1):,.0f} instructions per transaction')"
}
# runs N transactions on one connection; prints the instruction total of the
# backend that served them (the newest callgrind file when it has exited)
run_counted() {
	local n=$1 before after f
	shift
	before=$(ls "$DIR/cg" | sort)
	"$PGBIN/pgbench" -n "$@" -M prepared -c 1 -t "$n" bench >/dev/null 2>&1
	sleep 2
	after=$(ls "$DIR/cg" | sort)
	for f in $(comm -13 <(echo "$before") <(echo "$after")); do
		grep -q '^totals:' "$DIR/cg/$f" 2>/dev/null || continue
		grep '^totals:' "$DIR/cg/$f" | awk '{print $2}'
	done | sort -n | tail -1
}
instr "not loaded" ""
instr "preloaded, track_statements off" memprof memprof.track_statements=off
instr "preloaded, track_statements on" memprof
instr "preloaded, tracking and guards on" memprof memprof.max_statement_memory=1GB memprof.max_backend_memory=4GB
