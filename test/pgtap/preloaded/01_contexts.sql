-- pgTAP: memprof_contexts and memprof_context_groups.
BEGIN;
SELECT plan(18);

SELECT has_view('memprof_contexts');
SELECT has_view('memprof_context_groups');
SELECT columns_are('memprof_contexts', ARRAY[
    'id', 'parent_id', 'depth', 'path_names', 'name', 'ident', 'type',
    'total_bytes', 'free_bytes', 'used_bytes', 'total_nblocks', 'free_chunks']);
SELECT col_type_is('memprof_contexts', 'path_names', 'text[]');
SELECT col_type_is('memprof_contexts', 'total_bytes', 'bigint');

SELECT is((SELECT count(*) FROM memprof_contexts WHERE depth = 0), 1::bigint,
          'exactly one root');
SELECT is((SELECT name FROM memprof_contexts WHERE depth = 0), 'TopMemoryContext',
          'the root is TopMemoryContext');
SELECT ok((SELECT bool_and(path_names[1] = 'TopMemoryContext' AND cardinality(path_names) = depth + 1)
             FROM memprof_contexts),
          'every path_names starts at TopMemoryContext and has depth+1 names');
SELECT ok((SELECT count(*) FROM memprof_contexts WHERE name = 'CacheMemoryContext') = 1,
          'CacheMemoryContext is present once');

-- exact agreement with core, read at one point
SELECT is(c.memprof_total_bytes, c.core_total_bytes,
          'total_bytes equals pg_backend_memory_contexts read at the same point')
  FROM memprof_test_compare_core() c;
SELECT is(ARRAY[c.memprof_contexts, c.memprof_used_bytes, c.names_differing],
          ARRAY[c.core_contexts, c.core_used_bytes, 0],
          'context count, used bytes and per-name counts equal core''s at the same point')
  FROM memprof_test_compare_core() c;

-- a cached plan adds contexts that both views see: per-name counts agree
PREPARE tap_p AS SELECT count(*) FROM pg_class WHERE relname = $1;
EXECUTE tap_p('pg_type');
SELECT is((SELECT names_differing FROM memprof_test_compare_core()), 0,
          'per-name counts agree with a prepared statement present');
DEALLOCATE tap_p;

-- a long ident is clipped below 1024 bytes as in core
SELECT ok((SELECT coalesce(max(octet_length(ident)), 0) < 1024 FROM memprof_contexts),
          'idents are clipped below 1024 bytes');

-- big trees
SELECT is(memprof_test_tree(50000, 'wide'), 50000, 'built 50,000 siblings');
SELECT is((SELECT contexts FROM memprof_context_groups WHERE name = 'memprof_test node'),
          50000::bigint, '50,000 siblings fold into one group row');
SELECT is(memprof_test_tree(3000, 'deep'), 3000, 'built a chain 3,000 deep');
SELECT is((SELECT max(depth) FROM memprof_contexts WHERE name = 'memprof_test node'),
          (SELECT depth + 3000 FROM memprof_contexts WHERE name = 'memprof_test tree'),
          'the deepest node is 3,000 levels below its root');
SELECT ok(memprof_test_tree_drop(), 'tree dropped');

SELECT * FROM finish();
ROLLBACK;
