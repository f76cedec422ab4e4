-- memprof_leak_check: verdicts on leaking and clean statements.

-- 1 kB per call in a long-lived context: flagged, right path, slope within
-- 5% of 1024 bytes per iteration (AllocSet adds a 16-byte chunk header).
SELECT path_names, scope, verdict,
       abs(slope_bytes_per_iteration - 1024) / 1024 < 0.05 AS slope_within_5pct,
       r_squared > 0.99 AS straight
  FROM memprof_leak_check('SELECT memprof_test_leak(1024)', 100, 10)
 WHERE verdict = 'leak';

-- 64 bytes per call: flagged within 200 iterations.
SELECT path_names, verdict, slope_bytes_per_iteration BETWEEN 64 AND 96 AS slope_ok
  FROM memprof_leak_check('SELECT memprof_test_leak(64)', 200, 10)
 WHERE path_names IS NOT NULL AND verdict = 'leak';
SELECT memprof_test_leak_free();

-- A burst of 10 MB allocated and freed inside each call is not a leak.
SELECT verdict FROM memprof_leak_check('SELECT memprof_test_burst(10000000)', 100, 10)
 WHERE path_names IS NULL;

-- Ordinary workloads are not flagged: the overall verdict, and no path
-- called a leak.
CREATE TABLE lc_t AS SELECT g AS id, g % 97 AS k, md5(g::text) AS v
  FROM generate_series(1, 20000) g;
CREATE TABLE lc_u AS SELECT g AS k, 'k' || g AS name FROM generate_series(0, 96) g;
CREATE FUNCTION lc_f(n int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE s bigint := 0;
BEGIN
    FOR i IN 1..n LOOP s := s + i; END LOOP;
    RETURN s + (SELECT count(*) FROM lc_u WHERE k < n);
END $$;

SELECT 'sort' AS workload, verdict
  FROM memprof_leak_check('SELECT v FROM lc_t ORDER BY v DESC LIMIT 5', 100, 10) WHERE path_names IS NULL
UNION ALL
SELECT 'prepare/execute/deallocate', verdict
  FROM memprof_leak_check('PREPARE lc_p(int) AS SELECT * FROM lc_t WHERE id = $1; EXECUTE lc_p(42); DEALLOCATE lc_p', 100, 10) WHERE path_names IS NULL
UNION ALL
SELECT 'plpgsql function', verdict
  FROM memprof_leak_check('SELECT lc_f(50)', 100, 10) WHERE path_names IS NULL
UNION ALL
SELECT 'join with group by', verdict
  FROM memprof_leak_check('SELECT u.name, count(*), max(t.v) FROM lc_t t JOIN lc_u u USING (k) GROUP BY u.name', 100, 10) WHERE path_names IS NULL;

-- Growth that the end of the transaction releases is "growing", not
-- "leak": 1 kB per call kept in TopTransactionContext.
SELECT path_names, scope, verdict
  FROM memprof_leak_check($$SELECT memprof_test_leak(1024, 'transaction')$$, 50, 5)
 WHERE verdict <> 'stable';

-- Bad input: each a clear error with its SQLSTATE.
\set VERBOSITY sqlstate
SELECT * FROM memprof_leak_check(NULL);
SELECT * FROM memprof_leak_check('   ;  ');
SELECT * FROM memprof_leak_check('SELECT 1', 0);
SELECT * FROM memprof_leak_check('SELECT 1', -5);
SELECT * FROM memprof_leak_check('SELECT 1', 100001);
SELECT * FROM memprof_leak_check('SELECT 1', NULL);
SELECT * FROM memprof_leak_check('SELECT 1', 10, -1);
SELECT * FROM memprof_leak_check('SELECT 1', 10, 10001);
SELECT * FROM memprof_leak_check('COMMIT', 10, 0);
\set VERBOSITY default
-- an error inside the statement names the iteration
SELECT * FROM memprof_leak_check('SELECT 1 / (3 - count(*)) FROM lc_seen', 10, 0);
CREATE TABLE lc_seen (i int);
SELECT * FROM memprof_leak_check('INSERT INTO lc_seen VALUES (1); SELECT 1 / (3 - count(*)) FROM lc_seen', 10, 0);
-- and nothing of it is left: the inserts were rolled back with the error
SELECT count(*) AS rows_left FROM lc_seen;
-- a statement_timeout cancel in the middle of a check: 57014, with the
-- iteration (which one depends on timing, so it is matched, not printed)
CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE ctx text;
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS OR query_canceled THEN
    GET STACKED DIAGNOSTICS ctx = PG_EXCEPTION_CONTEXT;
    RETURN SQLSTATE || ' ' || SQLERRM || ' / names iteration: '
        || (ctx ~ 'memprof_leak_check iteration [0-9]+ of 1000')::text;
END $$;
SET statement_timeout = '300ms';
SELECT pg_temp.error_of($$SELECT * FROM memprof_leak_check('SELECT pg_sleep(0.02)', 1000, 0)$$);
RESET statement_timeout;
SELECT 1 AS session_still_works;

-- The statement runs with the caller's privileges.
CREATE ROLE lc_reader IN ROLE pg_read_all_stats;
REVOKE ALL ON lc_t FROM lc_reader;
SET ROLE lc_reader;
SELECT * FROM memprof_leak_check('SELECT count(*) FROM lc_t', 5, 0);
RESET ROLE;
DROP ROLE lc_reader;

-- Across transactions: the procedure commits between iterations.
-- It returns the run's label and id (the id of the run's first snapshot).
CALL memprof_leak_check_xact('SELECT memprof_test_leak(2048)', 20, 3, 'xact leak') \gset leak_
SELECT :'leak_run_label' AS run_label,
       (SELECT count(*) FROM memprof_snapshots WHERE run_id = :leak_run_id) AS run_snapshots;
