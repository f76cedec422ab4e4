/* memprof--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION memprof UPDATE TO '1.3'" to load this file. \quit

/*
 * 1.3: the context row and the fit row, written out 3 and 4 times before, are
 * the composite types memprof_context_row and memprof_fit_row; the
 * functions returning them are dropped and created again returning SETOF
 * those types, with the same columns: memprof_contexts(),
 * memprof_snapshot_contexts(bigint), memprof_backend_contexts(integer,
 * integer), memprof_leak_check(text, integer, integer),
 * memprof_leak_fit(bigint[]), memprof_leak_fit_run(bigint) and
 * memprof_leak_fit_label(text); so are the views over memprof_contexts(),
 * memprof_contexts and memprof_context_groups.  The SQL functions that call
 * them (memprof_folded, memprof_folded_pid) name them in their bodies and
 * need nothing.  Everything below is the text of memprof--1.3.sql.
 *
 * The privileges of every function are set by one function,
 * memprof_apply_privileges(), created and called at the end.
 */

/*---- what is created again below ----*/
DROP VIEW memprof_context_groups, memprof_contexts;
DROP FUNCTION memprof_contexts(), memprof_snapshot_contexts(bigint),
              memprof_backend_contexts(integer, integer),
              memprof_leak_check(text, integer, integer), memprof_leak_fit(bigint[]),
              memprof_leak_fit_run(bigint), memprof_leak_fit_label(text);

/*---- row types shared by several functions ----*/

/*
 * A memory context as a row: memprof_contexts(), memprof_snapshot_contexts()
 * and memprof_backend_contexts() return these.
 */
CREATE TYPE memprof_context_row AS (
    id integer,
    parent_id integer,
    depth integer,
    path_names text[],
    name text,
    ident text,
    type text,
    total_bytes bigint,
    free_bytes bigint,
    used_bytes bigint,
    total_nblocks bigint,
    free_chunks bigint
);
COMMENT ON TYPE memprof_context_row IS 'a memory context: the row of memprof_contexts(), memprof_snapshot_contexts() and memprof_backend_contexts()';

/*
 * A leak-check fit per context path (path_names NULL: the overall row):
 * memprof_leak_check, memprof_leak_fit, memprof_leak_fit_run and
 * memprof_leak_fit_label return these.
 */
CREATE TYPE memprof_fit_row AS (
    path_names text[],
    scope text,
    contexts_first bigint,
    contexts_last bigint,
    used_bytes_first bigint,
    used_bytes_last bigint,
    growth_bytes bigint,
    slope_bytes_per_iteration float8,
    r_squared float8,
    verdict text
);
COMMENT ON TYPE memprof_fit_row IS 'a leak-check fit of one context path: the row of memprof_leak_check and the memprof_leak_fit functions';

/*---- the calling backend's contexts ----*/

CREATE FUNCTION memprof_contexts()
RETURNS SETOF memprof_context_row
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
    SELECT path_names[1:depth] AS parent_path_names,
           name,
           depth,
           count(*) AS contexts,
           sum(total_bytes)::bigint AS total_bytes,
           min(total_bytes) AS min_total_bytes,
           max(total_bytes) AS max_total_bytes,
           sum(used_bytes)::bigint AS used_bytes,
           sum(free_bytes)::bigint AS free_bytes,
           sum(total_nblocks)::bigint AS total_nblocks
      FROM memprof_contexts()
     GROUP BY path_names[1:depth], name, depth
     ORDER BY sum(total_bytes) DESC, parent_path_names, name;

COMMENT ON VIEW memprof_context_groups IS
'memprof_contexts folded by parent path and name, largest first';

REVOKE ALL ON memprof_contexts, memprof_context_groups FROM PUBLIC;
GRANT SELECT ON memprof_contexts, memprof_context_groups TO pg_read_all_stats;

/*---- returning the row types ----*/

CREATE FUNCTION memprof_snapshot_contexts(snapshot_id bigint)
RETURNS SETOF memprof_context_row
AS 'MODULE_PATHNAME', 'memprof_snapshot_contexts_fn'
LANGUAGE C STABLE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_snapshot_contexts(bigint) IS
'a stored snapshot with the columns of memprof_contexts';

CREATE FUNCTION memprof_leak_check(
    sql text, iterations integer DEFAULT 100, warmup integer DEFAULT 10)
RETURNS SETOF memprof_fit_row
AS 'MODULE_PATHNAME', 'memprof_leak_check_fn'
LANGUAGE C VOLATILE;
-- no SET search_path: the statement runs with the caller's own settings
COMMENT ON FUNCTION memprof_leak_check(text, integer, integer) IS
'runs sql repeatedly in this backend (caller''s privileges) and fits used-bytes growth per context path: leak, growing or stable';

CREATE FUNCTION memprof_leak_fit(snapshot_ids bigint[])
RETURNS SETOF memprof_fit_row
AS 'MODULE_PATHNAME', 'memprof_leak_fit_fn'
LANGUAGE C STABLE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_leak_fit(bigint[]) IS
'the leak-check fit over stored snapshots, in the order given';

