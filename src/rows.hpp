/*
 * rows.hpp: turning a Sample into SQL rows (the memprof_contexts column
 * set), shared by the own-backend view and the remote-fetch function.
 */
#pragma once

#include "leakcheck.hpp"
#include "sample.hpp"
#include "boundary.hpp"

namespace memprof {

/*
 * The one way memprof returns a set of rows: a materialized SRF of n rows,
 * each filled by fill(i, values, nulls) (nulls start false) in a memory
 * context reset after every row, so big results do not pile up per-row
 * allocations.  Runs everything inside PgCall; fill must not throw and must
 * hold no object with a destructor.
 */
constexpr int kMaxRowColumns = 32;

template <typename Fill>
void
EmitRows(FunctionCallInfo fcinfo, size_t n, Fill &&fill)
{
	PgCall([&]() {
		ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
		MemoryContext rowcxt;
		MemoryContext oldcxt;
		Datum		values[kMaxRowColumns];
		bool		nulls[kMaxRowColumns];

		InitMaterializedSRF(fcinfo, 0);
		if (rsinfo->setDesc->natts > kMaxRowColumns)
			elog(ERROR, "memprof: too many result columns (%d)", rsinfo->setDesc->natts);
		rowcxt = AllocSetContextCreate(CurrentMemoryContext, "memprof rows",
									   ALLOCSET_DEFAULT_SIZES);
		oldcxt = MemoryContextSwitchTo(rowcxt);
		for (size_t i = 0; i < n; i++)
		{
			CHECK_FOR_INTERRUPTS();
			MemoryContextReset(rowcxt);
			memset(nulls, 0, sizeof(nulls));
			fill(i, values, nulls);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		MemoryContextSwitchTo(oldcxt);
		MemoryContextDelete(rowcxt);
	});
}

/* Number of columns of a context row. */
constexpr int kContextRowColumns = 12;

/*
 * Emits one row per SampleRow into a materialized SRF result.  Calls
 * PostgreSQL only inside PgCall.
 */
void		EmitContextRows(FunctionCallInfo fcinfo, const Sample &sample);

/*
 * Rows of memprof_diff: one per path present in either sample, largest
 * used-bytes growth first, then a totals row (path NULL).
 */
void		EmitDiffRows(FunctionCallInfo fcinfo, const Sample &from, const Sample &to,
						 bool include_unchanged);

/* Rows of memprof_leak_check / memprof_leak_fit. */
void		EmitFitRows(FunctionCallInfo fcinfo, const GrowthFit &fit,
						const LeakThresholds &t);

}								/* namespace memprof */
