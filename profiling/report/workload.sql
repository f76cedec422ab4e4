-- profiling/report/workload.sql: the little built-in workload of
-- profiling/report.sh's throwaway cluster, so that the drawn tree has
-- something in it: many relations in the relcache, cached plans of a
-- prepared statement and of a PL/pgSQL function, a held cursor (a portal
-- that outlives its transaction), a temporary table (local buffers), a sort,
-- a hash aggregate and a hash join.  It takes a snapshot before and after
-- (the report shows their diff), writes "pid before_id after_id" into
-- :ready_file, then sleeps in pg_sleep so the session stays alive (and
-- busy) while the report fetches its tree; report.sh ends it.
--
-- psql -v ready_file=FILE -f workload.sql (memprof created beforehand)
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
\o /dev/null
SELECT memprof_snapshot('report.sh: before workload') AS before_id \gset

CREATE TABLE report_t (id int PRIMARY KEY, g int, pad text);
INSERT INTO report_t SELECT i, i % 97, md5(i::text) FROM generate_series(1, 20000) i;
CREATE INDEX ON report_t (g);
ANALYZE report_t;

-- 150 more tables, each with a primary key, each touched once after they
-- are committed: relcache and catcache entries under CacheMemoryContext
DO $$
BEGIN
    FOR i IN 1 .. 150 LOOP
        EXECUTE format('CREATE TABLE report_p%s (id int PRIMARY KEY, v text)', i);
    END LOOP;
    COMMIT;
    FOR i IN 1 .. 150 LOOP
        EXECUTE format('SELECT count(*) FROM report_p%s WHERE id = 1', i);
    END LOOP;
END $$;

CREATE FUNCTION report_f(n int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    s bigint;
BEGIN
    SELECT sum(g) INTO s FROM report_t WHERE id <= n;
    RETURN s;
END $$;
SELECT report_f(1000), report_f(5000);

PREPARE report_q(int) AS
    SELECT g, count(*), string_agg(pad, ',' ORDER BY pad) FROM report_t WHERE id < $1 GROUP BY g ORDER BY 2 DESC;
EXECUTE report_q(5000);
EXECUTE report_q(20000);

SELECT a.g, count(*) FROM report_t a JOIN report_t b ON a.id = b.id + 1 GROUP BY a.g ORDER BY 1;

CREATE TEMP TABLE report_tmp AS SELECT * FROM report_t;
SELECT count(*) FROM report_tmp WHERE pad LIKE 'a%';

BEGIN;
DECLARE report_c CURSOR WITH HOLD FOR SELECT * FROM report_t ORDER BY pad;
FETCH 10 FROM report_c;
COMMIT;

SELECT memprof_snapshot('report.sh: after workload') AS after_id \gset
\o :ready_file
\pset format unaligned
\pset tuples_only on
\pset fieldsep ' '
SELECT pg_backend_pid(), :before_id, :after_id;
\o
-- stay alive until report.sh is done with this backend
SELECT pg_sleep(3600);