CREATE FUNCTION memprof_leak_fit_run(run_id bigint)
RETURNS SETOF memprof_fit_row
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids bigint[];
BEGIN
    IF memprof_leak_fit_run.run_id IS NULL THEN
        RAISE EXCEPTION 'run_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    ids := ARRAY(SELECT h.id FROM @extschema@.memprof_snapshot_header h
                  WHERE h.run_id = memprof_leak_fit_run.run_id AND h.run_complete ORDER BY h.id);
    IF cardinality(ids) = 0 THEN
        RAISE EXCEPTION 'memprof leak-check run % does not exist', memprof_leak_fit_run.run_id
            USING ERRCODE = 'undefined_object',
                  HINT = 'run_id is returned by memprof_leak_check_xact; see the run_id column of memprof_snapshots.';
    END IF;
    RETURN QUERY SELECT * FROM @extschema@.memprof_leak_fit(ids);
END $$;
COMMENT ON FUNCTION memprof_leak_fit_run(bigint) IS
'the fit of one memprof_leak_check_xact run, by its run_id';

CREATE FUNCTION memprof_leak_fit_label(run_label text)
RETURNS SETOF memprof_fit_row
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    run bigint;
    ids bigint[];
BEGIN
    IF run_label IS NULL THEN
        RAISE EXCEPTION 'run_label must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT max(h.run_id) INTO run FROM @extschema@.memprof_snapshot_header h
     WHERE h.label = run_label AND h.run_id IS NOT NULL AND h.run_complete;
    IF run IS NOT NULL THEN
        ids := ARRAY(SELECT h.id FROM @extschema@.memprof_snapshot_header h
                      WHERE h.run_id = run AND h.label = run_label ORDER BY h.id);
    ELSE
        ids := ARRAY(SELECT h.id FROM @extschema@.memprof_snapshot_header h
                      WHERE h.label = run_label AND h.run_id IS NULL ORDER BY h.id);
    END IF;
    IF cardinality(ids) = 0 THEN
        RAISE EXCEPTION 'no memprof snapshot is labelled %', quote_literal(run_label)
            USING ERRCODE = 'undefined_object',
                  HINT = 'See the label column of memprof_snapshots.';
    END IF;
    RETURN QUERY SELECT * FROM @extschema@.memprof_leak_fit(ids);
END $$;
COMMENT ON FUNCTION memprof_leak_fit_label(text) IS
'the fit of the newest memprof_leak_check_xact run labelled run_label (or of the snapshots so labelled outside any run)';

CREATE FUNCTION memprof_backend_contexts(pid integer, timeout_ms integer DEFAULT 5000)
RETURNS SETOF memprof_context_row
AS 'MODULE_PATHNAME', 'memprof_backend_contexts_fn'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION memprof_backend_contexts(integer, integer) IS
'the whole memory-context tree of any backend or auxiliary process (signals it; superuser unless granted)';

/*==== privileges of every function and procedure, in one place (the
 * update from 1.2 creates and calls it from this same text) ====*/

/*
 * Every function and procedure of the extension is revoked from PUBLIC and
 * granted to pg_read_all_stats, except: memprof_fold and memprof_fold_pick,
 * pure formatting helpers that read nothing (left to PUBLIC);
 * memprof_statements_reset, for superusers only; the functions that signal
 * another process (memprof_backend_contexts, memprof_snapshot(text,
 * integer), memprof_folded_pid), for superusers only like core's
 * pg_log_backend_memory_contexts, grantable with GRANT EXECUTE; and this
 * function itself, for superusers only and granted to no one.  A loop over the extension's members, so a function
 * added later cannot be forgotten; every script that adds functions ends by
 * calling it.
 */
CREATE FUNCTION memprof_apply_privileges() RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f record;
    kind text;
BEGIN
    FOR f IN
        SELECT p.oid, p.oid::regprocedure AS sig, p.proname, p.prokind
          FROM pg_depend d
          JOIN pg_proc p ON p.oid = d.objid
         WHERE d.classid = 'pg_proc'::regclass
           AND d.refclassid = 'pg_extension'::regclass
           AND d.refobjid = (SELECT e.oid FROM pg_extension e WHERE e.extname = 'memprof')
           AND d.deptype = 'e'
           AND p.proname NOT IN ('memprof_fold', 'memprof_fold_pick')
    LOOP
        kind := CASE f.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END;
        EXECUTE format('REVOKE ALL ON %s %s FROM PUBLIC', kind, f.sig);
        IF f.proname IN ('memprof_statements_reset', 'memprof_apply_privileges')
           OR f.oid IN ('@extschema@.memprof_backend_contexts(integer,integer)'::regprocedure,
                        '@extschema@.memprof_snapshot(text,integer)'::regprocedure,
                        '@extschema@.memprof_folded_pid(integer,text)'::regprocedure) THEN
            EXECUTE format('REVOKE ALL ON %s %s FROM pg_read_all_stats', kind, f.sig);
        ELSE
            EXECUTE format('GRANT EXECUTE ON %s %s TO pg_read_all_stats', kind, f.sig);
        END IF;
    END LOOP;
END $$;

SELECT @extschema@.memprof_apply_privileges();
/*==== end of privileges ====*/
