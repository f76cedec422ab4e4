#!/usr/bin/env bash
# profiling/report.sh: a self-contained HTML report of memprof's figures.
#
# One file, OUT/index.html, that opens in any browser with no network: an
# interactive icicle (flame) graph of one process's memory-context tree
# (click to zoom, search box), the largest processes from memprof_backends,
# a snapshot diff table (--diff), and a soak run's plot (--soak-dir).  The
# graph is drawn by d3-flame-graph (npm), inlined with d3.  See
# docs/report.md.
set -u -o pipefail

usage() {
	cat <<'EOF'
usage: profiling/report.sh [options]

Writes OUT/index.html, a self-contained report (no network needed to open it).

Server (default: a throwaway cluster, started here with memprof in
shared_preload_libraries as the postgres OS user, with a little built-in
workload, and removed at the end):
  --host HOST         a running server: socket directory or host name
  --port N            its port (default $PGPORT or 5432); without --host, the
                      throwaway cluster's port (default 54360)
  --db NAME           database where memprof is installed (default $PGDATABASE
                      or postgres)
  --user NAME         role, a superuser or member of pg_read_all_stats
                      (default $PGUSER or postgres)

What to draw (one graph; the page can switch between the views it holds):
  --pid PID|self|auto process whose live tree is drawn (memprof_folded_pid).
                      auto (default): the throwaway cluster's workload backend;
                      on a running server the process with the largest
                      context total in memprof_backends (not the report's own
                      connection), or self when there is none or memprof is
                      not preloaded.  self: a fresh backend of the report's own
                      connection (memprof_folded).
  --snapshot ID       draw stored snapshot ID instead (memprof_folded(ID))
  --diff FROM TO      add the memprof_diff(FROM, TO) table and a second view,
                      the growth between them (memprof_folded_diff)
  --what COLUMN       total_bytes or used_bytes (default total_bytes for trees,
                      used_bytes for the growth view)

Also:
  --soak-dir DIR      a profiling/soak.sh output directory: embeds its PNG plot
                      (soak.png, else the first *.png) and its report.md
  --top N             processes in the table (default 25)
  --title TEXT        page title
  --out DIR           output directory (default /tmp/memprof-report)
  --build             build and install memprof first (throwaway cluster only;
                      done anyway when it is not installed)
  --keep-cluster      do not remove the throwaway cluster's files
  -h, --help          this text

Outputs in OUT: index.html (the report), folded.txt (the folded stacks drawn
first), folded-growth.txt (with --diff), backends.json, process.json,
diff.json, diff-headers.json.

Exit status: 0 report written; 1 a query failed; 2 bad usage or setup failed.
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/profiling/report
# shellcheck source=../test/lib.sh
. "$ROOT/test/lib.sh"

HOST=
PORT=
DB=${PGDATABASE:-postgres}
DBUSER=${PGUSER:-postgres}
PID_ARG=auto
SNAPSHOT=
DIFF_FROM=
DIFF_TO=
WHAT=
SOAK_DIR=
TOP=25
TITLE=
OUT=/tmp/memprof-report
BUILD=0
KEEP=0

die() { echo "report.sh: $*" >&2; exit 2; }
is_int() { [[ $1 =~ ^[0-9]+$ ]]; }

while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--host) HOST=${2:?--host needs a value}; shift 2 ;;
	--port) PORT=${2:?--port needs a value}; shift 2 ;;
	--db) DB=${2:?--db needs a value}; shift 2 ;;
	--user) DBUSER=${2:?--user needs a value}; shift 2 ;;
	--pid) PID_ARG=${2:?--pid needs a value}; shift 2 ;;
	--snapshot) SNAPSHOT=${2:?--snapshot needs a value}; shift 2 ;;
	--diff) [ $# -ge 3 ] || die "--diff needs FROM and TO"; DIFF_FROM=$2; DIFF_TO=$3; shift 3 ;;
	--what) WHAT=${2:?--what needs a value}; shift 2 ;;
	--soak-dir) SOAK_DIR=${2:?--soak-dir needs a value}; shift 2 ;;
	--top) TOP=${2:?--top needs a value}; shift 2 ;;
	--title) TITLE=${2:?--title needs a value}; shift 2 ;;
	--out) OUT=${2:?--out needs a value}; shift 2 ;;
	--build) BUILD=1; shift ;;
	--keep-cluster) KEEP=1; shift ;;
	*) echo "report.sh: unknown option $1" >&2; echo "try --help" >&2; exit 2 ;;
	esac
done

