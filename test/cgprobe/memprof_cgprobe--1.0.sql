\echo Use "CREATE EXTENSION memprof_cgprobe" to load this file. \quit
CREATE FUNCTION cgprobe_start() RETURNS boolean AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
CREATE FUNCTION cgprobe_stop(label text) RETURNS boolean AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
