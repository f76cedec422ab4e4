/* memprof--1.3.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION memprof" to load this file. \quit

/*
 * Privileges follow core's pg_backend_memory_contexts: memory-context
 * figures are readable by superusers and members of pg_read_all_stats only;
 * functions that signal other processes are for superusers only, like
 * pg_log_backend_memory_contexts.  Views and tables are granted where they
 * are created; functions and procedures all at once at the end of this
 * script.
 *
 * Column names: a column named like one of core's pg_backend_memory_contexts
 * means what core's means.  memprof's own: depth (0 for TopMemoryContext),
 * path_names (the names from the root, text[]), total_nblocks.
 *
 * search_path: every SQL and PL/pgSQL function runs with search_path =
 * pg_catalog, pg_temp and names the extension's objects with their schema;
 * memprof_leak_check_xact (a procedure that commits, so it cannot carry a
 * SET clause) names every function and operator with its schema.
 *
 * The snapshot store is SQL: every statement that reads or writes the two
 * snapshot tables is in this script (the memprof_store_* functions, the
 * views and the PL/pgSQL functions below); the C functions sample, check
 * their arguments, fit and build rows, and hand those functions arrays.
 */

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

/*
 * One row per snapshot.  pid, backend_type and backend_start say whose tree
 * it is (a snapshot of another process, taken by memprof_snapshot(label,
 * pid), lands here the same way); truncated/omitted_contexts say whether the
 * tree was cut to fit a buffer.  is_baseline marks the baseline of its
 * backend (for the role that took it) for memprof_leaks.  taken_by is the
 * role that took it (NULL for snapshots taken before version 1.1: those
 * belong to superusers); run_id groups the snapshots of one
 * memprof_leak_check_xact run (the id of the run's first snapshot), and
 * run_complete is false until that run ended (memprof_snapshots shows
 * complete runs only; a run cut short is deleted when its backend starts
 * the next one).
 */
CREATE TABLE memprof_snapshot_header (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    label text,
    pid integer NOT NULL,
    backend_type text NOT NULL,
    backend_start timestamptz,
    taken_at timestamptz NOT NULL,
    contexts integer NOT NULL,
    total_bytes bigint NOT NULL,
    free_bytes bigint NOT NULL,
    total_nblocks bigint NOT NULL,
    truncated boolean NOT NULL DEFAULT false,
    omitted_contexts integer NOT NULL DEFAULT 0,
    is_baseline boolean NOT NULL DEFAULT false,
    taken_by regrole DEFAULT CAST(CAST(CURRENT_USER AS text) AS regrole),
    run_id bigint,
    run_complete boolean NOT NULL DEFAULT true
);
CREATE INDEX ON memprof_snapshot_header (pid, backend_start, id);
CREATE INDEX memprof_snapshot_header_run_id_idx ON memprof_snapshot_header (run_id)
    WHERE run_id IS NOT NULL;

/*
 * One row per context of a snapshot, compact: no path (it is rebuilt from
 * parent_id), the type as one "char" (a AllocSet, s Slab, g Generation).
 * No foreign key: its per-row trigger would cost more than the insert;
 * rows go and come only through memprof's functions.
 */
CREATE TABLE memprof_snapshot_context (
    snapshot_id bigint NOT NULL,
    id integer NOT NULL,
    parent_id integer NOT NULL,      -- 0 for the root
    depth integer NOT NULL,
    type "char" NOT NULL,
    name text NOT NULL,
    ident text,
    total_bytes bigint NOT NULL,
    free_bytes bigint NOT NULL,
    total_nblocks bigint NOT NULL,
    free_chunks bigint NOT NULL,
    PRIMARY KEY (snapshot_id, id)
);

-- snapshots are user data: pg_dump keeps them, and the id sequence's
-- position, so that a restored database goes on numbering after them
SELECT pg_catalog.pg_extension_config_dump('memprof_snapshot_header', '');
SELECT pg_catalog.pg_extension_config_dump('memprof_snapshot_context', '');
SELECT pg_catalog.pg_extension_config_dump('memprof_snapshot_header_id_seq', '');

CREATE VIEW memprof_snapshots AS
    SELECT id, label, pid, backend_type, backend_start, taken_at, contexts,
           total_bytes, free_bytes, total_bytes - free_bytes AS used_bytes,
           total_nblocks, truncated, omitted_contexts, is_baseline, taken_by, run_id
      FROM memprof_snapshot_header
     WHERE run_complete;

