-- pgTAP, with pg_stat_statements preloaded too (test/run runs this with
-- both orders of shared_preload_libraries): both record the same
-- statements under the same query id, with the same normalized text.
BEGIN;
SELECT plan(6);
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
SELECT ok(current_setting('shared_preload_libraries') ~ 'pg_stat_statements'
          AND current_setting('shared_preload_libraries') ~ 'memprof',
          'both preloaded: ' || current_setting('shared_preload_libraries'));
SELECT tap_connect('s');
SELECT * FROM dblink('s', 'SELECT memprof_test_child_burst(4000000) AS pgss1') AS t(b bigint);
SELECT * FROM dblink('s', 'SELECT memprof_test_child_burst(4100000) AS pgss1') AS t(b bigint);
CREATE TEMP TABLE m AS SELECT * FROM memprof_statements WHERE query = 'SELECT memprof_test_child_burst($1) AS pgss1';
SELECT isnt((SELECT queryid FROM m), NULL, 'with query ids computed, rows carry the core query id');
SELECT is((SELECT fingerprint FROM m), NULL, 'and no text fingerprint');
SELECT is((SELECT p.calls FROM m JOIN pg_stat_statements p USING (userid, dbid, queryid)), 2::bigint,
          'memprof_statements joins pg_stat_statements on (userid, dbid, queryid), same calls');
SELECT is((SELECT p.query FROM m JOIN pg_stat_statements p USING (userid, dbid, queryid)), (SELECT query FROM m),
          'and both show the same normalized text');
SELECT cmp_ok((SELECT max_peak_bytes FROM m), '>=', 4100000::bigint,
              'memprof still sees the peak with pg_stat_statements loaded');
SELECT dblink_disconnect('s');
SELECT * FROM finish();
ROLLBACK;
