-- What an installed memprof does on its own, without the test-only module:
-- contexts against core's pg_backend_memory_contexts, groups, snapshots
-- and diffs, folded output, the leak check, and SQLSTATEs of bad input.
-- The output is the same with or without memprof preloaded.
-- (memprof is created by --load-extension)

-- memprof_contexts read between two reads of core's view, each by a
-- statement of the same shape into a table (twice: the first round loads
-- what the reads themselves need into the caches).  Level is 0-based in
-- core's view on 15, 1-based from 18: it is taken relative to the root here.
CREATE TEMP TABLE ess_core AS SELECT name, level, total_bytes FROM pg_backend_memory_contexts;
CREATE TEMP TABLE ess_memprof AS SELECT name, depth, path_names, total_bytes FROM memprof_contexts;
CREATE TEMP TABLE ess_core_after AS SELECT total_bytes FROM pg_backend_memory_contexts;
DROP TABLE ess_core, ess_memprof, ess_core_after;
CREATE TEMP TABLE ess_core AS SELECT name, level, total_bytes FROM pg_backend_memory_contexts;
CREATE TEMP TABLE ess_memprof AS SELECT name, depth, path_names, total_bytes FROM memprof_contexts;
CREATE TEMP TABLE ess_core_after AS SELECT total_bytes FROM pg_backend_memory_contexts;
-- memprof's read differs from core's only by what the statements
-- themselves allocate (bound stated as 5 contexts and 256 kB), and its total
-- lies between core's two totals, give or take that bound: a context that
-- grows meanwhile (CacheMemoryContext takes its next, doubled block when the
-- new temporary table's relcache entry does not fit) shows in core's second
-- read too.
SELECT abs((SELECT count(*) FROM ess_core) - (SELECT count(*) FROM ess_memprof)) <= 5 AS count_within_5,
       (SELECT sum(total_bytes) FROM ess_memprof)
         BETWEEN least((SELECT sum(total_bytes) FROM ess_core), (SELECT sum(total_bytes) FROM ess_core_after)) - 256 * 1024
             AND greatest((SELECT sum(total_bytes) FROM ess_core), (SELECT sum(total_bytes) FROM ess_core_after)) + 256 * 1024
         AS total_within_256kB;
-- One root, TopMemoryContext, in both.
SELECT (SELECT array_agg(name) FROM ess_core WHERE level = (SELECT min(level) FROM ess_core)) AS core_root,
       (SELECT array_agg(name) FROM ess_memprof WHERE depth = 0) AS memprof_root;
-- Outside each statement's own portal, every (name, depth) has the same
-- number of contexts in both reads: the children of TopMemoryContext, the
-- caches, the relcache and catalog cache contexts.  Core's reader keeps
-- up to two contexts of its own in its portal (from 18).
WITH portal AS (SELECT DISTINCT name FROM ess_memprof WHERE path_names[2] = 'TopPortalContext'),
     c AS (SELECT name, level - (SELECT min(level) FROM ess_core) AS depth, count(*) AS n
             FROM ess_core WHERE name NOT IN (SELECT name FROM portal) GROUP BY 1, 2),
     m AS (SELECT name, depth, count(*) AS n
             FROM ess_memprof WHERE name NOT IN (SELECT name FROM portal) GROUP BY 1, 2)
SELECT count(*) FILTER (WHERE c.n <> m.n) AS counted_differently,
       count(*) FILTER (WHERE c.n IS NULL) AS only_in_memprof,
       count(*) FILTER (WHERE m.n IS NULL) <= 2 AS only_cores_reader_missing,
       count(*) FILTER (WHERE depth = 1 AND c.n = m.n) >= 10 AS top_children_agree,
       sum(m.n) FILTER (WHERE c.n = m.n) >= 80 AS contexts_compared_80_or_more
  FROM c FULL JOIN m USING (name, depth);
DROP TABLE ess_core, ess_memprof;

-- Rows are consistent with each other: used = total - free, every path
-- ends in the own name, one TopMemoryContext and one CacheMemoryContext.
SELECT count(*) FILTER (WHERE used_bytes <> total_bytes - free_bytes) AS bad_used,
       count(*) FILTER (WHERE path_names[depth + 1] <> name OR cardinality(path_names) <> depth + 1) AS bad_paths,
       count(*) FILTER (WHERE name = 'TopMemoryContext') AS top,
       count(*) FILTER (WHERE path_names = '{TopMemoryContext,CacheMemoryContext}') AS cache
  FROM memprof_contexts;

-- memprof_context_groups: twenty indexes on one table are twenty relcache
-- entries, each with an "index info" context; they fold into one group
-- row under CacheMemoryContext.
CREATE TABLE ess_wide (a int, b int);
SELECT format('CREATE INDEX ess_wide_%s ON ess_wide (a, b)', g) FROM generate_series(1, 20) g \gexec
SELECT count(*) FROM ess_wide WHERE a = 1;
SELECT parent_path_names, name, contexts >= 20 AS folds_20_or_more,
       total_bytes BETWEEN contexts * min_total_bytes AND contexts * max_total_bytes AS bytes_add_up
  FROM memprof_context_groups
 WHERE parent_path_names = '{TopMemoryContext,CacheMemoryContext}' AND name = 'index info';
-- Groups are ordered largest first and cover every context exactly once
-- (outside the statement's own executor contexts).
SELECT bool_and(total_bytes <= prev) AS largest_first
  FROM (SELECT total_bytes, lag(total_bytes, 1, total_bytes) OVER () AS prev
          FROM memprof_context_groups) g;
SELECT (SELECT sum(contexts) FROM memprof_context_groups
         WHERE NOT 'ExecutorState' = ANY (parent_path_names)) =
       (SELECT count(*) FROM memprof_contexts
         WHERE NOT 'ExecutorState' = ANY (path_names[1:depth])) AS groups_cover_all;

-- Snapshots and memprof_diff: prepared statements live in
-- CacheMemoryContext until deallocated, one CachedPlanSource each.
SELECT memprof_snapshot('essentials warm-up') AS warm_id \gset
-- reading a snapshot back once caches the store's plans (from 18 SQL
-- functions keep theirs), so the later reads add no contexts of their own
SELECT count(*) > 0 AS warmed_up FROM memprof_snapshot_contexts(:warm_id);
SELECT memprof_snapshot('before') AS before_id \gset
SELECT format('PREPARE ess_p%s AS SELECT %s AS ess_prepared_statement', g, g)
  FROM generate_series(1, 12) g \gexec
SELECT memprof_snapshot('after') AS after_id \gset
-- The stored snapshot, written and read back through the store, against
-- core's view read just after it: the children of CacheMemoryContext
-- (relcache entries, plans, catalog caches) are the same contexts by name,
-- each name as many times.  Core names a context's parent in its parent
-- column on 15, and by context ids in path (the context's own id last)
-- from 18.
WITH s AS (SELECT name, count(*) AS n FROM memprof_snapshot_contexts(:after_id)
            WHERE depth = 2 AND path_names[2] = 'CacheMemoryContext' GROUP BY 1),
     core AS (SELECT to_jsonb(b) AS j FROM pg_backend_memory_contexts b),
     c AS (SELECT j->>'name' AS name, count(*) AS n FROM core
            WHERE j->>'parent' = 'CacheMemoryContext'
               OR j->'path'->-2 = (SELECT j->'path'->-1 FROM core WHERE j->>'name' = 'CacheMemoryContext')
            GROUP BY 1)
SELECT count(*) FILTER (WHERE s.n IS DISTINCT FROM c.n) <= 2 AS at_most_2_names_differ,
       sum(s.n) FILTER (WHERE s.n = c.n) >= 20 AS contexts_compared_20_or_more
  FROM s FULL JOIN c USING (name);
SELECT label, pid = pg_backend_pid() AS own_pid, backend_type, truncated
  FROM memprof_snapshots WHERE id IN (:before_id, :after_id) ORDER BY id;
SELECT (SELECT count(*) FROM memprof_snapshot_contexts(:before_id)
         WHERE name = 'CachedPlanSource' AND ident LIKE '%ess_prepared_statement%') AS prepared_before,
       (SELECT count(*) FROM memprof_snapshot_contexts(:after_id)
         WHERE name = 'CachedPlanSource' AND ident LIKE '%ess_prepared_statement%') AS prepared_after;
SELECT path_names, contexts_delta >= 12 AS grew_by_12_or_more, used_bytes_delta > 0 AS used_grew
  FROM memprof_diff(:before_id, :after_id)
 WHERE path_names = '{TopMemoryContext,CacheMemoryContext,CachedPlanSource}';
-- The totals row (path NULL) matches the two snapshots' headers.
SELECT d.contexts_from = s1.contexts AS from_count_ok,
       d.contexts_to = s2.contexts AS to_count_ok,
       d.total_bytes_delta = s2.total_bytes - s1.total_bytes AS total_ok
  FROM memprof_diff(:before_id, :after_id) d, memprof_snapshots s1, memprof_snapshots s2
 WHERE d.path_names IS NULL AND s1.id = :before_id AND s2.id = :after_id;
-- A snapshot against itself: nothing moves.
SELECT count(*) FILTER (WHERE used_bytes_delta <> 0 OR contexts_delta <> 0) AS moved
  FROM memprof_diff(:after_id, :after_id);
DEALLOCATE ALL;

-- Folded stacks: one "a;b;c N" line per context with bytes.
WITH f AS MATERIALIZED (SELECT * FROM memprof_folded())
SELECT count(*) > 10 AS has_lines,
       bool_and(l ~ '^TopMemoryContext(;[^;]+)* [0-9]+$') AS all_well_formed,
       count(*) FILTER (WHERE l ~ '^TopMemoryContext;CacheMemoryContext [0-9]+$') AS cache_lines
  FROM f AS t(l);
SELECT memprof_fold(ARRAY['TopMemoryContext', 'a;b', 'c'], 42);
SELECT (SELECT count(*) FROM memprof_folded(:after_id)) =
       (SELECT count(*) FROM memprof_snapshot_contexts(:after_id) WHERE total_bytes > 0) AS one_line_per_context,
       (SELECT sum(substring(l FROM ' ([0-9]+)$')::bigint) FROM memprof_folded(:after_id) l) =
       (SELECT total_bytes FROM memprof_snapshots WHERE id = :after_id) AS bytes_add_up;
SELECT regexp_replace(l, ' [0-9]+$', '') AS stack
  FROM memprof_folded_diff(:before_id, :after_id) l
 WHERE l LIKE 'TopMemoryContext;CacheMemoryContext;CachedPlanSource %';

-- The leak check: a catalog count holds no memory from one run to the next.
SELECT verdict FROM memprof_leak_check('SELECT count(*) FROM pg_class', 50, 5) WHERE path_names IS NULL;

-- This backend through the process interface (works without preloading
-- for the own pid).
SELECT count(*) > 10 AS own_tree FROM memprof_backend_contexts(pg_backend_pid());

-- Bad input: NULL (22004), negative or out of range (22023), unknown
-- snapshot (42704), a leak check's own error.
\set VERBOSITY sqlstate
SELECT * FROM memprof_diff(NULL, :after_id);
SELECT * FROM memprof_snapshot_contexts(NULL);
SELECT memprof_snapshot_drop(NULL);
SELECT * FROM memprof_diff(-1, -2);
SELECT * FROM memprof_snapshot_contexts(-1);
SELECT memprof_set_baseline(-1);
SELECT memprof_snapshot_prune(keep_last => -1);
SELECT memprof_snapshot_prune(older_than => '-1 day');
SELECT * FROM memprof_folded('bogus');
SELECT * FROM memprof_folded(-1);
SELECT * FROM memprof_leak_check(NULL);
SELECT * FROM memprof_leak_check('');
SELECT * FROM memprof_leak_check('SELECT 1', -1);
SELECT * FROM memprof_leak_check('SELECT 1', 10, -1);
SELECT * FROM memprof_leak_check('SELECT 1/0', 5, 0);
SELECT * FROM memprof_backend_contexts(NULL);
SELECT memprof_snapshot('x', NULL);
\set VERBOSITY default
-- the session goes on
SELECT 1 AS still_here;

DROP TABLE ess_wide;
SELECT memprof_snapshot_drop(id) FROM memprof_snapshots
 WHERE label IN ('essentials warm-up', 'before', 'after') AND pid = pg_backend_pid();
