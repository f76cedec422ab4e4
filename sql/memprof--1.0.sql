/* memprof--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION memprof" to load this file. \quit

/*
 * Privileges follow core's pg_backend_memory_contexts: memory-context
 * figures are readable by superusers and members of pg_read_all_stats only.
 * Every function is revoked from PUBLIC and granted to pg_read_all_stats.
 */

/*---- the calling backend's contexts ----*/

CREATE FUNCTION memprof_contexts(
    OUT id integer,
    OUT parent_id integer,
    OUT level integer,
    OUT path text[],
    OUT name text,
    OUT ident text,
    OUT type text,
    OUT total_bytes bigint,
    OUT free_bytes bigint,
    OUT used_bytes bigint,
    OUT nblocks bigint,
    OUT free_chunks bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'memprof_contexts_fn'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION memprof_contexts() IS
'every memory context of the calling backend, one row each, sampled at one instant';

CREATE VIEW memprof_contexts AS
    SELECT * FROM memprof_contexts();

COMMENT ON VIEW memprof_contexts IS
'every memory context of the calling backend (superuser or pg_read_all_stats)';

/*
 * Repeated siblings folded: one row per (parent path, name), so that 6,000
 * relcache entries under CacheMemoryContext are one row.
 */
CREATE VIEW memprof_context_groups AS
    SELECT path[1:level] AS parent_path,
           name,
           level,
           count(*) AS contexts,
           sum(total_bytes)::bigint AS total_bytes,
           min(total_bytes) AS min_total_bytes,
           max(total_bytes) AS max_total_bytes,
           sum(used_bytes)::bigint AS used_bytes,
           sum(free_bytes)::bigint AS free_bytes,
           sum(nblocks)::bigint AS nblocks
      FROM memprof_contexts()
     GROUP BY path[1:level], name, level
     ORDER BY sum(total_bytes) DESC, parent_path, name;

COMMENT ON VIEW memprof_context_groups IS
'memprof_contexts folded by parent path and name, largest first';

REVOKE ALL ON FUNCTION memprof_contexts() FROM PUBLIC;
REVOKE ALL ON memprof_contexts, memprof_context_groups FROM PUBLIC;
GRANT EXECUTE ON FUNCTION memprof_contexts() TO pg_read_all_stats;
GRANT SELECT ON memprof_contexts, memprof_context_groups TO pg_read_all_stats;
