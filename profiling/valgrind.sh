#!/usr/bin/env bash
# profiling/valgrind.sh: a PostgreSQL server with memprof preloaded, run
# under valgrind memcheck, driven by a workload; fails on leaks and invalid
# accesses that involve memprof's code.  See --help and profiling/README.md.
set -u
PROF_NAME=valgrind
PROF_DEFAULT_PORT=54341
# shellcheck source=profiling/lib.sh
. "$(dirname "$0")/lib.sh"

QUICK=0
REGRESS=""              # default: on for the full run, off with --quick
ITERATIONS=""           # default: 3, 1 with --quick
DATADIR=""
OURS=memprof
STRICT=0
ORIGINS=0
EXTRA_SUPP=()
START_TIMEOUT=180
REGRESS_EXCLUDE=""
PLANT=0

usage() {
	cat <<EOF
Usage: profiling/valgrind.sh [options]

Starts a PostgreSQL 15 server with memprof in shared_preload_libraries
with the postmaster itself under valgrind memcheck (every backend and
auxiliary process it forks is checked too: one XML file per process,
OUT/vg/vg.PID.xml; valgrind's own messages in OUT/vg/valgrind.log):

  valgrind --leak-check=full --show-leak-kinds=definite,indirect
           --errors-for-leak-kinds=definite,indirect --num-callers=30
           --suppressions=profiling/valgrind/postgres.supp --trace-children=yes
           --gen-suppressions=all --fullpath-after= --xml=yes
           --xml-file=OUT/vg/vg.%p.xml --log-file=OUT/vg/valgrind.log
           postgres -D DATADIR -c shared_preload_libraries=memprof ...

then runs the workload in one session (--iterations times), optionally the
regression suite (sql/*.sql, each file in its own session), stops the
server (fast shutdown: every process exits and valgrind checks its leaks)
and reads the XML files (tools/vgreport.py, with python3's xml.etree).
PostgreSQL's memory contexts are not malloc leaks (they are freed
wholesale or live until exit and stay reachable); what
memcheck finds is malloc-level: memprof's C++ side, libraries, and invalid
or uninitialised accesses anywhere.

Verdict (exit 1 = fail, 0 = pass, 2 = could not run): FAIL when any
definitely or indirectly lost block, invalid read/write/free, or use of
uninitialised memory that survives the suppressions has a stack frame in
our code: matching --ours (default "memprof": memprof.so, memprof_test.so,
memprof's functions) or a source file under this repository.  Errors
elsewhere (PostgreSQL, libc) are listed but do not fail the run unless
--strict.  Also FAIL when a process died under valgrind (a crash, or
valgrind itself giving up, e.g. "VG_N_SEGMENTS is too low"): its leaks
were never checked.  Report: OUT/report.md; suppressions for what is not
ours: OUT/suggested.supp.

Run:
  --quick             the short run of the test suite: the workload once,
                      no regression suite (about 15 seconds on 2 cores)
  --regress           also run the regression suite sql/*.sql (default
                      unless --quick); --no-regress to skip it
  --regress-exclude REGEX  skip the sql/ files whose name matches
  --iterations N      workload iterations in its session (default 3; 1 with --quick)
  --workload FILE     SQL file (default profiling/workloads/memprof_views.sql)
  --datadir DIR       run this existing, stopped data directory under valgrind
                      instead of a fresh throwaway cluster (valgrind has to
                      start the postmaster, so a running server cannot be
                      used; --host is not supported here).  The database
                      the run creates there is dropped at the end; the
                      regression suite creates (and drops) roles.
  --port N            port of the server under valgrind (default $PROF_DEFAULT_PORT)
Judging:
  --ours REGEX        frames that are ours (default "$OURS")
  --strict            also fail on unsuppressed errors that are not ours
  --suppressions FILE more suppressions (repeatable), after postgres.supp
  --track-origins     valgrind --track-origins=yes (slower; says where
                      uninitialised values come from)
  --plant-errors      negative control: compile profiling/valgrind/probe/
                      memprof_vgprobe.c into OUT/probe and call it after the
                      workload: a malloc leak, an invalid read and a jump on
                      uninitialised memory in a module named memprof_*; the
                      run must then FAIL (exit 1)
Output:
  --out DIR           (default /tmp/memprof-profiling/valgrind-<date>)
  --keep-cluster      keep the throwaway cluster's files
  --build             build and install memprof first
  -h, --help          this text

The full run (documented in profiling/README.md; about 4 minutes on 2 cores):
  profiling/valgrind.sh --regress --iterations 5 --track-origins
EOF
}

# valgrind_opt "$@": one of this script's own options (see prof_parse_args)
# shellcheck disable=SC2317 # called by prof_parse_args
valgrind_opt() {
	case $1 in
	--quick) QUICK=1; PROF_SHIFT=1 ;;
	--regress) REGRESS=1; PROF_SHIFT=1 ;;
	--no-regress) REGRESS=0; PROF_SHIFT=1 ;;
	--iterations) ITERATIONS=${2:-} ;;
	--datadir) DATADIR=${2:-} ;;
	--ours) OURS=${2:-} ;;
	--strict) STRICT=1; PROF_SHIFT=1 ;;
	--suppressions) EXTRA_SUPP+=("${2:-}") ;;
	--track-origins) ORIGINS=1; PROF_SHIFT=1 ;;
	--regress-exclude) REGRESS_EXCLUDE=${2:-} ;;
	--plant-errors) PLANT=1; PROF_SHIFT=1 ;;
	--host) prof_die "--host is not supported: valgrind must start the postmaster (use --datadir)" ;;
	*) return 1 ;;
	esac
}
prof_parse_args valgrind_opt "$@"
[ -n "$REGRESS" ] || REGRESS=$((1 - QUICK))
[ -n "$ITERATIONS" ] || ITERATIONS=$([ "$QUICK" = 1 ] && echo 1 || echo 3)
prof_is_uint "$ITERATIONS" || prof_die "--iterations must be a whole number"
SUPP=$PROF_DIR/valgrind/postgres.supp
for s in "$SUPP" "${EXTRA_SUPP[@]}"; do [ -r "$s" ] || prof_die "no suppression file $s"; done

prof_workload_default memprof_views.sql
prof_ensure valgrind gcc
prof_setup_out
OUT=$PROF_OUT
VG=$OUT/vg
rm -rf "$VG" "$OUT"/report.md "$OUT"/suggested.supp "$OUT"/regress
mkdir -p "$VG" "$OUT/regress"
chown postgres "$VG"
PROF_PORT=${PROF_PORT:-$PROF_DEFAULT_PORT}

if [ "$PLANT" = 1 ]; then
	rm -rf "$OUT/probe"
	mkdir -p "$OUT/probe"
	chmod 755 "$OUT/probe"
	gcc -O0 -g -fPIC -shared -I"$("${PG_CONFIG:-pg_config}" --includedir-server)" \
		-o "$OUT/probe/memprof_vgprobe.so" "$PROF_DIR/valgrind/probe/memprof_vgprobe.c" \
		>"$OUT/probe/build.log" 2>&1 || { cat "$OUT/probe/build.log" >&2; prof_die "could not build the probe"; }
	chmod 755 "$OUT/probe/memprof_vgprobe.so"
fi

# ---- the cluster: ours (fresh) or --datadir ----
if [ -n "$DATADIR" ]; then
	[ -f "$DATADIR/PG_VERSION" ] || prof_die "$DATADIR is not a data directory"
	[ -f "$DATADIR/postmaster.pid" ] && prof_die "$DATADIR is in use (postmaster.pid exists); stop it first"
	DATADIR=$(cd "$DATADIR" && pwd)
	SOCK=$(mktemp -d /tmp/memprof-valgrind-sock.XXXXXX)
	chown postgres "$SOCK"
else
	PROF_CLUSTER_DIR=$(mktemp -d /tmp/memprof-valgrind-cluster.XXXXXX)
	prof_log "fresh cluster in $PROF_CLUSTER_DIR"
	cluster_init "$PROF_CLUSTER_DIR" >&2 || prof_die "initdb failed"
	DATADIR=$PROF_CLUSTER_DIR/data
	SOCK=$PROF_CLUSTER_DIR/sock
fi

# valgrind runs as the postgres user, which may not be able to read the
# checkout (a clone under /root, say): it reads copies in the output dir
mkdir -p "$OUT/supp"
cp "$SUPP" "$OUT/supp/postgres.supp"
VG_OPTS=(--leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
	--num-callers=30 --trace-children=yes --gen-suppressions=all --fullpath-after=
	--suppressions="$OUT/supp/postgres.supp" --xml=yes --xml-file="$VG/vg.%p.xml" --log-file="$VG/valgrind.log")
# (one text log for all: valgrind 3.19 reopens only one of the two sinks in
# a forked child, the text log when its name has %p; the XML file, which
# must be one per process, is reopened when the text log's name has no %p)
n=0
for s in "${EXTRA_SUPP[@]}"; do
	n=$((n + 1))
	cp "$s" "$OUT/supp/extra$n.supp"
	VG_OPTS+=(--suppressions="$OUT/supp/extra$n.supp")
done
chmod -R a+rX "$OUT/supp"
[ "$ORIGINS" = 1 ] && VG_OPTS+=(--track-origins=yes)
PG_OPTS=(-D "$DATADIR" -c port="$PROF_PORT" -c listen_addresses= -c unix_socket_directories="$SOCK"
	-c shared_preload_libraries=memprof -c max_connections=20 -c shared_buffers=32MB
	-c autovacuum=off -c jit=off -c huge_pages=off -c fsync=off
	-c logging_collector=off -c log_min_messages=warning)

vg_stop() {
	[ -f "$DATADIR/postmaster.pid" ] || return 0
	prof_log "stopping the server (valgrind checks each process's leaks as it exits)"
	as_pg "$PGBIN/pg_ctl" -D "$DATADIR" -m fast -w -t 300 stop >/dev/null 2>&1 && return 0
	as_pg "$PGBIN/pg_ctl" -D "$DATADIR" -m immediate -w -t 60 stop >/dev/null 2>&1 && return 0
	local pm
	pm=$(head -1 "$DATADIR/postmaster.pid" 2>/dev/null)
	[ -n "$pm" ] && kill -KILL "$pm" 2>/dev/null
	return 0
}
# with --datadir the database created here lives in someone's cluster: drop
# it while the server is still up (the throwaway cluster just goes away)
vg_drop_db() {
	[ -n "$PROF_DB" ] && [ -z "$PROF_CLUSTER_DIR" ] && [ -f "$DATADIR/postmaster.pid" ] || return 0
	"$PGBIN/psql" -X -q -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = '$PROF_DB' AND pid <> pg_backend_pid()" >/dev/null 2>&1
	"$PGBIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $PROF_DB" >/dev/null 2>&1 \
		|| echo "valgrind.sh: could not drop database $PROF_DB" >&2
	PROF_DB=""
}
vg_cleanup() {
	vg_drop_db
	vg_stop
	[ -n "${SOCK:-}" ] && [ -z "$PROF_CLUSTER_DIR" ] && rm -rf "$SOCK"
	return 0
}
PROF_CLEANUP_HOOKS+=(vg_cleanup)
prof_traps

T0=$(prof_now)
prof_log "starting postgres under valgrind memcheck (port $PROF_PORT, logs in $VG)"
(cd /tmp && exec runuser -u postgres -- valgrind "${VG_OPTS[@]}" "$PGBIN/postgres" "${PG_OPTS[@]}") \
	>"$OUT/server.log" 2>&1 &
RUNNER=$!
prof_bg "$RUNNER"
ok=0
for _ in $(seq "$START_TIMEOUT"); do
	if "$PGBIN/pg_isready" -q -h "$SOCK" -p "$PROF_PORT" -U postgres; then ok=1; break; fi
	kill -0 "$RUNNER" 2>/dev/null || break
	sleep 1
done
if [ "$ok" != 1 ]; then
	echo "valgrind.sh: the server did not start under valgrind; log follows" >&2
	tail -30 "$OUT/server.log" >&2
	exit 2
fi
prof_log "server up after $(prof_elapsed "$T0")s"
export PGHOST=$SOCK PGPORT=$PROF_PORT PGUSER=postgres
prof_create_db

# ---- the workload, in one session ----
T1=$(prof_now)
prof_log "workload $PROF_WORKLOAD, $ITERATIONS iterations in one session"
{
	echo "SET client_min_messages = warning;"
	for _ in $(seq "$ITERATIONS"); do echo "\\i '$PROF_WORKLOAD'"; done
	if [ "$PLANT" = 1 ]; then
		so=$OUT/probe/memprof_vgprobe.so
		cat <<EOF
CREATE FUNCTION memprof_vgprobe_leak(int) RETURNS int AS '$so' LANGUAGE C STRICT;
CREATE FUNCTION memprof_vgprobe_overread() RETURNS int AS '$so' LANGUAGE C;
CREATE FUNCTION memprof_vgprobe_uninit() RETURNS int AS '$so' LANGUAGE C;
SELECT memprof_vgprobe_leak(4096), memprof_vgprobe_overread(), memprof_vgprobe_uninit();
EOF
	fi
} >"$OUT/workload.sql"
prof_fg "$OUT/workload.out" "$OUT/workload.err" \
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$PROF_DB" \
	-f "$OUT/workload.sql"
prof_psql_status $? "$OUT/workload.err" "the workload"
prof_log "workload done in $(prof_elapsed "$T1")s"

# ---- the regression suite: sql/*.sql in order, each in its own session ----
if [ "$REGRESS" = 1 ]; then
	T1=$(prof_now)
	prof_psql -c "CREATE EXTENSION IF NOT EXISTS memprof_test" >/dev/null \
		|| prof_die "memprof_test is not installed (run with --build)"
	n=0
	for f in "$MEMPROF_ROOT"/sql/*.sql; do
		b=$(basename "$f" .sql)
		if [ -n "$REGRESS_EXCLUDE" ] && [[ $b =~ $REGRESS_EXCLUDE ]]; then
			prof_log "  $b: skipped (--regress-exclude)"
			continue
		fi
		# after a crash the server restarts and recovers: wait for it
		for _ in $(seq 120); do "$PGBIN/pg_isready" -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" && break; sleep 1; done
		T2=$(prof_now)
		# errors are part of the tests: no ON_ERROR_STOP
		prof_fg "$OUT/regress/$b.out" "$OUT/regress/$b.out" \
			"$PGBIN/psql" -X -a -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$PROF_DB" -f "$f"
		prof_log "  $b: $(prof_elapsed "$T2")s"
		n=$((n + 1))
	done
	prof_log "regression suite: $n files in $(prof_elapsed "$T1")s (outputs in $OUT/regress; not compared: valgrind is the judge here)"
fi

vg_drop_db
vg_stop
wait "$RUNNER" 2>/dev/null
prof_log "server stopped; total $(prof_elapsed "$T0")s under valgrind"
# a process that died under valgrind was never leak-checked: say which and why
CRASH=0
# (the logical replication launcher exits with code 1 at every shutdown: normal)
DIED='terminated by signal|server process \(PID [0-9]+\) exited with exit code [1-9]|PANIC'
if grep -qE "$DIED" "$OUT/server.log"; then
	echo "valgrind.sh: the server log shows a process that died:" >&2
	grep -E -A2 "$DIED" "$OUT/server.log" | head -20 >&2
	CRASH=1
fi
if grep -q 'Valgrind: FATAL' "$OUT/server.log" "$VG"/valgrind.log 2>/dev/null; then
	echo "valgrind.sh: valgrind itself gave up in a process (a limit of valgrind, not an error it found):" >&2
	grep -h -A1 'Valgrind: FATAL' "$OUT/server.log" "$VG"/valgrind.log 2>/dev/null | head -6 >&2
	CRASH=1
fi

rep_args=(--logs "$VG" --ours "$OURS" --root "$MEMPROF_ROOT/src" --root "$MEMPROF_ROOT/test"
	--report "$OUT/report.md" --suggest "$OUT/suggested.supp"
	--title "valgrind memcheck: memprof, workload $(basename "$PROF_WORKLOAD") x$ITERATIONS$([ "$REGRESS" = 1 ] && echo ', regression suite')")
[ "$STRICT" = 1 ] && rep_args+=(--strict)
python3 "$PROF_DIR/tools/vgreport.py" "${rep_args[@]}"
rc=$?
if [ "$CRASH" = 1 ] && [ "$rc" = 0 ]; then
	rc=1
	printf '\n**FAIL**: a process died under valgrind (see %s); its leaks were not checked.\n' \
		"$OUT/server.log" >>"$OUT/report.md"
	echo "a process died under valgrind: its leaks were not checked"
fi
case $rc in
0) echo "verdict: pass (report: $OUT/report.md)" ;;
1) echo "verdict: FAIL (report: $OUT/report.md)" ;;
*) echo "verdict: could not judge (report: $OUT/report.md)" ;;
esac
exit "$rc"
