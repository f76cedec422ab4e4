#!/usr/bin/env bash
# test/isolation.sh DIR PORT: the isolation specs under test/isolation
# (pg_isolation_regress) against a running cluster started by
# test/lib.sh's cluster_start (socket DIR/sock, server log DIR/server.log,
# which the specs read) with memprof preloaded.  The remote fetch's races:
# a requester that times out, one that is cancelled, one that is
# terminated, a target that exits while asked, two requesters at once.
# memprof.publish_interval is -1 for the run (set with ALTER SYSTEM and
# reset afterwards), so that no process publishes unless asked.  Prints
# TAP-style lines, one per spec.
set -u
DIR=$1 PORT=$2
cd "$(dirname "$0")/.."
. test/lib.sh
export PGHOST="$DIR/sock" PGPORT="$PORT" PGUSER=postgres
ISOLATION=$(dirname "$("$PG_CONFIG" --pgxs)")/../test/isolation
ISOLATION=$(cd "$ISOLATION" 2>/dev/null && pwd)
if [ ! -x "$ISOLATION/pg_isolation_regress" ]; then
	echo "not ok - isolation: pg_isolation_regress not found next to $("$PG_CONFIG" --pgxs)"
	exit 0
fi
specs=$(cd test/isolation/specs && ls *.spec | sed 's/\.spec$//' | sort)
out="$DIR/isolation"
rm -rf "$out"
mkdir -p "$out"
chmod 777 "$out"
"$PGBIN/psql" -X -q -d postgres -c "ALTER SYSTEM SET memprof.publish_interval = -1" -c "SELECT pg_reload_conf()" >/dev/null
log="$out/run.log"
# the specs' database, made here (pg_isolation_regress --use-existing): the
# extensions and helpers of test/pgtap/setup.sql, then the table and the
# helpers every spec uses (test/isolation/setup.sql)
"$PGBIN/dropdb" --if-exists memprof_isolation 2>/dev/null &&
	"$PGBIN/createdb" memprof_isolation &&
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d memprof_isolation -f test/pgtap/setup.sql -f test/isolation/setup.sql >"$log" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then
	# shellcheck disable=SC2086
	"$ISOLATION/pg_isolation_regress" --host="$PGHOST" --port="$PORT" --user=postgres \
		--bindir="$PGBIN" --inputdir=test/isolation --outputdir="$out" --dbname=memprof_isolation \
		--use-existing $specs >>"$log" 2>&1
	rc=$?
else
	sed 's/^/# /' "$log"
fi
"$PGBIN/psql" -X -q -d postgres -c "ALTER SYSTEM RESET memprof.publish_interval" -c "SELECT pg_reload_conf()" >/dev/null
grep -E '^(test| ) |^(not )?ok ' "$log" | sed 's/^/# /'
for s in $specs; do
	if grep -qE "^(test| ) *$s +\.\.\. ok|^ok [0-9]+ +[-+] $s " "$log"; then
		echo "ok - isolation: $s"
	else
		echo "not ok - isolation: $s"
		[ -f "$out/regression.diffs" ] &&
			awk -v f="/$s.out" '/^diff /{p = index($0, f) > 0} p' "$out/regression.diffs" | head -60 | sed 's/^/# /'
	fi
done
[ "$rc" -eq 0 ] || echo "# pg_isolation_regress exited with $rc"
