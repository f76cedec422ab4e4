#!/usr/bin/env bash
# test/bench_statements.sh: instructions per statement that memprof's
# statement tracking costs, counted inside the serving backend only.
#
# The server runs under valgrind's callgrind with instrumentation off.  One
# psql session runs a warm-up pass of the workload, then calls
# cgprobe_start() (test/cgprobe: callgrind client requests that zero the
# counters and start instrumentation in this backend), runs the measured
# statements, and calls cgprobe_stop(label), which dumps the counters.
# Nothing else is counted: not the postmaster, not other backends, not
# connection start-up.  Counts repeat to within a fraction of a percent,
# whatever else the machine does.
#
# The statements are sent by test/pipeline_client.py, each as one Query
# message (simple protocol) but without waiting for the previous result, so
# the backend always finds its next statement waiting and never sleeps for
# the client: what a statement costs does not depend on how quickly the
# client answered.
#
# Workloads (simple protocol, one statement per Query message):
#   select-only  N statements "SELECT abalance FROM pgbench_accounts WHERE aid = <n>"
#   tpcb-like    pgbench's TPC-B-like transaction (7 statements each), N/7 of them
# Configurations: memprof not loaded; preloaded with
# memprof.track_statements = off; preloaded (tracking on, the default);
# pg_stat_statements alone; pg_stat_statements and memprof; tracking on with
# a server budget (memprof.max_total_memory = 100GB, never reached: the
# admission path's cost).
#
# memprof.publish_interval = -1 in the memprof configurations: a process's
# summary is published at most once a second, a cost per second, not per
# statement, which callgrind's slowdown would spread over a few statements.
#
# Usage: test/bench_statements.sh [N]      (N statements, default 3500)
# Prints one table (instructions per statement, and the difference to the
# configuration it is compared with).
set -eu
cd "$(dirname "$0")/.."
. test/lib.sh
N=${1:-3500}
ensure_packages valgrind
build_install >/dev/null
make -s -C test/cgprobe PG_CONFIG="$PG_CONFIG" >/dev/null && make -s -C test/cgprobe PG_CONFIG="$PG_CONFIG" install >/dev/null
DIR=/tmp/memprof-bench-instr PORT=54334
export PGHOST="$DIR/sock" PGPORT="$PORT" PGUSER=postgres
stop_server() { as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w -t 300 stop >/dev/null 2>&1 || true; }
trap stop_server EXIT
stop_server
cluster_init "$DIR"
cluster_start "$DIR" "$PORT" ""
"$PGBIN/createdb" bench
"$PGBIN/pgbench" -q -i -s 10 bench >/dev/null 2>&1
"$PGBIN/psql" -X -q -d bench -c "CREATE EXTENSION memprof_cgprobe"
cluster_stop "$DIR"
# every configuration starts from the same database (tpcb-like updates it)
rm -rf "$DIR/data.pristine"
cp -a "$DIR/data" "$DIR/data.pristine"

mkdir -p "$DIR/cg"
chown postgres "$DIR/cg"
python3 - "$DIR" "$N" <<'PY'
import random, sys
d, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
def select_only(k):
    return [f"SELECT abalance FROM pgbench_accounts WHERE aid = {rnd.randint(1, 1000000)};" for _ in range(k)]
