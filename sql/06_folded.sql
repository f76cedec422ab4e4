-- Folded stacks for flame graphs.

-- One line per context with bytes, "a;b;c N", rooted at TopMemoryContext.
WITH f AS MATERIALIZED (SELECT * FROM memprof_folded())
SELECT count(*) > 10 AS has_lines,
       bool_and(l ~ '^TopMemoryContext(;[^;]+)* [0-9]+$') AS all_well_formed,
       count(*) FILTER (WHERE l ~ '^TopMemoryContext;CacheMemoryContext [0-9]+$') AS cache_lines
  FROM f AS t(l);

-- ';' in a name cannot split a frame.
SELECT memprof_fold(ARRAY['Top', 'a;b', 'c'], 42);

-- A snapshot folds to exactly its contexts with bytes, in order.
SELECT memprof_snapshot('folded') AS fid \gset
SELECT (SELECT count(*) FROM memprof_folded(:fid)) =
       (SELECT count(*) FROM memprof_snapshot_contexts(:fid) WHERE total_bytes > 0) AS one_line_per_context,
       (SELECT sum(substring(l FROM ' ([0-9]+)$')::bigint) FROM memprof_folded(:fid) l) =
       (SELECT total_bytes FROM memprof_snapshots WHERE id = :fid) AS bytes_add_up;

-- A diff folds to the paths that grew.
SELECT count(*) FROM (SELECT memprof_test_leak(4096) FROM generate_series(1, 20)) x;
SELECT memprof_snapshot('folded 2') AS fid2 \gset
SELECT regexp_replace(l, ' [0-9]+$', '') AS stack,
       substring(l FROM ' ([0-9]+)$')::bigint BETWEEN 20 * 4096 AND 20 * 4096 + 8192 AS grew_by_20x4k
  FROM memprof_folded_diff(:fid, :fid2) l WHERE l LIKE '%memprof_test leaks%';
SELECT count(*) AS negative_lines FROM memprof_folded_diff(:fid, :fid2) l WHERE l ~ ' -';

-- Bad input.
SELECT * FROM memprof_folded('bogus');
SELECT * FROM memprof_folded(NULL::text);
SELECT * FROM memprof_folded(-1);
SELECT memprof_test_leak_free();
SELECT memprof_snapshot_prune(keep_last => 0);
