-- pgTAP: memprof_statements (peak and held per statement) and the guards.
-- Statements are run through dblink, so each is a real top-level
-- statement of another session, and its entry is read from here.
BEGIN;
SELECT plan(28);
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT dblink_connect('s', format('dbname=%s port=%s host=%s user=postgres', current_database(),
                      current_setting('port'), current_setting('unix_socket_directories')));
SELECT dblink_connect('watch', format('dbname=%s port=%s host=%s user=postgres', current_database(),
                      current_setting('port'), current_setting('unix_socket_directories')));
CREATE FUNCTION pg_temp.run(q text) RETURNS void LANGUAGE sql AS $$
    SELECT dblink_exec('s', q)::text IS NULL AND false
$$;
CREATE FUNCTION pg_temp.entry(q text) RETURNS memprof_statements LANGUAGE sql AS $$
    SELECT * FROM memprof_statements WHERE query = q AND datname = current_database()
$$;

SELECT has_view('memprof_statements');
SELECT is((SELECT setting FROM pg_settings WHERE name = 'compute_query_id'), 'auto',
          'compute_query_id is auto (memprof turns the query id on)');
SELECT memprof_statements_reset() >= 0 AS reset;
SELECT is((SELECT count(*) FROM memprof_statements WHERE query LIKE '%memprof_test_burst(20000000)%'),
          0::bigint, 'after memprof_statements_reset() the burst statement has no entry');

-- a burst of 20 MB allocated and freed inside the statement
SELECT * FROM dblink('s', 'SELECT memprof_test_burst(20000000)') AS t(b bigint);
SELECT * FROM dblink('s', 'SELECT memprof_test_burst(20000000)') AS t(b bigint);
SELECT is((pg_temp.entry('SELECT memprof_test_burst(20000000)')).calls, 2::bigint,
          'two calls of the burst statement recorded under one query id');
SELECT cmp_ok((pg_temp.entry('SELECT memprof_test_burst(20000000)')).max_peak_bytes, '>=', 20000000::bigint,
              'a burst freed before the end still shows as the peak (>= 20,000,000)');
SELECT cmp_ok((pg_temp.entry('SELECT memprof_test_burst(20000000)')).max_held_bytes, '<', 65536::bigint,
              'and what it held at the end is near zero (< 64 kB)');
SELECT cmp_ok((pg_temp.entry('SELECT memprof_test_burst(20000000)')).max_peak_bytes, '<', 21000000::bigint,
              'and the peak is not inflated (< 21,000,000)');

-- a big in-memory sort: the peak is within 10% of the sort's contexts seen
-- from another session while the statement still runs (it sleeps after
-- sorting, with the sort state alive)
SELECT dblink_exec('s', 'SET work_mem = ''512MB''');
SELECT dblink_send_query('s', 'SELECT count(*), pg_sleep(2.5) FROM (SELECT md5(g::text) AS x FROM generate_series(1, 400000) g ORDER BY 1) s');
SELECT pg_sleep(1.5);
CREATE TEMP TABLE seen AS
    SELECT sum(total_bytes) AS executor_bytes,
           sum(total_bytes) FILTER (WHERE name LIKE 'TupleSort%') AS sort_bytes
      FROM memprof_backend_contexts((SELECT p FROM dblink('watch',
              'SELECT pid FROM pg_stat_activity WHERE query LIKE ''SELECT count(*), pg_sleep(2.5)%''') AS t(p int)))
     WHERE 'ExecutorState' = ANY (path_names);
SELECT ok((SELECT count(*) = 1 FROM dblink_get_result('s') AS t(n bigint, z text)), 'sort statement finished');
SELECT count(*) FROM dblink_get_result('s') AS t(n bigint, z text);  -- end of results
SELECT cmp_ok((SELECT executor_bytes FROM seen), '>', 20000000::numeric,
              'the statement held more than 20 MB while running');
SELECT diag('seen while running: ' || (SELECT executor_bytes FROM seen) || ' bytes (sort contexts '
            || (SELECT sort_bytes FROM seen) || '); recorded peak: '
            || (pg_temp.entry('SELECT count(*), pg_sleep(2.5) FROM (SELECT md5(g::text) AS x FROM generate_series(1, 400000) g ORDER BY 1) s')).max_peak_bytes);
SELECT ok((SELECT abs(e.max_peak_bytes - s.executor_bytes) / s.executor_bytes < 0.10
             FROM pg_temp.entry('SELECT count(*), pg_sleep(2.5) FROM (SELECT md5(g::text) AS x FROM generate_series(1, 400000) g ORDER BY 1) s') e, seen s),
          'the recorded peak is within 10% of the executor memory seen while it ran');

-- nested statements count in the top-level statement
SELECT dblink_exec('s', $$CREATE FUNCTION pg_temp.nested() RETURNS int LANGUAGE plpgsql AS
    'BEGIN PERFORM memprof_test_burst(30000000); RETURN 1; END'$$);
