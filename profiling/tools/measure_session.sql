-- profiling/tools/measure_session.sql: the calling session's own memory,
-- one CSV row into the file named by psql variable :out.  With
-- -v core=1 the contexts are summed from core's pg_backend_memory_contexts
-- (a session that has not touched memprof), else from memprof_contexts.
-- /proc/self is the backend's own: pg_read_file needs a superuser or
-- pg_read_server_files.
\set QUIET 1
\pset format csv
\pset tuples_only off
\o :out
\if :{?core}
\set measure_contexts pg_backend_memory_contexts
\set measure_counted_by core
\else
\set measure_contexts memprof_contexts
\set measure_counted_by memprof
\endif
SELECT c.n AS contexts, c.total AS ctx_total_bytes, c.used AS ctx_used_bytes,
       substring(s FROM 'RssAnon:\s+(\d+)')::bigint AS rss_anon_kb,
       substring(s FROM 'VmRSS:\s+(\d+)')::bigint AS vmrss_kb,
       substring(s FROM 'VmHWM:\s+(\d+)')::bigint AS vmhwm_kb,
       substring(r FROM 'Pss_Anon:\s+(\d+)')::bigint AS pss_anon_kb,
       :'measure_counted_by' AS counted_by
  FROM (SELECT count(*) AS n, sum(total_bytes) AS total, sum(used_bytes) AS used
          FROM :measure_contexts) c,
       pg_read_file('/proc/self/status') s, pg_read_file('/proc/self/smaps_rollup') r;
\o
