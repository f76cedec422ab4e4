/* memprof--1.2--1.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION memprof UPDATE TO '1.3'" to load this file. \quit

/*
 * 1.3: the snapshot store is SQL.  Every statement on the snapshot tables
 * that the library ran as SQL text is now one of the internal functions
 * memprof_store_* (superuser only, granted to no one); the C functions
 * that take, drop, prune, re-baseline, read and finish snapshots get new
 * symbols (..._1_3) and call them.  The library raises 55000 for the old
 * symbols, so a database keeps its snapshots but needs this update before
 * its snapshot functions work again.
 *
 * The context row and the fit row, written out 3 and 4 times before, are
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

/*---- snapshots ----*/

/*==== the snapshot store: internal functions, superuser only (the update
 * from 1.2 creates them from this same text) ====*/

/*
 * Every statement that writes the snapshot tables, and every read of them
 * by the C functions, is one of these.  The C entry points (memprof_snapshot
 * and the rest) record the calling role, switch to the role that owns them
 * (the extension's owner) and call these through SPI, passing the caller as
 * an argument (caller, caller_super): SQL cannot see who called a C
 * function that switched identity.  Nobody else may call them:
 * memprof_apply_privileges() revokes them from PUBLIC and grants them to
 * no one.  Values arrive as arguments, never as SQL text.
 *
 * Their plans are generic from the first call (plan_cache_mode): a session
 * keeps one plan per statement from its first snapshot on, instead of
 * building a generic plan at the sixth call, which a leak check across
 * transactions would see as memory growing in CacheMemoryContext.
 */

/*
 * Deletes the given snapshots, headers and contexts in one statement: the
 * one way snapshots are deleted (drop, prune, retention, runs cut short).
 * Returns how many snapshots went.
 */
CREATE FUNCTION memprof_store_delete(snapshot_ids bigint[]) RETURNS bigint
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
AS $$
    WITH gone AS (DELETE FROM @extschema@.memprof_snapshot_header h
                   WHERE h.id = ANY (snapshot_ids) RETURNING h.id),
         ctx AS (DELETE FROM @extschema@.memprof_snapshot_context c
                  WHERE c.snapshot_id = ANY (ARRAY(SELECT g.id FROM gone g)))
    SELECT count(*) FROM gone
$$;

/*
 * Whether caller may change snapshot snap (NULL: there is no such
 * snapshot): a superuser may change any, another role only those it took.
 * Snapshots taken before 1.1 recorded no role and belong to superusers.
 */
CREATE FUNCTION memprof_store_may_change(snap bigint, caller oid, caller_super boolean)
RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
AS $$
    SELECT caller_super OR coalesce(h.taken_by::oid = caller, false)
      FROM @extschema@.memprof_snapshot_header h
     WHERE h.id = snap
$$;

/* Whether run is a leak-check run of caller's in the backend (backend_pid, started). */
CREATE FUNCTION memprof_store_run_owned(run bigint, caller oid, backend_pid integer,
                                        started timestamptz)
RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
AS $$
    SELECT EXISTS (SELECT 1 FROM @extschema@.memprof_snapshot_header h
                    WHERE h.run_id = run AND h.taken_by::oid = caller
                      AND h.pid = backend_pid AND h.backend_start = started)
$$;

/*
 * Stores one snapshot: the header (totals summed from the arrays) and one
 * context row per array element, in one INSERT ... SELECT FROM ROWS FROM
 * (unnest(...)), so 6,000 contexts cost one statement.  run NULL and
 * new_run false: no leak-check run; new_run: the snapshot starts a run (its
 * id becomes the run id) and the runs caller left incomplete in this
 * backend are deleted (a run ends before the next starts, so those were
 * cut short: a cancel while one of its transactions committed, which
 * PL/pgSQL cannot catch); run given: the snapshot continues that run, which
 * must be caller's in this backend (NULL returned, nothing stored,
 * otherwise).  A run's snapshots stay incomplete (hidden from
 * memprof_snapshots) until memprof_store_finish_run.  Then the newest
 * max_snapshots are kept (0: all).  Returns the new snapshot's id.
 */