[ -z "$PORT" ] || is_int "$PORT" || die "--port must be a number, not $PORT"
is_int "$TOP" && [ "$TOP" -ge 1 ] || die "--top must be a positive number, not $TOP"
case $PID_ARG in auto | self) ;; *) is_int "$PID_ARG" || die "--pid must be a number, self or auto, not $PID_ARG" ;; esac
[ -z "$SNAPSHOT" ] || is_int "$SNAPSHOT" || die "--snapshot must be a snapshot id, not $SNAPSHOT"
if [ -n "$DIFF_FROM" ]; then
	is_int "$DIFF_FROM" && is_int "$DIFF_TO" || die "--diff needs two snapshot ids, not $DIFF_FROM $DIFF_TO"
fi
case ${WHAT:-total_bytes} in total_bytes | used_bytes) ;; *) die "--what must be total_bytes or used_bytes, not $WHAT" ;; esac
if [ -n "$SOAK_DIR" ] && [ ! -d "$SOAK_DIR" ]; then die "--soak-dir $SOAK_DIR is not a directory"; fi
if [ -z "$HOST" ] && { [ -n "$SNAPSHOT" ] || [ -n "$DIFF_FROM" ]; }; then
	die "--snapshot and --diff read snapshots stored in a running server: give its --host and --port"
fi
if [ -n "$SNAPSHOT" ] && [ "$PID_ARG" != auto ]; then
	die "--pid and --snapshot exclude each other (a snapshot is of the process it was taken of)"
fi
if [ -z "$HOST" ] && is_int "$PID_ARG"; then
	die "--pid N names a process of a running server: give its --host and --port"
fi

# ---- what this script starts, and its end ----
CLUSTER=
WORKLOAD_PID=
CHILD=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$CHILD" ] && kill "$CHILD" 2>/dev/null
	if [ -n "$WORKLOAD_PID" ]; then
		kill "$WORKLOAD_PID" 2>/dev/null
		wait "$WORKLOAD_PID" 2>/dev/null
	fi
	if [ -n "$CLUSTER" ]; then
		cluster_stop "$CLUSTER"
		if [ "$KEEP" = 1 ]; then echo "report.sh: kept the cluster's files in $CLUSTER" >&2; else rm -rf "$CLUSTER"; fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "report.sh: interrupted" >&2; exit 130' INT
trap 'echo "report.sh: terminated" >&2; exit 143' TERM

# run a command in the background and wait for it, so that a signal is
# acted on at once (bash runs traps only between foreground commands)
run() {
	"$@" <&0 &
	CHILD=$!
	wait "$CHILD"
	local rc=$?
	CHILD=
	return $rc
}

# ---- node and the flame-graph library ----
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	[ "$(id -u)" -eq 0 ] || die "node and npm are needed (apt-get install nodejs npm)"
	echo "== installing nodejs and npm" >&2
	run bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null' \
		|| die "could not install nodejs and npm"
fi
if [ ! -f "$HERE/node_modules/d3-flame-graph/package.json" ] || [ ! -f "$HERE/node_modules/d3/package.json" ]; then
	echo "== npm ci in $HERE (d3, d3-flame-graph)" >&2
	( cd "$HERE" && run npm ci --no-audit --no-fund --loglevel=error ) >&2 \
		|| ( cd "$HERE" && run npm install --no-audit --no-fund --loglevel=error ) >&2 \
		|| die "npm could not install d3 and d3-flame-graph"
fi

mkdir -p "$OUT" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/index.html "$OUT"/folded.txt "$OUT"/folded-growth.txt "$OUT"/backends.json \
	"$OUT"/backends.err "$OUT"/process.json "$OUT"/diff.json "$OUT"/diff-headers.json "$OUT"/.ready

# ---- the server ----
if [ -z "$HOST" ]; then
	PORT=${PORT:-54360}
	pkglib=$("$PG_CONFIG" --pkglibdir 2>/dev/null)
	share=$("$PG_CONFIG" --sharedir 2>/dev/null)
	if [ "$BUILD" = 1 ] || [ ! -f "$pkglib/memprof.so" ] || [ ! -f "$share/extension/memprof.control" ]; then
		[ "$(id -u)" -eq 0 ] || die "memprof is not installed and building it needs root"
		echo "== building and installing memprof" >&2
		ensure_packages >&2 || die "could not install PostgreSQL packages"
		run build_install >&2 || die "build failed"
	fi
	CLUSTER=$(mktemp -d /tmp/memprof-report-cluster.XXXXXX) || die "mktemp failed"
	echo "== throwaway cluster in $CLUSTER, port $PORT, memprof preloaded" >&2
	run cluster_init "$CLUSTER" || die "initdb failed"
	run cluster_start "$CLUSTER" "$PORT" memprof || die "the throwaway cluster did not start"
	HOST=$CLUSTER/sock
	DB=postgres
	DBUSER=postgres
	SOURCE="throwaway cluster (PostgreSQL $("$PGBIN/postgres" -V | awk '{print $NF}'), memprof preloaded) with the built-in workload"
