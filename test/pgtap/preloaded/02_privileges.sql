-- pgTAP: an unprivileged role is refused with SQLSTATE 42501; a member of
-- pg_read_all_stats is not.
BEGIN;
SELECT plan(7);

CREATE ROLE memprof_tap_nobody;
CREATE ROLE memprof_tap_stats IN ROLE pg_read_all_stats;

SET LOCAL ROLE memprof_tap_nobody;
SELECT throws_ok('SELECT count(*) FROM memprof_contexts', '42501', NULL,
                 'unprivileged role cannot read memprof_contexts');
SELECT throws_ok('SELECT count(*) FROM memprof_context_groups', '42501', NULL,
                 'unprivileged role cannot read memprof_context_groups');
SELECT throws_ok('SELECT count(*) FROM memprof_contexts()', '42501', NULL,
                 'unprivileged role cannot call memprof_contexts()');
RESET ROLE;

SET LOCAL ROLE memprof_tap_stats;
SELECT lives_ok('SELECT count(*) FROM memprof_contexts',
                'pg_read_all_stats member can read memprof_contexts');
SELECT cmp_ok((SELECT count(*) FROM memprof_contexts), '>', 10::bigint,
              'and sees this backend''s contexts');
SELECT lives_ok('SELECT count(*) FROM memprof_context_groups',
                'pg_read_all_stats member can read memprof_context_groups');
RESET ROLE;

SELECT throws_ok($$SELECT memprof_test_throw('bad_alloc')$$, '53200', 'out of memory',
                 'std::bad_alloc becomes ERROR 53200');

SELECT * FROM finish();
ROLLBACK;
