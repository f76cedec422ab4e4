/*
 * memprof_cgprobe: cgprobe_start() zeroes callgrind's counters and starts
 * instrumentation in the calling backend; cgprobe_stop(label) dumps them
 * under label and stops.  Both return whether the backend runs under
 * valgrind.  Everything between the two calls in one session is counted,
 * and nothing else: not the postmaster, not other backends, not start-up.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include <valgrind/callgrind.h>
#include <valgrind/valgrind.h>

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(cgprobe_start);
PG_FUNCTION_INFO_V1(cgprobe_stop);

Datum
cgprobe_start(PG_FUNCTION_ARGS)
{
	CALLGRIND_START_INSTRUMENTATION;
	CALLGRIND_ZERO_STATS;
	PG_RETURN_BOOL(RUNNING_ON_VALGRIND != 0);
}

Datum
cgprobe_stop(PG_FUNCTION_ARGS)
{
	char	   *label = text_to_cstring(PG_GETARG_TEXT_PP(0));

	CALLGRIND_DUMP_STATS_AT(label);
	CALLGRIND_STOP_INSTRUMENTATION;
	PG_RETURN_BOOL(RUNNING_ON_VALGRIND != 0);
}