COMMENT ON VIEW memprof_snapshots IS 'stored memory-context snapshots, one row each (of a leak-check run, once the run ended)';

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

/*
 * The snapshot functions record the calling role and then work on the
 * tables through the memprof_store_* functions above, as the extension
 * owner, so callers need EXECUTE only and cannot alter the tables directly;
 * a role that is not a superuser may drop, prune or re-baseline only the
 * snapshots it took.  Nothing of the caller's input becomes SQL text.
 */
CREATE FUNCTION memprof_snapshot(label text DEFAULT NULL) RETURNS bigint
AS 'MODULE_PATHNAME', 'memprof_snapshot_1_3'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_snapshot(text) IS
'stores the calling backend''s context tree as a snapshot and returns its id';

CREATE FUNCTION memprof_baseline(label text DEFAULT 'baseline') RETURNS bigint
AS 'MODULE_PATHNAME', 'memprof_baseline_1_3'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_baseline(text) IS
'takes a snapshot and makes it this backend''s baseline for memprof_leaks';

CREATE FUNCTION memprof_set_baseline(id bigint) RETURNS void
AS 'MODULE_PATHNAME', 'memprof_set_baseline_1_3'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_set_baseline(bigint) IS
'makes an existing snapshot the baseline of its backend (for the role that took it)';

CREATE FUNCTION memprof_snapshot_drop(id bigint) RETURNS boolean
AS 'MODULE_PATHNAME', 'memprof_snapshot_drop_1_3'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_snapshot_drop(bigint) IS 'deletes one snapshot (a superuser''s, or one the caller took)';

/*
 * Retention, besides memprof.max_snapshots (applied on every new snapshot):
 * delete all but the newest keep_last, and/or those older than older_than.
 */
