-- pgTAP, with pg_stat_statements preloaded too (test/run runs this with
-- both orders of shared_preload_libraries): both record the same
-- statements under the same query id.
BEGIN;
SELECT plan(4);
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT ok(current_setting('shared_preload_libraries') ~ 'pg_stat_statements'
          AND current_setting('shared_preload_libraries') ~ 'memprof',
          'both preloaded: ' || current_setting('shared_preload_libraries'));
-- Statement peaks between rescans need allocator-level accounting on
-- PostgreSQL 16 and later (pfree no longer goes through the context's
-- method table); until then those checks are skipped there.
CREATE FUNCTION pg_temp.peaks_pending() RETURNS boolean LANGUAGE sql AS $$
    SELECT current_setting('server_version_num')::int >= 160000
$$;
SELECT dblink_connect('s', format('dbname=%s port=%s host=%s user=postgres', current_database(),
                      current_setting('port'), current_setting('unix_socket_directories')));
SELECT * FROM dblink('s', 'SELECT memprof_test_burst(4000000)') AS t(b bigint);
SELECT * FROM dblink('s', 'SELECT memprof_test_burst(4000000)') AS t(b bigint);
SELECT is((SELECT m.calls FROM memprof_statements m
             JOIN pg_stat_statements p USING (userid, dbid, queryid)
            WHERE m.query = 'SELECT memprof_test_burst(4000000)'), 2::bigint,
          'memprof_statements joins pg_stat_statements on (userid, dbid, queryid)');
SELECT is((SELECT p.calls FROM memprof_statements m
             JOIN pg_stat_statements p USING (userid, dbid, queryid)
            WHERE m.query = 'SELECT memprof_test_burst(4000000)'), 2::bigint,
          'and pg_stat_statements counted the same calls');
SELECT CASE WHEN pg_temp.peaks_pending() THEN skip('statement peaks: allocator accounting pending', 1) ELSE
       cmp_ok((SELECT max_peak_bytes FROM memprof_statements WHERE query = 'SELECT memprof_test_burst(4000000)'),
              '>=', 4000000::bigint, 'memprof still sees the peak with pg_stat_statements loaded') END;
SELECT dblink_disconnect('s');
SELECT * FROM finish();
ROLLBACK;
