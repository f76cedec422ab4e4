-- pgTAP: memprof preloaded with memprof.intercept_allocator = off.  The
-- allocator is not counted: memprof says so, statement figures and guards
-- are off, and everything else works.
BEGIN;
SELECT plan(7);
SELECT is((SELECT state FROM memprof_allocator()), 'off', 'memprof_allocator() says the interception is off');
SELECT ok((SELECT reason FROM memprof_allocator()) ~ 'memprof.intercept_allocator',
          'and names the setting as the reason');
SELECT is((SELECT held_bytes FROM memprof_allocator()), NULL, 'no allocator figure is shown');
SELECT ok((SELECT count(*) > 0 AND bool_and(allocated_bytes IS NULL) FROM memprof_backends),
          'memprof_backends: allocated_bytes is NULL for every process');
SET LOCAL memprof.max_statement_memory = '1MB';
SELECT lives_ok('SELECT memprof_test_child_burst(20000000)', 'guards do not act without the counters');
RESET memprof.max_statement_memory;
SELECT is((SELECT count(*) FROM memprof_statements WHERE query LIKE '%memprof_test_child_burst%'), 0::bigint,
          'no statement is recorded without the counters');
SELECT cmp_ok((SELECT count(*) FROM memprof_contexts), '>', 10::bigint, 'the context views still work');
SELECT * FROM finish();
ROLLBACK;
