/*
 * args.hpp: reading the arguments of SQL-callable functions.  Each helper
 * throws memprof::Error with SQLSTATE 22004 for a NULL that is not allowed;
 * MEMPROF_FUNCTION turns it into the SQL error.
 */
#pragma once

#include "boundary.hpp"

namespace memprof {

inline int64
ArgInt64(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "%s must not be null", what);
	return PG_GETARG_INT64(n);
}

inline int32
ArgInt32(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "%s must not be null", what);
	return PG_GETARG_INT32(n);
}

/* A text argument as a palloc'd C string; nullptr when SQL NULL. */
inline const char *
ArgCString(FunctionCallInfo fcinfo, int n)
{
	const char *out = nullptr;

	if (PG_ARGISNULL(n))
		return nullptr;
	PgCall([&]() { out = text_to_cstring(PG_GETARG_TEXT_PP(n)); });
	return out;
}

/*
 * A bigint[] argument: 22004 when NULL or holding a NULL, 2202E when it has
 * more than one dimension.
 */
inline std::vector<int64>
ArgInt64Array(FunctionCallInfo fcinfo, int n, const char *what)
{
	std::vector<int64> out;

	if (PG_ARGISNULL(n))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "%s must not be null", what);
	PgCall([&]() {
		ArrayType  *a = PG_GETARG_ARRAYTYPE_P(n);
		Datum	   *elems;
		bool	   *nulls;
		int			count;

		if (ARR_NDIM(a) > 1)
			ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
							errmsg("%s must be a one-dimensional array", what)));
		deconstruct_array(a, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &count);
		for (int i = 0; i < count; i++)
		{
			if (nulls[i])
				ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
								errmsg("%s must not contain nulls", what)));
			out.push_back(DatumGetInt64(elems[i]));
		}
	});
	return out;
}

}								/* namespace memprof */
