/*
 * entry.cpp: the thin entry layer.  SQL-callable functions and module
 * initialisation; each function only adapts arguments and results and calls
 * the consumer that does the work.
 */
#include "boundary.hpp"
#include "rows.hpp"
#include "sample.hpp"

extern "C" {
PG_MODULE_MAGIC;
void		_PG_init(void);
}

/*---- memprof_contexts ----*/

/*
 * memprof_contexts(): every memory context of the calling backend.
 * The sample is taken completely before any row is built, so the rows
 * describe one instant and the result's own memory is not in it.
 */
MEMPROF_FUNCTION(memprof_contexts_fn)
{
	memprof::ScratchSample scratch;

	memprof::TakeSample(TopMemoryContext, scratch.get());
	memprof::EmitContextRows(fcinfo, scratch.get());
	return (Datum) 0;
}

/*---- module load ----*/

void
_PG_init(void)
{
}
