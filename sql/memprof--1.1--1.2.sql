/* memprof--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION memprof UPDATE TO '1.2'" to load this file. \quit

/*
 * 1.2: memprof_diff leaves out the paths whose figures did not change,
 * unless asked (include_unchanged); memprof_server_by_type and
 * memprof_top_consumers gain pg_size_pretty columns, appended after the
 * existing ones.  memprof_leaks, which reads memprof_diff, is created again
 * as it was.  Stored snapshots are not touched.
 */
DROP VIEW memprof_leaks;
DROP FUNCTION memprof_diff(bigint, bigint);

CREATE FUNCTION memprof_diff(
    from_id bigint, to_id bigint, include_unchanged boolean DEFAULT false,
    OUT path_names text[],
    OUT contexts_from bigint, OUT contexts_to bigint, OUT contexts_delta bigint,
    OUT total_bytes_from bigint, OUT total_bytes_to bigint, OUT total_bytes_delta bigint,
    OUT used_bytes_from bigint, OUT used_bytes_to bigint, OUT used_bytes_delta bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'memprof_diff_fn'
LANGUAGE C STABLE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_diff(bigint, bigint, boolean) IS
'growth per context path between two snapshots, largest used-bytes growth first, then a totals row with path_names NULL; paths whose figures did not change are left out unless include_unchanged';

CREATE VIEW memprof_leaks AS
    SELECT b.pid, b.backend_type, b.taken_by, b.id AS baseline_id, l.id AS latest_id,
           b.label AS baseline_label, l.label AS latest_label,
           l.taken_at - b.taken_at AS elapsed, d.*
      FROM memprof_snapshot_header b
      CROSS JOIN LATERAL (
            SELECT s.id, s.label, s.taken_at FROM memprof_snapshot_header s
             WHERE s.pid = b.pid
               AND s.backend_start IS NOT DISTINCT FROM b.backend_start
               AND s.taken_by IS NOT DISTINCT FROM b.taken_by
               AND s.id > b.id
             ORDER BY s.id DESC LIMIT 1) l
      CROSS JOIN LATERAL memprof_diff(b.id, l.id) d
     WHERE b.is_baseline
       AND (d.path_names IS NULL OR d.used_bytes_delta > 0 OR d.total_bytes_delta > 0
            OR d.contexts_delta > 0);
COMMENT ON VIEW memprof_leaks IS
'each backend''s baseline snapshot against its latest snapshot: the paths that grew, and the totals';

REVOKE ALL ON memprof_leaks FROM PUBLIC;
GRANT SELECT ON memprof_leaks TO pg_read_all_stats;
REVOKE ALL ON FUNCTION memprof_diff(bigint, bigint, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION memprof_diff(bigint, bigint, boolean) TO pg_read_all_stats;

CREATE OR REPLACE VIEW memprof_server_by_type AS
    SELECT backend_type, count(*) AS processes, sum(allocated_bytes)::bigint AS allocated_bytes,
           max(allocated_bytes) AS largest_bytes,
           pg_catalog.pg_size_pretty(sum(allocated_bytes)) AS allocated,
           pg_catalog.pg_size_pretty(max(allocated_bytes)) AS largest
      FROM @extschema@.memprof_backends
     WHERE allocated_bytes IS NOT NULL
     GROUP BY backend_type;
COMMENT ON VIEW memprof_server_by_type IS 'the server''s allocator total by backend type (allocated and largest: the same figures for reading)';

CREATE OR REPLACE VIEW memprof_top_consumers AS
    SELECT b.pid, b.backend_type, b.usename, b.datname, b.allocated_bytes,
           b.peak_allocated_bytes, a.query_id, a.query_start, a.state,
           pg_catalog.left(a.query, 200) AS query,
           pg_catalog.pg_size_pretty(b.allocated_bytes) AS allocated,
           pg_catalog.pg_size_pretty(b.peak_allocated_bytes) AS peak_allocated
      FROM @extschema@.memprof_backends b
      LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = b.pid
     WHERE b.allocated_bytes IS NOT NULL
     ORDER BY b.allocated_bytes DESC
     LIMIT 20;
COMMENT ON VIEW memprof_top_consumers IS
'the 20 processes holding the most allocator memory, with their query id and statement start';

