-- pgTAP: the server's total and memprof.max_total_memory.  test/run runs
-- this on its own cluster start and resets ALTER SYSTEM afterwards.  The
-- budget is set with ALTER SYSTEM and a reload: a SIGHUP takes it into
-- every process without a restart.
BEGIN;
SELECT plan(21);
SELECT tap_connect(c) FROM unnest(ARRAY['w', 'b1', 'b2', 'b3', 'b4']) c;
CREATE TEMP TABLE pids AS
    SELECT c AS name, (SELECT p FROM dblink(c, 'SELECT pg_backend_pid()') AS t(p int)) AS pid
      FROM unnest(ARRAY['b1', 'b2', 'b3', 'b4']) c;
-- sets a SIGHUP setting and waits until this session sees it
CREATE FUNCTION pg_temp.set_sighup(setting text, value text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dblink_exec('w', format('ALTER SYSTEM SET %s = %L', setting, value));
    PERFORM pg_reload_conf();
    PERFORM pg_sleep(0.3);
END $$;

SELECT cmp_ok((SELECT allocated_bytes FROM memprof_server()), '>', 0::bigint,
              'memprof_server() shows the server''s allocator total');
SELECT ok((SELECT reserved_bytes >= allocated_bytes - 8 * 1048576 FROM memprof_server()),
          'the reserved sum covers what the processes hold');
SELECT ok((SELECT count(*) > 0 AND bool_and(allocated_bytes > 0) FROM memprof_server_by_type), 'per backend type');
SELECT is((SELECT budget_bytes FROM memprof_server()), NULL, 'no budget by default');

-- a SIGHUP sets the budget without a restart
SELECT pg_temp.set_sighup('memprof.max_total_memory', '500MB');
SELECT is((SELECT budget_bytes FROM memprof_server()), 524288000::bigint, 'a reload sets the budget: 500 MB');
SELECT cmp_ok((SELECT headroom_bytes FROM memprof_server()), '>', 300000000::bigint, 'with the headroom left');

-- 4 sessions each build 200 MB under the 500 MB budget, sampled every 10 ms
CREATE TEMP TABLE samples (reserved bigint, allocated bigint, worst bigint);
SELECT dblink_send_query(name, 'SELECT memprof_test_hold(200000000, 2)') FROM pids;
DO $$
BEGIN
    FOR i IN 1..1000 LOOP
        INSERT INTO samples SELECT reserved_bytes, allocated_bytes, worst_overshoot_bytes FROM memprof_server();
        EXIT WHEN (SELECT bool_and(dblink_is_busy(name) = 0) FROM pids);
        PERFORM pg_sleep(0.01);
    END LOOP;
END $$;
CREATE TEMP TABLE outcome AS
    SELECT name, (SELECT x FROM dblink_get_result(name, false) AS t(x text)) AS result,
           dblink_error_message(name) AS error
      FROM pids;
-- the end of each connection's results
SELECT count(*) FROM pids, LATERAL dblink_get_result(name, false) AS t(x text);
SELECT diag(format('%s: %s %s', name, coalesce(result, '-'), error)) FROM outcome ORDER BY name;
SELECT diag(format('%s samples; most reserved %s, most held %s', count(*), max(reserved), max(allocated))) FROM samples;
SELECT cmp_ok((SELECT count(*) FROM outcome WHERE error LIKE '%server memory budget exceeded%memprof.max_total_memory%'),
              '>=', 1::bigint, 'at least one session is refused with the documented error');
SELECT cmp_ok((SELECT count(*) FROM outcome WHERE result = '200000000'), '>=', 1::bigint,
              'the others are not disturbed: they finish');
SELECT is((SELECT count(*) FROM outcome WHERE result IS NULL AND error NOT LIKE '%server memory budget exceeded%'),
          0::bigint, 'no session failed any other way');
SELECT ok((SELECT max(allocated) <= 524288000 + max(worst) FROM samples),
          'the server''s total, sampled every 10 ms, never passed the budget plus the stated overshoot');
SELECT cmp_ok((SELECT count(*) FROM samples), '>', 20::bigint, 'and it was sampled while they ran');
SELECT is((SELECT n FROM dblink('b1', 'SELECT 42') AS t(n int)), 42, 'a refused session goes on');

-- a refusal inside an EXCEPTION block is caught like any error
SELECT dblink_send_query('b1', 'SELECT memprof_test_hold(400000000, 3)');
SELECT pg_sleep(1);
SELECT lives_ok($$SELECT dblink_exec('b2', 'DO $x$ BEGIN PERFORM memprof_test_hold(300000000, 0);
                    EXCEPTION WHEN out_of_memory THEN NULL; END $x$')$$,
                'a refusal inside a plpgsql EXCEPTION block is caught (out_of_memory)');
SELECT * FROM dblink_get_result('b1', false) AS t(x text);
SELECT * FROM dblink_get_result('b1', false) AS t(x text);

-- cancel_largest: the largest statement is cancelled, the allocating one runs
SELECT pg_temp.set_sighup('memprof.budget_action', 'cancel_largest');
SELECT dblink_send_query('b3', 'SELECT memprof_test_hold(300000000, 6)');
DO $$ BEGIN
    FOR i IN 1..500 LOOP
        EXIT WHEN (SELECT allocated_bytes FROM memprof_backends WHERE pid = (SELECT pid FROM pids WHERE name = 'b3')) > 290000000;
        PERFORM pg_sleep(0.01);
    END LOOP;
END $$;
SELECT is((SELECT x FROM dblink('b4', 'SELECT memprof_test_hold(250000000, 0)') AS t(x text)), '250000000',
          'with cancel_largest the allocating statement runs');
CREATE TEMP TABLE cancelled AS
    SELECT (SELECT x FROM dblink_get_result('b3', false) AS t(x text)) AS result, dblink_error_message('b3') AS error;
SELECT ok((SELECT error LIKE '%canceling statement due to user request%' FROM cancelled),
          'and the largest statement is the one cancelled');
SELECT ok(pg_read_file(current_setting('data_directory') || '/../server.log')
            ~ ('memprof: cancelled the statement of process ' || (SELECT pid FROM pids WHERE name = 'b3') || ', the largest'),
          'with a log line naming it');
SELECT cmp_ok((SELECT cancels FROM memprof_server()), '>=', 1::bigint, 'memprof_server() counts the cancel');

-- a parallel query's workers count in the total while they run
SELECT dblink_exec('b1', 'CREATE TABLE mp_par2 AS SELECT g FROM generate_series(1, 1500000) g');
SELECT dblink_exec('b1', 'SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0;
                          SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0');
SELECT dblink_send_query('b1', 'SELECT count(*) FROM mp_par2 WHERE md5(md5(g::text)) LIKE ''x%''');
CREATE TEMP TABLE par_seen (workers bigint);
DO $$
BEGIN
    FOR i IN 1..1000 LOOP
        -- pg_stat_activity is cached for the transaction unless cleared
        PERFORM pg_stat_clear_snapshot();
        INSERT INTO par_seen SELECT coalesce(sum(processes), 0) FROM memprof_server_by_type
                              WHERE backend_type = 'parallel worker';
        EXIT WHEN dblink_is_busy('b1') = 0;
        PERFORM pg_sleep(0.01);
    END LOOP;
END $$;
SELECT * FROM dblink_get_result('b1', false) AS t(x text);
SELECT * FROM dblink_get_result('b1', false) AS t(x text);
SELECT cmp_ok((SELECT max(workers) FROM par_seen), '>=', 1::bigint,
              'a parallel query''s workers count in the server''s total while they run');
SELECT dblink_exec('b1', 'DROP TABLE mp_par2');

-- bad values
SELECT throws_ok($$SET memprof.max_total_memory = '1GB'$$, '55P02', NULL, 'the budget is set in postgresql.conf, not per session');
SELECT throws_ok($$SELECT dblink_exec('w', 'ALTER SYSTEM SET memprof.max_total_memory = -5')$$, '22023', NULL, 'a negative budget is refused');
SELECT throws_ok($$SELECT dblink_exec('w', 'ALTER SYSTEM SET memprof.budget_action = explode')$$, '22023', NULL, 'an unknown action is refused');

SELECT dblink_exec('w', 'ALTER SYSTEM RESET memprof.max_total_memory');
SELECT dblink_exec('w', 'ALTER SYSTEM RESET memprof.budget_action');
SELECT pg_reload_conf();
SELECT dblink_disconnect(c) FROM unnest(ARRAY['w', 'b1', 'b2', 'b3', 'b4']) c;
SELECT * FROM finish();
ROLLBACK;
