-- Defects that must stay fixed: retention arguments, leak-check runs,
-- cursors and settings in memprof_leak_check, unaccounted_bytes.

SELECT memprof_snapshot_prune(keep_last => 0) >= 0 AS emptied;
SELECT count(*) FROM (SELECT memprof_snapshot('keep ' || g) FROM generate_series(1, 3) g) x;

-- A negative older_than would select every snapshot (taken_at is never
-- later than now() + 1 day): refused like a negative keep_last, and
-- nothing is deleted.
\set VERBOSITY sqlstate
SELECT memprof_snapshot_prune(NULL, '-1 day');
SELECT memprof_snapshot_prune(older_than => '-1 second');
SELECT memprof_snapshot_prune(keep_last => 5, older_than => '-1 mon');
SELECT memprof_snapshot_prune(keep_last => -1);
\set VERBOSITY default
SELECT memprof_snapshot_prune(NULL, '-1 day');
SELECT count(*) AS still_there FROM memprof_snapshots WHERE label LIKE 'keep %';
-- zero and positive intervals are fine
SELECT memprof_snapshot_prune(NULL, '1 day') AS none_older_than_a_day;
SELECT count(*) AS still_there FROM memprof_snapshots WHERE label LIKE 'keep %';

-- An unknown label: an error that names it (not a complaint about a NULL
-- array), 42704.
SELECT * FROM memprof_leak_fit_label('no such run');
SELECT * FROM memprof_leak_fit_label($$it's not there$$);
SELECT * FROM memprof_leak_fit_label(NULL);
SELECT * FROM memprof_leak_fit_run(NULL);
SELECT * FROM memprof_leak_fit_run(-7);

-- Two runs with one label are two runs: each has its own id and its own
-- snapshots, the label fits the newest run only, and a failing run
-- deletes its own snapshots and no other.
CALL memprof_leak_check_xact('SELECT 1', 4, 1, 'same label') \gset first_
CALL memprof_leak_check_xact('SELECT memprof_test_leak(4096)', 6, 1, 'same label') \gset second_
SELECT :second_run_id > :first_run_id AS two_ids,
       (SELECT count(*) FROM memprof_snapshots WHERE run_id = :first_run_id) AS first_snapshots,
       (SELECT count(*) FROM memprof_snapshots WHERE run_id = :second_run_id) AS second_snapshots,
       (SELECT count(*) FROM memprof_snapshots WHERE label = 'same label') AS labelled;
-- the label's fit is the second run's (its leak), not a mix of both
SELECT path_names, verdict FROM memprof_leak_fit_label('same label') WHERE verdict = 'leak';
SELECT count(*) AS first_run_leaks FROM memprof_leak_fit_run(:first_run_id) WHERE verdict = 'leak';
CREATE TABLE hd_seen (i int);
CALL memprof_leak_check_xact('INSERT INTO hd_seen VALUES (1); SELECT 1 / (3 - count(*)) FROM hd_seen', 6, 0, 'same label');
SELECT count(*) AS labelled_after_failure FROM memprof_snapshots WHERE label = 'same label';
-- a run id that is not the caller's own run in this backend is refused
SELECT memprof_leak_xact_snapshot('x', 123456789);
SELECT memprof_leak_xact_snapshot('x', -1);
SELECT memprof_leak_xact_snapshot('x', 0);
SELECT memprof_leak_test_free FROM (SELECT memprof_test_leak_free() AS memprof_leak_test_free) x;

-- A DO block that opens a cursor and leaves it open: the portal (and the
-- cached plan and resource owner it holds) goes at the end of the
-- iteration as at commit, so nothing reads as a leak.
SELECT count(*) FILTER (WHERE verdict = 'leak') AS leaks
  FROM memprof_leak_check($q$DO $d$ DECLARE c refcursor; BEGIN OPEN c FOR SELECT 1; END $d$$q$, 100, 10);
-- the same with DECLARE (without CLOSE) inside the checked statement
BEGIN;
SELECT count(*) FILTER (WHERE verdict = 'leak') AS leaks
  FROM memprof_leak_check('DECLARE hd_cur CURSOR FOR SELECT 1', 50, 5);
-- a cursor open before the check stays open
DECLARE hd_before CURSOR FOR SELECT g FROM generate_series(1, 3) g;
SELECT count(*) FROM memprof_leak_check('SELECT 1', 5, 0) WHERE path_names IS NULL;
FETCH ALL FROM hd_before;
COMMIT;

-- Settings the checked statement changes are undone when the check ends.
SHOW work_mem;
SHOW memprof.leak_min_slope;
SELECT count(*) FROM memprof_leak_check('SET work_mem = ''77MB''', 5, 0) WHERE path_names IS NULL;
SELECT count(*) FROM memprof_leak_check($$SELECT set_config('memprof.leak_min_slope', '99', false)$$, 5, 0) WHERE path_names IS NULL;
SELECT count(*) FROM memprof_leak_check('SET LOCAL work_mem = ''78MB''', 5, 0) WHERE path_names IS NULL;
SHOW work_mem;
SHOW memprof.leak_min_slope;
-- and a SET made before the check is kept
SET work_mem = '5MB';
SELECT count(*) FROM memprof_leak_check('SELECT 1', 5, 0) WHERE path_names IS NULL;
SHOW work_mem;
RESET work_mem;

-- unaccounted_bytes (malloc'd bytes in use minus the contexts' total, at
-- the same instant in the process) is never negative: for every process
-- that has published, and for this one right after a publication.
SELECT count(*) > 0 AS fetched FROM memprof_backend_contexts(pg_backend_pid());
SELECT count(*) FILTER (WHERE unaccounted_bytes < 0) AS negative,
       count(*) FILTER (WHERE unaccounted_bytes IS NOT NULL) > 0 AS some_known,
       count(*) FILTER (WHERE unaccounted_bytes IS NULL AND contexts IS NOT NULL) AS unknown_but_published
  FROM memprof_backends;
SELECT unaccounted_bytes >= 0 AS own_not_negative FROM memprof_backends WHERE pid = pg_backend_pid();

SELECT memprof_snapshot_prune(keep_last => 0) >= 0 AS emptied;
DROP TABLE hd_seen;