CREATE FUNCTION memprof_snapshot_prune(keep_last integer DEFAULT NULL,
                                       older_than interval DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'memprof_snapshot_prune_1_3'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_snapshot_prune(integer, interval) IS
'deletes all but the newest keep_last snapshots and/or those older than older_than (a non-superuser: among its own)';

CREATE FUNCTION memprof_snapshot_contexts(snapshot_id bigint)
RETURNS SETOF memprof_context_row
AS 'MODULE_PATHNAME', 'memprof_snapshot_contexts_1_3'
LANGUAGE C STABLE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_snapshot_contexts(bigint) IS
'a stored snapshot with the columns of memprof_contexts';

CREATE FUNCTION memprof_diff(
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

/*
 * Each backend's baseline (one per role that took snapshots of it) against
 * that role's latest later snapshot of the backend: the paths that grew
 * (used or total bytes, or context count) plus the totals row.
 */
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

/*---- leak check ----*/

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

/*
 * A snapshot of this backend in a leak-check run (used by
 * memprof_leak_check_xact): run_id NULL starts a run, whose id is the new
 * snapshot's id; otherwise the run must be one the caller started in this
 * backend.
 */
CREATE FUNCTION memprof_leak_xact_snapshot(label text, run_id bigint) RETURNS bigint
AS 'MODULE_PATHNAME', 'memprof_leak_xact_snapshot_1_3'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_leak_xact_snapshot(text, bigint) IS
'a snapshot in a memprof_leak_check_xact run (run_id NULL: starts a run); returns the snapshot id';

/* The end of a leak-check run: memprof_snapshots shows its snapshots from now. */
CREATE FUNCTION memprof_leak_xact_finish(run_id bigint) RETURNS void
AS 'MODULE_PATHNAME', 'memprof_leak_xact_finish_1_3'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_leak_xact_finish(bigint) IS
'marks a memprof_leak_check_xact run of the caller''s in this backend complete';

/*
 * Across transactions: runs sql, COMMITs, snapshots, warmup + iterations
 * times.  The run's snapshots carry run_label and the run's own id, run_id
 * (both returned), and
 *     SELECT * FROM memprof_leak_fit_run(run_id);
 * gives the fit.  If the statement fails (or is cancelled), the snapshots
 * this run took, and no other, are deleted and the error is raised with
 * the iteration number.
 *
 * A procedure that commits cannot carry SET search_path, so every function
 * and operator below is named with its schema; only sql itself runs with
 * the caller's search_path.
 */
CREATE PROCEDURE memprof_leak_check_xact(sql text, iterations integer DEFAULT 100,
                                         warmup integer DEFAULT 10,
                                         INOUT run_label text DEFAULT NULL,
                                         INOUT run_id bigint DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    failed boolean := false;
    total integer;
    snap bigint;
    taken bigint[] := '{}';
    warm bigint[] := '{}';
    err_state text;
    err_msg text;
    err_detail text;
BEGIN
    IF sql IS NULL OR pg_catalog.btrim(sql, E' \t\r\n;') OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION 'statement must not be null or empty'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF iterations IS NULL OR iterations OPERATOR(pg_catalog.<) 3
       OR iterations OPERATOR(pg_catalog.>) 1000 THEN
        RAISE EXCEPTION 'iterations must be between 3 and 1000, not %', iterations
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF warmup IS NULL OR warmup OPERATOR(pg_catalog.<) 0 OR warmup OPERATOR(pg_catalog.>) 1000 THEN
        RAISE EXCEPTION 'warmup must be between 0 and 1000, not %', warmup
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    total := warmup OPERATOR(pg_catalog.+) iterations;
    IF run_label IS NULL THEN
        run_label := pg_catalog.format('memprof_leak_check_xact %s %s',
                                       pg_catalog.pg_backend_pid(), pg_catalog.clock_timestamp());
    END IF;
    run_id := NULL;                   -- output only: every call is a new run
    FOR i IN 1 .. total LOOP
        BEGIN
            EXECUTE sql;
        EXCEPTION WHEN OTHERS OR query_canceled THEN
            failed := true;
            GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE,
                                    err_msg = MESSAGE_TEXT, err_detail = PG_EXCEPTION_DETAIL;
        END;
        IF NOT failed THEN
            COMMIT;
            -- warm-up iterations snapshot too (the snapshot code's own caches
            -- then settle before measuring); those are dropped at the end.
            -- A cancel or an error here ends the run like one in sql.
            BEGIN
                IF i OPERATOR(pg_catalog.>) warmup THEN
                    snap := @extschema@.memprof_leak_xact_snapshot(run_label, run_id);
                ELSE
                    snap := @extschema@.memprof_leak_xact_snapshot(
                                run_label OPERATOR(pg_catalog.||) ' (warm-up)', run_id);
                    warm := pg_catalog.array_append(warm, snap);
                END IF;
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                failed := true;
                GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE,
                                        err_msg = MESSAGE_TEXT, err_detail = PG_EXCEPTION_DETAIL;
            END;
        END IF;
        IF failed THEN
            -- nothing half-recorded: the snapshots this run took go
            PERFORM @extschema@.memprof_snapshot_drop(t.id)
               FROM pg_catalog.unnest(taken) AS t(id);
            COMMIT;
            IF err_detail IS NULL OR err_detail OPERATOR(pg_catalog.=) '' THEN
                RAISE EXCEPTION 'memprof_leak_check_xact iteration % of %: %',
                    i, total, err_msg USING ERRCODE = err_state;
            ELSE
                RAISE EXCEPTION 'memprof_leak_check_xact iteration % of %: %',
                    i, total, err_msg
                    USING ERRCODE = err_state, DETAIL = err_detail;
            END IF;
        END IF;
        IF run_id IS NULL THEN
            run_id := snap;
        END IF;
        taken := pg_catalog.array_append(taken, snap);
        COMMIT;
    END LOOP;
    PERFORM @extschema@.memprof_snapshot_drop(w.id) FROM pg_catalog.unnest(warm) AS w(id);
    PERFORM @extschema@.memprof_leak_xact_finish(run_id);
    COMMIT;
END $$;
COMMENT ON PROCEDURE memprof_leak_check_xact(text, integer, integer, text, bigint) IS
'leak check across transactions: commits between iterations; fit with memprof_leak_fit_run(run_id)';

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

/*
 * By label: the newest run carrying it; if no run carries it, the
 * snapshots labelled so outside any run (a series taken by hand).
 */
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

/*---- privileges ----*/
REVOKE ALL ON memprof_snapshot_header, memprof_snapshot_context FROM PUBLIC;
REVOKE ALL ON memprof_snapshots, memprof_leaks FROM PUBLIC;

GRANT SELECT ON memprof_snapshot_header, memprof_snapshot_context TO pg_read_all_stats;
GRANT SELECT ON memprof_snapshots, memprof_leaks TO pg_read_all_stats;

/*---- every process (needs shared_preload_libraries) ----*/

/*==== memprof_backends: its row function and the view, kept together here
 * (columns are added to both at once; the update from 1.0 recreates them
 * from this same text) ====*/
CREATE FUNCTION memprof_backend_summaries(
    OUT pid integer, OUT contexts bigint, OUT total_bytes bigint, OUT used_bytes bigint,
    OUT top_memory_bytes bigint, OUT cache_bytes bigint, OUT message_bytes bigint,
    OUT portal_bytes bigint, OUT transaction_bytes bigint, OUT other_bytes bigint,
    OUT peak_total_bytes bigint, OUT peak_used_bytes bigint,
    OUT rss_bytes bigint, OUT anon_bytes bigint, OUT pss_bytes bigint,
    OUT private_bytes bigint, OUT unaccounted_bytes bigint,
    OUT published_at timestamptz, OUT publications bigint, OUT published_rss_bytes bigint,
    OUT allocated_bytes bigint, OUT peak_allocated_bytes bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'memprof_backend_summaries_fn'
LANGUAGE C STRICT VOLATILE;

/*
 * One row per live process.  allocated_bytes and peak_allocated_bytes are
 * live: what the process holds from the C allocator now and at most since
 * it started, stored by the process at every block it takes or returns
 * (NULL when the allocator is not intercepted, or before the process ran
 * its first transaction).  Context figures are what the process last
 * published (at most once per memprof.publish_interval, at transaction end,
 * and whenever its tree is fetched); rss_bytes and anon_bytes are read from
 * /proc now; pss, private and unaccounted bytes are from the publication.
 */
CREATE VIEW memprof_backends AS
    SELECT s.pid, a.backend_type, a.datname, a.usename, a.application_name,
           a.state, a.backend_start,
           s.allocated_bytes, s.peak_allocated_bytes,
           s.contexts, s.total_bytes, s.used_bytes,
           s.top_memory_bytes, s.cache_bytes, s.message_bytes, s.portal_bytes,
           s.transaction_bytes, s.other_bytes,
           s.peak_total_bytes, s.peak_used_bytes,
           s.rss_bytes, s.anon_bytes, s.pss_bytes, s.private_bytes, s.unaccounted_bytes,
           s.published_rss_bytes, s.published_at, s.publications
      FROM @extschema@.memprof_backend_summaries() s
      LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = s.pid;
COMMENT ON VIEW memprof_backends IS
'one row per live PostgreSQL process: live allocator bytes and peak, published context totals and breakdown, RSS/PSS/private memory';
/*==== end of memprof_backends ====*/

CREATE FUNCTION memprof_backend_contexts(pid integer, timeout_ms integer DEFAULT 5000)
RETURNS SETOF memprof_context_row
AS 'MODULE_PATHNAME', 'memprof_backend_contexts_fn'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION memprof_backend_contexts(integer, integer) IS
'the whole memory-context tree of any backend or auxiliary process (signals it; superuser unless granted)';

CREATE FUNCTION memprof_snapshot(label text, pid integer) RETURNS bigint
AS 'MODULE_PATHNAME', 'memprof_snapshot_pid_1_3'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_snapshot(text, integer) IS
'stores another process''s context tree as a snapshot and returns its id (signals it; superuser unless granted)';

CREATE FUNCTION memprof_backend_history_rows(
    OUT pid integer, OUT backend_type text, OUT dbid oid, OUT userid oid,
    OUT started_at timestamptz, OUT exited_at timestamptz,
    OUT peak_total_bytes bigint, OUT peak_used_bytes bigint,
    OUT final_total_bytes bigint, OUT final_used_bytes bigint,
    OUT final_contexts bigint, OUT final_rss_bytes bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'memprof_backend_history_fn'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW memprof_backend_history AS
    SELECT h.pid, h.backend_type, d.datname AS database, r.rolname AS usename,
           h.started_at, h.exited_at, h.exited_at - h.started_at AS lifetime,
           h.peak_total_bytes, h.peak_used_bytes, h.final_total_bytes,
           h.final_used_bytes, h.final_contexts, h.final_rss_bytes
      FROM memprof_backend_history_rows() h
      LEFT JOIN pg_catalog.pg_database d ON d.oid = h.dbid
      LEFT JOIN pg_catalog.pg_roles r ON r.oid = h.userid;
COMMENT ON VIEW memprof_backend_history IS
'recently exited processes (a ring of memprof.history_size), newest first';

CREATE FUNCTION memprof_fetch_buffers(
    OUT buffer integer, OUT state text, OUT target_pid integer,
    OUT requester_pid integer, OUT size_bytes bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'memprof_fetch_buffers_fn'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION memprof_fetch_buffers() IS
'state of the shared buffers used to fetch other processes'' trees';

REVOKE ALL ON memprof_backends, memprof_backend_history FROM PUBLIC;
GRANT SELECT ON memprof_backends, memprof_backend_history TO pg_read_all_stats;

/*---- per-statement memory (needs shared_preload_libraries) ----*/

/*==== memprof_statements: its row function and the view, kept together here
 * (columns are added to both at once; the update from 1.0 recreates them
 * from this same text) ====*/
CREATE FUNCTION memprof_statements_rows(
    OUT userid oid, OUT dbid oid, OUT queryid bigint, OUT fingerprint bigint,
    OUT query text, OUT calls bigint,
    OUT total_peak_bytes bigint, OUT mean_peak_bytes float8, OUT max_peak_bytes bigint,
    OUT min_peak_bytes bigint, OUT max_held_bytes bigint,
    OUT workers bigint, OUT max_worker_peak_bytes bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'memprof_statements_fn'
LANGUAGE C STRICT VOLATILE;

/*
 * One row per top-level statement (query id or text fingerprint, user,
 * database).  peak is the most allocator memory the statement took above its
 * lowest point, from reading its text to its end, in every memory context;
 * held is what it still held when it ended.  Rows carry the core query id
 * when one is computed (compute_query_id, pg_stat_statements) and join with
 * pg_stat_statements on (userid, dbid, queryid); otherwise queryid is NULL
 * and fingerprint identifies the statement by its text without constants.
 * Parallel workers are counted in workers and max_worker_peak_bytes, never
 * in calls.
 */
CREATE VIEW memprof_statements AS
    SELECT s.userid, r.rolname AS usename, s.dbid, d.datname, s.queryid, s.fingerprint,
           s.query, s.calls, s.total_peak_bytes, s.mean_peak_bytes, s.max_peak_bytes,
           s.min_peak_bytes, s.max_held_bytes, s.workers, s.max_worker_peak_bytes
      FROM @extschema@.memprof_statements_rows() s
      LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.userid
      LEFT JOIN pg_catalog.pg_database d ON d.oid = s.dbid;
COMMENT ON VIEW memprof_statements IS
'memory of top-level statements: calls, peak (total, mean, max, min), most held at the end, parallel workers';
/*==== end of memprof_statements ====*/

CREATE FUNCTION memprof_statements_reset() RETURNS bigint
AS 'MODULE_PATHNAME', 'memprof_statements_reset_fn'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION memprof_statements_reset() IS 'forgets every memprof_statements entry';

/*==== memprof_statements_info and memprof_allocator (the update from 1.0
 * recreates them from this same text) ====*/
CREATE FUNCTION memprof_statements_info(OUT entries bigint, OUT max_entries bigint,
                                        OUT dealloc bigint, OUT evicted bigint,
                                        OUT dropped bigint, OUT reset_at timestamptz)
AS 'MODULE_PATHNAME', 'memprof_statements_info_fn'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION memprof_statements_info() IS
'entries in use, the cap, eviction runs and entries evicted, statements not recorded, last reset';

CREATE FUNCTION memprof_allocator(OUT state text, OUT reason text, OUT functions text,
                                  OUT held_bytes bigint, OUT peak_bytes bigint)
AS 'MODULE_PATHNAME', 'memprof_allocator_fn'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION memprof_allocator() IS
'whether memprof counts the allocator (active, off, failed, not loaded), why not, and this process''s allocator bytes';
/*==== end of memprof_statements_info and memprof_allocator ====*/

REVOKE ALL ON memprof_statements FROM PUBLIC;
GRANT SELECT ON memprof_statements TO pg_read_all_stats;
-- memprof_statements_reset(): superusers only, unless granted

/*---- folded stacks (flame graphs) ----*/

/*
 * Flame-graph lines, one per context: the path joined by ';' and the
 * context's own bytes, e.g.
 *     TopMemoryContext;CacheMemoryContext;index info 2048
 * (';' inside a name becomes ':', so the stack stays parseable).  `what`
 * picks total_bytes (default) or used_bytes.  Contexts with no bytes are
 * left out.
 */
CREATE FUNCTION memprof_fold(path_names text[], bytes bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT array_to_string(ARRAY(SELECT replace(p, ';', ':') FROM unnest(path_names) p), ';')
           || ' ' || bytes
$$;

/* The figure a folded line carries: total_bytes or used_bytes (22023 else). */
CREATE FUNCTION memprof_fold_pick(what text, total_bytes bigint, used_bytes bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF what = 'total_bytes' THEN
        RETURN total_bytes;
    ELSIF what = 'used_bytes' THEN
        RETURN used_bytes;
    END IF;
    RAISE EXCEPTION 'what must be total_bytes or used_bytes, not %', coalesce(what, 'NULL')
        USING ERRCODE = 'invalid_parameter_value';
END $$;

CREATE FUNCTION memprof_folded(what text DEFAULT 'total_bytes') RETURNS SETOF text
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT @extschema@.memprof_fold(c.path_names, b)
      FROM @extschema@.memprof_contexts() c,
           LATERAL @extschema@.memprof_fold_pick(what, c.total_bytes, c.used_bytes) b
     WHERE b > 0 ORDER BY c.id
$$;
COMMENT ON FUNCTION memprof_folded(text) IS 'this backend''s tree as flame-graph (folded stack) lines';

CREATE FUNCTION memprof_folded(snapshot_id bigint, what text DEFAULT 'total_bytes') RETURNS SETOF text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT @extschema@.memprof_fold(c.path_names, b)
      FROM @extschema@.memprof_snapshot_contexts(snapshot_id) c,
           LATERAL @extschema@.memprof_fold_pick(what, c.total_bytes, c.used_bytes) b
     WHERE b > 0 ORDER BY c.id
$$;
COMMENT ON FUNCTION memprof_folded(bigint, text) IS 'a stored snapshot as flame-graph (folded stack) lines';

/*
 * A diff as folded lines: the growth per path (used or total bytes), paths
 * that grew only (a flame graph cannot draw negative widths).
 */
CREATE FUNCTION memprof_folded_diff(from_id bigint, to_id bigint, what text DEFAULT 'used_bytes')
RETURNS SETOF text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT @extschema@.memprof_fold(d.path_names, b)
      FROM @extschema@.memprof_diff(from_id, to_id) d,
           LATERAL @extschema@.memprof_fold_pick(what, d.total_bytes_delta, d.used_bytes_delta) b
     WHERE d.path_names IS NOT NULL AND b > 0
$$;
COMMENT ON FUNCTION memprof_folded_diff(bigint, bigint, text) IS 'growth between two snapshots as flame-graph lines';

/* any process's live tree, folded (needs preloading unless pid is the caller's own) */
CREATE FUNCTION memprof_folded_pid(pid integer, what text DEFAULT 'total_bytes') RETURNS SETOF text
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
AS $$
    SELECT @extschema@.memprof_fold(c.path_names, b)
      FROM @extschema@.memprof_backend_contexts(pid) c,
           LATERAL @extschema@.memprof_fold_pick(what, c.total_bytes, c.used_bytes) b
     WHERE b > 0 ORDER BY c.id
$$;
COMMENT ON FUNCTION memprof_folded_pid(integer, text) IS 'another process''s tree as flame-graph lines (signals it; superuser unless granted)';

/*==== the server's total and budget (the update from 1.0 creates them from
 * this same text) ====*/
CREATE FUNCTION memprof_server(OUT allocated_bytes bigint, OUT reserved_bytes bigint,
                               OUT processes bigint, OUT budget_bytes bigint,
                               OUT headroom_bytes bigint, OUT refusals bigint,
                               OUT cancels bigint, OUT worst_overshoot_bytes bigint)
AS 'MODULE_PATHNAME', 'memprof_server_fn'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION memprof_server() IS
'the server''s allocator total (live sum and reserved sum), memprof.max_total_memory, headroom, refusals and cancels';

CREATE VIEW memprof_server_by_type AS
    SELECT backend_type, count(*) AS processes, sum(allocated_bytes)::bigint AS allocated_bytes,
           max(allocated_bytes) AS largest_bytes,
           pg_catalog.pg_size_pretty(sum(allocated_bytes)) AS allocated,
           pg_catalog.pg_size_pretty(max(allocated_bytes)) AS largest
      FROM @extschema@.memprof_backends
     WHERE allocated_bytes IS NOT NULL
     GROUP BY backend_type;
COMMENT ON VIEW memprof_server_by_type IS 'the server''s allocator total by backend type (allocated and largest: the same figures for reading)';

CREATE VIEW memprof_top_consumers AS
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

REVOKE ALL ON memprof_server_by_type, memprof_top_consumers FROM PUBLIC;
GRANT SELECT ON memprof_server_by_type, memprof_top_consumers TO pg_read_all_stats;
/*==== end of the server's total and budget ====*/

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
