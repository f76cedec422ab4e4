-- profiling/workloads/baseline.sql: the sized workload of baseline.sh.
--
-- Run in a fresh session with psql -v rows=N (baseline.sh runs it for the
-- small, medium and large stages of baseline.conf).  A table of N rows with
-- an index, then what a backend typically does with it: an index lookup, a
-- sort bigger than work_mem at 100K rows, a hash aggregate, a hash join, a
-- window function, a plpgsql loop; and memprof's views read at the end.
-- The table is dropped again: what is measured afterwards is the memory
-- the backend keeps, not the data.
-- memprof-requires: memprof

\if :{?rows}
\else
\set rows 1000
\endif

SET jit = off;
DROP TABLE IF EXISTS memprof_baseline_t;
CREATE TABLE memprof_baseline_t (id int PRIMARY KEY, g int, v text);
INSERT INTO memprof_baseline_t
  SELECT i, i % 97, md5(i::text) FROM generate_series(1, :rows) i;
ANALYZE memprof_baseline_t;

SELECT v FROM memprof_baseline_t WHERE id = :rows / 2;
SELECT count(*), max(v) FROM (SELECT v FROM memprof_baseline_t ORDER BY v) s;
SELECT g, count(*), min(v), max(v) FROM memprof_baseline_t GROUP BY g ORDER BY g LIMIT 5;
SELECT count(*) FROM memprof_baseline_t a JOIN memprof_baseline_t b ON a.id = b.id;
SELECT count(*) FROM (SELECT id, rank() OVER (PARTITION BY g ORDER BY v) FROM memprof_baseline_t) s;
DO $$
DECLARE r record; n bigint := 0;
BEGIN
  FOR r IN SELECT id FROM memprof_baseline_t WHERE id % 100 = 0 LOOP
    n := n + r.id;
  END LOOP;
END $$;

SELECT count(*), sum(total_bytes) FROM memprof_contexts;
SELECT * FROM memprof_context_groups LIMIT 5;

DROP TABLE memprof_baseline_t;
