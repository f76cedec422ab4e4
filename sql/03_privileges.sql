-- Privileges of the extension's views and tables, as core's
-- pg_backend_memory_contexts: superusers and pg_read_all_stats members read
-- them, other roles are refused.  Each member relation (listed from
-- pg_depend, so none is left out) is read by an unprivileged role, a member
-- of pg_read_all_stats and the superuser running the file; the table shows
-- the error each gets, or "reads".  (The functions and procedures: the role
-- matrix of test/pgtap/preloaded/02_privileges.sql.)
CREATE ROLE memprof_nobody LOGIN;
CREATE ROLE memprof_stats LOGIN IN ROLE pg_read_all_stats;

-- reads rel as role r ('none': the session's own role); LIMIT 0 passes the
-- privilege checks without reading any row
CREATE FUNCTION pg_temp.read_as(r text, rel regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text := 'reads';
BEGIN
    PERFORM set_config('role', r, true);
    BEGIN
        EXECUTE format('SELECT FROM %s LIMIT 0', rel);
    EXCEPTION WHEN insufficient_privilege THEN
        result := SQLERRM;
    END;
    PERFORM set_config('role', 'none', true);
    RETURN result;
END $$;

SELECT c.oid::regclass AS relation,
       pg_temp.read_as('memprof_nobody', c.oid) AS unprivileged,
       pg_temp.read_as('memprof_stats', c.oid) AS pg_read_all_stats,
       pg_temp.read_as('none', c.oid) AS superuser
  FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'memprof')
   AND d.deptype = 'e'
 ORDER BY c.relname;

-- what they read: a pg_read_all_stats member sees its own backend's contexts
SET ROLE memprof_stats;
SELECT count(*) > 10 AS can_read FROM memprof_contexts;
SELECT count(*) > 5 AS can_read_groups FROM memprof_context_groups;
RESET ROLE;

-- witness: core refuses the unprivileged role its own view too
SET ROLE memprof_nobody;
SELECT count(*) FROM pg_backend_memory_contexts;
RESET ROLE;

DROP ROLE memprof_nobody;
DROP ROLE memprof_stats;
