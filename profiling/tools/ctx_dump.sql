-- profiling/tools/ctx_dump.sql: the calling session's memory contexts as
-- CSV (path, name, total_bytes, used_bytes) into the file named by psql
-- variable :ctx_out.  Used before and after a workload to name the
-- contexts that grew, without writing anything into the database (unlike
-- memprof_snapshot, whose own work would be counted).
\set QUIET 1
\pset format csv
\pset tuples_only off
\o :ctx_out
SELECT array_to_string(path_names, ' > ') AS path, name, total_bytes, used_bytes FROM memprof_contexts;
\o
\pset format aligned
