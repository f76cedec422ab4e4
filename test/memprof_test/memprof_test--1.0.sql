\echo Use "CREATE EXTENSION memprof_test" to load this file. \quit

CREATE FUNCTION memprof_test_throw(kind text) RETURNS integer
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
CREATE FUNCTION memprof_test_destructors() RETURNS bigint
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
CREATE FUNCTION memprof_test_compare_core(
    memprof_fn regprocedure DEFAULT 'memprof_contexts()'::regprocedure,
    OUT core_contexts bigint, OUT memprof_contexts bigint,
    OUT core_total_bytes bigint, OUT memprof_total_bytes bigint,
    OUT core_used_bytes bigint, OUT memprof_used_bytes bigint,
    OUT names_differing integer)
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
CREATE FUNCTION memprof_test_leak(bytes integer, scope text DEFAULT 'session') RETURNS bigint
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
CREATE FUNCTION memprof_test_leak_free() RETURNS boolean
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
CREATE FUNCTION memprof_test_burst(bytes bigint) RETURNS bigint
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
CREATE FUNCTION memprof_test_child_burst(bytes bigint, chunk bigint DEFAULT 1048576) RETURNS bigint
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
CREATE FUNCTION memprof_test_hold(bytes bigint, seconds float8) RETURNS bigint
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
CREATE FUNCTION memprof_test_tree(n integer, shape text) RETURNS integer
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
CREATE FUNCTION memprof_test_tree_drop() RETURNS boolean
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
CREATE FUNCTION memprof_test_busy(ms integer) RETURNS integer
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
CREATE FUNCTION memprof_test_report_lines_seen() RETURNS bigint
AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
