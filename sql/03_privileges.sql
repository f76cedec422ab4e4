-- Privileges match core's pg_backend_memory_contexts: superuser and
-- pg_read_all_stats members only.
CREATE ROLE memprof_nobody LOGIN;
CREATE ROLE memprof_stats LOGIN IN ROLE pg_read_all_stats;

SET ROLE memprof_nobody;
SELECT count(*) FROM memprof_contexts;
SELECT count(*) FROM memprof_context_groups;
SELECT count(*) FROM memprof_contexts();
-- core refuses too
SELECT count(*) FROM pg_backend_memory_contexts;
RESET ROLE;

SET ROLE memprof_stats;
SELECT count(*) > 10 AS can_read FROM memprof_contexts;
SELECT count(*) > 5 AS can_read_groups FROM memprof_context_groups;
RESET ROLE;

DROP ROLE memprof_nobody;
DROP ROLE memprof_stats;