SELECT * FROM dblink('s', 'SELECT pg_temp.nested()') AS t(n int);
SELECT cmp_ok((pg_temp.entry('SELECT pg_temp.nested()')).max_peak_bytes, '>=', 30000000::bigint,
              'a function''s inner statement counts in the top-depth peak');
SELECT is((SELECT count(*) FROM memprof_statements WHERE query LIKE '%memprof_test_burst(30000000)%'
            AND query NOT LIKE '%nested%'), 0::bigint, 'the inner statement has no entry of its own');

-- utility statements are recorded too
SELECT dblink_exec('s', 'CREATE TEMP TABLE u AS SELECT g FROM generate_series(1, 1000) g');
SELECT is((pg_temp.entry('CREATE TEMP TABLE u AS SELECT g FROM generate_series(1, 1000) g')).calls, 1::bigint,
          'a utility statement has an entry');

-- memprof.log_min_statement_memory logs the statement with its figures
SELECT dblink_exec('s', 'SET memprof.log_min_statement_memory = ''1MB''');
SELECT * FROM dblink('s', 'SELECT memprof_test_burst(3000001)') AS t(b bigint);
SELECT dblink_exec('s', 'RESET memprof.log_min_statement_memory');
SELECT ok(pg_read_file(current_setting('data_directory') || '/../server.log')
            ~ 'memory peak: [0-9]+ kB  held at end: [0-9]+ (bytes|kB)  statement: SELECT memprof_test_burst\(3000001\)',
          'a statement over memprof.log_min_statement_memory is logged with its peak');

-- guards
SELECT dblink_exec('s', 'SET memprof.max_statement_memory = ''10MB''');
SELECT throws_like($$SELECT * FROM dblink('s', 'SELECT memprof_test_burst(50000000)') AS t(b bigint)$$,
                   '%statement memory % exceeds memprof.max_statement_memory (10 MB)%',
                   'a statement over the limit is stopped, the error naming the limit and the figure');
SELECT is((SELECT n FROM dblink('s', 'SELECT 41 + 1') AS t(n int)), 42, 'the session goes on');
SELECT is((SELECT b FROM dblink('s', 'SELECT memprof_test_burst(5000000)') AS t(b bigint)), 5000000::bigint,
          'a statement under the limit runs');
SELECT dblink_exec('s', 'SET memprof.guard_action = warn');
SELECT is((SELECT b FROM dblink('s', 'SELECT memprof_test_burst(50000000)') AS t(b bigint)), 50000000::bigint,
          'with guard_action = warn the statement completes');
SELECT dblink_exec('s', 'RESET memprof.guard_action; RESET memprof.max_statement_memory; SET memprof.max_backend_memory = ''30MB''');
SELECT throws_like($$SELECT * FROM dblink('s', 'SELECT memprof_test_burst(50000000)') AS t(b bigint)$$,
                   '%backend memory % exceeds memprof.max_backend_memory (30 MB)%',
                   'the backend guard stops a statement that takes the backend over its limit');
SELECT is((SELECT n FROM dblink('s', 'SELECT 7') AS t(n int)), 7, 'and the session goes on');
SELECT dblink_exec('s', 'RESET memprof.max_backend_memory');

-- the guard's error in this session: SQLSTATE 53400 with the largest contexts
SET LOCAL memprof.max_statement_memory = '5MB';
SELECT throws_ok('SELECT memprof_test_burst(20000000)', '53400', NULL, 'the guard error is SQLSTATE 53400');
RESET memprof.max_statement_memory;

-- bad GUC values are refused by the GUC machinery
SELECT throws_ok($$SET memprof.max_statement_memory = '-1'$$, '22023', NULL, 'negative size refused');
SELECT throws_ok($$SET memprof.max_statement_memory = 'lots'$$, '22023', NULL, 'garbage refused');
SELECT throws_ok($$SET memprof.max_backend_memory = '5 parsecs'$$, '22023', NULL, 'unknown unit refused');
SELECT throws_ok($$SET memprof.guard_action = 'explode'$$, '22023', NULL, 'unknown action refused');

-- privileges
CREATE ROLE memprof_tap_nobody5;
SET LOCAL ROLE memprof_tap_nobody5;
SELECT throws_ok('SELECT * FROM memprof_statements', '42501', NULL, 'unprivileged: memprof_statements refused');
SELECT throws_ok('SELECT memprof_statements_reset()', '42501', NULL, 'unprivileged: reset refused');
SELECT throws_ok($$SET memprof.max_statement_memory = '1GB'$$, '42501', NULL, 'unprivileged: guards cannot be lifted');
RESET ROLE;

SELECT dblink_disconnect('s');
SELECT dblink_disconnect('watch');
SELECT * FROM finish();
ROLLBACK;
