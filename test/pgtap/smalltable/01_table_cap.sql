-- pgTAP, with memprof.max_statements = 100 (test/run restarts the cluster
-- for this file): the statement table is a hard cap; when full, the least
-- used entries are evicted and counted, and the view returns every entry.
BEGIN;
SELECT plan(7);
SELECT is(current_setting('memprof.max_statements'), '100', 'memprof.max_statements is 100 for this run');
SELECT tap_connect('s');
SELECT memprof_statements_reset() >= 0 AS reset;
-- one statement run often, so that it is never the least used
DO $$ BEGIN FOR i IN 1..50 LOOP PERFORM * FROM dblink('s', 'SELECT 1 AS busy_statement') AS t(x int); END LOOP; END $$;
-- 300 distinct top-level statements (distinct texts, not only constants)
DO $$ BEGIN FOR i IN 1..300 LOOP PERFORM * FROM dblink('s', format('SELECT 1 AS c%s', i)) AS t(x int); END LOOP; END $$;
SELECT cmp_ok((SELECT entries FROM memprof_statements_info()), '<=', 100::bigint,
              'the table holds at most memprof.max_statements entries after 300 distinct statements');
SELECT cmp_ok((SELECT dealloc FROM memprof_statements_info()), '>', 0::bigint, 'evictions are counted in dealloc');
SELECT cmp_ok((SELECT evicted FROM memprof_statements_info()), '>=', 200::bigint,
              'and the entries they removed in evicted (at least the 200 that did not fit)');
SELECT is((SELECT count(*) FROM memprof_statements), (SELECT entries FROM memprof_statements_info()),
          'the view returns every entry the table holds');
SELECT is((SELECT calls FROM memprof_statements WHERE query = 'SELECT $1 AS busy_statement'), 50::bigint,
          'the most used statement survived the evictions with all its calls');
SELECT is((SELECT max_entries FROM memprof_statements_info()), 100::bigint, 'max_entries shows the cap');
SELECT dblink_disconnect('s');
SELECT * FROM finish();
ROLLBACK;
