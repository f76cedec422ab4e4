-- pgTAP: a hostile search_path cannot hijack memprof.  Trojan functions,
-- aggregates and operators named like the ones memprof's functions use sit
-- in a schema placed before pg_catalog on a superuser's search_path; every
-- function and procedure of the extension (listed from pg_depend, so none
-- can be left out) is called under that search_path, and no trojan may run.
-- No transaction around the file: memprof_leak_check_xact commits.
SELECT plan(7);

SET client_min_messages = warning;
DROP SCHEMA IF EXISTS memprof_trojan CASCADE;
DROP TABLE IF EXISTS public.memprof_trojan_log;
RESET client_min_messages;
CREATE SCHEMA memprof_trojan;
CREATE TABLE public.memprof_trojan_log (what text);

-- each trojan logs its name and then does what the real one does
DO $do$
DECLARE
    o record;
    f record;
BEGIN
    FOR o IN
        -- comparisons of a type with itself: every comparison of bigint,
        -- integer and timestamptz (a few more than the ones needed before
        -- 1.2, so that one a later change uses is covered), = and <> of text,
        -- = of oid and regrole
        SELECT op, t AS l, t AS r, 'boolean' AS res
          FROM (VALUES ('bigint', '{=,<>,<,<=,>,>=}'::text[]), ('integer', '{=,<>,<,<=,>,>=}'),
                       ('timestamptz', '{=,<>,<,<=,>,>=}'), ('text', '{=,<>}'), ('oid', '{=}'),
                       ('regrole', '{=}')) AS c(t, ops), unnest(c.ops) AS op
        UNION ALL
        SELECT * FROM (VALUES
            ('+', 'integer', 'integer', 'integer'), ('+', 'bigint', 'bigint', 'bigint'),
            ('-', 'integer', 'integer', 'integer'), ('-', 'bigint', 'bigint', 'bigint'),
            ('-', 'timestamptz', 'interval', 'timestamptz'),
            ('||', 'text', 'text', 'text'), ('||', 'text', 'anynonarray', 'text'),
            ('||', 'anynonarray', 'text', 'text'), ('||', 'anycompatiblearray', 'anycompatible', 'anycompatiblearray')
            ) AS v(op, l, r, res)
    LOOP
        EXECUTE format($f$CREATE FUNCTION memprof_trojan.op_%s(%s, %s) RETURNS %s LANGUAGE plpgsql AS $b$
            BEGIN INSERT INTO public.memprof_trojan_log VALUES (%L); RETURN $1 OPERATOR(pg_catalog.%s) $2; END $b$ $f$,
            md5(o.op || o.l || o.r), o.l, o.r, o.res, 'operator ' || o.op || ' (' || o.l || ', ' || o.r || ')', o.op);
        EXECUTE format('CREATE OPERATOR memprof_trojan.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = memprof_trojan.op_%s)',
                       o.op, o.l, o.r, md5(o.op || o.l || o.r));
    END LOOP;
    -- functions: each calls the real one, pg_catalog.name($1, $2, ...)
    FOR f IN SELECT * FROM (VALUES
        ('unnest', 'anyarray', 'SETOF anyelement'), ('array_to_string', 'anyarray, text', 'text'),
        ('replace', 'text, text, text', 'text'), ('btrim', 'text, text', 'text'),
        ('format', 'text, anyelement, anyelement', 'text'), ('format', 'text, integer, timestamptz', 'text'),
        ('quote_literal', 'text', 'text'), ('quote_ident', 'text', 'text'), ('cardinality', 'anyarray', 'integer'),
        ('array_append', 'anycompatiblearray, anycompatible', 'anycompatiblearray'),
        ('pg_backend_pid', '', 'integer'), ('clock_timestamp', '', 'timestamptz'), ('now', '', 'timestamptz')
        ) AS v(name, args, res)
    LOOP
        EXECUTE format($f$CREATE FUNCTION memprof_trojan.%I(%s) RETURNS %s LANGUAGE plpgsql AS $b$
            BEGIN INSERT INTO public.memprof_trojan_log VALUES (%L); %s pg_catalog.%I(%s); END $b$ $f$,
            f.name, f.args, f.res, 'function ' || f.name || '(' || f.args || ')',
            CASE WHEN f.res LIKE 'SETOF %' THEN 'RETURN QUERY SELECT' ELSE 'RETURN' END, f.name,
            (SELECT string_agg('$' || i, ', ') FROM generate_series(1, cardinality(string_to_array(nullif(f.args, ''), ', '))) i));
    END LOOP;
END $do$;

