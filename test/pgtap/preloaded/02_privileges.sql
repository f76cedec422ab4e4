-- pgTAP: the role matrix of the extension's functions and procedures.  An
-- unprivileged role, a member of pg_read_all_stats and the superuser running
-- the file each call every function and procedure of memprof (listed from
-- pg_depend, so none is left out) with NULL arguments.  A call is "refused"
-- when it fails with core's "permission denied for function/procedure"
-- (42501), "fails" when it fails with another error of class 42 (the call
-- is wrong, or a function it calls is refused), and "runs" otherwise: it passed the privilege
-- check, whether it then completed or refused its NULL arguments; its
-- effects are rolled back.  The rule: memprof_fold and memprof_fold_pick
-- (formatting only) are PUBLIC; memprof_statements_reset and the functions
-- that signal another process are for superusers only, like core's
-- pg_log_backend_memory_contexts; the internal ones (COMMENT "internal:
-- ...": the snapshot store's statements, memprof_apply_privileges) are for
-- superusers only, granted to no one; every other one is for
-- pg_read_all_stats members.  (The views and tables, and the messages: sql/03_privileges.sql.)
BEGIN;
SELECT plan(4);

CREATE ROLE memprof_tap_nobody;
CREATE ROLE memprof_tap_stats IN ROLE pg_read_all_stats;

-- calls q as role r ('none': the session's own role)
CREATE FUNCTION pg_temp.call_as(r text, q text, kind text, name text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text := 'runs';
BEGIN
    PERFORM set_config('role', r, true);
    BEGIN
        EXECUTE q;
        RAISE EXCEPTION 'undo' USING ERRCODE = 'P0100';	-- roll back what the call did
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        IF SQLSTATE = '42501' AND SQLERRM = format('permission denied for %s %s', kind, name) THEN
            result := 'refused';
        ELSIF SQLSTATE LIKE '42%' THEN
            result := format('fails (%s: %s)', SQLSTATE, SQLERRM);
        END IF;
    END;
    PERFORM set_config('role', 'none', true);
    RETURN result;
END $$;

CREATE TEMP TABLE matrix AS
    SELECT p.oid::regprocedure::text AS sig,
           pg_temp.call_as(r.name, c.q, c.kind, p.proname) AS outcome, r.name AS role
      FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid,
           LATERAL (SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END AS kind,
                           format(CASE p.prokind WHEN 'p' THEN 'CALL %s(%s)' ELSE 'SELECT * FROM %s(%s)' END,
                                  quote_ident(p.proname),
                                  (SELECT string_agg('NULL::' || format_type(t, NULL), ', ' ORDER BY i)
                                     FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, i))) AS q) c,
           unnest(ARRAY['memprof_tap_nobody', 'memprof_tap_stats', 'none']) AS r(name)
     WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass
       AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'memprof')
       AND d.deptype = 'e';

SELECT cmp_ok((SELECT count(DISTINCT sig) FROM matrix), '>=', 30::bigint,
              'every function and procedure of memprof, from pg_depend, was called by each role');
-- each role's exceptions to its usual outcome, with their outcomes
SELECT is(ARRAY(SELECT sig || ' ' || outcome FROM matrix
                 WHERE role = 'memprof_tap_nobody' AND outcome <> 'refused' ORDER BY sig),
          ARRAY['memprof_fold(text[],bigint) runs', 'memprof_fold_pick(text,bigint,bigint) runs'],
          'unprivileged role: refused every function and procedure but the two formatting helpers');
SELECT is(ARRAY(SELECT sig || ' ' || outcome FROM matrix
                 WHERE role = 'memprof_tap_stats' AND outcome <> 'runs' ORDER BY 1),
          ARRAY(SELECT x FROM (SELECT unnest(ARRAY[
                    'memprof_backend_contexts(integer,integer) refused', 'memprof_folded_pid(integer,text) refused',
                    'memprof_snapshot(text,integer) refused', 'memprof_statements_reset() refused']) AS x
                 UNION ALL
                SELECT sig || ' refused' FROM matrix
                 WHERE role = 'none' AND obj_description(sig::regprocedure, 'pg_proc') LIKE 'internal:%') i
                 ORDER BY 1),
          'pg_read_all_stats member: runs all but the reset, the functions that signal another process '
          'and the internal ones (the snapshot store''s statements, the privilege rule)');
SELECT is(ARRAY(SELECT sig || ' ' || outcome FROM matrix WHERE role = 'none' AND outcome <> 'runs' ORDER BY sig),
          '{}'::text[], 'superuser: runs every function and procedure');

SELECT * FROM finish();
ROLLBACK;
