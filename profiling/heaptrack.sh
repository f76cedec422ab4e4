#!/usr/bin/env bash
# profiling/heaptrack.sh: heaptrack attached to the backend of a psql
# session that runs a workload; top allocation sites and the peak heap.
# See --help and profiling/README.md.
set -u
PROF_NAME=heaptrack
PROF_DEFAULT_PORT=54344
# shellcheck source=profiling/lib.sh
. "$(dirname "$0")/lib.sh"

ITERATIONS=5
TOP=10
MAX_PEAK_MIB=256
MAX_MEMPROF_PEAK_MIB=64
ATTACH_TIMEOUT=120

usage() {
	cat <<EOF
Usage: profiling/heaptrack.sh [options]

Opens one psql session, finds its backend with pg_backend_pid(), attaches
heaptrack to that backend (heaptrack -p PID: gdb injects heaptrack's
library; allocations are recorded from then on), runs the workload
--iterations times in the session, ends the session (the backend exits and
heaptrack writes its data), then prints with heaptrack_print the top
allocation sites by peak memory and by number of calls, the peak heap, and
the part of the peak allocated under memprof's functions
(heaptrack_print --filter-bt-function memprof).  Around the workload it
takes memprof snapshots (memprof_snapshot/memprof_diff when they exist,
memprof_contexts otherwise) and shows the session's RssAnon against its
memory-context total, so memory outside contexts is visible.

The data file OUT/heaptrack.postgres.PID.zst is kept for heaptrack's own
viewers: heaptrack_gui FILE, or heaptrack_print -f FILE.

Verdict (exit 1 = fail, 0 = pass, 2 = could not run): pass when heaptrack
recorded allocations, the peak heap is at most --max-peak MiB, and the peak
of allocations under memprof's functions is at most --max-memprof-peak MiB.
(heaptrack's "leaked" figure is printed but not judged: a backend does not
free its long-lived memory at exit.)

Workload:
  --workload FILE       SQL file run with \\i (default profiling/workloads/memprof_views.sql)
  --iterations N        times to run it in the session (default $ITERATIONS)
Report and verdict:
  --top N               allocation sites to list (default $TOP)
  --max-peak MIB        peak heap budget (default $MAX_PEAK_MIB)
  --max-memprof-peak MIB  budget for the peak under memprof's functions (default $MAX_MEMPROF_PEAK_MIB)
$(prof_common_help)

Outputs in --out: heaptrack.postgres.PID.zst, heaptrack_print.txt (full),
heaptrack_memprof.txt (memprof's part), report.md, ctx_before.csv,
ctx_after.csv, memprof_diff.csv (when memprof_diff exists), heaptrack.log.

Examples:
  profiling/heaptrack.sh
  profiling/heaptrack.sh --iterations 50 --top 25
  profiling/heaptrack.sh --host /tmp/memprof-test/sock --port 54329
EOF
}

# heaptrack_opt "$@": one of this script's own options (see prof_parse_args)
heaptrack_opt() {
	case $1 in
	--iterations) ITERATIONS=${2:-} ;;
	--top) TOP=${2:-} ;;
	--max-peak) MAX_PEAK_MIB=${2:-} ;;
	--max-memprof-peak) MAX_MEMPROF_PEAK_MIB=${2:-} ;;
	*) return 1 ;;
	esac
}
prof_parse_args heaptrack_opt "$@"
for v in ITERATIONS TOP; do prof_is_uint "${!v}" || prof_die "--${v,,} must be a whole number"; done
for v in MAX_PEAK_MIB MAX_MEMPROF_PEAK_MIB; do prof_is_num "${!v}" || prof_die "$v must be a number"; done

prof_workload_default memprof_views.sql
prof_ensure heaptrack gdb zstd
prof_setup_out
prof_traps
prof_start_cluster

OUT=$PROF_OUT
rm -f "$OUT"/heaptrack.postgres.*.zst "$OUT"/heaptrack*.txt "$OUT"/ctx_*.csv "$OUT"/memprof_diff.csv \
	"$OUT"/session.pid "$OUT"/.feed "$OUT"/report.md
HAS_SNAPSHOT=0; prof_has_snapshot && HAS_SNAPSHOT=1

# ---- the session: psql reading a FIFO this script writes to ----
mkfifo "$OUT/.feed"
"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$PROF_DB" \
	<"$OUT/.feed" >"$OUT/session.out" 2>"$OUT/session.err" &
PSQL=$!
prof_bg "$PSQL"
exec 3>"$OUT/.feed"
close_feed() { { exec 3>&-; } 2>/dev/null; rm -f "$OUT/.feed"; return 0; }
PROF_CLEANUP_HOOKS+=(close_feed)

send() { printf '%s\n' "$@" >&3; }
# wait_for FILE SECONDS: until FILE exists and is not empty
wait_for() {
	local i
	for i in $(seq $(($2 * 5))); do
		[ -s "$1" ] && return 0
		kill -0 "$PSQL" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}
