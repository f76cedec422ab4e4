-- Folded stacks for flame graphs: a diff, which needs the test-only
-- module, and the messages of bad input.  (The form of the lines, ';' in a
-- name, a snapshot's lines adding up to its bytes: 08_essentials, which runs
-- without the test-only module.)

SELECT memprof_snapshot('folded') AS fid \gset

-- A diff folds to the paths that grew.
SELECT count(*) FROM (SELECT memprof_test_leak(4096) FROM generate_series(1, 20)) x;
SELECT memprof_snapshot('folded 2') AS fid2 \gset
SELECT regexp_replace(l, ' [0-9]+$', '') AS stack,
       substring(l FROM ' ([0-9]+)$')::bigint BETWEEN 20 * 4096 AND 20 * 4096 + 8192 AS grew_by_20x4k
  FROM memprof_folded_diff(:fid, :fid2) l WHERE l LIKE '%memprof_test leaks%';
SELECT count(*) AS negative_lines FROM memprof_folded_diff(:fid, :fid2) l WHERE l ~ ' -';

-- Bad input: the messages (their SQLSTATEs: 08_essentials).
SELECT * FROM memprof_folded('bogus');
SELECT * FROM memprof_folded(NULL::text);
SELECT * FROM memprof_folded(-1);
SELECT memprof_test_leak_free();
SELECT memprof_snapshot_prune(keep_last => 0);