-- aggregates: a logging transition function each
CREATE FUNCTION memprof_trojan.agg_step(s bigint, v anyelement) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.memprof_trojan_log VALUES ('aggregate'); RETURN coalesce(s, 0) OPERATOR(pg_catalog.+) 1; END $$;
CREATE FUNCTION memprof_trojan.agg_step0(s bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.memprof_trojan_log VALUES ('aggregate count(*)'); RETURN coalesce(s, 0) OPERATOR(pg_catalog.+) 1; END $$;
CREATE AGGREGATE memprof_trojan.count(*) (SFUNC = memprof_trojan.agg_step0, STYPE = bigint);
CREATE AGGREGATE memprof_trojan.count("any") (SFUNC = memprof_trojan.agg_step, STYPE = bigint);
CREATE AGGREGATE memprof_trojan.sum(bigint) (SFUNC = memprof_trojan.agg_step, STYPE = bigint);
CREATE AGGREGATE memprof_trojan.max(bigint) (SFUNC = memprof_trojan.agg_step, STYPE = bigint);
CREATE AGGREGATE memprof_trojan.min(bigint) (SFUNC = memprof_trojan.agg_step, STYPE = bigint);
CREATE AGGREGATE memprof_trojan.array_agg(bigint) (SFUNC = memprof_trojan.agg_step, STYPE = bigint);

-- the trojans work: under the hostile search_path they win
\o /dev/null
SET search_path = memprof_trojan, public, pg_catalog;
SELECT 1::bigint = 2::bigint AS eq, unnest(ARRAY[1]) AS u;
RESET search_path;
\o
SELECT ok((SELECT count(*) FROM memprof_trojan_log WHERE what LIKE 'operator = (bigint%') > 0,
          'sanity: a trojan = (bigint, bigint) runs under the hostile search_path');
SELECT ok((SELECT count(*) FROM memprof_trojan_log WHERE what LIKE 'function unnest%') > 0,
          'sanity: a trojan unnest runs under the hostile search_path');
TRUNCATE memprof_trojan_log;

-- what each function is called with; ids and pids are put in as literals
-- by the safe query below, so the calls themselves use no operator
SELECT memprof_snapshot('trojan a') AS a \gset
SELECT memprof_snapshot('trojan b') AS b \gset
SELECT memprof_snapshot('trojan c') AS c \gset
SELECT memprof_snapshot('trojan d') AS d \gset
CALL memprof_leak_check_xact('SELECT 1', 3, 1, 'trojan prepared run') \gset prepared_
SELECT pid AS other_pid FROM pg_stat_activity WHERE backend_type = 'autovacuum launcher' \gset
SELECT quote_ident(n.nspname) AS ext FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'memprof' \gset

CREATE TEMP TABLE memprof_trojan_calls (sig text PRIMARY KEY, call text NOT NULL);
INSERT INTO memprof_trojan_calls VALUES
    ('memprof_contexts()', 'SELECT %1$s.memprof_contexts()'),
    ('memprof_snapshot(text)', $$SELECT %1$s.memprof_snapshot('trojan run')$$),
    ('memprof_baseline(text)', $$SELECT %1$s.memprof_baseline('trojan base')$$),
    ('memprof_set_baseline(bigint)', 'SELECT %1$s.memprof_set_baseline(%2$s)'),
    ('memprof_snapshot_drop(bigint)', 'SELECT %1$s.memprof_snapshot_drop(%5$s)'),
    ('memprof_snapshot_prune(integer,interval)', $$SELECT %1$s.memprof_snapshot_prune(1000, '1 day'::interval)$$),
    ('memprof_snapshot_contexts(bigint)', 'SELECT %1$s.memprof_snapshot_contexts(%2$s)'),
    ('memprof_diff(bigint,bigint,boolean)', 'SELECT %1$s.memprof_diff(%2$s, %3$s, true)'),
    ('memprof_leak_check(text,integer,integer)', $$SELECT %1$s.memprof_leak_check('SELECT 1', 3, 0)$$),
    ('memprof_leak_fit(bigint[])', 'SELECT %1$s.memprof_leak_fit(ARRAY[%2$s, %3$s, %4$s]::bigint[])'),
    ('memprof_leak_xact_snapshot(text,bigint)', $$SELECT %1$s.memprof_leak_xact_snapshot('trojan xact', NULL)$$),
    ('memprof_leak_xact_finish(bigint)', 'SELECT %1$s.memprof_leak_xact_finish(%6$s)'),
    ('memprof_leak_check_xact(text,integer,integer,text,bigint)', $$CALL %1$s.memprof_leak_check_xact('SELECT 1', 3, 1, 'trojan xact run')$$),
    ('memprof_leak_fit_run(bigint)', 'SELECT %1$s.memprof_leak_fit_run(%6$s)'),
    ('memprof_leak_fit_label(text)', $$SELECT %1$s.memprof_leak_fit_label('trojan prepared run')$$),
    ('memprof_backend_summaries()', 'SELECT %1$s.memprof_backend_summaries()'),
    ('memprof_backend_contexts(integer,integer)', 'SELECT %1$s.memprof_backend_contexts(%7$s, 5000)'),
    ('memprof_snapshot(text,integer)', $$SELECT %1$s.memprof_snapshot('trojan remote', %7$s)$$),
    ('memprof_backend_history_rows()', 'SELECT %1$s.memprof_backend_history_rows()'),
    ('memprof_fetch_buffers()', 'SELECT %1$s.memprof_fetch_buffers()'),
    ('memprof_statements_rows()', 'SELECT %1$s.memprof_statements_rows()'),
    ('memprof_statements_reset()', 'SELECT %1$s.memprof_statements_reset()'),
    ('memprof_statements_info()', 'SELECT %1$s.memprof_statements_info()'),
    ('memprof_allocator()', 'SELECT %1$s.memprof_allocator()'),
    ('memprof_server()', 'SELECT %1$s.memprof_server()'),
    ('memprof_fold(text[],bigint)', $$SELECT %1$s.memprof_fold('{a,b;c}'::text[], 5)$$),
    ('memprof_fold_pick(text,bigint,bigint)', $$SELECT %1$s.memprof_fold_pick('used_bytes', 1, 2)$$),
    ('memprof_folded(text)', $$SELECT %1$s.memprof_folded('total_bytes')$$),
    ('memprof_folded(bigint,text)', $$SELECT %1$s.memprof_folded(%2$s::bigint, 'used_bytes')$$),
    ('memprof_folded_diff(bigint,bigint,text)', $$SELECT %1$s.memprof_folded_diff(%2$s, %3$s, 'total_bytes')$$),
    ('memprof_folded_pid(integer,text)', $$SELECT %1$s.memprof_folded_pid(%7$s, 'total_bytes')$$),
    -- 1.3's internal functions (superuser only): the snapshot store and the privileges
    ('memprof_store_delete(bigint[])', 'SELECT %1$s.memprof_store_delete(ARRAY[%5$s]::bigint[])'),
    ('memprof_store_may_change(bigint,oid,boolean)', 'SELECT %1$s.memprof_store_may_change(%2$s, 10, false)'),
    ('memprof_store_run_owned(bigint,oid,integer,timestamp with time zone)', 'SELECT %1$s.memprof_store_run_owned(%6$s, 10, 0, NULL)'),
    ('memprof_store_insert(oid,text,integer,text,timestamp with time zone,timestamp with time zone,boolean,integer,bigint,boolean,integer,integer[],integer[],integer[],"char"[],text[],text[],bigint[],bigint[],bigint[],bigint[])',
     $$SELECT %1$s.memprof_store_insert(10, 'trojan store', 1, 'test', NULL, pg_catalog.now(), false, 0, NULL, false, 10000, '{1}', '{0}', '{0}', '{a}', '{TopMemoryContext}', '{NULL}', '{8192}', '{100}', '{1}', '{0}')$$),
    ('memprof_store_read(bigint)', 'SELECT %1$s.memprof_store_read(%2$s)'),
    ('memprof_store_drop(bigint,oid,boolean)', 'SELECT %1$s.memprof_store_drop(%4$s, 10, true)'),
    ('memprof_store_set_baseline(bigint,oid,boolean)', 'SELECT %1$s.memprof_store_set_baseline(%2$s, 10, true)'),
    ('memprof_store_prune(integer,interval,oid,boolean)', $$SELECT %1$s.memprof_store_prune(1000, '1 day'::interval, 10, true)$$),
    ('memprof_store_finish_run(bigint,oid,integer,timestamp with time zone)', 'SELECT %1$s.memprof_store_finish_run(%6$s, 10, 0, NULL)'),
    ('memprof_apply_privileges()', 'SELECT %1$s.memprof_apply_privileges()');

CREATE TEMP TABLE memprof_trojan_members AS
    SELECT p.oid::regprocedure::text AS sig
      FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
     WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass
       AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'memprof')
       AND d.deptype = 'e';

