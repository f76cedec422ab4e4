-- pgTAP: snapshot ownership and the privileges of 1.1.  Each snapshot
-- records the role that took it; a role that is not a superuser drops,
-- prunes and re-baselines only its own.  Functions that signal another
-- process are for superusers unless granted, like core's
-- pg_log_backend_memory_contexts.
BEGIN;
SELECT plan(30);

CREATE ROLE memprof_tap_alice IN ROLE pg_read_all_stats;
CREATE ROLE memprof_tap_bob IN ROLE pg_read_all_stats;
SELECT pid AS other_pid FROM pg_stat_activity WHERE backend_type = 'autovacuum launcher' \gset

-- who took what
SET LOCAL ROLE memprof_tap_alice;
SELECT memprof_snapshot('alice 1') AS alice1 \gset
SELECT memprof_snapshot('alice 2') AS alice2 \gset
RESET ROLE;
SET LOCAL ROLE memprof_tap_bob;
SELECT memprof_snapshot('bob 1') AS bob1 \gset
SELECT memprof_snapshot('bob 2') AS bob2 \gset
RESET ROLE;
SELECT memprof_snapshot('superuser 1') AS super1 \gset

SELECT is((SELECT taken_by::text FROM memprof_snapshots WHERE id = :alice1), 'memprof_tap_alice',
          'a snapshot records the role that took it (taken_by)');
SELECT is((SELECT taken_by::text FROM memprof_snapshots WHERE id = :super1), current_user::text,
          'the superuser''s too');

-- another role's snapshots are not bob's to change
SET LOCAL ROLE memprof_tap_bob;
SELECT throws_ok(format('SELECT memprof_snapshot_drop(%s)', :alice1), '42501', NULL,
                 'bob cannot drop alice''s snapshot');
SELECT throws_ok(format('SELECT memprof_set_baseline(%s)', :alice1), '42501', NULL,
                 'bob cannot make alice''s snapshot a baseline');
SELECT throws_ok(format('SELECT memprof_snapshot_drop(%s)', :super1), '42501', NULL,
                 'bob cannot drop the superuser''s snapshot');
SELECT ok(memprof_snapshot_drop(:bob2), 'bob drops his own snapshot');
SELECT lives_ok(format('SELECT memprof_set_baseline(%s)', :bob1), 'bob makes his own snapshot a baseline');
SELECT throws_ok('INSERT INTO memprof_snapshot_header (label, pid, backend_type, taken_at, contexts, total_bytes, free_bytes, total_nblocks) VALUES (''x'', 1, ''x'', now(), 0, 0, 0, 0)',
                 '42501', NULL, 'bob cannot write the tables directly');
SELECT throws_ok(format('DELETE FROM memprof_snapshot_header WHERE id = %s', :alice1),
                 '42501', NULL, 'nor delete from them');
RESET ROLE;

-- one baseline per backend and role: alice's and bob's coexist
SET LOCAL ROLE memprof_tap_alice;
SELECT lives_ok(format('SELECT memprof_set_baseline(%s)', :alice1), 'alice makes her snapshot a baseline');
RESET ROLE;
SELECT is((SELECT array_agg(taken_by::text ORDER BY taken_by::text) FROM memprof_snapshots
            WHERE is_baseline AND pid = pg_backend_pid()),
          ARRAY['memprof_tap_alice', 'memprof_tap_bob'], 'alice''s baseline did not take bob''s away');
SET LOCAL ROLE memprof_tap_alice;
SELECT lives_ok(format('SELECT memprof_set_baseline(%s)', :alice2), 'alice moves her baseline');
RESET ROLE;
SELECT is((SELECT array_agg(id ORDER BY id) FROM memprof_snapshots WHERE is_baseline AND pid = pg_backend_pid()),
          ARRAY[:alice2, :bob1]::bigint[], 'her baseline moved, bob''s stayed');

