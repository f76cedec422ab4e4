-- The C++/PostgreSQL boundary: a C++ exception becomes an ordinary ERROR
-- with a SQLSTATE, and the session keeps working.
\set VERBOSITY default

CREATE FUNCTION pg_temp.sqlstate_of(kind text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM memprof_test_throw(kind);
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;

SELECT k, pg_temp.sqlstate_of(k)
  FROM unnest(ARRAY['runtime_error', 'bad_alloc', 'int', 'memprof_error',
                    'pg_error', 'none', 'unknown']) AS k;

-- The same, uncaught, as a client sees it.
SELECT memprof_test_throw('runtime_error');
SELECT memprof_test_throw('memprof_error');
SELECT memprof_test_throw('pg_error');
-- the session goes on
SELECT 1 AS still_here;

-- A PostgreSQL error raised inside PgCall unwinds the C++ frames: each
-- call above ran its destructor exactly once (10 calls since load, none
-- skipped, whether they returned, threw C++ or raised PostgreSQL errors).
SELECT memprof_test_destructors() AS destructors_run;

-- An error in a transaction leaves it aborted in the ordinary way.
BEGIN;
SELECT memprof_test_throw('int');
SELECT 1;
ROLLBACK;
SELECT count(*) > 0 AS works_after_rollback FROM memprof_contexts;