SELECT path_names, verdict, abs(slope_bytes_per_iteration - 2048) / 2048 < 0.05 AS slope_within_5pct
  FROM memprof_leak_fit_run(:leak_run_id) WHERE verdict = 'leak';
SELECT path_names, verdict, abs(slope_bytes_per_iteration - 2048) / 2048 < 0.05 AS slope_within_5pct
  FROM memprof_leak_fit_label('xact leak') WHERE verdict = 'leak';
CALL memprof_leak_check_xact('SELECT count(*) FROM lc_t', 20, 3, 'xact clean') \gset clean_
SELECT :clean_run_id > :leak_run_id AS new_run_id;
SELECT verdict FROM memprof_leak_fit_label('xact clean') WHERE path_names IS NULL;
SELECT label, count(*) FROM memprof_snapshots GROUP BY label ORDER BY label;
-- an error: reported with the iteration, and the run's snapshots are gone
TRUNCATE lc_seen;
CALL memprof_leak_check_xact('INSERT INTO lc_seen VALUES (1); SELECT 1 / (5 - count(*)) FROM lc_seen', 20, 0, 'xact error');
SELECT count(*) AS error_run_snapshots FROM memprof_snapshots WHERE label LIKE 'xact error%';
-- a statement_timeout cancel in the middle of a run: 57014, and again no
-- snapshot of the run is left.  Four iterations run and take their
-- snapshots; the fifth sleeps, so the timeout lands inside it.
TRUNCATE lc_seen;
SET statement_timeout = '3s';
\set VERBOSITY sqlstate
CALL memprof_leak_check_xact('INSERT INTO lc_seen VALUES (1); SELECT pg_sleep(CASE WHEN count(*) >= 5 THEN 60 ELSE 0 END) FROM lc_seen', 200, 0, 'xact cancel');
\set VERBOSITY default
RESET statement_timeout;
SELECT count(*) AS iterations_done FROM lc_seen;
SELECT count(*) AS cancelled_run_snapshots FROM memprof_snapshots WHERE label LIKE 'xact cancel%';
\set VERBOSITY sqlstate
CALL memprof_leak_check_xact(NULL);
CALL memprof_leak_check_xact('SELECT 1', 2);
SELECT * FROM memprof_leak_fit(ARRAY[1]::bigint[]);
SELECT * FROM memprof_leak_fit(ARRAY[1, NULL, 2]::bigint[]);
SELECT * FROM memprof_leak_fit(NULL);
SELECT * FROM memprof_leak_fit(ARRAY[[1, 2], [3, 4]]::bigint[]);
SELECT * FROM memprof_leak_fit(ARRAY[-1, 0, 9223372036854775807]::bigint[]);
\set VERBOSITY default
SELECT memprof_snapshot_prune(keep_last => 0);
SELECT memprof_test_leak_free();
DROP TABLE lc_t, lc_u, lc_seen;
DROP FUNCTION lc_f(int);
