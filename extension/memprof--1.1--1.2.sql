/* memprof--1.1--1.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION memprof UPDATE TO '1.2'" to load this file. \quit

/*
 * 1.2: memprof_diff leaves out the paths whose figures did not change,
 * unless asked (include_unchanged); memprof_server_by_type and
 * memprof_top_consumers gain pg_size_pretty columns, appended after the
 * existing ones.  memprof_leaks, which reads memprof_diff, is created again
 * as it was.  A leak-check run's snapshots are hidden from
 * memprof_snapshots until the run ends (run_complete, set by the new
 * memprof_leak_xact_finish); a run cut short is deleted when its backend
 * starts the next one.  Stored snapshots are kept, all complete.
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

/*---- leak-check runs: complete once they end ----*/
ALTER TABLE memprof_snapshot_header ADD COLUMN run_complete boolean NOT NULL DEFAULT true;

CREATE OR REPLACE VIEW memprof_snapshots AS
    SELECT id, label, pid, backend_type, backend_start, taken_at, contexts,
           total_bytes, free_bytes, total_bytes - free_bytes AS used_bytes,
           total_nblocks, truncated, omitted_contexts, is_baseline, taken_by, run_id
      FROM memprof_snapshot_header
     WHERE run_complete;

COMMENT ON VIEW memprof_snapshots IS 'stored memory-context snapshots, one row each (of a leak-check run, once the run ended)';

/* The end of a leak-check run: memprof_snapshots shows its snapshots from now. */
CREATE FUNCTION memprof_leak_xact_finish(run_id bigint) RETURNS void
AS 'MODULE_PATHNAME', 'memprof_leak_xact_finish_fn'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION memprof_leak_xact_finish(bigint) IS
'marks a memprof_leak_check_xact run of the caller''s in this backend complete';

REVOKE ALL ON FUNCTION memprof_leak_xact_finish(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION memprof_leak_xact_finish(bigint) TO pg_read_all_stats;

CREATE OR REPLACE PROCEDURE memprof_leak_check_xact(sql text, iterations integer DEFAULT 100,
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

CREATE OR REPLACE FUNCTION memprof_leak_fit_run(run_id bigint,
    OUT path_names text[], OUT scope text,
    OUT contexts_first bigint, OUT contexts_last bigint,
    OUT used_bytes_first bigint, OUT used_bytes_last bigint, OUT growth_bytes bigint,
    OUT slope_bytes_per_iteration float8, OUT r_squared float8, OUT verdict text)
RETURNS SETOF record
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

CREATE OR REPLACE FUNCTION memprof_leak_fit_label(run_label text,
    OUT path_names text[], OUT scope text,
    OUT contexts_first bigint, OUT contexts_last bigint,
    OUT used_bytes_first bigint, OUT used_bytes_last bigint, OUT growth_bytes bigint,
    OUT slope_bytes_per_iteration float8, OUT r_squared float8, OUT verdict text)
RETURNS SETOF record
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
