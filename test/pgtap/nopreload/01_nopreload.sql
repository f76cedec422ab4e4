-- pgTAP, memprof NOT in shared_preload_libraries: the extension installs,
-- everything that needs no shared memory works, and what needs it says so.
BEGIN;
SELECT plan(9);
SELECT is((SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'), '',
          'memprof is not preloaded in this run');
SELECT cmp_ok((SELECT count(*) FROM memprof_contexts), '>', 10::bigint,
              'memprof_contexts works without preloading');
SELECT is((SELECT names_differing FROM memprof_test_compare_core()), 0,
          'and agrees with core');
SELECT cmp_ok(memprof_snapshot('no preload'), '>', 0::bigint, 'snapshots work');
SELECT is((SELECT verdict FROM memprof_leak_check('SELECT memprof_test_leak(1024)', 30, 3) WHERE path_names IS NULL),
          'leak', 'the leak check works');
SELECT cmp_ok((SELECT count(*) FROM memprof_backend_contexts(pg_backend_pid())), '>', 10::bigint,
              'memprof_backend_contexts of the own pid works');
SELECT throws_ok('SELECT * FROM memprof_backends', '55000',
                 'memprof_backends needs memprof to be loaded via shared_preload_libraries',
                 'memprof_backends names shared_preload_libraries');
SELECT throws_ok('SELECT * FROM memprof_backend_history', '55000', NULL,
                 'memprof_backend_history needs shared memory');
SELECT throws_ok(format('SELECT * FROM memprof_backend_contexts(%s)',
                        (SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer')),
                 '55000', NULL, 'another process''s tree needs shared memory');
SELECT * FROM finish();
ROLLBACK;
