-- pgTAP, memprof NOT in shared_preload_libraries: the extension installs
-- and everything that needs no shared memory works.
BEGIN;
SELECT plan(3);
SELECT is((SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'), '',
          'memprof is not preloaded in this run');
SELECT cmp_ok((SELECT count(*) FROM memprof_contexts), '>', 10::bigint,
              'memprof_contexts works without preloading');
SELECT is((SELECT names_differing FROM memprof_test_compare_core()), 0,
          'and agrees with core');
SELECT * FROM finish();
ROLLBACK;
