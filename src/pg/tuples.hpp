/*
 * tuples.hpp: returning rows to PostgreSQL.
 *
 * Two emitters, both of which call PostgreSQL only inside PgCall:
 *   EmitRows   a materialized set of n rows;
 *   ReturnRow  the one row of a function declared with OUT parameters.
 * Each row is filled by a callback, fill(values, nulls) or
 * fill(i, values, nulls), with nulls starting false.  The callback runs in a
 * PostgreSQL frame: it may call PostgreSQL (palloc, CStringGetTextDatum and
 * the _Unsafe builders below), must not throw, and must hold no object
 * with a destructor.
 */
#pragma once

#include "boundary.hpp"

#include <initializer_list>
#include <string_view>

namespace memprof::pg {

constexpr int kMaxRowColumns = 32;

/*
 * A materialized SRF of n rows, each filled in a memory context reset after
 * every row, so big results do not pile up per-row allocations.  expected
 * is the number of result columns the caller fills (0: any up to
 * kMaxRowColumns); another count raises an error.
 */
template <typename Fill>
void
EmitRows(FunctionCallInfo fcinfo, size_t n, Fill &&fill, int expected = 0)
{
	PgCall([&]() {
		ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
		MemoryContext rowcxt;
		MemoryContext oldcxt;
		Datum		values[kMaxRowColumns];
		bool		nulls[kMaxRowColumns];

		InitMaterializedSRF(fcinfo, 0);
		if (rsinfo->setDesc->natts > kMaxRowColumns ||
			(expected != 0 && rsinfo->setDesc->natts != expected))
			elog(ERROR, "memprof: return type has %d columns, not %d",
				 rsinfo->setDesc->natts, expected != 0 ? expected : kMaxRowColumns);
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

/* The tuple descriptor of fcinfo's composite result; raises otherwise. */
TupleDesc	ResultRowDesc_Unsafe(FunctionCallInfo fcinfo);

/* The one row of a function with OUT parameters. */
template <typename Fill>
Datum
ReturnRow(FunctionCallInfo fcinfo, Fill &&fill)
{
	Datum		result = 0;

	PgCall([&]() {
		TupleDesc	desc = ResultRowDesc_Unsafe(fcinfo);
		Datum		values[kMaxRowColumns];
		bool		nulls[kMaxRowColumns];

		memset(nulls, 0, sizeof(nulls));
		fill(values, nulls);
		result = HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
	});
	return result;
}

/* Consecutive bigint columns: v[first], v[first + 1], ... */
inline void
Int64Columns(Datum *v, int first, std::initializer_list<int64> values)
{
	for (int64 x : values)
		v[first++] = Int64GetDatum(x);
}

/* A text datum of s (palloc'd in the current context). */
Datum		TextDatum_Unsafe(std::string_view s);

/*
 * A one-dimensional text[] of elems[0..n), lower bound 1, no nulls, built
 * with one palloc (the context rows' path column: cost matters there).
 */
Datum		TextArrayDatum_Unsafe(const std::string_view *elems, int n);

}								/* namespace memprof::pg */