else
	PORT=${PORT:-${PGPORT:-5432}}
	SOURCE="server $HOST port $PORT, database $DB, user $DBUSER"
fi

export PGAPPNAME=memprof-report
psql_cmd=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U "$DBUSER" -d "$DB")
# q SQL: one query, unaligned, no headers; errors on stderr
q() { run "${psql_cmd[@]}" -At -c "$1"; }

q "SELECT 1" >/dev/null || die "cannot connect to $SOURCE"
if [ -n "$CLUSTER" ]; then
	q "CREATE EXTENSION IF NOT EXISTS memprof" >/dev/null || die "CREATE EXTENSION memprof failed"
	echo "== built-in workload (profiling/report/workload.sql)" >&2
	"${psql_cmd[@]}" -v ready_file="$OUT/.ready" -f "$HERE/workload.sql" >"$OUT/workload.out" 2>&1 &
	WORKLOAD_PID=$!
	for _ in $(seq 1 1200); do
		[ -s "$OUT/.ready" ] && break
		kill -0 "$WORKLOAD_PID" 2>/dev/null || { cat "$OUT/workload.out" >&2; die "the workload failed"; }
		sleep 0.1
	done
	[ -s "$OUT/.ready" ] || die "the workload did not finish in 120 s"
	read -r wl_pid wl_before wl_after <"$OUT/.ready"
	rm -f "$OUT/.ready"
	[ "$PID_ARG" = auto ] && PID_ARG=$wl_pid
	DIFF_FROM=$wl_before
	DIFF_TO=$wl_after
fi

ext=$(q "SELECT extversion FROM pg_extension WHERE extname = 'memprof'") || die "cannot query $SOURCE"
[ -n "$ext" ] || die "memprof is not installed in database $DB (CREATE EXTENSION memprof there, or pass --db)"
SOURCE="$SOURCE; memprof $ext"

notes=()
TREE_WHAT=${WHAT:-total_bytes}
GROWTH_WHAT=${WHAT:-used_bytes}

