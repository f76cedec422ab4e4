-- Every process's memory and per-statement peaks: with memprof in
-- shared_preload_libraries (expected/09_processes.out) these work; without
-- it each says so with SQLSTATE 55000 (expected/09_processes_1.out).
-- (memprof is created by --load-extension)
\set VERBOSITY sqlstate

SELECT setting ~ '(^|[, ])memprof($|[, ])' AS memprof_preloaded
  FROM pg_settings WHERE name = 'shared_preload_libraries';
SELECT state IN ('active', 'off') AS allocator_known FROM memprof_allocator();

-- memprof_backends: one row per live process, this one among them, with
-- live allocator bytes; the auxiliary processes are there too.
SELECT backend_type, datname = current_database() AS own_database,
       allocated_bytes > 0 AS allocates, peak_allocated_bytes >= allocated_bytes AS peak_at_least_now,
       rss_bytes > 0 AS has_rss
  FROM memprof_backends WHERE pid = pg_backend_pid();
SELECT count(*) FILTER (WHERE backend_type = 'checkpointer') AS checkpointers,
       count(*) FILTER (WHERE pid = pg_backend_pid()) AS own_rows,
       count(DISTINCT pid) = count(*) AS one_row_per_process
  FROM memprof_backends;

-- Another process's whole tree: the checkpointer's.
SELECT count(*) > 3 AS checkpointer_tree,
       count(*) FILTER (WHERE depth = 0 AND name = 'TopMemoryContext') AS roots
  FROM memprof_backend_contexts((SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'));
-- Unknown and out-of-range pids.
SELECT * FROM memprof_backend_contexts(2147483647);
SELECT * FROM memprof_backend_contexts(-5);
SELECT count(*) FROM memprof_folded_pid(2147483647);

-- memprof_statements: a statement run twice is one entry with two calls,
-- its text without constants, and a peak counted at the allocator.
SELECT count(*) FROM generate_series(1, 50000) AS proc_regress_series;
SELECT count(*) FROM generate_series(1, 60000) AS proc_regress_series;
SELECT query, calls, max_peak_bytes > 0 AS has_peak, min_peak_bytes <= max_peak_bytes AS min_le_max,
       total_peak_bytes >= max_peak_bytes AS total_ge_max
  FROM memprof_statements
 WHERE datname = current_database() AND query LIKE '%proc_regress_series%'
   AND query NOT LIKE '%memprof_statements%';
SELECT max_entries > 0 AS has_cap FROM memprof_statements_info();

-- The server's allocator total: every process counted.
SELECT allocated_bytes > 0 AS server_allocates, processes > 0 AS has_processes
  FROM memprof_server();
