-- pgTAP: memprof_backends, memprof_backend_contexts, history, edge cases.
-- Other sessions are opened with dblink, so that targets are real,
-- separate backends.
BEGIN;
SELECT plan(37);

SELECT tap_connect(c) FROM unnest(ARRAY['idle', 'mute', 'busy', 'req1', 'req2']) c;
CREATE TEMP TABLE pids AS
SELECT (SELECT p FROM dblink('idle', 'SELECT pg_backend_pid()') AS t(p int)) AS idle,
       (SELECT p FROM dblink('mute', 'SELECT pg_backend_pid()') AS t(p int)) AS mute,
       (SELECT p FROM dblink('busy', 'SELECT pg_backend_pid()') AS t(p int)) AS busy;
-- give the idle target some contexts of its own
SELECT dblink_exec('idle', 'CREATE TEMP TABLE x (a int PRIMARY KEY)');
SELECT n > 0 FROM dblink('idle', 'SELECT count(*) FROM pg_class') AS t(n bigint);
-- and let it read its own tree once (first use loads what that needs)
SELECT n > 0 FROM dblink('idle', 'SELECT count(*), sum(total_bytes)::bigint FROM memprof_contexts')
    AS t(n bigint, b bigint);

-- ---- memprof_backends ----
SELECT has_view('memprof_backends');
SELECT ok((SELECT count(*) FROM memprof_backends WHERE backend_type = 'checkpointer') = 1,
          'the checkpointer has a row');
SELECT ok((SELECT count(*) FROM memprof_backends b JOIN pids p ON b.pid IN (p.idle, p.mute, p.busy)) = 3,
          'the dblink sessions have rows');
SELECT ok((SELECT total_bytes > 0 AND used_bytes <= total_bytes AND cache_bytes > 0
                  AND published_at IS NOT NULL
             FROM memprof_backends b JOIN pids p ON b.pid = p.idle),
          'an idle backend published its totals and breakdown');
SELECT ok((SELECT bool_and(rss_bytes > 0) FROM memprof_backends),
          'every process has an RSS from /proc');
-- RSS of an idle backend matches /proc within 5%: a fetch makes it
-- publish, then the published figure and /proc now are compared
SELECT ok((SELECT count(*) > 0 FROM memprof_backend_contexts((SELECT idle FROM pids))), 'fetched the idle backend');
SELECT ok((SELECT abs(b.rss_bytes - b.published_rss_bytes)::float8 / b.rss_bytes < 0.05
             FROM memprof_backends b JOIN pids p ON b.pid = p.idle),
          'published RSS of an idle backend is within 5% of /proc now');

-- a process that has exited has no row (its PGPROC keeps the old pid)
SELECT tap_connect('gone');
CREATE TEMP TABLE gone AS SELECT p FROM dblink('gone', 'SELECT pg_backend_pid()') AS t(p int);
SELECT dblink_disconnect('gone');
SELECT pg_sleep(0.3);
SELECT is((SELECT count(*) FROM memprof_backends WHERE pid = (SELECT p FROM gone)), 0::bigint,
          'an exited backend has no row in memprof_backends');

-- ---- memprof_backend_contexts ----
SELECT is((SELECT count(*) FROM memprof_backend_contexts(pg_backend_pid()) WHERE depth = 0),
          1::bigint, 'own pid: one root');
-- an idle backend: the remote tree matches what that backend sees of itself,
-- within what its own reading query adds (20 contexts, 512 kB)
CREATE TEMP TABLE remote_view AS
    SELECT count(*) AS n, sum(total_bytes) AS t FROM memprof_backend_contexts((SELECT idle FROM pids));
SELECT ok((SELECT abs(r.n - l.n) <= 20 AND abs(r.t - l.t) <= 512 * 1024
             FROM remote_view r,
                  dblink('idle', 'SELECT count(*), sum(total_bytes)::bigint FROM memprof_contexts')
                    AS l(n bigint, t bigint)),
          'remote tree of an idle backend matches its own memprof_contexts');
SELECT ok((SELECT count(*) > 0 FROM memprof_backend_contexts((SELECT idle FROM pids))
            WHERE name = 'CacheMemoryContext'),
          'and holds its CacheMemoryContext');
