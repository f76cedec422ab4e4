# shellcheck shell=bash
# profiling/lib.sh: shared by the profiling drivers (valgrind.sh, heaptrack.sh,
# soak.sh, baseline.sh).  Source it after setting PROF_NAME (the script's
# short name) and PROF_DEFAULT_PORT; it sources test/lib.sh (as_pg,
# cluster_init, cluster_start, cluster_stop, ensure_packages, build_install)
# and defines functions only.
#
# What every driver gets from here:
#   prof_parse_args      the command line: --help, the script's own options
#                        (a handler function), then prof_common_opt
#   prof_common_opt      the options every script takes (--host, --port,
#                        --user, --workload, --out, --keep-cluster, --build)
#   prof_setup_out       the output directory
#   prof_ensure          packages (apt-get) and an installed memprof
#   prof_start_cluster   a throwaway cluster (own port, own socket directory
#                        under /tmp, as the postgres OS user, memprof
#                        preloaded) or the given one; our own database in it
#   prof_cleanup         everything this script started, stopped; run from the traps
#                        prof_traps installs (INT TERM EXIT)
#   prof_psql            psql against our database
#   prof_psql_status     a failed psql session's error output, and exit 2
#   prof_has_backends / prof_has_snapshot   the optional memprof features
#   prof_requires        the extensions a workload file declares it needs

PROF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MEMPROF_ROOT=${MEMPROF_ROOT:-$(cd "$PROF_DIR/.." && pwd)}
# shellcheck source=../test/lib.sh
. "$MEMPROF_ROOT/test/lib.sh"
# our python helpers import each other: leave no __pycache__ in the tree
export PYTHONDONTWRITEBYTECODE=1

PROF_HOST=""            # --host: a socket directory or host name; empty = throwaway cluster
PROF_PORT=""            # --port
PROF_USER=postgres      # --user (a superuser: extensions are created, /proc is read)
PROF_WORKLOAD=""        # --workload FILE
PROF_OUT=""             # --out DIR
PROF_KEEP_CLUSTER=0     # --keep-cluster: leave the throwaway cluster's files (stopped)
PROF_BUILD=0            # --build: build and install memprof first (test/lib.sh build_install)
PROF_CLUSTER_DIR=""     # the throwaway cluster, when this script owns one
PROF_DB=""              # our database (created, dropped at the end)
PROF_PIDS=()            # background processes started here, stopped by prof_cleanup
PROF_CLEANUP_HOOKS=()   # extra cleanup commands (functions), run first
PROF_CLEANED=0

prof_log() { printf '== %s\n' "$*" >&2; }
prof_die() { printf '%s: %s\n' "$PROF_NAME" "$*" >&2; exit 2; }

# The part of --help that every script shares.
prof_common_help() {
	cat <<EOF
Server (default: a throwaway cluster):
  --host DIR|HOST   use this running server instead (socket directory or host;
                    it must run on this machine, so that /proc can be read)
  --port N          its port (default with --host: 5432; for the throwaway
                    cluster: $PROF_DEFAULT_PORT)
  --user NAME       superuser to connect as (default postgres)
  --keep-cluster    keep the throwaway cluster's directory (stopped) afterwards
  --build           build and install memprof first (test/lib.sh build_install);
                    otherwise it is built only when it is not installed
Output:
  --out DIR         write everything here (default /tmp/memprof-profiling/$PROF_NAME-<date>)
  -h, --help        this text
EOF
}

# prof_common_opt "$@": consumes one common option; sets PROF_SHIFT to the
# number of arguments used, or returns 1 when $1 is not a common option.
prof_common_opt() {
	PROF_SHIFT=2
	case $1 in
	--host) PROF_HOST=${2:?--host needs a value} ;;
	--port) PROF_PORT=${2:?--port needs a value} ;;
	--user) PROF_USER=${2:?--user needs a value} ;;
	--workload) PROF_WORKLOAD=${2:?--workload needs a file} ;;
	--out) PROF_OUT=${2:?--out needs a directory} ;;
	--keep-cluster) PROF_KEEP_CLUSTER=1; PROF_SHIFT=1 ;;
	--build) PROF_BUILD=1; PROF_SHIFT=1 ;;
	*) return 1 ;;
	esac
	return 0
}

# prof_split_args "$@": prints the arguments NUL-separated with --opt=value
# split into --opt value; use as: eval-free
#   mapfile -d '' args < <(prof_split_args "$@"); set -- "${args[@]}"
prof_split_args() {
	local a
	for a in "$@"; do
		case $a in
		--*=*) printf '%s\0%s\0' "${a%%=*}" "${a#*=}" ;;
		*) printf '%s\0' "$a" ;;
		esac
	done
}

