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
	ArrayType  *a = static_cast<ArrayType *>(palloc(size));
	char	   *p;

	memset(a, 0, ARR_OVERHEAD_NONULLS(1));
	SET_VARSIZE(a, size);
	a->ndim = 1;
	a->dataoffset = 0;
	a->elemtype = TEXTOID;
	ARR_DIMS(a)[0] = n;
	ARR_LBOUND(a)[0] = 1;
	p = ARR_DATA_PTR(a);
	for (int i = 0; i < n; i++)
	{
		Size		len = VARHDRSZ + elems[i].size();

		uint32		zero = 0;

		/* the alignment padding (at most 3 bytes, len >= 4) first, then the data */
		memcpy(p + INTALIGN(len) - sizeof(zero), &zero, sizeof(zero));
		SET_VARSIZE(p, len);
		memcpy(VARDATA(p), elems[i].data(), elems[i].size());
		p += INTALIGN(len);
	}
	return PointerGetDatum(a);
}

}								/* namespace memprof::pg */