CREATE FUNCTION memprof_store_insert(
    caller oid, snap_label text, snap_pid integer, snap_backend_type text,
    snap_backend_start timestamptz, snap_taken_at timestamptz, snap_truncated boolean,
    snap_omitted_contexts integer, run bigint, new_run boolean, max_snapshots integer,
    ctx_ids integer[], ctx_parent_ids integer[], ctx_depths integer[], ctx_types "char"[],
    ctx_names text[], ctx_idents text[], ctx_total_bytes bigint[], ctx_free_bytes bigint[],
    ctx_total_nblocks bigint[], ctx_free_chunks bigint[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    snap bigint;
BEGIN
    IF run IS NOT NULL
       AND NOT @extschema@.memprof_store_run_owned(run, caller, snap_pid, snap_backend_start) THEN
        RETURN NULL;
    END IF;
    INSERT INTO @extschema@.memprof_snapshot_header
           (label, pid, backend_type, backend_start, taken_at, contexts, total_bytes, free_bytes,
            total_nblocks, truncated, omitted_contexts, taken_by, run_id, run_complete)
    VALUES (snap_label, snap_pid, snap_backend_type, snap_backend_start, snap_taken_at,
            coalesce(cardinality(ctx_ids), 0),
            coalesce((SELECT sum(u.x) FROM unnest(ctx_total_bytes) AS u(x)), 0),
            coalesce((SELECT sum(u.x) FROM unnest(ctx_free_bytes) AS u(x)), 0),
            coalesce((SELECT sum(u.x) FROM unnest(ctx_total_nblocks) AS u(x)), 0),
            snap_truncated, snap_omitted_contexts, caller::regrole, run,
            run IS NULL AND NOT new_run)
    RETURNING id INTO snap;
    IF new_run THEN
        UPDATE @extschema@.memprof_snapshot_header h SET run_id = h.id WHERE h.id = snap;
        PERFORM @extschema@.memprof_store_delete(ARRAY(
            SELECT h.id FROM @extschema@.memprof_snapshot_header h
             WHERE h.run_id IS NOT NULL AND NOT h.run_complete AND h.run_id <> snap
               AND h.taken_by::oid = caller AND h.pid = snap_pid
               AND h.backend_start = snap_backend_start));
    END IF;
    INSERT INTO @extschema@.memprof_snapshot_context
           (snapshot_id, id, parent_id, depth, type, name, ident,
            total_bytes, free_bytes, total_nblocks, free_chunks)
    SELECT snap, u.* FROM ROWS FROM (unnest(ctx_ids), unnest(ctx_parent_ids), unnest(ctx_depths),
                                     unnest(ctx_types), unnest(ctx_names), unnest(ctx_idents),
                                     unnest(ctx_total_bytes), unnest(ctx_free_bytes),
                                     unnest(ctx_total_nblocks), unnest(ctx_free_chunks)) AS u;
    IF max_snapshots > 0 THEN
        PERFORM @extschema@.memprof_store_delete(ARRAY(
            SELECT h.id FROM @extschema@.memprof_snapshot_header h
             WHERE h.id <= (SELECT k.id FROM @extschema@.memprof_snapshot_header k
                             ORDER BY k.id DESC OFFSET max_snapshots LIMIT 1)));
    END IF;
    RETURN snap;
END $$;

/*
 * Snapshot snap as arrays, one element per context in id order (ids are
 * pre-order: parents come before children); no row when there is no such
 * snapshot.
 */
CREATE FUNCTION memprof_store_read(snap bigint,
    OUT ids integer[], OUT parent_ids integer[], OUT depths integer[], OUT types "char"[],
    OUT names text[], OUT idents text[], OUT total_bytes bigint[], OUT free_bytes bigint[],
    OUT total_nblocks bigint[], OUT free_chunks bigint[])
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
AS $$
    SELECT a.* FROM @extschema@.memprof_snapshot_header h
     CROSS JOIN LATERAL (
           SELECT array_agg(c.id), array_agg(c.parent_id), array_agg(c.depth), array_agg(c.type),
                  array_agg(c.name), array_agg(c.ident), array_agg(c.total_bytes),
                  array_agg(c.free_bytes), array_agg(c.total_nblocks), array_agg(c.free_chunks)
             FROM (SELECT s.* FROM @extschema@.memprof_snapshot_context s
                    WHERE s.snapshot_id = h.id ORDER BY s.id) c) a
     WHERE h.id = snap
$$;

/* Drops snapshot snap if caller may: NULL (no such snapshot), false (not caller's) or true. */
CREATE FUNCTION memprof_store_drop(snap bigint, caller oid, caller_super boolean)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    allowed boolean := @extschema@.memprof_store_may_change(snap, caller, caller_super);
BEGIN
    IF allowed THEN
        PERFORM @extschema@.memprof_store_delete(ARRAY[snap]);
    END IF;
    RETURN allowed;
END $$;

/*
 * Makes snapshot snap the baseline of its backend for the role that took
 * it (one baseline per backend and role; NULL backend_start or taken_by
 * match NULL), if caller may: NULL, false or true as memprof_store_drop.
 */
CREATE FUNCTION memprof_store_set_baseline(snap bigint, caller oid, caller_super boolean)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    allowed boolean := @extschema@.memprof_store_may_change(snap, caller, caller_super);
BEGIN
    IF allowed THEN
        UPDATE @extschema@.memprof_snapshot_header h
           SET is_baseline = (h.id = snap)
          FROM @extschema@.memprof_snapshot_header me
         WHERE me.id = snap
           AND h.pid = me.pid
           AND h.backend_start IS NOT DISTINCT FROM me.backend_start
           AND h.taken_by::oid IS NOT DISTINCT FROM me.taken_by::oid
           AND (h.is_baseline OR h.id = snap);
    END IF;
    RETURN allowed;
END $$;

/*
 * Deletes all but the newest keep_last and/or those taken more than
 * older_than ago, among caller's snapshots (all of them for a superuser);
 * returns how many went.
 */
CREATE FUNCTION memprof_store_prune(keep_last integer, older_than interval, caller oid,
                                    caller_super boolean)
RETURNS bigint
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
AS $$
    WITH mine AS (SELECT m.id, m.taken_at FROM @extschema@.memprof_snapshot_header m
                   WHERE caller_super OR m.taken_by::oid = caller)
    SELECT @extschema@.memprof_store_delete(ARRAY(
        SELECT m.id FROM mine m
         WHERE (older_than IS NOT NULL AND m.taken_at < now() - older_than)
            OR (keep_last IS NOT NULL AND m.id <> ALL (ARRAY(
                    SELECT k.id FROM mine k ORDER BY k.id DESC LIMIT keep_last)))))
$$;

/*
 * The end of leak-check run run, which must be caller's in the backend
 * (backend_pid, started): memprof_snapshots shows its snapshots from now.
 * false (nothing changed) when it is not.
 */
CREATE FUNCTION memprof_store_finish_run(run bigint, caller oid, backend_pid integer,
                                         started timestamptz)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    IF NOT @extschema@.memprof_store_run_owned(run, caller, backend_pid, started) THEN
        RETURN false;
    END IF;
    UPDATE @extschema@.memprof_snapshot_header h SET run_complete = true WHERE h.run_id = run;
    RETURN true;
END $$;
/*==== end of the snapshot store ====*/

/* the snapshot functions: the same, on the new symbols */

CREATE OR REPLACE FUNCTION memprof_snapshot(label text DEFAULT NULL) RETURNS bigint
AS 'MODULE_PATHNAME', 'memprof_snapshot_1_3'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_snapshot(text) IS
'stores the calling backend''s context tree as a snapshot and returns its id';

CREATE OR REPLACE FUNCTION memprof_baseline(label text DEFAULT 'baseline') RETURNS bigint
AS 'MODULE_PATHNAME', 'memprof_baseline_1_3'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_baseline(text) IS
'takes a snapshot and makes it this backend''s baseline for memprof_leaks';

CREATE OR REPLACE FUNCTION memprof_set_baseline(id bigint) RETURNS void
AS 'MODULE_PATHNAME', 'memprof_set_baseline_1_3'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_set_baseline(bigint) IS
'makes an existing snapshot the baseline of its backend (for the role that took it)';

CREATE OR REPLACE FUNCTION memprof_snapshot_drop(id bigint) RETURNS boolean
AS 'MODULE_PATHNAME', 'memprof_snapshot_drop_1_3'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_snapshot_drop(bigint) IS 'deletes one snapshot (a superuser''s, or one the caller took)';

CREATE OR REPLACE FUNCTION memprof_snapshot_prune(keep_last integer DEFAULT NULL,
                                       older_than interval DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'memprof_snapshot_prune_1_3'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_snapshot_prune(integer, interval) IS
'deletes all but the newest keep_last snapshots and/or those older than older_than (a non-superuser: among its own)';

CREATE OR REPLACE FUNCTION memprof_diff(
    from_id bigint, to_id bigint, include_unchanged boolean DEFAULT false,
    OUT path_names text[],
    OUT contexts_from bigint, OUT contexts_to bigint, OUT contexts_delta bigint,
    OUT total_bytes_from bigint, OUT total_bytes_to bigint, OUT total_bytes_delta bigint,
    OUT used_bytes_from bigint, OUT used_bytes_to bigint, OUT used_bytes_delta bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'memprof_diff_1_3'
LANGUAGE C STABLE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_diff(bigint, bigint, boolean) IS
'growth per context path between two snapshots, largest used-bytes growth first, then a totals row with path_names NULL; paths whose figures did not change are left out unless include_unchanged';

CREATE OR REPLACE FUNCTION memprof_leak_xact_snapshot(label text, run_id bigint) RETURNS bigint
AS 'MODULE_PATHNAME', 'memprof_leak_xact_snapshot_1_3'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_leak_xact_snapshot(text, bigint) IS
'a snapshot in a memprof_leak_check_xact run (run_id NULL: starts a run); returns the snapshot id';

CREATE OR REPLACE FUNCTION memprof_leak_xact_finish(run_id bigint) RETURNS void
AS 'MODULE_PATHNAME', 'memprof_leak_xact_finish_1_3'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_leak_xact_finish(bigint) IS
'marks a memprof_leak_check_xact run of the caller''s in this backend complete';

CREATE OR REPLACE FUNCTION memprof_snapshot(label text, pid integer) RETURNS bigint
AS 'MODULE_PATHNAME', 'memprof_snapshot_pid_1_3'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_snapshot(text, integer) IS
'stores another process''s context tree as a snapshot and returns its id (signals it; superuser unless granted)';

/*---- returning the row types ----*/

CREATE FUNCTION memprof_snapshot_contexts(snapshot_id bigint)
RETURNS SETOF memprof_context_row
AS 'MODULE_PATHNAME', 'memprof_snapshot_contexts_1_3'
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
AS 'MODULE_PATHNAME', 'memprof_leak_fit_1_3'
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
 * pg_log_backend_memory_contexts, grantable with GRANT EXECUTE; and the
 * internal ones (memprof_store_*, this function), for superusers only and
 * granted to no one.  A loop over the extension's members, so a function
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
           OR f.proname LIKE 'memprof\_store\_%'
           OR f.oid IN ('@extschema@.memprof_backend_contexts(integer,integer)'::regprocedure,
                        '@extschema@.memprof_snapshot(text,integer)'::regprocedure,
                        '@extschema@.memprof_folded_pid(integer,text)'::regprocedure) THEN
            EXECUTE format('REVOKE ALL ON %s %s FROM pg_read_all_stats', kind, f.sig);
        ELSE
            EXECUTE format('GRANT EXECUTE ON %s %s TO pg_read_all_stats', kind, f.sig);
        END IF;
    END LOOP;
END $$;

/*
 * What each function is for, as \df+ shows it.  The internal ones (their
 * COMMENT begins "internal:") are the snapshot store's statements and the
 * privilege rule; they have no reference page.
 */
COMMENT ON FUNCTION memprof_store_delete(bigint[]) IS
'internal: deletes snapshots, headers and contexts (the one delete path)';
COMMENT ON FUNCTION memprof_store_may_change(bigint, oid, boolean) IS
'internal: whether a role may change a snapshot (NULL: no such snapshot)';
COMMENT ON FUNCTION memprof_store_run_owned(bigint, oid, integer, timestamp with time zone) IS
'internal: whether a leak-check run is the role''s in the given backend';
COMMENT ON FUNCTION memprof_store_insert(oid, text, integer, text, timestamp with time zone, timestamp with time zone, boolean, integer, bigint, boolean, integer, integer[], integer[], integer[], "char"[], text[], text[], bigint[], bigint[], bigint[], bigint[]) IS
'internal: stores one snapshot from arrays, then applies memprof.max_snapshots';
COMMENT ON FUNCTION memprof_store_read(bigint) IS
'internal: one snapshot back as arrays, in context id order';
COMMENT ON FUNCTION memprof_store_drop(bigint, oid, boolean) IS
'internal: deletes a snapshot the role may change';
COMMENT ON FUNCTION memprof_store_set_baseline(bigint, oid, boolean) IS
'internal: makes a snapshot its backend''s baseline for the role that took it';
COMMENT ON FUNCTION memprof_store_prune(integer, interval, oid, boolean) IS
'internal: retention among the role''s snapshots';
COMMENT ON FUNCTION memprof_store_finish_run(bigint, oid, integer, timestamp with time zone) IS
'internal: marks a leak-check run complete';
COMMENT ON FUNCTION memprof_apply_privileges() IS
'internal: revokes and grants EXECUTE on every function and procedure of the extension by its one rule';
COMMENT ON FUNCTION memprof_backend_summaries() IS
'the rows of memprof_backends: one per live process, its published summary and /proc figures';
COMMENT ON FUNCTION memprof_backend_history_rows() IS
'the rows of memprof_backend_history: recently exited processes, newest first';
COMMENT ON FUNCTION memprof_statements_rows() IS
'the rows of memprof_statements: one per statement kept in the shared table';
COMMENT ON FUNCTION memprof_fold(text[], bigint) IS
'one flame-graph (folded stack) line: the path''s names joined by ";" and a byte count';
COMMENT ON FUNCTION memprof_fold_pick(text, bigint, bigint) IS
'the byte count a folded-stack function draws: total_bytes or used_bytes, by name';

SELECT @extschema@.memprof_apply_privileges();
/*==== end of privileges ====*/
