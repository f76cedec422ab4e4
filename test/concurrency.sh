#!/usr/bin/env bash
# test/concurrency.sh DIR PORT [SECONDS] [CLIENTS]: many concurrent remote
# fetches against a running cluster (socket DIR/sock) with memprof preloaded.
# pgbench runs a custom script on CLIENTS clients (default 16) for SECONDS
# (default 60): each transaction fetches the whole tree of a random client
# backend (possibly itself) and checks it has a root and a
# CacheMemoryContext.  The documented errors of a target that exits while
# asked (at the end of the run, clients disconnect while others still ask
# them: 55000, or 22023 if it was gone before the request) and of timeouts
# (55P03) are counted, not failures; any other error, or a wrong tree, aborts
# the client and fails the check.  Prints TAP-style lines; passes when pgbench reports
# no failed transaction and no aborted client, every transaction's check
# held, no fetch buffer is left busy, and the server is still up.
set -u
DIR=$1 PORT=$2 SECONDS_=${3:-60} CLIENTS=${4:-16}
cd "$(dirname "$0")/.."
. test/lib.sh
export PGHOST="$DIR/sock" PGPORT="$PORT" PGUSER=postgres
script=$(mktemp)
cat >"$script" <<'SQL'
SELECT pid AS target FROM pg_stat_activity
 WHERE backend_type = 'client backend' AND datname = 'memprof_conc' ORDER BY random() LIMIT 1 \gset
SELECT conc_fetch(:target);
SQL
"$PGBIN/dropdb" --if-exists memprof_conc 2>/dev/null
"$PGBIN/createdb" memprof_conc && "$PGBIN/psql" -X -q -d memprof_conc <<'SQL' || { echo "not ok - concurrency: set-up"; exit 1; }
CREATE EXTENSION memprof;
CREATE FUNCTION conc_fetch(target int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FILTER (WHERE depth = 0) = 1
               AND count(*) FILTER (WHERE name = 'CacheMemoryContext') = 1
          FROM memprof_backend_contexts(target, 10000)) THEN
        RETURN 1;
    END IF;
    RAISE EXCEPTION 'wrong tree for pid %', target;
EXCEPTION WHEN object_not_in_prerequisite_state OR lock_not_available
              OR invalid_parameter_value THEN
    RAISE LOG 'memprof concurrency: documented error % for pid %', SQLSTATE, target;
    RETURN 0;
END $$;
SQL
out=$("$PGBIN/pgbench" -n -d memprof_conc -c "$CLIENTS" -j 2 -T "$SECONDS_" -f "$script" 2>&1)
rc=$?
rm -f "$script"
echo "$out" | grep -E "number of (transactions|failed)|tps|aborted|error" | sed 's/^/# /'
tx=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
failed=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
if [ "$rc" -eq 0 ] && [ -n "$tx" ] && [ "$tx" -gt 0 ] && [ "${failed:-0}" -eq 0 ] && ! echo "$out" | grep -q "aborted"; then
	echo "ok - concurrency: $CLIENTS clients x ${SECONDS_}s of remote fetches: $tx transactions, none failed"
else
	echo "not ok - concurrency: pgbench rc=$rc transactions=${tx:-?} failed=${failed:-?}"
	echo "$out" | tail -20 | sed 's/^/# /'
fi
documented=$(grep -c "memprof concurrency: documented error" "$DIR/server.log" 2>/dev/null)
echo "# documented errors (target exited or timed out): ${documented:-0}"
busy=$("$PGBIN/psql" -X -qtA -d memprof_conc -c "SELECT count(*) FROM memprof_fetch_buffers() WHERE state <> 'free'")
if [ "$busy" = "0" ]; then echo "ok - concurrency: every fetch buffer is free afterwards"; else echo "not ok - concurrency: $busy fetch buffers still busy"; fi
"$PGBIN/dropdb" memprof_conc
