-- The pgTAP databases' setup: test/run's run_tap runs this once in each new
-- database, before the files of a test/pgtap/<configuration> folder (to run
-- a file by hand, run this first in its database).  The extensions the files
-- use, and the helpers they share.
CREATE EXTENSION pgtap;
CREATE EXTENSION memprof;
CREATE EXTENSION memprof_test;
CREATE EXTENSION dblink;

-- a dblink connection string to this server, as postgres, to database db
-- (this one by default): the files open other sessions to have real,
-- separate backends as targets
CREATE FUNCTION tap_connstr(db text DEFAULT current_database()) RETURNS text LANGUAGE sql AS $$
    SELECT format('dbname=%s port=%s host=%s user=postgres', db,
                  current_setting('port'), current_setting('unix_socket_directories'))
$$;

-- opens the dblink connection name to database db (this one by default)
CREATE FUNCTION tap_connect(name text, db text DEFAULT current_database()) RETURNS text LANGUAGE sql AS $$
    SELECT dblink_connect(name, tap_connstr(db))
$$;

-- the SQLSTATE of a statement ('no error' if none), cancels included
-- (throws_ok cannot catch 57014)
CREATE FUNCTION tap_sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS OR query_canceled THEN
    RETURN SQLSTATE;
END $$;