ctx_dump() { # FILE
	send "\\pset format csv" "\\o '$1'" \
		"SELECT array_to_string(path_names, ' > ') AS path, name, total_bytes, used_bytes FROM memprof_contexts;" \
		"\\o" "\\pset format aligned"
}
mem_dump() { # FILE: the session's own figures, in the session
	send "\\pset format csv" "\\o '$1'" \
		"SELECT c.n AS contexts, c.total AS ctx_total_bytes, c.used AS ctx_used_bytes,
		        substring(s FROM 'RssAnon:\\s+(\\d+)')::bigint AS rss_anon_kb,
		        substring(s FROM 'VmRSS:\\s+(\\d+)')::bigint AS vmrss_kb
		   FROM (SELECT count(*) AS n, sum(total_bytes) AS total, sum(used_bytes) AS used FROM memprof_contexts) c,
		        pg_read_file('/proc/self/status') s;" \
		"\\o" "\\pset format aligned"
}

send "SET client_min_messages = warning;" "SELECT pg_backend_pid() AS be_pid \\gset" \
	"\\o '$OUT/session.pid'" "\\qecho :be_pid" "\\o"
wait_for "$OUT/session.pid" 30 || { cat "$OUT/session.err" >&2; prof_die "the psql session did not start"; }
BE=$(tr -dc 0-9 <"$OUT/session.pid")
[ -d "/proc/$BE" ] || prof_die "backend $BE is not on this machine (heaptrack must attach to it)"
prof_log "session backend: pid $BE"

# ---- attach ----
T0=$(prof_now)
HT_FILE=$OUT/heaptrack.postgres.$BE
heaptrack -o "$HT_FILE" -p "$BE" >"$OUT/heaptrack.log" 2>&1 &
HT=$!
# at cleanup: end the session first (the backend exits, heaptrack finishes
# by itself), then stop heaptrack if it has not, and remove its FIFO
# (heaptrack names it /tmp/heaptrack_fifo<its pid>)
ht_stop() {
	local i
	close_feed
	for i in $(seq 50); do kill -0 "$HT" 2>/dev/null || break; sleep 0.2; done
	prof_kill_pid "$HT"
	rm -f "/tmp/heaptrack_fifo$HT"
	return 0
}
PROF_CLEANUP_HOOKS+=(ht_stop)
ok=0
for _ in $(seq $((ATTACH_TIMEOUT * 5))); do
	grep -q 'injection finished' "$OUT/heaptrack.log" && { ok=1; break; }
	kill -0 "$HT" 2>/dev/null || break
	sleep 0.2
done
if [ "$ok" != 1 ]; then
	cat "$OUT/heaptrack.log" >&2
	prof_die "heaptrack did not attach to pid $BE"
fi
prof_log "heaptrack attached after $(prof_elapsed "$T0")s"

# ---- the workload, with snapshots around it ----
mem_dump "$OUT/mem_before.csv"
ctx_dump "$OUT/ctx_before.csv"
[ "$HAS_SNAPSHOT" = 1 ] && send "SELECT memprof_snapshot('heaptrack $$ before') AS snap_before \\gset"
T1=$(prof_now)
for _ in $(seq "$ITERATIONS"); do send "\\o /dev/null" "\\i '$PROF_WORKLOAD'" "\\o"; done
send "SELECT 'workload done' AS marker \\gset"
mem_dump "$OUT/mem_after.csv"
ctx_dump "$OUT/ctx_after.csv"
if [ "$HAS_SNAPSHOT" = 1 ]; then
	send "SELECT memprof_snapshot('heaptrack $$ after') AS snap_after \\gset" \
		"\\pset format csv" "\\o '$OUT/memprof_diff.csv'" \
		"SELECT * FROM memprof_diff(:snap_before, :snap_after);" "\\o"
fi
send "\\q"
close_feed
wait "$PSQL"
prof_psql_status $? "$OUT/session.err" "the workload session"
prof_log "workload ($ITERATIONS iterations) done in $(prof_elapsed "$T1")s; waiting for heaptrack"
# the backend exits with the session; heaptrack then finishes its file
for _ in $(seq 300); do kill -0 "$HT" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$HT" 2>/dev/null; then
	# heaptrack never got its data (gdb could not inject it): stop, do not hang
	pkill -P "$HT" 2>/dev/null
	kill "$HT" 2>/dev/null
	wait "$HT" 2>/dev/null
	cat "$OUT/heaptrack.log" >&2
	prof_die "heaptrack did not finish within 60 s after the session ended (did gdb inject it? see above)"
fi
wait "$HT" 2>/dev/null
ZST=$(ls "$HT_FILE".* 2>/dev/null | head -1)
if [ -z "$ZST" ] || [ ! -s "$ZST" ]; then
	cat "$OUT/heaptrack.log" >&2
	prof_die "heaptrack wrote no data file"
fi

heaptrack_print -f "$ZST" -n "$TOP" -s 3 >"$OUT/heaptrack_print.txt" 2>&1 \
	|| { tail "$OUT/heaptrack_print.txt" >&2; prof_die "heaptrack_print failed"; }
heaptrack_print -f "$ZST" -n 100000 -s 1 --print-allocators 0 --print-temporary 0 \
	--filter-bt-function memprof >"$OUT/heaptrack_memprof.txt" 2>&1 || true

python3 "$PROF_DIR/tools/heaptrack_report.py" --print "$OUT/heaptrack_print.txt" \
	--memprof "$OUT/heaptrack_memprof.txt" --data "$ZST" --out "$OUT" --top "$TOP" \
	--max-peak "$MAX_PEAK_MIB" --max-memprof-peak "$MAX_MEMPROF_PEAK_MIB" \
	--workload "$PROF_WORKLOAD" --iterations "$ITERATIONS"
