/* memprof--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION memprof" to load this file. \quit

/*
 * Privileges follow core's pg_backend_memory_contexts: memory-context
 * figures are readable by superusers and members of pg_read_all_stats only.
 * Views and tables are granted where they are created; functions and
 * procedures all at once at the end of this script.
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

REVOKE ALL ON memprof_contexts, memprof_context_groups FROM PUBLIC;
GRANT SELECT ON memprof_contexts, memprof_context_groups TO pg_read_all_stats;

/*---- snapshots ----*/

/*
 * One row per snapshot.  pid, backend_type and backend_start say whose tree
 * it is (a snapshot of another process, taken by memprof_snapshot(label,
 * pid), lands here the same way); truncated/omitted_contexts say whether the
 * tree was cut to fit a buffer.  is_baseline marks the baseline of its
 * backend for memprof_leaks.
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
    nblocks bigint NOT NULL,
    truncated boolean NOT NULL DEFAULT false,
    omitted_contexts integer NOT NULL DEFAULT 0,
    is_baseline boolean NOT NULL DEFAULT false
);
CREATE INDEX ON memprof_snapshot_header (pid, backend_start, id);

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
    level integer NOT NULL,
    type "char" NOT NULL,
    name text NOT NULL,
    ident text,
    total_bytes bigint NOT NULL,
    free_bytes bigint NOT NULL,
    nblocks bigint NOT NULL,
    free_chunks bigint NOT NULL,
    PRIMARY KEY (snapshot_id, id)
);

-- snapshots are user data: pg_dump keeps them
SELECT pg_catalog.pg_extension_config_dump('memprof_snapshot_header', '');
SELECT pg_catalog.pg_extension_config_dump('memprof_snapshot_context', '');

CREATE VIEW memprof_snapshots AS
    SELECT id, label, pid, backend_type, backend_start, taken_at, contexts,
           total_bytes, free_bytes, total_bytes - free_bytes AS used_bytes,
           nblocks, truncated, omitted_contexts, is_baseline
      FROM memprof_snapshot_header;

COMMENT ON VIEW memprof_snapshots IS 'stored memory-context snapshots, one row each';

/*
 * Writing functions run as the extension owner (SECURITY DEFINER, fixed
 * search_path), so readers need only SELECT on the tables and cannot alter
 * them directly.  They sample the calling backend; nothing of the caller's
 * input becomes SQL text.
 */
CREATE FUNCTION memprof_snapshot(label text DEFAULT NULL) RETURNS bigint
AS 'MODULE_PATHNAME', 'memprof_snapshot_fn'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_snapshot(text) IS
'stores the calling backend''s context tree as a snapshot and returns its id';

CREATE FUNCTION memprof_baseline(label text DEFAULT 'baseline') RETURNS bigint
AS 'MODULE_PATHNAME', 'memprof_baseline_fn'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_baseline(text) IS
'takes a snapshot and makes it this backend''s baseline for memprof_leaks';

CREATE FUNCTION memprof_set_baseline(id bigint) RETURNS void
AS 'MODULE_PATHNAME', 'memprof_set_baseline_fn'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_set_baseline(bigint) IS
'makes an existing snapshot the baseline of its backend';

CREATE FUNCTION memprof_snapshot_drop(id bigint) RETURNS boolean
AS 'MODULE_PATHNAME', 'memprof_snapshot_drop_fn'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_snapshot_drop(bigint) IS 'deletes one snapshot';

/*
 * Retention, besides memprof.max_snapshots (applied on every new snapshot):
 * delete all but the newest keep_last, and/or those older than older_than.
 */
