/*
 * spi.cpp: SPI sessions (see spi.hpp).
 */
#include "spi.hpp"

namespace memprof::pg {

StoreRef
StoreOf(FunctionCallInfo fcinfo)
{
	StoreRef	ref{nullptr, InvalidOid};

	PgCall([&]() {
		Oid			fn = fcinfo->flinfo != nullptr ? fcinfo->flinfo->fn_oid : InvalidOid;
		HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
		Oid			nsp;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "memprof: cache lookup failed for function %u", fn);
		nsp = ((Form_pg_proc) GETSTRUCT(tup))->pronamespace;
		ref.owner = ((Form_pg_proc) GETSTRUCT(tup))->proowner;
		ReleaseSysCache(tup);
		ref.schema = quote_identifier(get_namespace_name(nsp));
	});
	return ref;
}

StoreSession
OpenStore_Unsafe(const StoreRef &ref)
{
	StoreSession x;

	x.schema = ref.schema;
	x.caller = GetUserId();
	x.caller_super = superuser();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "memprof: SPI_connect failed");
	GetUserIdAndSecContext(&x.save_user, &x.save_sec);
	SetUserIdAndSecContext(ref.owner, x.save_sec | SECURITY_LOCAL_USERID_CHANGE);
	return x;
}

void
CloseStore_Unsafe(const StoreSession &x)
{
	SetUserIdAndSecContext(x.save_user, x.save_sec);
	SPI_finish();
}

uint64
StoreRows_Unsafe(const StoreSession &x, const char *fn, int nargs, Oid *types, Datum *vals,
				 const char *nulls, bool read_only)
{
	StringInfoData sql;
	int			rc;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT * FROM %s.%s(", x.schema, fn);
	for (int i = 1; i <= nargs; i++)
		appendStringInfo(&sql, i > 1 ? ", $%d" : "$%d", i);
	appendStringInfoChar(&sql, ')');
	rc = SPI_execute_with_args(sql.data, nargs, types, vals, nulls, read_only, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "memprof: %s failed (%d)", fn, rc);
	return SPI_processed;
}

Datum
StoreCall_Unsafe(const StoreSession &x, const char *fn, int nargs, Oid *types, Datum *vals,
				 const char *nulls, bool *isnull)
{
	if (StoreRows_Unsafe(x, fn, nargs, types, vals, nulls, false) != 1)
		elog(ERROR, "memprof: %s returned no row", fn);
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
}

std::string
InstalledVersion()
{
	char		version[64] = "?";

	PgCall([&]() {
		int			rc;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "memprof: SPI_connect failed");
		rc = SPI_execute("SELECT extversion FROM pg_catalog.pg_extension "
						 "WHERE extname OPERATOR(pg_catalog.=) 'memprof'", true, 1);
		if (rc == SPI_OK_SELECT && SPI_processed == 1)
		{
			char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

			if (v != nullptr)
				strlcpy(version, v, sizeof(version));
		}
		SPI_finish();
	});
	return version;
}

bool
IntervalIsNegative(const Interval *iv)
{
	Interval	zero;
	int			cmp = 0;

	memset(&zero, 0, sizeof(zero));
	PgCall([&]() {
		cmp = DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(iv),
												IntervalPGetDatum(&zero)));
	});
	return cmp < 0;
}

const char *
IntervalText(const Interval *iv)
{
	const char *shown = nullptr;

	PgCall([&]() { shown = DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(iv))); });
	return shown;
}

namespace {

struct RunContext
{
	StatementRunner::Describe describe;
	const void *arg;
};

void
RunErrorContext(void *arg)
{
	const RunContext *rc = static_cast<const RunContext *>(arg);
	char		line[256];

	rc->describe(rc->arg, line, sizeof(line));
	errcontext("%s", line);
}

}								/* namespace */

void
StatementRunner::Open()
{
	PgCall([&]() {
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "memprof: SPI_connect failed");
		guc_level_ = NewGUCNestLevel();
	});
}

void
StatementRunner::Run(const char *sql, Describe describe, const void *arg)
{
	PgCall([&]() {
		RunContext	ctx{describe, arg};
		ErrorContextCallback cb;
		int			rc;

		cb.callback = RunErrorContext;
		cb.arg = &ctx;
		cb.previous = error_context_stack;
		error_context_stack = &cb;

		CHECK_FOR_INTERRUPTS();
		rc = SPI_execute(sql, false, 0);
		if (rc < 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("memprof_leak_check cannot run this statement: %s",
							SPI_result_code_string(rc)),
					 errhint("Transaction control and COPY to the client are not allowed; "
							 "use memprof_leak_check_xact to check across transactions.")));
		SPI_freetuptable(SPI_tuptable);
		error_context_stack = cb.previous;
	});
}

std::vector<std::string>
StatementRunner::CursorNames(bool skip_holdable)
{
	std::vector<std::string> out;

	PgCall([&]() {
		int			rc = SPI_execute(skip_holdable
									 ? "SELECT name FROM pg_catalog.pg_cursor() WHERE NOT is_holdable"
									 : "SELECT name FROM pg_catalog.pg_cursor()", true, 0);

		if (rc != SPI_OK_SELECT)
			elog(ERROR, "memprof: could not list open cursors (%d)", rc);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

			if (name != nullptr)
			{
				out.emplace_back(name);
				pfree(name);
			}
		}
		SPI_freetuptable(SPI_tuptable);
	});
	return out;
}

void
StatementRunner::CloseCursor(const std::string &name)
{
	PgCall([&]() {
		Portal		portal = SPI_cursor_find(name.c_str());

		if (portal != nullptr)
			SPI_cursor_close(portal);
	});
}

void
StatementRunner::Close()
{
	PgCall([&]() {
		AtEOXact_GUC(false, guc_level_);
		SPI_finish();
	});
}

}								/* namespace memprof::pg */
