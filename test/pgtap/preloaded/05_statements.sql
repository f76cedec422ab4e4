-- pgTAP: memprof_statements (peak and held per statement) and the guards,
-- read from the allocator counters.  Statements run through dblink, so each
-- is a real top-level statement of another session.  Figures are checked
-- against witnesses outside the counters: the target's memory contexts
-- sampled live from this session (memprof_backend_contexts, a walk of the
-- target's tree), EXPLAIN ANALYZE's memory lines, and core's relation sizes.
BEGIN;
SELECT plan(51);
SELECT tap_connect('s');
SELECT tap_connect('watch');
CREATE TEMP TABLE target AS SELECT * FROM dblink('s', 'SELECT pg_backend_pid()') AS t(pid int);

-- the entry of a statement, by its normalized text
CREATE FUNCTION pg_temp.entry(q text) RETURNS memprof_statements LANGUAGE sql AS $$
    SELECT * FROM memprof_statements WHERE query = q AND datname = current_database()
$$;
-- the target's context total now (a walk of its tree, from this session)
CREATE FUNCTION pg_temp.total(what text DEFAULT NULL) RETURNS bigint LANGUAGE sql AS $$
    SELECT coalesce(sum(total_bytes), 0)::bigint
      FROM memprof_backend_contexts((SELECT pid FROM target))
     WHERE what IS NULL OR what = ANY (path_names)
$$;
-- runs q in the target and samples its contexts until it is done:
-- (total before, largest total seen, largest MessageContext subtree seen)
CREATE FUNCTION pg_temp.sampled(q text, OUT base bigint, OUT best bigint, OUT best_msg bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
    m bigint;
BEGIN
    base := pg_temp.total();
    best := base;
    best_msg := 0;
    PERFORM dblink_send_query('s', q);
    LOOP
        SELECT coalesce(sum(total_bytes), 0),
               coalesce(sum(total_bytes) FILTER (WHERE 'MessageContext' = ANY (path_names)), 0)
          INTO v, m
          FROM memprof_backend_contexts((SELECT pid FROM target));
        best := greatest(best, v);
        best_msg := greatest(best_msg, m);
        EXIT WHEN dblink_is_busy('s') = 0;
        PERFORM pg_sleep(0.01);
    END LOOP;
    PERFORM * FROM dblink_get_result('s') AS t(x text);
    PERFORM * FROM dblink_get_result('s') AS t(x text);
END $$;
CREATE TEMP TABLE seen (name text PRIMARY KEY, base bigint, best bigint, best_msg bigint);
CREATE FUNCTION pg_temp.sample(name text, q text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO seen SELECT name, s.* FROM pg_temp.sampled(q) s
$$;
-- peak within 1.25x + 1 MB of the growth sampled live, in both directions
CREATE FUNCTION pg_temp.matches(name text, q text) RETURNS boolean LANGUAGE sql AS $$
    SELECT e.max_peak_bytes <= 1.25 * (s.best - s.base) + 1048576
       AND e.max_peak_bytes >= (s.best - s.base) / 1.25 - 1048576
      FROM pg_temp.entry(q) e, seen s WHERE s.name = $1
$$;
CREATE FUNCTION pg_temp.report(name text, q text) RETURNS text LANGUAGE sql AS $$
    SELECT format('%s: peak %s, held %s; sampled live: growth %s (base %s, most %s)', name,
                  e.max_peak_bytes, e.max_held_bytes, s.best - s.base, s.base, s.best)
      FROM pg_temp.entry(q) e, seen s WHERE s.name = $1
$$;

SELECT has_view('memprof_statements');
SELECT is((SELECT state FROM memprof_allocator()), 'active', 'the allocator is intercepted');
SELECT is((SELECT setting FROM pg_settings WHERE name = 'compute_query_id'), 'auto',
          'compute_query_id stays auto: memprof does not switch query ids on');
SELECT memprof_statements_reset() >= 0 AS reset;
SELECT is((SELECT count(*) FROM memprof_statements WHERE query NOT LIKE 'SELECT memprof_statements_reset()%'), 0::bigint,
          'after memprof_statements_reset() no entry is left but the reset''s own');

-- a transient child context: created, filled with 50 MB and deleted in one call
SELECT * FROM dblink('s', 'SELECT memprof_test_child_burst(50000000) AS t1') AS t(b bigint);
SELECT * FROM dblink('s', 'SELECT memprof_test_child_burst(50000000) AS t1') AS t(b bigint);
SELECT is((pg_temp.entry('SELECT memprof_test_child_burst($1) AS t1')).calls, 2::bigint,
          'two runs recorded under one entry, text normalized to $1');
SELECT is((pg_temp.entry('SELECT memprof_test_child_burst($1) AS t1')).queryid, NULL,
          'no query id is computed: the entry is keyed by its text fingerprint');
SELECT cmp_ok((pg_temp.entry('SELECT memprof_test_child_burst($1) AS t1')).max_peak_bytes, '>=', 50000000::bigint,
              'a child context created and deleted inside the call shows its 50 MB as the peak');
SELECT cmp_ok((pg_temp.entry('SELECT memprof_test_child_burst($1) AS t1')).max_held_bytes, '<', 65536::bigint,
              'and what it held at the end is near zero (< 64 kB)');
SELECT cmp_ok((pg_temp.entry('SELECT memprof_test_child_burst($1) AS t1')).max_peak_bytes, '<', 52000000::bigint,
              'and the peak is not inflated (< 52,000,000)');

-- what a statement run in session s returns, or its error message
CREATE FUNCTION pg_temp.in_s(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT v FROM dblink('s', q) AS t(v text));
EXCEPTION WHEN OTHERS THEN
    RETURN SQLERRM;
END $$;

-- the guard at half of it stops it, with SQLSTATE 53400, and the session goes on
SELECT dblink_exec('s', 'SET memprof.max_statement_memory = ''25MB''');
SELECT alike(pg_temp.in_s('SELECT memprof_test_child_burst(50000000)'),
             '%statement memory % exceeds memprof.max_statement_memory (25 MB)%',
             'a 25 MB statement guard stops the transient 50 MB child context');
SELECT is(pg_temp.in_s('SELECT 41 + 1'), '42', 'the session goes on');
SELECT is(pg_temp.in_s('SELECT memprof_test_child_burst(5000000)'), '5000000', 'a statement under the limit runs');

-- no bypass: after a trip caught in an EXCEPTION block, a ROLLBACK inside a
-- procedure, or in a DO block, a 100 MB allocation is still stopped
SELECT dblink_exec('s', 'SET memprof.max_statement_memory = ''20MB''');
SELECT throws_ok($$SELECT dblink_exec('s', 'DO $d$ BEGIN BEGIN PERFORM memprof_test_child_burst(50000000);
                     EXCEPTION WHEN configuration_limit_exceeded THEN NULL; END;
                     PERFORM memprof_test_burst(100000000); END $d$')$$,
                 '53400', NULL, 'a trip caught in an EXCEPTION block does not switch the guard off');
SELECT dblink_exec('s', $$CREATE PROCEDURE pg_temp.rb() LANGUAGE plpgsql AS
    'BEGIN PERFORM 1; ROLLBACK; PERFORM length(repeat(''x'', 100000000)); END'$$);
SELECT throws_ok($$SELECT dblink_exec('s', 'CALL pg_temp.rb()')$$, '53400', NULL,
                 'a ROLLBACK inside a procedure does not switch the guard off');
SELECT throws_ok($$SELECT dblink_exec('s', 'DO $d$ BEGIN PERFORM memprof_test_burst(100000000); END $d$')$$,
                 '53400', NULL, 'a DO block is guarded');
SELECT dblink_exec('s', 'SET memprof.guard_action = warn');
SELECT is(pg_temp.in_s('SELECT memprof_test_child_burst(50000000)'), '50000000',
          'with guard_action = warn the statement completes');
SELECT dblink_exec('s', 'RESET memprof.guard_action; RESET memprof.max_statement_memory; SET memprof.max_backend_memory = ''30MB''');
SELECT alike(pg_temp.in_s('SELECT memprof_test_child_burst(50000000)'),
             '%backend memory % exceeds memprof.max_backend_memory (30 MB)%',
             'the backend guard stops a transient child context too');
SELECT is(pg_temp.in_s('SELECT 7'), '7', 'and the session goes on');
SELECT dblink_exec('s', 'RESET memprof.max_backend_memory');

-- nested statements count in the top-level statement
SELECT dblink_exec('s', $$CREATE FUNCTION pg_temp.nested() RETURNS int LANGUAGE plpgsql AS
    'BEGIN PERFORM memprof_test_burst(30000000); RETURN 1; END'$$);
SELECT * FROM dblink('s', 'SELECT pg_temp.nested()') AS t(n int);
SELECT cmp_ok((pg_temp.entry('SELECT pg_temp.nested()')).max_peak_bytes, '>=', 30000000::bigint,
              'a function''s inner statement counts in the top-level peak');
SELECT is((SELECT count(*) FROM memprof_statements WHERE query LIKE '%memprof_test_burst($1)%'
            AND datname = current_database()), 0::bigint, 'the inner statement has no entry of its own');

-- no inflation: nested SQL per row and long procedure loops
SELECT dblink_exec('s', $$CREATE TABLE IF NOT EXISTS mp_small AS SELECT g AS id FROM generate_series(1, 1000) g;
    CREATE INDEX IF NOT EXISTS mp_small_id ON mp_small (id);
    CREATE OR REPLACE FUNCTION mp_f(i int) RETURNS int LANGUAGE plpgsql AS
      'DECLARE r int; BEGIN SELECT count(*) INTO r FROM mp_small WHERE id = i; RETURN r; END';
    CREATE OR REPLACE PROCEDURE mp_p(n int) LANGUAGE plpgsql AS
      'BEGIN FOR i IN 1..n LOOP PERFORM 1; END LOOP; END';
    CREATE OR REPLACE PROCEDURE mp_pc(n int) LANGUAGE plpgsql AS
      'BEGIN FOR i IN 1..n LOOP PERFORM 1; COMMIT; END LOOP; END'$$);
SELECT pg_temp.sample('per-row', 'SELECT sum(mp_f(g)) FROM generate_series(1, 20000) g');
SELECT pg_temp.sample('loop', 'CALL mp_p(20000)');
SELECT pg_temp.sample('loop-commit', 'CALL mp_pc(20000)');
SELECT diag(pg_temp.report('per-row', 'SELECT sum(mp_f(g)) FROM generate_series($1, $2) g'));
SELECT diag(pg_temp.report('loop', 'CALL mp_p(20000)'));
SELECT diag(pg_temp.report('loop-commit', 'CALL mp_pc(20000)'));
SELECT ok((SELECT e.max_peak_bytes <= 1.25 * (s.best - s.base) + 1048576
             FROM pg_temp.entry('SELECT sum(mp_f(g)) FROM generate_series($1, $2) g') e, seen s WHERE s.name = 'per-row'),
          'a plpgsql function per row (20,000 rows): peak within 1.25x + 1 MB of what was sampled live');
SELECT ok((SELECT e.max_peak_bytes <= 1.25 * (s.best - s.base) + 1048576
             FROM pg_temp.entry('CALL mp_p(20000)') e, seen s WHERE s.name = 'loop'),
          'a procedure looping PERFORM 1: peak within 1.25x + 1 MB of what was sampled live');
SELECT ok((SELECT e.max_peak_bytes <= 1.25 * (s.best - s.base) + 1048576
             FROM pg_temp.entry('CALL mp_pc(20000)') e, seen s WHERE s.name = 'loop-commit'),
          'a procedure committing in a loop: peak within 1.25x + 1 MB of what was sampled live');
SELECT dblink_exec('s', format('SET memprof.max_statement_memory = %s',
                   4 * greatest((SELECT max(best) FROM seen WHERE name IN ('per-row', 'loop', 'loop-commit')) / 1024, 64)));
SELECT lives_ok($$SELECT * FROM dblink('s', 'SELECT sum(mp_f(g)) FROM generate_series(1, 20000) g') AS t(n bigint)$$,
                'a statement guard at 4x the sampled total does not stop the per-row function');
SELECT lives_ok($$SELECT dblink_exec('s', 'CALL mp_p(20000)')$$, 'nor the procedure loop');
SELECT lives_ok($$SELECT dblink_exec('s', 'CALL mp_pc(20000)')$$, 'nor the committing procedure loop');
SELECT dblink_exec('s', 'RESET memprof.max_statement_memory');

-- peaks that match what is sampled live
SELECT dblink_exec('s', 'SET work_mem = ''1GB''');
SELECT pg_temp.sample('ordered-set', 'SELECT (count(*), pg_sleep(0.5))::text FROM (SELECT g % 2 AS k, percentile_cont(0.5) WITHIN GROUP (ORDER BY (g * 7919 % 1000003)::float8) FROM generate_series(1, 1000000) g GROUP BY 1) s');
SELECT pg_temp.sample('hash-join', 'SELECT (count(*), pg_sleep(1))::text FROM generate_series(1, 400000) a JOIN generate_series(1, 400000) b ON a = b');
SELECT pg_temp.sample('rescan-sort', 'SELECT (count(*), pg_sleep(1))::text FROM generate_series(1, 3) s WHERE s < (SELECT count(*) FROM (SELECT g FROM generate_series(1, 200000 + s) g ORDER BY md5(g::text)) q)');
SELECT dblink_exec('s', $$CREATE OR REPLACE FUNCTION mp_grow(n int) RETURNS int LANGUAGE plpgsql AS
    'DECLARE a text[] := ''{}''; BEGIN FOR i IN 1..n LOOP a := array_append(a, repeat(''x'', 1000)); END LOOP;
     PERFORM pg_sleep(1); RETURN array_length(a, 1); END'$$);
SELECT pg_temp.sample('plpgsql-loop', 'SELECT mp_grow(20000)');
SELECT diag(pg_temp.report('ordered-set', 'SELECT (count(*), pg_sleep($1))::text FROM (SELECT g % $2 AS k, percentile_cont($3) WITHIN GROUP (ORDER BY (g * $4 % $5)::float8) FROM generate_series($6, $7) g GROUP BY $8) s'));
SELECT diag(pg_temp.report('hash-join', 'SELECT (count(*), pg_sleep($1))::text FROM generate_series($2, $3) a JOIN generate_series($4, $5) b ON a = b'));
SELECT diag(pg_temp.report('rescan-sort', 'SELECT (count(*), pg_sleep($1))::text FROM generate_series($2, $3) s WHERE s < (SELECT count(*) FROM (SELECT g FROM generate_series($4, $5 + s) g ORDER BY md5(g::text)) q)'));
SELECT diag(pg_temp.report('plpgsql-loop', 'SELECT mp_grow($1)'));
SELECT ok(pg_temp.matches('ordered-set', 'SELECT (count(*), pg_sleep($1))::text FROM (SELECT g % $2 AS k, percentile_cont($3) WITHIN GROUP (ORDER BY (g * $4 % $5)::float8) FROM generate_series($6, $7) g GROUP BY $8) s'),
          'per-group ordered-set aggregate: peak matches the live samples (1.25x + 1 MB)');
SELECT ok(pg_temp.matches('hash-join', 'SELECT (count(*), pg_sleep($1))::text FROM generate_series($2, $3) a JOIN generate_series($4, $5) b ON a = b'),
          'hash join: peak matches the live samples');
SELECT ok(pg_temp.matches('rescan-sort', 'SELECT (count(*), pg_sleep($1))::text FROM generate_series($2, $3) s WHERE s < (SELECT count(*) FROM (SELECT g FROM generate_series($4, $5 + s) g ORDER BY md5(g::text)) q)'),
          'sort in a rescanned subplan: peak matches the live samples');
SELECT ok(pg_temp.matches('plpgsql-loop', 'SELECT mp_grow($1)'),
          'plpgsql loop: peak matches the live samples');

-- executor start counts: HashAgg's memory as EXPLAIN ANALYZE reports it
CREATE FUNCTION pg_temp.explain_json(q text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || q INTO j;
    RETURN j::jsonb;
END $$;
SET LOCAL work_mem = '1GB';
SET LOCAL enable_sort = off;
CREATE TEMP TABLE hashagg AS
    SELECT (jsonb_path_query_first(pg_temp.explain_json('SELECT count(*) FROM (SELECT g % 300000 AS k, count(*) FROM generate_series(1, 600000) g GROUP BY 1) s'),
                                   'strict $.**."Peak Memory Usage"'))::text::bigint AS kb;
RESET work_mem;
RESET enable_sort;
SELECT dblink_exec('s', 'SET enable_sort = off');
SELECT * FROM dblink('s', 'SELECT count(*) FROM (SELECT g % 300000 AS k, count(*) FROM generate_series(1, 600000) g GROUP BY 1) s') AS t(n bigint);
SELECT diag(format('HashAggregate: EXPLAIN ANALYZE %s kB; recorded peak %s bytes', (SELECT kb FROM hashagg),
                   (pg_temp.entry('SELECT count(*) FROM (SELECT g % $1 AS k, count(*) FROM generate_series($2, $3) g GROUP BY $4) s')).max_peak_bytes));
SELECT cmp_ok((pg_temp.entry('SELECT count(*) FROM (SELECT g % $1 AS k, count(*) FROM generate_series($2, $3) g GROUP BY $4) s')).max_peak_bytes,
              '>=', (SELECT kb * 1024 FROM hashagg),
              'a HashAgg''s peak covers the memory EXPLAIN ANALYZE reports for it (executor start counts)');
SELECT dblink_exec('s', 'RESET enable_sort; RESET work_mem');

-- parsing and planning count: a multi-row INSERT ... VALUES
SELECT dblink_exec('s', 'CREATE TABLE IF NOT EXISTS mp_ins (a int, b text)');
SELECT pg_temp.sample('insert-values', 'INSERT INTO mp_ins VALUES ' ||
       (SELECT string_agg(format('(%s, %L)', g, md5(g::text)), ', ') FROM generate_series(1, 40000) g));
-- the stored text is cut at 1 kB: the entry is found by its beginning
CREATE TEMP TABLE ins_text AS SELECT left('INSERT INTO mp_ins VALUES ' ||
       (SELECT string_agg(format('($%s, $%s)', 2 * g - 1, 2 * g), ', ') FROM generate_series(1, 40000) g), 1000) AS q;
CREATE FUNCTION pg_temp.entry_prefix(p text) RETURNS memprof_statements LANGUAGE sql AS $$
    SELECT * FROM memprof_statements WHERE starts_with(query, p) AND datname = current_database()
$$;
SELECT diag(format('INSERT ... VALUES (40,000 rows): peak %s; MessageContext sampled live up to %s',
                   (pg_temp.entry_prefix((SELECT q FROM ins_text))).max_peak_bytes,
                   (SELECT best_msg FROM seen WHERE name = 'insert-values')));
SELECT cmp_ok((pg_temp.entry_prefix((SELECT q FROM ins_text))).max_peak_bytes,
              '>=', (SELECT best_msg FROM seen WHERE name = 'insert-values'),
              'the peak covers the parse and plan memory (MessageContext) sampled live');
SELECT cmp_ok((SELECT best_msg FROM seen WHERE name = 'insert-values'), '>', 10000000::bigint,
              'and that memory is large (> 10 MB), so the check means something');

-- maintenance commands report their sorts (witness: the sizes core reports
-- for the index built and the table sampled).  They run in a database of
-- their own: CREATE INDEX CONCURRENTLY waits for this test's open transaction
-- in its own database.
SELECT dblink_exec('watch', 'DROP DATABASE IF EXISTS memprof_tap_maint');
SELECT dblink_exec('watch', 'CREATE DATABASE memprof_tap_maint');
SELECT tap_connect('m', 'memprof_tap_maint');
CREATE FUNCTION pg_temp.maint_peak(q text) RETURNS bigint LANGUAGE sql AS $$
    SELECT max_peak_bytes FROM memprof_statements WHERE query = q AND datname = 'memprof_tap_maint'
$$;
SELECT dblink_exec('m', 'CREATE TABLE mp_big AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 300000) g');
SELECT dblink_exec('m', 'SET maintenance_work_mem = ''512MB''; SET max_parallel_maintenance_workers = 0');
SELECT dblink_exec('m', 'CREATE INDEX CONCURRENTLY mp_big_t ON mp_big (t)');
CREATE TEMP TABLE maint AS
    SELECT * FROM dblink('m', 'SELECT pg_relation_size(''mp_big_t''), pg_relation_size(''mp_big'')') AS t(idx bigint, tbl bigint);
SELECT diag(format('CREATE INDEX CONCURRENTLY: peak %s; index built: %s bytes',
                   pg_temp.maint_peak('CREATE INDEX CONCURRENTLY mp_big_t ON mp_big (t)'), (SELECT idx FROM maint)));
SELECT cmp_ok(pg_temp.maint_peak('CREATE INDEX CONCURRENTLY mp_big_t ON mp_big (t)'), '>=', (SELECT idx FROM maint),
              'CREATE INDEX CONCURRENTLY: the peak covers its sort (at least the index it built)');
SELECT dblink_exec('m', 'VACUUM FULL mp_big');
SELECT cmp_ok(pg_temp.maint_peak('VACUUM FULL mp_big'), '>=', (SELECT idx FROM maint),
              'VACUUM FULL: the peak covers its index rebuild');
SELECT dblink_exec('m', 'SET default_statistics_target = 10000');
SELECT dblink_exec('m', 'ANALYZE mp_big');
SELECT diag(format('ANALYZE: peak %s; table: %s bytes', pg_temp.maint_peak('ANALYZE mp_big'), (SELECT tbl FROM maint)));
SELECT cmp_ok(pg_temp.maint_peak('ANALYZE mp_big'), '>=', (SELECT tbl / 2 FROM maint),
              'ANALYZE: the peak covers its sample (the whole table here, at least half its size)');
SELECT dblink_disconnect('m');
SELECT dblink_exec('watch', 'DROP DATABASE memprof_tap_maint');
SELECT dblink_exec('s', 'DROP TABLE mp_ins');

-- parallel workers are not calls
SELECT dblink_exec('s', 'CREATE TABLE mp_par AS SELECT g FROM generate_series(1, 200000) g');
SELECT dblink_exec('s', 'SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0;
                         SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0');
SELECT * FROM dblink('s', 'SELECT count(*) FROM mp_par AS p1') AS t(n bigint);
SELECT * FROM dblink('s', 'SELECT count(*) FROM mp_par AS p1') AS t(n bigint);
SELECT * FROM dblink('s', 'SELECT count(*) FROM mp_par AS p1') AS t(n bigint);
SELECT is((pg_temp.entry('SELECT count(*) FROM mp_par AS p1')).calls, 3::bigint,
          'a parallel statement run 3 times has calls = 3');
SELECT cmp_ok((pg_temp.entry('SELECT count(*) FROM mp_par AS p1')).workers, '>=', 1::bigint,
              'its workers are counted apart (workers >= 1)');
SELECT dblink_exec('s', 'RESET max_parallel_workers_per_gather; RESET parallel_setup_cost;
                         RESET parallel_tuple_cost; RESET min_parallel_table_scan_size; DROP TABLE mp_par');

-- the live figure: a backend asleep after taking 50 MB, read without any fetch
SELECT * FROM dblink('s', 'SELECT memprof_test_leak(50000000)') AS t(b bigint);
SELECT dblink_send_query('s', 'SELECT pg_sleep(1.5)');
SELECT pg_sleep(0.3);
SELECT cmp_ok((SELECT allocated_bytes FROM memprof_backends WHERE pid = (SELECT pid FROM target)), '>=', 50000000::bigint,
              'memprof_backends shows the sleeping backend''s 50 MB live');
-- witness: the kernel's count of the same process's anonymous resident
-- memory (/proc/<pid>/status RssAnon, read by the view at the same moment).
-- It is an upper bound: malloc keeps memory freed by earlier statements of
-- the session resident, so only "not more than the kernel sees" is checked.
SELECT diag(format('live: allocated %s bytes; /proc RssAnon %s bytes', allocated_bytes, anon_bytes))
  FROM memprof_backends WHERE pid = (SELECT pid FROM target);
SELECT ok((SELECT anon_bytes >= 50000000 AND allocated_bytes <= anon_bytes + 8388608
             FROM memprof_backends WHERE pid = (SELECT pid FROM target)),
          'the kernel sees those 50 MB too, and the live figure is not more than its RssAnon (+ 8 MB)');
SELECT * FROM dblink_get_result('s') AS t(x text);
SELECT * FROM dblink_get_result('s') AS t(x text);
SELECT * FROM dblink('s', 'SELECT memprof_test_leak_free()') AS t(b boolean);

-- utility statements are recorded with their own text
SELECT dblink_exec('s', 'CREATE TEMP TABLE u AS SELECT g FROM generate_series(1, 1000) g');
SELECT is((pg_temp.entry('CREATE TEMP TABLE u AS SELECT g FROM generate_series(1, 1000) g')).calls, 1::bigint,
          'a utility statement has an entry, its text as run');

-- memprof.log_min_statement_memory logs the statement with its figures
SELECT dblink_exec('s', 'SET memprof.log_min_statement_memory = ''1MB''');
SELECT * FROM dblink('s', 'SELECT memprof_test_burst(3000001)') AS t(b bigint);
SELECT dblink_exec('s', 'RESET memprof.log_min_statement_memory');
SELECT ok(pg_read_file(current_setting('data_directory') || '/../server.log')
            ~ 'memory peak: [0-9.]+ (kB|MB)  held at end: [0-9.]+ (bytes|kB)  statement: SELECT memprof_test_burst\(3000001\)',
          'a statement over memprof.log_min_statement_memory is logged with its peak');

-- the guard's error in this session: SQLSTATE 53400
SET LOCAL memprof.max_statement_memory = '5MB';
SELECT throws_ok('SELECT memprof_test_burst(20000000)', '53400', NULL, 'the guard error is SQLSTATE 53400');
RESET memprof.max_statement_memory;

-- bad values for every setting
SELECT throws_ok($$SET memprof.max_statement_memory = '-1'$$, '22023', NULL, 'negative size refused');
SELECT throws_ok($$SET memprof.max_statement_memory = 'lots'$$, '22023', NULL, 'garbage refused');
SELECT throws_ok($$SET memprof.max_backend_memory = '5 parsecs'$$, '22023', NULL, 'unknown unit refused');
SELECT throws_ok($$SET memprof.guard_action = 'explode'$$, '22023', NULL, 'unknown action refused');
SELECT throws_ok($$SET memprof.intercept_allocator = off$$, '55P02', NULL,
                 'memprof.intercept_allocator cannot change without a restart');
SELECT throws_ok($$SELECT dblink_exec('s', 'ALTER SYSTEM SET memprof.max_statements = -1')$$, '22023', NULL,
                 'memprof.max_statements refuses a negative size');
SELECT throws_ok($$SELECT dblink_exec('s', 'ALTER SYSTEM SET memprof.intercept_allocator = sometimes')$$, '22023', NULL,
                 'memprof.intercept_allocator refuses a non-boolean');

-- a role that is not a superuser cannot lift the guards
CREATE ROLE memprof_tap_nobody5;
SET LOCAL ROLE memprof_tap_nobody5;
SELECT throws_ok($$SET memprof.max_statement_memory = '1GB'$$, '42501', NULL, 'unprivileged: guards cannot be lifted');
RESET ROLE;

SELECT dblink_exec('s', 'DROP TABLE mp_small; DROP FUNCTION mp_f(int); DROP PROCEDURE mp_p(int);
                         DROP PROCEDURE mp_pc(int); DROP FUNCTION mp_grow(int)');
SELECT dblink_disconnect('s');
SELECT dblink_disconnect('watch');
SELECT * FROM finish();
ROLLBACK;
