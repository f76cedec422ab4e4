-- pgTAP: snapshots and the leak check: SQLSTATEs of bad input, privileges.
BEGIN;
SELECT plan(34);

SELECT has_table('memprof_snapshot_header');
SELECT has_table('memprof_snapshot_context');
SELECT has_view('memprof_snapshots');
SELECT has_view('memprof_leaks');
SELECT has_function('memprof_leak_check', ARRAY['text', 'integer', 'integer']);

-- unknown, dropped and NULL ids
SELECT throws_ok('SELECT * FROM memprof_diff(-1, -2)', '42704', NULL, 'diff of unknown ids: 42704');
SELECT throws_ok('SELECT memprof_snapshot_drop(-1)', '42704', NULL, 'drop of an unknown id: 42704');
SELECT throws_ok('SELECT memprof_set_baseline(-1)', '42704', NULL, 'baseline of an unknown id: 42704');
SELECT throws_ok('SELECT * FROM memprof_diff(NULL, NULL)', '22004', NULL, 'diff of NULL: 22004');
SELECT throws_ok('SELECT * FROM memprof_diff(1, 1, NULL)', '22004', 'include_unchanged must not be null',
                 'diff with include_unchanged NULL: 22004');

-- unchanged paths are left out unless asked; the totals row is the same
SELECT memprof_snapshot('tap diff a') AS diff_a \gset
SELECT memprof_snapshot('tap diff b') AS diff_b \gset
SELECT is((SELECT count(*) FROM memprof_diff(:diff_a, :diff_b)
            WHERE path_names IS NOT NULL AND contexts_delta = 0
              AND total_bytes_delta = 0 AND used_bytes_delta = 0),
          0::bigint, 'memprof_diff leaves out paths that did not change');
SELECT cmp_ok((SELECT count(*) FROM memprof_diff(:diff_a, :diff_b, include_unchanged => true)),
              '>', (SELECT count(*) FROM memprof_diff(:diff_a, :diff_b)),
              'include_unchanged => true shows them');
SELECT is((SELECT row(contexts_delta, total_bytes_delta, used_bytes_delta)::text
             FROM memprof_diff(:diff_a, :diff_b) WHERE path_names IS NULL),
          (SELECT row(contexts_delta, total_bytes_delta, used_bytes_delta)::text
             FROM memprof_diff(:diff_a, :diff_b, true) WHERE path_names IS NULL),
          'the totals row counts every path either way');
-- a leak-check run that never ended (its procedure cut short by a cancel
-- while one of its transactions committed) is hidden, and the backend's
-- next run deletes it
SELECT memprof_leak_xact_snapshot('tap orphan run', NULL) AS orphan_run \gset
SELECT is((SELECT count(*) FROM memprof_snapshots WHERE label = 'tap orphan run'), 0::bigint,
          'a run that has not ended is not in memprof_snapshots');
SELECT is((SELECT count(*) FROM memprof_snapshot_header WHERE run_id = :orphan_run AND NOT run_complete),
          1::bigint, '... its snapshot is stored, marked incomplete');
SELECT memprof_leak_xact_snapshot('tap next run', NULL) AS next_run \gset
SELECT is((SELECT count(*) FROM memprof_snapshot_header WHERE run_id = :orphan_run), 0::bigint,
          'the next run this backend starts deletes it');
SELECT is((SELECT count(*) FROM memprof_snapshot_context WHERE snapshot_id = :orphan_run), 0::bigint,
          '... with its contexts');
SELECT lives_ok(format('SELECT memprof_leak_xact_finish(%s)', :next_run), 'memprof_leak_xact_finish ends a run');
SELECT is((SELECT count(*) FROM memprof_snapshots WHERE run_id = :next_run), 1::bigint,
          '... and memprof_snapshots shows it');
SELECT throws_ok('SELECT memprof_leak_xact_finish(NULL)', '22004', NULL, 'memprof_leak_xact_finish(NULL): 22004');
SELECT throws_ok('SELECT memprof_leak_xact_finish(-7)', '22023', NULL,
                 'ending a run that is not the caller''s in this backend: 22023');
SELECT lives_ok(format('SELECT memprof_snapshot_drop(%s)', :next_run), 'the run''s snapshot drops');
SELECT lives_ok($$SELECT memprof_snapshot_drop(memprof_snapshot('tap'))$$, 'snapshot then drop');
SELECT is((SELECT count(*) FROM memprof_snapshots WHERE label = 'tap'), 0::bigint, 'dropped snapshot is gone');

-- leak check arguments
SELECT throws_ok('SELECT * FROM memprof_leak_check(NULL)', '22004', 'statement must not be null', 'NULL statement');
SELECT throws_ok($$SELECT * FROM memprof_leak_check('')$$, '22023', 'statement must not be empty', 'empty statement');
SELECT throws_ok($$SELECT * FROM memprof_leak_check('SELECT 1', 0)$$, '22023', NULL, 'iterations 0');
SELECT throws_ok($$SELECT * FROM memprof_leak_check('SELECT 1', 2147483647)$$, '22023', NULL, 'iterations above the cap');
SELECT throws_ok($$SELECT * FROM memprof_leak_check('SELECT 1/0', 5, 0)$$, '22012', NULL, 'the statement''s own error comes through');
SELECT is((SELECT verdict FROM memprof_leak_check('SELECT memprof_test_leak(1024)', 50, 5) WHERE path_names IS NULL),
          'leak', '1 kB per call is a leak');
SELECT is((SELECT verdict FROM memprof_leak_check('SELECT count(*) FROM pg_class', 50, 5) WHERE path_names IS NULL),
          'stable', 'a catalog count is stable');

-- what a pg_read_all_stats member does with them (who may call what:
-- 02_privileges.sql)
CREATE ROLE memprof_tap_stats2 IN ROLE pg_read_all_stats;
SET LOCAL ROLE memprof_tap_stats2;
SELECT cmp_ok(memprof_snapshot('stats role'), '>', 0::bigint, 'pg_read_all_stats member can take a snapshot');
SELECT throws_ok('DELETE FROM memprof_snapshot_header', '42501', NULL,
                 'but cannot write the store directly');
SELECT is((SELECT verdict FROM memprof_leak_check('SELECT 1', 10, 0) WHERE path_names IS NULL), 'stable',
          'and can run a leak check');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