# prof_parse_args HANDLER "$@": the command line, --opt=value split into
# --opt value (prof_split_args).  For each option: -h/--help prints the
# script's usage (its function `usage`) and exits 0; otherwise HANDLER
# "$@" is called with PROF_SHIFT set to 2 and handles the script's own
# options like prof_common_opt does (sets its variable, PROF_SHIFT=1 for an
# option without a value, returns 1 for one that is not its own); then the
# common options; anything else is an error (exit 2).
prof_parse_args() {
	local handler=$1 args
	shift
	mapfile -d '' args < <(prof_split_args "$@")
	set -- "${args[@]}"
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) usage; exit 0 ;;
		esac
		PROF_SHIFT=2
		"$handler" "$@" || prof_common_opt "$@" \
			|| { echo "$PROF_NAME.sh: unknown option $1 (see --help)" >&2; exit 2; }
		[ "$PROF_SHIFT" -le $# ] \
			|| { echo "$PROF_NAME.sh: option $1 needs a value (see --help)" >&2; exit 2; }
		shift "$PROF_SHIFT"
	done
}

prof_is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
prof_is_num() { [[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]]; }

# prof_setup_out: create the output directory (readable by the postgres user).
prof_setup_out() {
	[ -n "$PROF_OUT" ] || PROF_OUT=/tmp/memprof-profiling/$PROF_NAME-$(date +%Y%m%d-%H%M%S)
	mkdir -p "$PROF_OUT" || prof_die "cannot create $PROF_OUT"
	PROF_OUT=$(cd "$PROF_OUT" && pwd)
	chmod 755 "$PROF_OUT"
	prof_log "output directory: $PROF_OUT"
}

# prof_ensure [PACKAGES...]: PostgreSQL 15 and friends plus the given
# Debian packages (apt-get, as root), and an installed memprof and
# memprof_test (built with test/lib.sh's build_install when missing or
# when --build was given).
prof_ensure() {
	ensure_packages "$@" || prof_die "could not install packages: $*"
	local pkglib share
	pkglib=$("$PG_CONFIG" --pkglibdir 2>/dev/null || echo /usr/lib/postgresql/15/lib)
	share=$("$PG_CONFIG" --sharedir 2>/dev/null || echo /usr/share/postgresql/15)
	if [ "$PROF_BUILD" = 1 ] || [ ! -f "$pkglib/memprof.so" ] || [ ! -f "$pkglib/memprof_test.so" ] \
		|| [ ! -f "$share/extension/memprof.control" ]; then
		prof_log "building and installing memprof"
		build_install >&2 || prof_die "build_install failed"
	fi
}

# prof_start_cluster [extra settings name=value...]: a throwaway cluster (memprof
# preloaded) unless --host was given; then our own database with the
# extensions the workload needs.  Exports PGHOST PGPORT PGUSER PGDATABASE.
prof_start_cluster() {
	if [ -n "$PROF_HOST" ]; then
		PROF_PORT=${PROF_PORT:-5432}
		export PGHOST=$PROF_HOST PGPORT=$PROF_PORT PGUSER=$PROF_USER
		"$PGBIN/pg_isready" -q -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -t 10 \
			|| prof_die "no server at host $PGHOST port $PGPORT"
		prof_log "using the running server at $PGHOST port $PGPORT"
	else
		PROF_PORT=${PROF_PORT:-$PROF_DEFAULT_PORT}
		PROF_CLUSTER_DIR=$(mktemp -d "/tmp/memprof-$PROF_NAME-cluster.XXXXXX")
		prof_log "throwaway cluster in $PROF_CLUSTER_DIR, port $PROF_PORT, memprof preloaded"
		cluster_init "$PROF_CLUSTER_DIR" >&2 || prof_die "initdb failed"
		cluster_start "$PROF_CLUSTER_DIR" "$PROF_PORT" memprof "$@" >&2 \
			|| prof_die "the cluster did not start"
		export PGHOST=$PROF_CLUSTER_DIR/sock PGPORT=$PROF_PORT PGUSER=postgres
	fi
	prof_create_db
}

# prof_create_db: our own database (dropped by prof_cleanup) with memprof
# and whatever the workload declares (see prof_requires).
prof_create_db() {
	PROF_DB=memprof_${PROF_NAME}_$$
	export PGDATABASE=$PROF_DB
	PGOPTIONS="-c client_min_messages=warning" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres \
		-c "DROP DATABASE IF EXISTS $PROF_DB" -c "CREATE DATABASE $PROF_DB" >/dev/null \
		|| prof_die "could not create database $PROF_DB"
	local ext
	for ext in memprof $(prof_requires "${PROF_WORKLOAD:-/dev/null}"); do
		PGOPTIONS="-c client_min_messages=warning" prof_psql -c "CREATE EXTENSION IF NOT EXISTS $ext" >/dev/null \
			|| prof_die "could not create extension $ext in $PROF_DB"
	done
}

# prof_requires FILE: the extensions a workload declares with lines like
#   -- memprof-requires: memprof_test
# (also looked for in files it includes with \ir).
prof_requires() {
	local f=$1 dir inc
	[ -f "$f" ] || return 0
	dir=$(dirname "$f")
	sed -n 's/^--[[:space:]]*memprof-requires:[[:space:]]*//p' "$f" | tr ', ' '\n\n' | grep -v '^$'
	for inc in $(sed -n 's/^\\ir[[:space:]]\+\([^[:space:]]\+\).*/\1/p' "$f"); do
		prof_requires "$dir/$inc"
	done
}

