-- memprof_contexts: shape, agreement with core, big trees, groups.
-- (memprof and memprof_test are created by --load-extension)

-- The root row: one TopMemoryContext at level 0 with no parent.
SELECT id, parent_id, depth, path_names, name, type
  FROM memprof_contexts WHERE depth = 0;

-- Every non-root row points at an existing parent one level up, and the
-- path is the parent's path plus the own name.
-- (one sample, materialized once: ids are per call)
WITH s AS MATERIALIZED (SELECT * FROM memprof_contexts)
SELECT count(*) AS orphans
  FROM s c
  LEFT JOIN s p ON p.id = c.parent_id
 WHERE c.parent_id IS NOT NULL
   AND (p.id IS NULL OR p.depth <> c.depth - 1 OR c.path_names <> p.path_names || c.name);

-- Byte columns are consistent: used = total - free, all non-negative,
-- and every type is one core knows.
SELECT count(*) FILTER (WHERE used_bytes <> total_bytes - free_bytes) AS bad_used,
       count(*) FILTER (WHERE total_bytes < 0 OR free_bytes < 0 OR total_nblocks < 0 OR free_chunks < 0) AS negative,
       count(*) FILTER (WHERE type NOT IN ('AllocSet', 'Slab', 'Generation', 'Bump')) AS bad_type,
       count(DISTINCT id) = count(*) AS ids_unique
  FROM memprof_contexts;

-- Read at the same point (inside one call, with the readers' own memory
-- kept outside the tree): counts, totals and per-name counts are equal.
SELECT core_contexts = memprof_contexts AS same_count,
       core_total_bytes = memprof_total_bytes AS same_total,
       core_used_bytes = memprof_used_bytes AS same_used,
       names_differing
  FROM memprof_test_compare_core();

-- Read by two separate queries, the figures differ only by what the
-- queries themselves allocate: bound stated as 256 kB and 5 contexts.
WITH m AS (SELECT count(*) AS n, sum(total_bytes) AS t FROM memprof_contexts),
     c AS (SELECT count(*) AS n, sum(total_bytes) AS t FROM pg_backend_memory_contexts)
SELECT abs(m.n - c.n) <= 5 AS count_within_5,
       abs(m.t - c.t) <= 256 * 1024 AS total_within_256kB
  FROM m, c;

-- A dynahash context is labelled by its table name, as in core.
SELECT count(*) AS dynahash_rows FROM memprof_contexts WHERE name = 'dynahash';

-- Deep tree: a chain of 5,000 contexts is walked without recursion (the
-- path column is inherently quadratic for a chain: 12.5M names here).
SELECT memprof_test_tree(5000, 'deep');
SELECT count(*) AS nodes, max(depth) AS deepest,
       max(cardinality(path_names)) AS longest_path
  FROM memprof_contexts WHERE name = 'memprof_test node';

-- Wide tree: 30,000 siblings fold into one group row.
SELECT memprof_test_tree(30000, 'wide');
SELECT parent_path_names, name, contexts, total_bytes = contexts * min_total_bytes AS uniform
  FROM memprof_context_groups WHERE name = 'memprof_test node';
SELECT core_contexts = memprof_contexts AS same_count,
       core_total_bytes = memprof_total_bytes AS same_total,
       names_differing
  FROM memprof_test_compare_core();
SELECT memprof_test_tree_drop();
SELECT count(*) AS left_over FROM memprof_contexts WHERE name LIKE 'memprof_test%';

-- The groups view accounts for every context exactly once (outside this
-- statement's own executor contexts, which differ between the two reads:
-- the first read's result may still be held when the second one runs).
SELECT (SELECT sum(contexts) FROM memprof_context_groups
         WHERE NOT 'ExecutorState' = ANY (parent_path_names)) =
       (SELECT count(*) FROM memprof_contexts
         WHERE NOT 'ExecutorState' = ANY (path_names[1:depth])) AS groups_cover_all;
