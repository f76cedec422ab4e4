-- pgTAP: a remote fetch rides on core's memory-context report (the one
-- pg_log_backend_memory_contexts asks for), recognised by its format
-- strings.  These checks fail, each naming the format, if the server's
-- report no longer has the formats memprof recognises:
--  - a fetch is answered at all ("logging memory contexts of PID %d");
--  - it leaves nothing of the report in the server log ("level: %d; %s: %s%s",
--    "level: %d; %d more child contexts containing ...", "Grand total: ...");
--  - the tree fetched equals core's own report of that process, read from
--    the server log (contexts, bytes, blocks, depth).
BEGIN;
SELECT plan(8);
SELECT tap_connect('t');
CREATE TEMP TABLE target AS SELECT p AS pid FROM dblink('t', 'SELECT pg_backend_pid()') AS t(p int);
-- 150 siblings: core's report summarizes the children past the 100th in a
-- "more child contexts" line
SELECT n FROM dblink('t', $$SELECT memprof_test_tree(150, 'wide')$$) AS t(n int);
SELECT n > 0 FROM dblink('t', 'SELECT count(*) FROM pg_class') AS t(n bigint);

-- the target's lines in the server log (log_line_prefix shows "[pid]")
CREATE FUNCTION pg_temp.target_log() RETURNS SETOF text LANGUAGE sql AS $$
    SELECT l FROM regexp_split_to_table(
                      pg_read_file(current_setting('data_directory') || '/../server.log'), E'\n') l
     WHERE l LIKE '%[' || (SELECT pid FROM target) || ']%'
$$;
-- waits (up to 30 s) until the target's report has reached the log
CREATE FUNCTION pg_temp.wait_for_report() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..300 LOOP
        IF EXISTS (SELECT 1 FROM pg_temp.target_log() l WHERE l ~ 'LOG:  Grand total: ') THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN false;
END $$;

SELECT lives_ok($$CREATE TEMP TABLE first_fetch AS
                    SELECT * FROM memprof_backend_contexts((SELECT pid FROM target), 10000)$$,
                'a remote fetch is answered: memprof recognises the header "logging memory contexts of PID %d"');
-- a round trip: the target has finished its report (and logged whatever
-- memprof did not keep out of the log) before it reads the next command
SELECT n FROM dblink('t', 'SELECT 1') AS t(n int);
SELECT is((SELECT count(*) FROM pg_temp.target_log()), 0::bigint,
          'the fetch left no line in the server log: memprof recognises "level: %d; %s: %s%s", '
          '"level: %d; %d more child contexts containing ..." and "Grand total: ..."');

-- core's own report of the idle target, then memprof's fetch of the same
-- tree.  A report that starts within a second of one memprof asked for may
-- be the late echo of memprof's own re-signal and is kept out of the log
-- (src/remote.cpp, kEchoMs): core's request comes after that second.
SELECT pg_sleep(1.2);
SELECT ok(pg_log_backend_memory_contexts((SELECT pid FROM target)), 'core''s report requested');
SELECT ok(pg_temp.wait_for_report(), 'core''s report reached the server log');
CREATE TEMP TABLE fetched AS
    SELECT * FROM memprof_backend_contexts((SELECT pid FROM target), 10000);
SELECT n FROM dblink('t', 'SELECT 1') AS t(n int);
CREATE TEMP TABLE core_report AS
WITH lines AS (SELECT l FROM pg_temp.target_log() l)
SELECT (SELECT count(*) FROM lines) AS all_lines,
       (SELECT count(*) FROM lines WHERE l ~ 'LOG:  logging memory contexts of PID [0-9]+$') AS headers,
       (SELECT count(*) FROM lines WHERE l ~ 'LOG:  level: [0-9]+; [0-9]+ more child contexts containing ') AS more_lines,
       (SELECT count(*) FROM lines WHERE l ~ 'LOG:  level: [0-9]+; '
                                      AND l !~ 'LOG:  level: [0-9]+; [0-9]+ more child contexts containing ') AS shown,
       (SELECT coalesce(sum((regexp_match(l, 'LOG:  level: [0-9]+; ([0-9]+) more child contexts containing '))[1]::bigint), 0)
          FROM lines) AS summarized,
       (SELECT max((regexp_match(l, 'LOG:  level: ([0-9]+); '))[1]::int)
             - min((regexp_match(l, 'LOG:  level: ([0-9]+); '))[1]::int)
          FROM lines WHERE l ~ 'LOG:  level: [0-9]+; ') AS depth,
       (SELECT (regexp_match(l, 'LOG:  Grand total: ([0-9]+) bytes in ([0-9]+) blocks; ([0-9]+) free \(([0-9]+) chunks\); ([0-9]+) used$'))
          FROM lines WHERE l ~ 'LOG:  Grand total: ') AS grand;
SELECT diag('core''s report: ' || shown || ' contexts shown, ' || summarized || ' summarized, grand total '
            || coalesce(grand::text, 'not parsed') || '; memprof: '
            || (SELECT count(*) || ' contexts, ' || sum(total_bytes) || ' bytes in ' || sum(total_nblocks) || ' blocks'
                  FROM fetched))
  FROM core_report;
SELECT is((SELECT headers FROM core_report), 1::bigint,
          'core''s report (not asked for by memprof) is in the log once, header as memprof expects it');
SELECT cmp_ok((SELECT summarized::bigint FROM core_report), '>=', 50::bigint,
              'its "more child contexts" lines parse (150 siblings, 100 shown)');
SELECT is((SELECT ARRAY[(shown + summarized)::bigint, grand[1]::bigint, grand[2]::bigint, depth::bigint] FROM core_report),
          (SELECT ARRAY[count(*), sum(total_bytes)::bigint, sum(total_nblocks)::bigint, (max(depth) - min(depth))::bigint]
             FROM fetched),
          'the fetched tree equals core''s report of that process: contexts, total bytes, blocks, depth');
SELECT is((SELECT all_lines FROM core_report), (SELECT 1 + shown + more_lines + 1 FROM core_report),
          'the fetch after it added nothing to the log: the target''s lines are core''s one report');

SELECT n FROM dblink('t', 'SELECT memprof_test_tree_drop()::int') AS t(n int);
SELECT dblink_disconnect('t');
SELECT * FROM finish();
ROLLBACK;