CREATE FUNCTION memprof_snapshot_prune(keep_last integer DEFAULT NULL,
                                       older_than interval DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    IF keep_last IS NULL AND older_than IS NULL THEN
        RAISE EXCEPTION 'memprof_snapshot_prune needs keep_last or older_than'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF keep_last < 0 THEN
        RAISE EXCEPTION 'keep_last must not be negative, not %', keep_last
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WITH gone AS (
        DELETE FROM @extschema@.memprof_snapshot_header h
         WHERE (older_than IS NOT NULL AND h.taken_at < now() - older_than)
            OR (keep_last IS NOT NULL AND h.id NOT IN (
                    SELECT id FROM @extschema@.memprof_snapshot_header
                     ORDER BY id DESC LIMIT keep_last))
        RETURNING h.id),
    ctx AS (
        DELETE FROM @extschema@.memprof_snapshot_context c
         WHERE c.snapshot_id IN (SELECT id FROM gone))
    SELECT count(*) INTO n FROM gone;
    RETURN n;
END $$;

CREATE FUNCTION memprof_snapshot_contexts(
    snapshot_id bigint,
    OUT id integer, OUT parent_id integer, OUT level integer, OUT path text[],
    OUT name text, OUT ident text, OUT type text, OUT total_bytes bigint,
    OUT free_bytes bigint, OUT used_bytes bigint, OUT nblocks bigint,
    OUT free_chunks bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'memprof_snapshot_contexts_fn'
LANGUAGE C STABLE;
COMMENT ON FUNCTION memprof_snapshot_contexts(bigint) IS
'a stored snapshot with the columns of memprof_contexts';

CREATE FUNCTION memprof_diff(
    from_id bigint, to_id bigint,
    OUT path text[],
    OUT contexts_from bigint, OUT contexts_to bigint, OUT contexts_delta bigint,
    OUT total_bytes_from bigint, OUT total_bytes_to bigint, OUT total_bytes_delta bigint,
    OUT used_bytes_from bigint, OUT used_bytes_to bigint, OUT used_bytes_delta bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'memprof_diff_fn'
LANGUAGE C STABLE;
COMMENT ON FUNCTION memprof_diff(bigint, bigint) IS
'growth per context path between two snapshots, largest used-bytes growth first, then a totals row with path NULL';

/*
 * Each backend's baseline against its latest later snapshot, paths that
 * grew (used or total bytes, or context count) plus the totals row.
 */
CREATE VIEW memprof_leaks AS
    SELECT b.pid, b.backend_type, b.id AS baseline_id, l.id AS latest_id,
           b.label AS baseline_label, l.label AS latest_label,
           l.taken_at - b.taken_at AS elapsed, d.*
      FROM memprof_snapshot_header b
      CROSS JOIN LATERAL (
            SELECT s.id, s.label, s.taken_at FROM memprof_snapshot_header s
             WHERE s.pid = b.pid
               AND s.backend_start IS NOT DISTINCT FROM b.backend_start
               AND s.id > b.id
             ORDER BY s.id DESC LIMIT 1) l
      CROSS JOIN LATERAL memprof_diff(b.id, l.id) d
     WHERE b.is_baseline
       AND (d.path IS NULL OR d.used_bytes_delta > 0 OR d.total_bytes_delta > 0
            OR d.contexts_delta > 0);
COMMENT ON VIEW memprof_leaks IS
'each backend''s baseline snapshot against its latest snapshot: the paths that grew, and the totals';

/*---- leak check ----*/

CREATE FUNCTION memprof_leak_check(
    sql text, iterations integer DEFAULT 100, warmup integer DEFAULT 10,
    OUT path text[], OUT scope text,
    OUT contexts_first bigint, OUT contexts_last bigint,
    OUT used_bytes_first bigint, OUT used_bytes_last bigint, OUT growth_bytes bigint,
    OUT slope_bytes_per_iteration float8, OUT r_squared float8, OUT verdict text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'memprof_leak_check_fn'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION memprof_leak_check(text, integer, integer) IS
'runs sql repeatedly in this backend (caller''s privileges) and fits used-bytes growth per context path: leak, growing or stable';

CREATE FUNCTION memprof_leak_fit(
    snapshot_ids bigint[],
    OUT path text[], OUT scope text,
    OUT contexts_first bigint, OUT contexts_last bigint,
    OUT used_bytes_first bigint, OUT used_bytes_last bigint, OUT growth_bytes bigint,
    OUT slope_bytes_per_iteration float8, OUT r_squared float8, OUT verdict text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'memprof_leak_fit_fn'
LANGUAGE C STABLE;
COMMENT ON FUNCTION memprof_leak_fit(bigint[]) IS
'the leak-check fit over stored snapshots, in the order given';

/*
 * Across transactions: runs sql, COMMITs, snapshots, warmup + iterations
 * times; run_label (returned) labels the snapshots, and
 *     SELECT * FROM memprof_leak_fit_label(run_label);
 * gives the fit.  If the statement fails (or is cancelled), the run's
 * snapshots are deleted and the error is raised with the iteration number.
 */
CREATE PROCEDURE memprof_leak_check_xact(sql text, iterations integer DEFAULT 100,
                                         warmup integer DEFAULT 10,
                                         INOUT run_label text DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    failed boolean := false;
    err_state text;
    err_msg text;
    err_detail text;
BEGIN
    IF sql IS NULL OR btrim(sql, E' \t\r\n;') = '' THEN
        RAISE EXCEPTION 'statement must not be null or empty'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF iterations IS NULL OR iterations < 3 OR iterations > 1000 THEN
        RAISE EXCEPTION 'iterations must be between 3 and 1000, not %', iterations
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF warmup IS NULL OR warmup < 0 OR warmup > 1000 THEN
        RAISE EXCEPTION 'warmup must be between 0 and 1000, not %', warmup
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    run_label := coalesce(run_label, format('memprof_leak_check_xact %s %s',
                                            pg_backend_pid(), clock_timestamp()));
    FOR i IN 1 .. warmup + iterations LOOP
        BEGIN
            EXECUTE sql;
        EXCEPTION WHEN OTHERS OR query_canceled THEN
            failed := true;
            GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE,
                                    err_msg = MESSAGE_TEXT, err_detail = PG_EXCEPTION_DETAIL;
        END;
        IF failed THEN
            -- nothing half-recorded: this run's snapshots go
            PERFORM @extschema@.memprof_snapshot_drop(s.id)
               FROM @extschema@.memprof_snapshots s
              WHERE s.label IN (run_label, run_label || ' (warm-up)');
            COMMIT;
            IF err_detail IS NULL OR err_detail = '' THEN
                RAISE EXCEPTION 'memprof_leak_check_xact iteration % of %: %',
                    i, warmup + iterations, err_msg USING ERRCODE = err_state;
            ELSE
                RAISE EXCEPTION 'memprof_leak_check_xact iteration % of %: %',
                    i, warmup + iterations, err_msg
                    USING ERRCODE = err_state, DETAIL = err_detail;
            END IF;
        END IF;
        COMMIT;
        -- warm-up iterations snapshot too (the snapshot code's own caches
        -- then settle before measuring), under a label dropped at the end
        PERFORM @extschema@.memprof_snapshot(
            CASE WHEN i > warmup THEN run_label ELSE run_label || ' (warm-up)' END);
        COMMIT;
    END LOOP;
    PERFORM @extschema@.memprof_snapshot_drop(s.id)
       FROM @extschema@.memprof_snapshots s WHERE s.label = run_label || ' (warm-up)';
    COMMIT;
END $$;
COMMENT ON PROCEDURE memprof_leak_check_xact(text, integer, integer, text) IS
'leak check across transactions: commits between iterations; fit with memprof_leak_fit_label(run_label)';

CREATE FUNCTION memprof_leak_fit_label(run_label text,
    OUT path text[], OUT scope text,
    OUT contexts_first bigint, OUT contexts_last bigint,
    OUT used_bytes_first bigint, OUT used_bytes_last bigint, OUT growth_bytes bigint,
    OUT slope_bytes_per_iteration float8, OUT r_squared float8, OUT verdict text)
RETURNS SETOF record
LANGUAGE sql STABLE
AS $$
    SELECT * FROM @extschema@.memprof_leak_fit(
        (SELECT array_agg(id ORDER BY id) FROM @extschema@.memprof_snapshot_header
          WHERE label = run_label))
$$;

/*---- privileges ----*/
REVOKE ALL ON memprof_snapshot_header, memprof_snapshot_context FROM PUBLIC;
REVOKE ALL ON memprof_snapshots, memprof_leaks FROM PUBLIC;

GRANT SELECT ON memprof_snapshot_header, memprof_snapshot_context TO pg_read_all_stats;
GRANT SELECT ON memprof_snapshots, memprof_leaks TO pg_read_all_stats;

/*---- every process (needs shared_preload_libraries) ----*/

CREATE FUNCTION memprof_backend_summaries(
    OUT pid integer, OUT contexts bigint, OUT total_bytes bigint, OUT used_bytes bigint,
    OUT top_memory_bytes bigint, OUT cache_bytes bigint, OUT message_bytes bigint,
    OUT portal_bytes bigint, OUT transaction_bytes bigint, OUT other_bytes bigint,
    OUT peak_total_bytes bigint, OUT peak_used_bytes bigint,
    OUT rss_bytes bigint, OUT anon_bytes bigint, OUT pss_bytes bigint,
    OUT private_bytes bigint, OUT unaccounted_bytes bigint,
    OUT published_at timestamptz, OUT publications bigint, OUT published_rss_bytes bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'memprof_backend_summaries_fn'
LANGUAGE C STRICT VOLATILE;

/*
 * One row per live process.  Context figures are what the process last
 * published (at most once per memprof.publish_interval, at transaction end,
 * and whenever its tree is fetched); rss_bytes and anon_bytes are read from
 * /proc now; pss, private and unaccounted bytes are from the publication.
 */
CREATE VIEW memprof_backends AS
    SELECT s.pid, a.backend_type, a.datname, a.usename, a.application_name,
           a.state, a.backend_start,
           s.contexts, s.total_bytes, s.used_bytes,
           s.top_memory_bytes, s.cache_bytes, s.message_bytes, s.portal_bytes,
           s.transaction_bytes, s.other_bytes,
           s.peak_total_bytes, s.peak_used_bytes,
           s.rss_bytes, s.anon_bytes, s.pss_bytes, s.private_bytes, s.unaccounted_bytes,
           s.published_rss_bytes, s.published_at, s.publications
      FROM memprof_backend_summaries() s
      LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = s.pid;
COMMENT ON VIEW memprof_backends IS
'one row per live PostgreSQL process: published context totals and breakdown, peak, RSS/PSS/private memory';

CREATE FUNCTION memprof_backend_contexts(
    pid integer, timeout_ms integer DEFAULT 5000,
    OUT id integer, OUT parent_id integer, OUT level integer, OUT path text[],
    OUT name text, OUT ident text, OUT type text, OUT total_bytes bigint,
    OUT free_bytes bigint, OUT used_bytes bigint, OUT nblocks bigint,
    OUT free_chunks bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'memprof_backend_contexts_fn'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION memprof_backend_contexts(integer, integer) IS
'the whole memory-context tree of any backend or auxiliary process';

CREATE FUNCTION memprof_snapshot(label text, pid integer) RETURNS bigint
AS 'MODULE_PATHNAME', 'memprof_snapshot_pid_fn'
LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_snapshot(text, integer) IS
'stores another process''s context tree as a snapshot and returns its id';

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

CREATE FUNCTION memprof_statements_rows(
    OUT userid oid, OUT dbid oid, OUT queryid bigint, OUT query text, OUT calls bigint,
    OUT total_peak_bytes bigint, OUT mean_peak_bytes float8, OUT max_peak_bytes bigint,
    OUT min_peak_bytes bigint, OUT max_held_bytes bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'memprof_statements_fn'
LANGUAGE C STRICT VOLATILE;

/*
 * One row per (query id, user, database): peak is the most memory the
 * statement's executor (or utility) contexts and TopTransactionContext held
 * above what they held when it started; held is what they still held when
 * it finished, before the executor freed its state.  Join with
 * pg_stat_statements on (userid, dbid, queryid).
 */
CREATE VIEW memprof_statements AS
    SELECT s.userid, r.rolname AS usename, s.dbid, d.datname, s.queryid, s.query,
           s.calls, s.total_peak_bytes, s.mean_peak_bytes, s.max_peak_bytes,
           s.min_peak_bytes, s.max_held_bytes
      FROM memprof_statements_rows() s
      LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.userid
      LEFT JOIN pg_catalog.pg_database d ON d.oid = s.dbid;
COMMENT ON VIEW memprof_statements IS
'memory of top-level statements by query id: calls, peak (total, mean, max, min) and most held at the end';

CREATE FUNCTION memprof_statements_reset() RETURNS bigint
AS 'MODULE_PATHNAME', 'memprof_statements_reset_fn'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION memprof_statements_reset() IS 'forgets every memprof_statements entry';

CREATE FUNCTION memprof_statements_info(OUT entries bigint, OUT dropped bigint,
                                        OUT reset_at timestamptz)
AS 'MODULE_PATHNAME', 'memprof_statements_info_fn'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION memprof_statements_info() IS
'entries in use, statements not recorded because the table was full, last reset';

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
CREATE FUNCTION memprof_fold(path text[], bytes bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT array_to_string(ARRAY(SELECT replace(p, ';', ':') FROM unnest(path) p), ';')
           || ' ' || bytes
$$;

/* The figure a folded line carries: total_bytes or used_bytes (22023 else). */
CREATE FUNCTION memprof_fold_pick(what text, total_bytes bigint, used_bytes bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
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
LANGUAGE sql VOLATILE
AS $$
    SELECT @extschema@.memprof_fold(c.path, b)
      FROM @extschema@.memprof_contexts() c,
           LATERAL @extschema@.memprof_fold_pick(what, c.total_bytes, c.used_bytes) b
     WHERE b > 0 ORDER BY c.id
$$;
COMMENT ON FUNCTION memprof_folded(text) IS 'this backend''s tree as flame-graph (folded stack) lines';

CREATE FUNCTION memprof_folded(snapshot_id bigint, what text DEFAULT 'total_bytes') RETURNS SETOF text
LANGUAGE sql STABLE
AS $$
    SELECT @extschema@.memprof_fold(c.path, b)
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
LANGUAGE sql STABLE
AS $$
    SELECT @extschema@.memprof_fold(d.path, b)
      FROM @extschema@.memprof_diff(from_id, to_id) d,
           LATERAL @extschema@.memprof_fold_pick(what, d.total_bytes_delta, d.used_bytes_delta) b
     WHERE d.path IS NOT NULL AND b > 0
$$;
COMMENT ON FUNCTION memprof_folded_diff(bigint, bigint, text) IS 'growth between two snapshots as flame-graph lines';

/* any process's live tree, folded (needs preloading unless pid is our own) */
CREATE FUNCTION memprof_folded_pid(pid integer, what text DEFAULT 'total_bytes') RETURNS SETOF text
LANGUAGE sql VOLATILE
AS $$
    SELECT @extschema@.memprof_fold(c.path, b)
      FROM @extschema@.memprof_backend_contexts(pid) c,
           LATERAL @extschema@.memprof_fold_pick(what, c.total_bytes, c.used_bytes) b
     WHERE b > 0 ORDER BY c.id
$$;
COMMENT ON FUNCTION memprof_folded_pid(integer, text) IS 'another process''s tree as flame-graph lines';

/*---- privileges of every function and procedure, in one place ----*/

/*
 * Every function and procedure of the extension is revoked from PUBLIC and
 * granted to pg_read_all_stats, except: memprof_fold and memprof_fold_pick,
 * pure formatting helpers that read nothing (left to PUBLIC), and
 * memprof_statements_reset, for superusers only.  Done by a loop over the
 * extension's members, so a function added later cannot be forgotten.
 */
DO $$
DECLARE
    f record;
    kind text;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure AS sig, p.proname, p.prokind
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_proc p ON p.oid = d.objid
         WHERE d.classid = 'pg_catalog.pg_proc'::regclass
           AND d.refclassid = 'pg_catalog.pg_extension'::regclass
           AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'memprof')
           AND d.deptype = 'e'
           AND p.proname NOT IN ('memprof_fold', 'memprof_fold_pick')
    LOOP
        kind := CASE f.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END;
        EXECUTE format('REVOKE ALL ON %s %s FROM PUBLIC', kind, f.sig);
        IF f.proname <> 'memprof_statements_reset' THEN
            EXECUTE format('GRANT EXECUTE ON %s %s TO pg_read_all_stats', kind, f.sig);
        END IF;
    END LOOP;
END $$;
