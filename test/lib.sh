# test/lib.sh: shared by test/run, test/quickstart and the benchmarks.
# Source it; it defines functions and sets nothing running.
#
# PostgreSQL refuses to run as root, so clusters belong to the `postgres`
# OS user, live in a private directory under /tmp, listen on a private port
# and a private socket directory only (no TCP).

# PG_CONFIG selects the server to build against and test with (default: the
# pg_config on PATH, else Debian's PostgreSQL 15).
PG_CONFIG=${PG_CONFIG:-$(command -v pg_config || echo /usr/lib/postgresql/15/bin/pg_config)}
export PG_CONFIG
PGBIN=${PGBIN:-$("$PG_CONFIG" --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}
MEMPROF_ROOT=${MEMPROF_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

# as_pg CMD...: run CMD as the postgres OS user (directly when already that user).
as_pg() {
	if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

# ensure_packages: install PostgreSQL 15, its server headers, pgTAP and
# pg_prove if any is missing.  Needs root (apt-get).
ensure_packages() {
	local need=()
	local p
	for p in postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap \
		libtap-parser-sourcehandler-pgtap-perl make g++ python3 "$@"; do
		dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
	done
	[ ${#need[@]} -eq 0 ] && return 0
	echo "== installing: ${need[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing packages and not root: ${need[*]}" >&2
		return 1
	fi
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
}

# build_install: build and install memprof and the test-only module.
# Fails when memprof's code compiles with warnings.
build_install() {
	local log
	log=$(mktemp)
	( cd "$MEMPROF_ROOT" && make -s clean PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1
	  make -C test/memprof_test -s clean PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1
	  make PG_CONFIG="$PG_CONFIG" 2>&1 && make PG_CONFIG="$PG_CONFIG" install 2>&1 \
		&& make -C test/memprof_test PG_CONFIG="$PG_CONFIG" 2>&1 \
		&& make -C test/memprof_test PG_CONFIG="$PG_CONFIG" install 2>&1 ) >"$log" 2>&1
	local rc=$?
	if [ $rc -ne 0 ]; then cat "$log"; rm -f "$log"; echo "build failed" >&2; return 1; fi
	if grep -E '(warning|error):' "$log" | grep -q .; then
		grep -E -B2 -A3 '(warning|error):' "$log"
		rm -f "$log"
		echo "build produced warnings (-Wall -Wextra must be clean)" >&2
		return 1
	fi
	rm -f "$log"
}

# cluster_init DIR: a fresh cluster owned by postgres in DIR.
cluster_init() {
	local dir=$1
	rm -rf "$dir"
	mkdir -p "$dir"
	chown postgres:postgres "$dir" 2>/dev/null || true
	chmod 700 "$dir"
	as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
		|| { cat "$dir/initdb.log"; return 1; }
	mkdir -p "$dir/sock"
	chown postgres:postgres "$dir/sock" 2>/dev/null || true
}

# cluster_start DIR PORT [PRELOAD] [extra -c settings...]
cluster_start() {
	local dir=$1 port=$2 preload=${3-memprof}
	shift 3 || shift $#
	local opts="-c port=$port -c listen_addresses= -c unix_socket_directories=$dir/sock"
	opts="$opts -c shared_preload_libraries=$preload -c max_connections=60"
	opts="$opts -c logging_collector=off -c log_min_messages=warning -c fsync=off"
	local extra
	for extra in "$@"; do opts="$opts -c $extra"; done
	as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$opts" start >/dev/null \
		|| { echo "cluster did not start; log follows" >&2; tail -30 "$dir/server.log" >&2; return 1; }
}

cluster_stop() {
	local dir=$1
	[ -f "$dir/data/postmaster.pid" ] || return 0
	as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || \
		as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
}

# psql against a cluster started by cluster_start: pg_psql DIR PORT [args]
pg_psql() {
	local dir=$1 port=$2
	shift 2
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/sock" -p "$port" -U postgres "$@"
}
