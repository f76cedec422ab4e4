# test/bench_lib.sh: set-up shared by the benchmarks.  Source after lib.sh.
#
# bench_cluster PORT: use BENCH_PGHOST/BENCH_PGPORT if given, else build,
#   install and start a throwaway cluster with memprof preloaded on PORT
#   (BENCH_CLUSTER_PORT overrides it) in BENCH_DIR (default
#   /tmp/memprof-bench-PORT), stopped on exit.  The server is the one
#   PG_CONFIG names (test/lib.sh).  Exports PGHOST, PGPORT, PGUSER; sets PSQL.
# bench_db TABLES: a fresh database memprof_bench with memprof and TABLES
#   tables, each with a primary key and one more index.
# bench_touch_sql TABLES: psql input that touches every table once in the
#   session (one statement each, so locks are released as it goes), giving
#   the backend about 2 x TABLES relcache "index info" contexts.

bench_cluster() {
	local port=${BENCH_CLUSTER_PORT:-$1}
	if [ -n "${BENCH_PGPORT:-}" ]; then
		export PGHOST=${BENCH_PGHOST:-/tmp} PGPORT=$BENCH_PGPORT PGUSER=${PGUSER:-postgres}
	else
		ensure_packages
		build_install >/dev/null
		BENCH_DIR=${BENCH_DIR:-/tmp/memprof-bench-$port}
		trap 'cluster_stop $BENCH_DIR' EXIT
		cluster_stop "$BENCH_DIR"
		cluster_init "$BENCH_DIR"
		cluster_start "$BENCH_DIR" "$port" memprof
		export PGHOST="$BENCH_DIR/sock" PGPORT="$port" PGUSER=postgres
	fi
	PSQL="$PGBIN/psql -X -q -v ON_ERROR_STOP=1"
}

bench_db() {
	local tables=$1
	$PSQL -c "DROP DATABASE IF EXISTS memprof_bench" -c "CREATE DATABASE memprof_bench" >/dev/null 2>&1
	$PSQL -d memprof_bench >/dev/null <<SQL
CREATE EXTENSION memprof;
SELECT format('CREATE TABLE bench_t%s (id int PRIMARY KEY, v int); CREATE INDEX ON bench_t%s (v)', i, i)
  FROM generate_series(1, $tables) i
\gexec
SQL
}

bench_touch_sql() {
	cat <<SQL
\\o /dev/null
SELECT format('SELECT * FROM bench_t%s WHERE id = 1 AND v = 1', i)
  FROM generate_series(1, $1) i
\\gexec
\\o
SQL
}
