-- Snapshots, diffs, baselines and memprof_leaks.

-- The first snapshot of a session loads the store's own catalog entries
-- and plans into the caches; take one so that later figures are steady.
SELECT memprof_snapshot('warm-up') > 0 AS warmed_up;
-- A snapshot stores the whole tree: its header matches memprof_contexts
-- read by the next statement (within 20 contexts: that statement's own
-- executor state and the view rules it loads; the rest must match).
SELECT memprof_snapshot('first') AS first_id \gset
SELECT label, pid = pg_backend_pid() AS own_pid, backend_type,
       backend_start IS NOT NULL AS has_start, truncated, omitted_contexts, is_baseline
  FROM memprof_snapshots WHERE id = :first_id;
SELECT abs(s.contexts - (SELECT count(*) FROM memprof_contexts)) <= 20 AS contexts_close,
       s.contexts = (SELECT count(*) FROM memprof_snapshot_contexts(:first_id)) AS rows_stored,
       s.total_bytes = (SELECT sum(total_bytes) FROM memprof_snapshot_contexts(:first_id)) AS totals_stored
  FROM memprof_snapshots s WHERE s.id = :first_id;

-- Stored rows read back with the columns and paths of memprof_contexts.
SELECT id, parent_id, depth, path_names, name, type
  FROM memprof_snapshot_contexts(:first_id) WHERE id = 1;
SELECT count(*) AS bad_paths
  FROM memprof_snapshot_contexts(:first_id) c
 WHERE cardinality(c.path_names) <> c.depth + 1 OR c.path_names[c.depth + 1] <> c.name;

-- Leak 100 x 1 kB in a long-lived context, snapshot again, diff.
SELECT count(*) FROM (SELECT memprof_test_leak(1024) FROM generate_series(1, 100)) x;
SELECT memprof_snapshot('second') AS second_id \gset

-- The leaking context is the largest growth, first row; 100 chunks of
-- 1024 bytes plus AllocSet chunk headers: between 102,400 and 110,000.
SELECT path_names, contexts_from, contexts_to,
       used_bytes_delta BETWEEN 102400 AND 110000 AS used_delta_ok
  FROM memprof_diff(:first_id, :second_id) LIMIT 1;
-- The totals row (path NULL) sums every path.
SELECT d.contexts_from = s1.contexts AS from_count_ok,
       d.contexts_to = s2.contexts AS to_count_ok,
       d.total_bytes_to - d.total_bytes_from = s2.total_bytes - s1.total_bytes AS total_ok
  FROM memprof_diff(:first_id, :second_id) d, memprof_snapshots s1, memprof_snapshots s2
 WHERE d.path_names IS NULL AND s1.id = :first_id AND s2.id = :second_id;
-- Diffing a snapshot against itself: no row moves.
SELECT count(*) FILTER (WHERE used_bytes_delta <> 0 OR contexts_delta <> 0) AS moved
  FROM memprof_diff(:first_id, :first_id);

-- Baseline and memprof_leaks.
SELECT memprof_baseline('base') AS base_id \gset
SELECT count(*) FROM (SELECT memprof_test_leak(4096) FROM generate_series(1, 50)) x;
SELECT memprof_snapshot('after') AS after_id \gset
SELECT baseline_label, latest_label, path_names,
       used_bytes_delta BETWEEN 50 * 4096 AND 50 * 4200 AS grew_by_50x4k
  FROM memprof_leaks
 WHERE pid = pg_backend_pid() AND path_names IS NOT NULL
 ORDER BY used_bytes_delta DESC LIMIT 1;
-- Only one baseline per backend: marking another one moves it.
SELECT memprof_set_baseline(:first_id);
SELECT id = :first_id AS first_is_baseline FROM memprof_snapshots
 WHERE is_baseline AND pid = pg_backend_pid();

-- Labels are data, never SQL.
SELECT memprof_snapshot($$x'); DROP TABLE memprof_snapshot_header; --$$) AS odd_id \gset
SELECT label FROM memprof_snapshots WHERE id = :odd_id;
SELECT count(*) > 0 AS header_table_still_there FROM memprof_snapshot_header;

-- Dropping, and what happens to a dropped snapshot.
SELECT memprof_snapshot_drop(:odd_id);
SELECT count(*) AS rows_left FROM memprof_snapshot_context WHERE snapshot_id = :odd_id;
SELECT memprof_snapshot_drop(:odd_id);
SELECT * FROM memprof_diff(:first_id, :odd_id);
SELECT * FROM memprof_snapshot_contexts(-1);
SELECT memprof_snapshot_drop(NULL);
SELECT * FROM memprof_diff(NULL, 1);
SELECT memprof_set_baseline(123456789);

-- Retention: memprof.max_snapshots keeps the newest N.
SET memprof.max_snapshots = 3;
SELECT count(*) FROM (SELECT memprof_snapshot('r' || g) FROM generate_series(1, 5) g) x;
SELECT array_agg(label ORDER BY id) AS kept FROM memprof_snapshots;
SELECT count(DISTINCT snapshot_id) AS context_sets FROM memprof_snapshot_context;
RESET memprof.max_snapshots;
SELECT memprof_snapshot_prune(keep_last => 1);
SELECT array_agg(label ORDER BY id) AS kept FROM memprof_snapshots;
SELECT memprof_snapshot_prune();
SELECT memprof_snapshot_prune(keep_last => -1);
SELECT memprof_snapshot_prune(older_than => '0 seconds');
SELECT count(*) AS none_left FROM memprof_snapshots;

-- A chain 20,000 deep is stored without recursion (no path column is
-- built for storage).  Diffs and reads rebuild paths, and a chain's paths
-- hold n^2/2 names in all, so those are shown on a 2,000-deep chain.
SELECT memprof_snapshot('shallow') AS shallow_id \gset
SELECT memprof_test_tree(20000, 'deep');
SELECT memprof_snapshot('deep') AS deep_id \gset
SELECT (SELECT contexts FROM memprof_snapshots WHERE id = :deep_id) -
       (SELECT contexts FROM memprof_snapshots WHERE id = :shallow_id) BETWEEN 20001 AND 20010 AS deep_stored;
SELECT max(depth) - min(depth) = 20000 AS depth_stored
  FROM memprof_snapshot_context WHERE snapshot_id = :deep_id AND name LIKE 'memprof_test %';
SELECT memprof_test_tree(2000, 'deep');
SELECT memprof_snapshot('deep 2000') AS deep2_id \gset
SELECT count(*) FILTER (WHERE contexts_delta = 1) >= 2000 AS each_level_one_path
  FROM memprof_diff(:shallow_id, :deep2_id);
SELECT memprof_test_tree_drop();
SELECT memprof_test_leak_free();
SELECT memprof_snapshot_prune(keep_last => 0);
