-- The isolation specs' database: test/isolation.sh creates it, runs
-- test/pgtap/setup.sql in it (the extensions, tap_connstr()) and then this,
-- the table and helpers every spec uses.  Each spec empties pids first.

-- the processes of a spec, by name ('target', 'req', ...)
CREATE TABLE pids (name text PRIMARY KEY, pid int);

-- waits until process who runs a query LIKE pattern (and, if waiting, waits
-- in memprof: wait event type Extension)
CREATE FUNCTION wait_for(who text, pattern text, waiting bool) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..3000 LOOP
    PERFORM pg_stat_clear_snapshot();
    PERFORM 1 FROM pg_stat_activity a JOIN pids p ON a.pid = p.pid
      WHERE p.name = who AND a.state = 'active' AND a.query LIKE pattern
        AND (NOT waiting OR a.wait_event_type = 'Extension');
    IF FOUND THEN RETURN; END IF;
    PERFORM pg_sleep(0.01);
  END LOOP;
  RAISE EXCEPTION '% never ran %', who, pattern;
END $$;

-- fetches the busy target's tree: 'whole tree' or the SQLSTATE
CREATE FUNCTION fetch_tree(timeout_ms int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE good bool;
BEGIN
  PERFORM wait_for('target', 'SELECT memprof_test_busy%', false);
  PERFORM pg_sleep(0.05);
  SELECT count(*) FILTER (WHERE depth = 0) = 1 AND count(*) > 10 INTO good
    FROM memprof_backend_contexts((SELECT pid FROM pids WHERE name = 'target'), timeout_ms);
  RETURN CASE WHEN good THEN 'whole tree' ELSE 'wrong tree' END;
EXCEPTION WHEN OTHERS OR query_canceled THEN
  RETURN SQLSTATE;
END $$;

-- reports of the target that reached the server log
CREATE FUNCTION logged_reports() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM regexp_matches(
      pg_read_file(current_setting('data_directory') || '/../server.log'),
      'logging memory contexts of PID ' || (SELECT pid FROM pids WHERE name = 'target') || '\M', 'g') $$;

-- fetch buffers in use
CREATE FUNCTION busy_buffers() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM memprof_fetch_buffers() WHERE state <> 'free' $$;