def tpcb(k):
    out = []
    for _ in range(k // 7):
        aid, bid, tid, delta = rnd.randint(1, 1000000), rnd.randint(1, 10), rnd.randint(1, 100), rnd.randint(-5000, 5000)
        out += ["BEGIN;",
                f"UPDATE pgbench_accounts SET abalance = abalance + {delta} WHERE aid = {aid};",
                f"SELECT abalance FROM pgbench_accounts WHERE aid = {aid};",
                f"UPDATE pgbench_tellers SET tbalance = tbalance + {delta} WHERE tid = {tid};",
                f"UPDATE pgbench_branches SET bbalance = bbalance + {delta} WHERE bid = {bid};",
                f"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ({tid}, {bid}, {aid}, {delta}, CURRENT_TIMESTAMP);",
                "END;"]
    return out
for name, gen in (("select-only", select_only), ("tpcb-like", tpcb)):
    warm = gen(max(700, n // 5))
    body = gen(n)
    with open(f"{d}/{name}.sql", "w") as f:
        f.write("\n".join(warm) + "\nSELECT cgprobe_start();\n" + "\n".join(body) +
                f"\nSELECT cgprobe_stop('{name}');\n")
    with open(f"{d}/{name}.count", "w") as f:
        f.write(str(len(body)))
PY

# run_config NAME PRELOAD [settings...]: instructions per statement per workload
declare -A result
run_config() {
	local name=$1 preload=$2
	shift 2
	local opts="-c port=$PORT -c listen_addresses= -c unix_socket_directories=$DIR/sock"
	opts="$opts -c shared_preload_libraries=$preload -c fsync=off -c autovacuum=off"
	# no full-page images and no timed checkpoint: how many pages a run
	# writes whole would otherwise depend on when a checkpoint fell
	opts="$opts -c full_page_writes=off -c checkpoint_timeout=1h"
	local s
	for s in "$@"; do opts="$opts -c $s"; done
	rm -rf "$DIR/cg-$name" "$DIR/data"
	cp -a "$DIR/data.pristine" "$DIR/data"
	rm -f "$DIR"/cg/*
	as_pg bash -c "valgrind --tool=callgrind --instr-atstart=no --trace-children=no \
		--callgrind-out-file=$DIR/cg/callgrind.out.%p $PGBIN/postgres -D $DIR/data $opts \
		>$DIR/cg/server.log 2>&1 &"
	for _ in $(seq 1 300); do "$PGBIN/pg_isready" -q && break; sleep 1; done
	local w
	for w in select-only tpcb-like; do
		test/pipeline_client.py "$DIR/sock" "$PORT" postgres bench "$DIR/$w.sql" >/dev/null
		local f ir
		f=$(grep -l "^desc: Trigger: Client Request: $w\$" "$DIR"/cg/callgrind.out.* | head -1)
		ir=$(sed -n 's/^summary: \([0-9]*\).*/\1/p' "$f" | head -1)
		[ -n "$ir" ] || ir=$(sed -n 's/^totals: \([0-9]*\).*/\1/p' "$f" | head -1)
		result[$name,$w]=$(python3 -c "print(round($ir / $(cat "$DIR/$w.count")))")
	done
	stop_server
	cp -r "$DIR/cg" "$DIR/cg-$name"    # kept for callgrind_annotate
}

# CONFIGS limits the run, e.g. CONFIGS="notloaded off"
CONFIGS=${CONFIGS:-notloaded off on pgss pgss_on budget}
for c in $CONFIGS; do
	case $c in
	notloaded) run_config notloaded "" ;;
	off) run_config off memprof memprof.track_statements=off memprof.publish_interval=-1 ;;
	on) run_config on memprof memprof.publish_interval=-1 ;;
	pgss) run_config pgss pg_stat_statements ;;
	pgss_on) run_config pgss_on "pg_stat_statements,memprof" memprof.publish_interval=-1 ;;
	budget) run_config budget memprof memprof.publish_interval=-1 memprof.max_total_memory=100GB ;;
	esac
done
for c in notloaded off on pgss pgss_on budget; do
	for w in select-only tpcb-like; do
		[ -n "${result[$c,$w]:-}" ] || result[$c,$w]=0
	done
done

pct() { python3 -c "print(f'{($1 - $2) * 100.0 / $2:+.2f}%' if $2 else 'n/a')"; }
echo
echo "instructions per statement inside the serving backend ($N statements, callgrind, $(date -u +%Y-%m-%d))"
printf '%-44s %14s %14s\n' "configuration" "select-only" "tpcb-like"
row() { printf '%-44s %14s %14s\n' "$1" "$2" "$3"; }
row "not loaded" "${result[notloaded,select-only]}" "${result[notloaded,tpcb-like]}"
row "memprof, track_statements = off" "${result[off,select-only]} ($(pct "${result[off,select-only]}" "${result[notloaded,select-only]}"))" \
	"${result[off,tpcb-like]} ($(pct "${result[off,tpcb-like]}" "${result[notloaded,tpcb-like]}"))"
row "memprof, tracking on" "${result[on,select-only]} ($(pct "${result[on,select-only]}" "${result[notloaded,select-only]}"))" \
	"${result[on,tpcb-like]} ($(pct "${result[on,tpcb-like]}" "${result[notloaded,tpcb-like]}"))"
row "pg_stat_statements alone" "${result[pgss,select-only]} ($(pct "${result[pgss,select-only]}" "${result[notloaded,select-only]}"))" \
	"${result[pgss,tpcb-like]} ($(pct "${result[pgss,tpcb-like]}" "${result[notloaded,tpcb-like]}"))"
row "memprof, tracking on, 100GB budget (vs on)" "${result[budget,select-only]} ($(pct "${result[budget,select-only]}" "${result[on,select-only]}"))" \
	"${result[budget,tpcb-like]} ($(pct "${result[budget,tpcb-like]}" "${result[on,tpcb-like]}"))"
row "pg_stat_statements + memprof (vs pgss)" "${result[pgss_on,select-only]} ($(pct "${result[pgss_on,select-only]}" "${result[pgss,select-only]}"))" \
	"${result[pgss_on,tpcb-like]} ($(pct "${result[pgss_on,tpcb-like]}" "${result[pgss,tpcb-like]}"))"