SELECT is((SELECT string_agg(sig, ', ' ORDER BY sig) FROM memprof_trojan_members m
            WHERE NOT EXISTS (SELECT 1 FROM memprof_trojan_calls c WHERE c.sig = m.sig)),
          NULL, 'every function and procedure of memprof has a call below');
SELECT cmp_ok((SELECT count(*) FROM memprof_trojan_members), '>=', 28::bigint,
              'the members are listed from pg_depend');

-- every call at top level (procedures commit), each under the hostile
-- search_path; output discarded; any error stops the file
\o /dev/null
SELECT 'SET search_path = memprof_trojan, public, pg_catalog',
       format(c.call, :'ext', :a, :b, :c, :d, :prepared_run_id, :other_pid),
       'RESET search_path'
  FROM memprof_trojan_calls c JOIN memprof_trojan_members m USING (sig)
 ORDER BY c.sig \gexec
\o

SELECT is((SELECT count(*) FROM memprof_trojan_calls c JOIN memprof_trojan_members m USING (sig)),
          (SELECT count(*) FROM memprof_trojan_members), 'every member was called');
SELECT is((SELECT string_agg(DISTINCT what, '; ') FROM memprof_trojan_log), NULL,
          'no trojan ran while memprof''s functions ran under the hostile search_path');
SELECT is((SELECT count(*) FROM memprof_snapshots WHERE label = 'trojan xact run'), 3::bigint,
          'the procedure ran to the end under the hostile search_path');

SELECT * FROM finish();

SELECT memprof_snapshot_prune(keep_last => 0) >= 0 AS pruned \gset
SET client_min_messages = warning;
DROP SCHEMA memprof_trojan CASCADE;
DROP TABLE public.memprof_trojan_log;
