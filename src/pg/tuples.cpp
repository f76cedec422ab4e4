/*
 * tuples.cpp: datum builders for the row emitters (see tuples.hpp).
 */
#include "tuples.hpp"

namespace memprof::pg {

TupleDesc
ResultRowDesc_Unsafe(FunctionCallInfo fcinfo)
{
	TupleDesc	desc;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (desc->natts > kMaxRowColumns)
		elog(ERROR, "memprof: too many result columns (%d)", desc->natts);
	return BlessTupleDesc(desc);
}

Datum
TextDatum_Unsafe(std::string_view s)
{
	return PointerGetDatum(cstring_to_text_with_len(s.data(), static_cast<int>(s.size())));
}

Datum
TextArrayDatum_Unsafe(const std::string_view *elems, int n)
{
	Size		bytes = 0;

	for (int i = 0; i < n; i++)
		bytes += INTALIGN(VARHDRSZ + elems[i].size());

	Size		size = ARR_OVERHEAD_NONULLS(1) + bytes;
	ArrayType  *a = static_cast<ArrayType *>(palloc0(size));
	char	   *p;

	SET_VARSIZE(a, size);
	a->ndim = 1;
	a->dataoffset = 0;
	a->elemtype = TEXTOID;
	ARR_DIMS(a)[0] = n;
	ARR_LBOUND(a)[0] = 1;
	p = ARR_DATA_PTR(a);
	for (int i = 0; i < n; i++)
	{
		SET_VARSIZE(p, VARHDRSZ + elems[i].size());
		memcpy(VARDATA(p), elems[i].data(), elems[i].size());
		p += INTALIGN(VARHDRSZ + elems[i].size());	/* padding stays zero (palloc0) */
	}
	return PointerGetDatum(a);
}

}								/* namespace memprof::pg */