# ---- which process ----
if [ -z "$SNAPSHOT" ] && [ "$PID_ARG" = auto ]; then
	largest=$(q "SELECT pid FROM memprof_backends WHERE pid <> pg_backend_pid() AND total_bytes IS NOT NULL
	             ORDER BY total_bytes DESC LIMIT 1" 2>"$OUT/backends.err")
	if [ $? -ne 0 ]; then
		notes+=("memprof_backends is not available ($(grep -m1 -o 'ERROR:.*' "$OUT/backends.err" | cut -c8-)); drawing the report's own backend")
		PID_ARG=self
	elif [ -z "$largest" ]; then
		notes+=("no other process has published context figures yet; drawing the report's own backend")
		PID_ARG=self
	elif [ "$(q "SELECT has_function_privilege('memprof_folded_pid(integer, text)', 'EXECUTE')
	               AND has_function_privilege('memprof_backend_contexts(integer, integer)', 'EXECUTE')")" != t ]; then
		notes+=("fetching another process's tree signals it and needs superuser or EXECUTE on memprof_folded_pid and memprof_backend_contexts; drawing the report's own backend")
		PID_ARG=self
	else
		PID_ARG=$largest
	fi
fi

# ---- the graph's folded input, and whose it is ----
graphs=()
if [ -n "$SNAPSHOT" ]; then
	n=$(q "SELECT count(*) FROM memprof_snapshots WHERE id = $SNAPSHOT") || exit 1
	[ "$n" = 1 ] || die "there is no snapshot $SNAPSHOT in database $DB"
	q "SELECT row_to_json(s) FROM (SELECT id AS snapshot_id, * FROM memprof_snapshots WHERE id = $SNAPSHOT) s" \
		>"$OUT/process.json" || exit 1
	q "SELECT * FROM memprof_folded($SNAPSHOT::bigint, '$TREE_WHAT')" >"$OUT/folded.txt" || exit 1
	graphs+=(--graph "tree=$OUT/folded.txt=Snapshot $SNAPSHOT ($TREE_WHAT)")
elif [ "$PID_ARG" = self ]; then
	# both in one session: the tree is this very backend's
	run "${psql_cmd[@]}" -At -v folded="$OUT/folded.txt" -v process="$OUT/process.json" >/dev/null <<EOF || exit 1
\\o :folded
SELECT * FROM memprof_folded('$TREE_WHAT');
\\o :process
SELECT coalesce((SELECT row_to_json(a) FROM (
    SELECT pid, backend_type, datname, usename, application_name, state FROM pg_stat_activity
     WHERE pid = pg_backend_pid()) a), '{}');
EOF
	pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$OUT/process.json")
	graphs+=(--graph "tree=$OUT/folded.txt=Context tree of pid $pid, the report's own backend ($TREE_WHAT)")
else
	q "SELECT * FROM memprof_folded_pid($PID_ARG, '$TREE_WHAT')" >"$OUT/folded.txt" || exit 1
	q "SELECT coalesce((SELECT row_to_json(b) FROM memprof_backends b WHERE pid = $PID_ARG),
	                   json_build_object('pid', $PID_ARG))" >"$OUT/process.json" 2>/dev/null \
		|| echo "{\"pid\": $PID_ARG}" >"$OUT/process.json"
	btype=$(sed -n 's/.*"backend_type":"\([^"]*\)".*/\1/p' "$OUT/process.json")
	graphs+=(--graph "tree=$OUT/folded.txt=Context tree of pid $PID_ARG${btype:+ ($btype)} ($TREE_WHAT)")
fi

# ---- the diff ----
diff_args=()
if [ -n "$DIFF_FROM" ]; then
	n=$(q "SELECT count(*) FROM memprof_snapshots WHERE id IN ($DIFF_FROM, $DIFF_TO)") || exit 1
	[ "$n" = 2 ] || [ "$DIFF_FROM" = "$DIFF_TO" ] || die "--diff $DIFF_FROM $DIFF_TO: no such snapshot in database $DB"
	q "SELECT coalesce(json_agg(to_jsonb(d) - 'n' ORDER BY n), '[]') FROM memprof_diff($DIFF_FROM, $DIFF_TO) WITH ORDINALITY AS d(path, contexts_from, contexts_to, contexts_delta, total_bytes_from, total_bytes_to, total_bytes_delta, used_bytes_from, used_bytes_to, used_bytes_delta, n)" \
		>"$OUT/diff.json" || exit 1
	q "SELECT coalesce(json_agg(s ORDER BY s.id = $DIFF_TO), '[]') FROM memprof_snapshots s WHERE id IN ($DIFF_FROM, $DIFF_TO)" \
		>"$OUT/diff-headers.json" || exit 1
	q "SELECT * FROM memprof_folded_diff($DIFF_FROM, $DIFF_TO, '$GROWTH_WHAT')" >"$OUT/folded-growth.txt" || exit 1
	graphs+=(--graph "growth=$OUT/folded-growth.txt=Growth from snapshot $DIFF_FROM to $DIFF_TO ($GROWTH_WHAT)")
	diff_args=(--diff "$OUT/diff.json" --diff-headers "$OUT/diff-headers.json")
fi

# ---- the processes ----
backend_args=()
if q "SELECT coalesce(json_agg(b), '[]') FROM (
        SELECT * FROM memprof_backends ORDER BY total_bytes DESC NULLS LAST, rss_bytes DESC NULLS LAST, pid
         LIMIT $TOP) b" >"$OUT/backends.json" 2>"$OUT/backends.err"; then
	backend_args=(--backends "$OUT/backends.json")
	rm -f "$OUT/backends.err"
else
	grep -m1 -o 'ERROR:.*' "$OUT/backends.err" | cut -c9- >"$OUT/backends.err.1"
	mv "$OUT/backends.err.1" "$OUT/backends.err"
	backend_args=(--backends-error "$OUT/backends.err")
	rm -f "$OUT/backends.json"
fi

# ---- the soak run ----
soak_args=()
if [ -n "$SOAK_DIR" ]; then
	png=$SOAK_DIR/soak.png
	[ -f "$png" ] || png=$(find "$SOAK_DIR" -maxdepth 1 -name '*.png' -type f | sort | head -1)
	if [ -n "$png" ] && [ -f "$png" ]; then soak_args+=(--soak-png "$png"); else notes+=("no PNG plot in $SOAK_DIR"); fi
	[ -f "$SOAK_DIR/report.md" ] && soak_args+=(--soak-report "$SOAK_DIR/report.md")
	soak_args+=(--soak-dir "$(cd "$SOAK_DIR" && pwd)")
fi

note_args=()
for n in "${notes[@]}"; do note_args+=(--note "$n"); done

run node "$HERE/build.js" --out "$OUT/index.html" --title "${TITLE:-memprof report}" \
	--source "$SOURCE; generated $(date '+%Y-%m-%d %H:%M:%S %Z')" \
	"${graphs[@]}" --process "$OUT/process.json" "${backend_args[@]}" "${diff_args[@]}" \
	"${soak_args[@]}" "${note_args[@]}" || { echo "report.sh: building the page failed" >&2; exit 1; }

lines=$(grep -c . "$OUT/folded.txt")
echo "report: $OUT/index.html ($(wc -c <"$OUT/index.html") bytes; graph input $OUT/folded.txt, $lines lines)"
exit 0