-- pruning: a role prunes among its own snapshots only
SET LOCAL ROLE memprof_tap_bob;
SELECT memprof_snapshot('bob 3') AS bob3 \gset
SELECT is(memprof_snapshot_prune(keep_last => 0), 2::bigint, 'bob''s prune deletes his two snapshots');
SELECT is(memprof_snapshot_prune(older_than => '0 seconds'), 0::bigint, 'and then finds nothing more of his');
RESET ROLE;
SELECT is((SELECT count(*) FROM memprof_snapshots WHERE id IN (:alice1, :alice2, :super1)), 3::bigint,
          'alice''s and the superuser''s snapshots are still there');
SET LOCAL ROLE memprof_tap_alice;
SELECT memprof_snapshot('alice 3') AS alice3 \gset
SELECT is(memprof_snapshot_prune(keep_last => 1), 2::bigint, 'keep_last counts among alice''s own snapshots');
SELECT is((SELECT array_agg(id ORDER BY id) FROM memprof_snapshots WHERE taken_by = 'memprof_tap_alice'::regrole),
          ARRAY[:alice3]::bigint[], 'her newest is kept');
RESET ROLE;

-- snapshots with no recorded role (taken before 1.1) belong to superusers
UPDATE memprof_snapshot_header SET taken_by = NULL WHERE id = :super1;
SET LOCAL ROLE memprof_tap_alice;
SELECT throws_ok(format('SELECT memprof_snapshot_drop(%s)', :super1), '42501', NULL,
                 'a snapshot with no recorded role cannot be dropped by alice');
SELECT is(memprof_snapshot_prune(keep_last => 0), 1::bigint, 'nor pruned: her prune takes only hers');
RESET ROLE;
SELECT ok(memprof_snapshot_drop(:super1), 'a superuser drops it');

-- the leak-check runs of one role cannot be continued by another
SET LOCAL ROLE memprof_tap_alice;
SELECT memprof_leak_xact_snapshot('alice run', NULL) AS alice_run \gset
RESET ROLE;
SET LOCAL ROLE memprof_tap_bob;
SELECT throws_ok(format($$SELECT memprof_leak_xact_snapshot('bob in alice''s run', %s)$$, :alice_run), '22023', NULL,
                 'bob cannot add a snapshot to alice''s run');
SELECT throws_ok(format('SELECT memprof_leak_xact_finish(%s)', :alice_run), '22023', NULL,
                 'bob cannot end alice''s run');
RESET ROLE;
SELECT is((SELECT count(*) FROM memprof_snapshots WHERE run_id = :alice_run), 0::bigint,
          'alice''s run is not shown while it has not ended');
SELECT throws_ok(format('SELECT memprof_leak_xact_finish(%s)', :alice_run), '22023', NULL,
                 'nor can a superuser end a run of another role (runs belong to their role and backend)');
SET LOCAL ROLE memprof_tap_alice;
SELECT lives_ok(format('SELECT memprof_leak_xact_finish(%s)', :alice_run), 'alice ends her run');
RESET ROLE;
SELECT is((SELECT taken_by::text FROM memprof_snapshots WHERE run_id = :alice_run), 'memprof_tap_alice',
          'and it is shown, as alice''s');

-- signalling functions: superuser only, like pg_log_backend_memory_contexts
-- (refused to pg_read_all_stats members: 02_privileges.sql), unless granted
SET LOCAL ROLE memprof_tap_bob;
SELECT throws_ok(format('SELECT pg_log_backend_memory_contexts(%s)', :other_pid), '42501', NULL,
                 'witness: core refuses pg_log_backend_memory_contexts to a pg_read_all_stats member');
RESET ROLE;
GRANT EXECUTE ON FUNCTION memprof_backend_contexts(integer, integer) TO memprof_tap_bob;
GRANT EXECUTE ON FUNCTION memprof_folded_pid(integer, text) TO memprof_tap_bob;
SET LOCAL ROLE memprof_tap_bob;
SELECT cmp_ok((SELECT count(*) FROM memprof_backend_contexts(:other_pid)), '>', 5::bigint,
              'granted: bob fetches another process''s tree');
SELECT cmp_ok((SELECT count(*) FROM memprof_folded_pid(:other_pid)), '>', 5::bigint,
              'granted: and its folded lines');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
