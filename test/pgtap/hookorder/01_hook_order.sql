-- pgTAP, with shared_preload_libraries = 'memprof_test,memprof': the test
-- module's emit_log_hook is installed before memprof's.  It must not see the
-- report lines memprof keeps out of the server log, and must still see a
-- report memprof did not ask for.
BEGIN;
SELECT plan(4);
SELECT tap_connect('t');
CREATE TEMP TABLE pids AS
SELECT (SELECT p FROM dblink('t', 'SELECT pg_backend_pid()') AS t(p int)) AS t;

SELECT ok((SELECT count(*) > 10 FROM memprof_backend_contexts((SELECT t FROM pids))),
          'memprof fetched the target''s tree');
SELECT ok((SELECT count(*) > 10 FROM memprof_backend_contexts((SELECT t FROM pids))),
          'twice');
SELECT is((SELECT n FROM dblink('t', 'SELECT memprof_test_report_lines_seen()') AS t(n bigint)), 0::bigint,
          'a log hook installed before memprof saw none of the report lines memprof kept out of the log');
SELECT pg_sleep(1.2);	-- past the window in which a memprof signal's echo is dropped
SELECT pg_log_backend_memory_contexts((SELECT t FROM pids));
SELECT n FROM dblink('t', 'SELECT 1') AS t(n int);
SELECT ok((SELECT n FROM dblink('t', 'SELECT memprof_test_report_lines_seen()') AS t(n bigint)) > 2,
          'and it sees every line of a report memprof did not ask for');

SELECT * FROM finish();
ROLLBACK;
