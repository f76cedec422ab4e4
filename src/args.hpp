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

}								/* namespace memprof */