SELECT ok((SELECT count(*) > 3 FROM memprof_backend_contexts(
              (SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'))),
          'an auxiliary process (checkpointer) answers');
SELECT ok((SELECT count(*) > 3 FROM memprof_backend_contexts(
              (SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'))),
          'the walwriter answers');

-- idle in transaction
SELECT dblink_exec('idle', 'BEGIN; CREATE TEMP TABLE y (b int)');
SELECT ok((SELECT count(*) FROM memprof_backend_contexts((SELECT idle FROM pids))
            WHERE name = 'TopTransactionContext') = 1,
          'an idle-in-transaction backend answers, with its TopTransactionContext');
SELECT dblink_exec('idle', 'ROLLBACK');

-- busy in a long query, and two requesters at once
SELECT dblink_send_query('busy', 'SELECT pg_sleep(3)');
SELECT pg_sleep(0.2);
SELECT dblink_send_query('req1', format('SELECT count(*) FROM memprof_backend_contexts(%s)', (SELECT busy FROM pids)));
SELECT dblink_send_query('req2', format('SELECT count(*) FROM memprof_backend_contexts(%s)', (SELECT busy FROM pids)));
SELECT ok((SELECT n > 10 FROM dblink_get_result('req1') AS t(n bigint)), 'first of two requesters got the busy target''s tree');
SELECT ok((SELECT n > 10 FROM dblink_get_result('req2') AS t(n bigint)), 'second of two requesters got it too');
SELECT ok((SELECT count(*) FROM memprof_backend_contexts((SELECT busy FROM pids))
            WHERE name = 'ExecutorState') >= 1,
          'a backend busy in a long query answers, its ExecutorState included');

-- a target that cannot answer (its log_min_messages is above LOG, so the
-- report never reaches the hook): timeout, cancel
SELECT dblink_exec('mute', 'SET log_min_messages = fatal');
SELECT throws_ok(format('SELECT * FROM memprof_backend_contexts(%s, 300)', (SELECT mute FROM pids)),
                 '55P03', NULL, 'a target that does not answer times out with 55P03');
SELECT is((SELECT count(*) FROM memprof_fetch_buffers() WHERE state <> 'free'), 0::bigint,
          'no buffer left behind after the timeout');
SET LOCAL statement_timeout = '300ms';
SELECT is(tap_sqlstate_of(format('SELECT * FROM memprof_backend_contexts(%s, 5000)', (SELECT mute FROM pids))),
          '57014', 'a requester cancelled while waiting gets 57014');
RESET statement_timeout;
SELECT is((SELECT count(*) FROM memprof_fetch_buffers() WHERE state <> 'free'), 0::bigint,
          'no buffer left behind after the cancel');
-- (a target that exits while a request waits for it:
-- test/isolation/specs/fetch-target-exit)
SELECT pg_terminate_backend((SELECT mute FROM pids), 10000);

-- a tree larger than a fetch buffer (1 MB): sent in several rounds, whole
SELECT dblink_exec('idle', 'CREATE EXTENSION IF NOT EXISTS memprof_test');
SELECT n FROM dblink('idle', $$SELECT memprof_test_tree(30000, 'wide')$$) AS t(n int);
CREATE TEMP TABLE big AS SELECT * FROM memprof_backend_contexts((SELECT idle FROM pids));
SELECT ok((SELECT count(*) = 0 FROM big WHERE name ~ '^memprof: [0-9]+ contexts omitted'),
          'a tree larger than the buffer is not cut');
SELECT ok((SELECT count(*) FROM big)
          BETWEEN 30000 AND (SELECT n + 5 FROM dblink('idle', 'SELECT count(*) FROM memprof_contexts') AS t(n bigint)),
          'its rows account for the whole tree');
SELECT ok((SELECT bool_and(b.parent_id IS NULL OR EXISTS (SELECT 1 FROM big p WHERE p.id = b.parent_id)) FROM big b),
          'every row has its parent: no corruption');
SELECT n FROM dblink('idle', 'SELECT memprof_test_tree_drop()::int') AS t(n int);

-- core's pg_log_backend_memory_contexts keeps its behaviour when memprof did not ask
SELECT ok(pg_log_backend_memory_contexts((SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter')),
          'pg_log_backend_memory_contexts still signals');
SELECT pg_sleep(0.5);
SELECT ok(pg_read_file(current_setting('data_directory') || '/../server.log')
            ~ ('logging memory contexts of PID ' || (SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter')
               || '.*Grand total: '),
          'and the walwriter''s report is in the server log, header to grand total');

-- bad input
SELECT throws_ok('SELECT * FROM memprof_backend_contexts(1)', '22023', 'PID 1 is not a PostgreSQL server process',
                 'pid 1 is not a PostgreSQL process');
SELECT throws_ok('SELECT * FROM memprof_backend_contexts(-5)', '22023', NULL, 'negative pid');
SELECT throws_ok('SELECT * FROM memprof_backend_contexts(pg_backend_pid(), 3600001)', '22023', NULL, 'timeout above the cap');
SELECT throws_ok('SELECT * FROM memprof_backend_contexts(pg_backend_pid(), NULL)', '22004', NULL, 'NULL timeout');
SELECT throws_ok($$SELECT memprof_snapshot('x', 1)$$, '22023', NULL, 'remote snapshot of a non-PostgreSQL pid');
SELECT throws_ok($$SELECT memprof_snapshot('x', NULL::int)$$, '22004', NULL, 'remote snapshot of a NULL pid');
SELECT throws_ok('SELECT * FROM memprof_folded_pid(1)', '22023', NULL, 'folded tree of a non-PostgreSQL pid');
SELECT throws_ok('SELECT * FROM memprof_backend_contexts(NULL)', '22004', NULL, 'NULL pid');
SELECT throws_ok('SELECT * FROM memprof_backend_contexts(pg_backend_pid(), 0)', '22023', NULL, 'timeout 0');

-- remote snapshot
CREATE TEMP TABLE remote_snap AS SELECT memprof_snapshot('remote', (SELECT idle FROM pids)) AS id;
SELECT ok((SELECT s.pid = (SELECT idle FROM pids) AND s.contexts > 10 AND s.backend_type = 'client backend'
             FROM memprof_snapshots s JOIN remote_snap r USING (id)),
          'memprof_snapshot(label, pid) stores another backend''s tree');

-- history: the terminated backend is remembered
SELECT ok((SELECT count(*) FROM memprof_backend_history h JOIN pids p ON h.pid = p.mute
            WHERE h.exited_at > h.started_at AND h.final_total_bytes > 0
              AND h.peak_total_bytes >= h.final_total_bytes AND h.database = current_database()) = 1,
          'an exited backend is in memprof_backend_history with its figures');

SELECT dblink_disconnect(c) FROM unnest(ARRAY['idle', 'busy', 'req1', 'req2']) c;
SELECT * FROM finish();
ROLLBACK;
