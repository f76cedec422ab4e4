-- profiling/workloads/leak.sql: a workload that leaks, to show that soak.sh
-- sees a leak.  Each iteration runs the default workload and then leaks
-- 64 kB for good: memprof_test_leak(65536) allocates one 64 kB chunk in the
-- long-lived context "memprof_test leaks" (a child of TopMemoryContext) and
-- never frees it.  memprof_test is the test-only module installed by
-- test/lib.sh build_install.
-- memprof-requires: memprof, memprof_test

\ir memprof_views.sql
SELECT memprof_test_leak(65536);
