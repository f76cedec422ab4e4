-- pgTAP: the remote fetch's limits: large and deep trees, and a report
-- memprof did not ask for.  Targets are dblink sessions (separate
-- backends).  (The fetch's races: test/isolation/specs.)
BEGIN;
SELECT plan(12);

-- lines of the server log that belong to a report of pid
CREATE FUNCTION pg_temp.logged_reports(pid int) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM regexp_matches(
        pg_read_file(current_setting('data_directory') || '/../server.log'),
        'logging memory contexts of PID ' || pid || '\M', 'g')
$$;
SELECT tap_connect('t');
SELECT dblink_exec('t', 'CREATE EXTENSION IF NOT EXISTS memprof_test');
CREATE TEMP TABLE pids AS
SELECT (SELECT p FROM dblink('t', 'SELECT pg_backend_pid()') AS t(p int)) AS t,
       pg_postmaster_start_time() AS postmaster_start;

-- ---- 100,000 contexts: fetched whole, in several rounds of one buffer ----
SELECT n FROM dblink('t', $$SELECT memprof_test_tree(100000, 'wide')$$) AS t(n int);
CREATE TEMP TABLE big AS
    SELECT id, parent_id, name FROM memprof_backend_contexts((SELECT t FROM pids), 60000);
SELECT is((SELECT count(*) FROM big WHERE name ~ '^memprof: [0-9]+ contexts omitted'), 0::bigint,
          '100,000 contexts: no summary row, nothing cut');
SELECT is((SELECT count(*) FROM big WHERE name = 'memprof_test node'), 100000::bigint,
          'every one of the 100,000 contexts is there');
SELECT ok((SELECT abs(count(*) - (SELECT n FROM dblink('t', 'SELECT count(*) FROM memprof_contexts')
                                        AS t(n bigint))) <= 20 FROM big),
          'the fetched tree has as many rows as the target counts itself (within its own query)');
SELECT ok((SELECT count(*) = max(id) AND min(id) = 1 FROM big), 'ids run 1..n without a gap');
SELECT ok((SELECT bool_and(b.parent_id IS NULL OR EXISTS (SELECT 1 FROM big p WHERE p.id = b.parent_id))
             FROM big b),
          'every row has its parent: the rounds join up');
DROP TABLE big;
-- three requesters of that tree at once share the target's sample
SELECT tap_connect('r1'), tap_connect('r2'), tap_connect('r3');
SELECT dblink_send_query(r, format('SELECT count(*) FROM memprof_backend_contexts(%s, 60000)', (SELECT t FROM pids)))
  FROM unnest(ARRAY['r1', 'r2', 'r3']) r;
SELECT is((SELECT count(*) FROM unnest(ARRAY['r1', 'r2', 'r3']) r,
                  LATERAL dblink_get_result(r, false) AS x(n bigint) WHERE n > 100000),
          3::bigint, 'three concurrent fetches of 100,000 contexts each get the whole tree');
SELECT dblink_disconnect(r) FROM unnest(ARRAY['r1', 'r2', 'r3']) r;

-- ---- 300,000 deep: the target survives a fetch ----
SELECT n FROM dblink('t', $$SELECT memprof_test_tree(300000, 'deep')$$) AS t(n int);
-- a remote snapshot stores the rows without building paths
CREATE TEMP TABLE deep AS SELECT memprof_snapshot('deep chain', (SELECT t FROM pids)) AS id;
SELECT ok((SELECT contexts > 300000 FROM memprof_snapshots WHERE id = (SELECT id FROM deep)),
          'a 300,000-deep chain is fetched whole');
SELECT ok((SELECT max(depth) > 300000 FROM memprof_snapshot_context WHERE snapshot_id = (SELECT id FROM deep)),
          'its deepest context is more than 300,000 levels down');
SELECT is((SELECT p FROM dblink('t', 'SELECT pg_backend_pid()') AS t(p int)), (SELECT t FROM pids),
          'the deep target is still alive, same process');
SELECT is(pg_postmaster_start_time(), (SELECT postmaster_start FROM pids),
          'the server did not restart');
SELECT n FROM dblink('t', 'SELECT memprof_test_tree_drop()::int') AS t(n int);
SELECT memprof_snapshot_drop((SELECT id FROM deep));
-- storing that snapshot wrote much WAL and may have started a spread
-- checkpoint, during whose write phase the checkpointer does not answer
-- fetches (PostgreSQL does not handle the request there): finish it now
CHECKPOINT;

-- (requests nobody waits for any more, timed out or cancelled, stay out of
-- the server log: test/isolation/specs/fetch-abandon and fetch-cancel)

-- a report memprof did not ask for is still logged by core
SELECT pg_sleep(1.2);	-- past the window in which a memprof signal's echo is dropped
SELECT ok(pg_log_backend_memory_contexts((SELECT t FROM pids)), 'pg_log_backend_memory_contexts signals');
SELECT n FROM dblink('t', 'SELECT 1') AS t(n int);
SELECT pg_sleep(0.3);
SELECT is(pg_temp.logged_reports((SELECT t FROM pids)), 1::bigint,
          'and core logs it as always');

SELECT * FROM finish();
ROLLBACK;
