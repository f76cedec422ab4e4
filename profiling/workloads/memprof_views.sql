-- profiling/workloads/memprof_views.sql: the default profiling workload.
--
-- One iteration of what a user of memprof does, plus the ordinary SQL that
-- changes the tree the views read: memprof's views read whole, filtered,
-- sorted, joined with themselves, read partly through a cursor, read inside
-- a function that then fails (the error path of the C++/PostgreSQL
-- boundary), and a temporary table with an index, sorts, a hash aggregate
-- and a hash join between the reads.  Self-contained and repeatable in one
-- session: soak.sh, heaptrack.sh and valgrind.sh run it over and over in one
-- backend.  Needs only memprof (created by the scripts).
-- memprof-requires: memprof

-- The cross join below is estimated at 10^9 rows: keep LLVM's JIT out of a
-- memory profile (its compiler's allocations would dominate heaptrack's).
SET jit = off;

SELECT count(*) AS contexts, sum(total_bytes) AS total, sum(used_bytes) AS used
  FROM memprof_contexts;

SELECT parent_path_names, name, contexts, total_bytes
  FROM memprof_context_groups LIMIT 10;

SELECT path_names, type, total_bytes, free_bytes, total_nblocks, free_chunks
  FROM memprof_contexts ORDER BY total_bytes DESC LIMIT 10;

SELECT name, ident FROM memprof_contexts WHERE ident IS NOT NULL LIMIT 20;

-- a bigger tree to read: a table, its index, a sort, a hash aggregate, a
-- hash join (each adds contexts while it runs).  Unlogged rather than
-- temporary: a temporary table truncated on every iteration walks through
-- all of temp_buffers (8 MB of local buffers allocated over the first
-- ~50 iterations), a slow warm-up that a short soak would read as growth.
CREATE UNLOGGED TABLE IF NOT EXISTS memprof_wl (id int PRIMARY KEY, g int, v text);
TRUNCATE memprof_wl;
INSERT INTO memprof_wl SELECT i, i % 50, md5(i::text) FROM generate_series(1, 2000) i;
SELECT count(*) FROM (SELECT v FROM memprof_wl ORDER BY v DESC) s;
SELECT g, count(*), max(v) FROM memprof_wl GROUP BY g ORDER BY g LIMIT 3;
SELECT count(*) FROM memprof_wl a JOIN memprof_wl b ON a.id = b.id + 1;

-- the views inside a running query: one sample joined with itself
WITH s AS MATERIALIZED (SELECT * FROM memprof_contexts)
SELECT count(*) AS edges, max(c.depth) AS depth
  FROM s c JOIN s p ON p.id = c.parent_id;

-- per row of a table (the function called many times in one query)
SELECT count(*) FROM (SELECT g, (SELECT count(*) FROM memprof_contexts) AS n
                        FROM memprof_wl WHERE id <= 20) s;

-- read partly through a cursor, then closed
BEGIN;
DECLARE memprof_cur CURSOR FOR SELECT * FROM memprof_contexts ORDER BY id;
FETCH 5 FROM memprof_cur;
CLOSE memprof_cur;
COMMIT;

-- an error while memprof's function is in the middle of its result, caught
-- in a subtransaction; and memprof read inside the exception handler
DO $$
DECLARE n bigint;
BEGIN
  BEGIN
    SELECT count(CASE WHEN id > 3 THEN 1 / 0 END) INTO n FROM memprof_contexts;
  EXCEPTION WHEN division_by_zero THEN
    SELECT count(*) INTO n FROM memprof_contexts;
  END;
END $$;

-- statement cancelled by a timeout while reading (a big cross join of the view)
DO $$
BEGIN
  SET LOCAL statement_timeout = '50ms';
  PERFORM count(*) FROM memprof_contexts a, memprof_contexts b, memprof_contexts c;
EXCEPTION WHEN query_canceled THEN NULL;
END $$;

-- a prepared statement, executed and deallocated
PREPARE memprof_ps(int) AS
  SELECT count(*) FROM memprof_contexts WHERE depth <= $1;
EXECUTE memprof_ps(1);
EXECUTE memprof_ps(3);
DEALLOCATE memprof_ps;