prof_psql() {
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$PROF_DB" "$@"
}

# prof_sql QUERY: one value, unaligned.
prof_sql() { prof_psql -tA -c "$1"; }

prof_has_backends() { [ "$(prof_sql "SELECT to_regclass('memprof_backends') IS NOT NULL" 2>/dev/null)" = t ]; }
prof_has_snapshot() {
	[ "$(prof_sql "SELECT to_regprocedure('memprof_snapshot(text)') IS NOT NULL
	                  AND EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'memprof_diff')" 2>/dev/null)" = t ]
}

# prof_postmaster_pid: the postmaster's pid (our cluster's postmaster.pid,
# or the parent of the given server's checkpointer).
prof_postmaster_pid() {
	if [ -n "$PROF_CLUSTER_DIR" ] && [ -f "$PROF_CLUSTER_DIR/data/postmaster.pid" ]; then
		head -1 "$PROF_CLUSTER_DIR/data/postmaster.pid"
		return
	fi
	local ck
	ck=$(prof_sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'") || return 1
	[ -n "$ck" ] && awk '/^PPid:/ {print $2}' "/proc/$ck/status" 2>/dev/null
}

# prof_bg PID: remember a background process to stop at cleanup.
prof_bg() { PROF_PIDS+=("$1"); }

# prof_fg STDOUT STDERR CMD ARGS...: run an executable (not a shell
# function) in the background with its output in the two files and wait
# for it, so that INT and TERM are acted on at once (bash runs traps only
# between foreground commands) and the command is stopped by the cleanup.
# (The redirections are not put on the call: a trap run during the wait
# would write into them.)  Returns the command's exit status.
prof_fg() {
	local out=$1 err=$2
	shift 2
	if [ "$out" = "$err" ]; then
		"$@" >"$out" 2>&1 &
	else
		"$@" >"$out" 2>"$err" &
	fi
	local pid=$!
	PROF_PIDS+=("$pid")
	wait "$pid"
}

# prof_psql_status RC ERRFILE WHAT [DETAIL]: nothing when RC, the exit
# status of a psql session, is 0; else "NAME.sh: WHAT failed (psql exit
# RC)DETAIL:" and the last 20 lines of ERRFILE on stderr, and exit 2.
prof_psql_status() {
	[ "$1" -eq 0 ] && return 0
	echo "$PROF_NAME.sh: $3 failed (psql exit $1)${4:-}:" >&2
	tail -20 "$2" >&2
	exit 2
}

# prof_kill_pid PID: TERM, wait up to 10 s, then KILL (that pid only).
prof_kill_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.2
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

prof_cleanup() {
	[ "$PROF_CLEANED" = 1 ] && return 0
	PROF_CLEANED=1
	local h pid
	for h in "${PROF_CLEANUP_HOOKS[@]}"; do "$h" || true; done
	for pid in "${PROF_PIDS[@]}"; do prof_kill_pid "$pid"; done
	if [ -n "$PROF_DB" ] && [ -z "$PROF_CLUSTER_DIR" ] && [ -n "${PGHOST:-}" ]; then
		# our sessions are gone; make sure of it before dropping
		"$PGBIN/psql" -X -q -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = '$PROF_DB' AND pid <> pg_backend_pid()" >/dev/null 2>&1
		"$PGBIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $PROF_DB" >/dev/null 2>&1 \
			|| echo "$PROF_NAME: could not drop database $PROF_DB" >&2
	fi
	if [ -n "$PROF_CLUSTER_DIR" ]; then
		cluster_stop "$PROF_CLUSTER_DIR"
		if [ "$PROF_KEEP_CLUSTER" = 1 ]; then
			echo "$PROF_NAME: cluster kept (stopped) in $PROF_CLUSTER_DIR" >&2
		else
			rm -rf "$PROF_CLUSTER_DIR"
		fi
	fi
}

# prof_traps: cleanup on exit, also when interrupted.
prof_traps() {
	trap 'prof_cleanup' EXIT
	trap 'echo "$PROF_NAME: interrupted" >&2; exit 130' INT TERM
}

# prof_workload_default NAME: PROF_WORKLOAD defaults to workloads/NAME;
# it must exist; made absolute.
prof_workload_default() {
	[ -n "$PROF_WORKLOAD" ] || PROF_WORKLOAD=$PROF_DIR/workloads/$1
	[ -f "$PROF_WORKLOAD" ] || prof_die "no workload file $PROF_WORKLOAD"
	PROF_WORKLOAD=$(cd "$(dirname "$PROF_WORKLOAD")" && pwd)/$(basename "$PROF_WORKLOAD")
}

# prof_now: seconds since the epoch, with fractions.
prof_now() { date +%s.%N; }
prof_elapsed() { awk -v a="$1" -v b="$(prof_now)" 'BEGIN { printf "%.1f", b - a }'; }
