#!/usr/bin/env bash
# test/bench_budget.sh: the server budget under load.  pgbench (tpcb-like,
# 16 clients) runs for SECS seconds (default 60) against a server whose
# memprof.max_total_memory is just above what those clients need: the most
# reserved total seen in a first 15 s run, plus 2 MB of reservation slack
# per process.  Prints the refusals memprof counted, pgbench's failed
# transactions, and the most the server's total reached (sampled every
# 100 ms).  Targets: 0 refusals, 0 failed transactions.
# Usage: test/bench_budget.sh [SECS]
set -eu
cd "$(dirname "$0")/.."
. test/lib.sh
SECS=${1:-60}
. test/bench_lib.sh
# always a throwaway cluster (port 54336): the run sets
# memprof.max_total_memory with ALTER SYSTEM
unset BENCH_PGPORT
BENCH_DIR=${BENCH_DIR:-/tmp/memprof-bench-budget}
bench_cluster 54336
DIR=$BENCH_DIR
PSQL="$PGBIN/psql -X -qtA -d bench"
"$PGBIN/createdb" bench
"$PGBIN/pgbench" -q -i -s 10 bench >/dev/null 2>&1
$PSQL -c "CREATE EXTENSION memprof"

# sample(SECONDS): the most reserved total seen while pgbench runs
sample() {
	local end=$(( $(date +%s) + $1 )) most=0 v
	while [ "$(date +%s)" -lt "$end" ]; do
		v=$($PSQL -c "SELECT reserved_bytes FROM memprof_server()" 2>/dev/null || echo 0)
		[ "${v:-0}" -gt "$most" ] && most=$v
		sleep 0.1
	done
	echo "$most"
}

"$PGBIN/pgbench" -n -c 16 -j 2 -T 15 bench >/dev/null 2>&1 &
need=$(sample 14)
wait
procs=$($PSQL -c "SELECT processes FROM memprof_server()")
budget_kb=$(( (need + (procs + 16) * 2 * 1048576) / 1024 ))
$PSQL -c "ALTER SYSTEM SET memprof.max_total_memory = '${budget_kb}kB'" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
before=$($PSQL -c "SELECT refusals FROM memprof_server()")
"$PGBIN/pgbench" -n -c 16 -j 2 -T "$SECS" bench >"$DIR/pgbench.out" 2>&1 &
most=$(sample $((SECS - 1)))
wait || true
after=$($PSQL -c "SELECT refusals FROM memprof_server()")
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$DIR/pgbench.out")
tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$DIR/pgbench.out")
echo "need (most reserved in a 15 s run): $need bytes; budget: $((budget_kb * 1024)) bytes"
echo "pgbench tpcb-like, 16 clients, ${SECS} s: tps $tps, failed transactions: ${failed:-?}"
echo "refusals: $((after - before)); most reserved during the run: $most bytes ($(date -u +%Y-%m-%d))"
