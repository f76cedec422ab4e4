/*
 * boundary.cpp: turning C++ exceptions into PostgreSQL errors.
 */
#include "boundary.hpp"

namespace memprof {

/* printf-style into a fixed buffer (PostgreSQL's vsnprintf: %m too) */
#define FORMAT_INTO(buf, fmt) \
	do { \
		va_list		ap; \
		va_start(ap, fmt); \
		vsnprintf(buf, sizeof(buf), fmt, ap); \
		va_end(ap); \
	} while (0)

Error::Error(int code, const char *fmt, ...) : sqlstate(code)
{
	detail[0] = '\0';
	hint[0] = '\0';
	FORMAT_INTO(message, fmt);
}

Error &
Error::Detail(const char *fmt, ...)
{
	FORMAT_INTO(detail, fmt);
	return *this;
}

Error &
Error::Hint(const char *fmt, ...)
{
	FORMAT_INTO(hint, fmt);
	return *this;
}

void
CaptureCurrentException(CaughtError &out) noexcept
{
	out.pg = nullptr;
	out.sqlstate = ERRCODE_INTERNAL_ERROR;
	out.message[0] = out.detail[0] = out.hint[0] = '\0';
	try
	{
		/* only ever called from inside a catch block */
		// cppcheck-suppress rethrowNoCurrentException
		throw;
	}
	catch (const PgError &e)
	{
		out.pg = e.edata;
	}
	catch (const Error &e)
	{
		out.sqlstate = e.sqlstate;
		strlcpy(out.message, e.message, sizeof(out.message));
		strlcpy(out.detail, e.detail, sizeof(out.detail));
		strlcpy(out.hint, e.hint, sizeof(out.hint));
	}
	catch (const std::bad_alloc &)
	{
		out.sqlstate = ERRCODE_OUT_OF_MEMORY;
		strlcpy(out.message, "out of memory", sizeof(out.message));
		strlcpy(out.detail, "memprof could not allocate working memory.",
				sizeof(out.detail));
	}
	catch (const std::exception &e)
	{
		strlcpy(out.message, "unexpected C++ exception in memprof",
				sizeof(out.message));
		strlcpy(out.detail, e.what(), sizeof(out.detail));
	}
	catch (...)
	{
		strlcpy(out.message, "unexpected C++ exception in memprof",
				sizeof(out.message));
		strlcpy(out.detail, "The exception is not derived from std::exception.",
				sizeof(out.detail));
	}
}

void
RaiseCaught(const CaughtError &err, int elevel)
{
	if (elevel == 0)
	{
		/* swallowed: reporting would recurse (emit_log_hook) */
		if (err.pg != nullptr)
			FreeErrorData(err.pg);
		return;
	}
	if (err.pg != nullptr)
	{
		if (elevel >= ERROR)
			ReThrowError(err.pg);
		/* below ERROR: report the PostgreSQL error's text at elevel */
		ereport(elevel,
				(errcode(err.pg->sqlerrcode),
				 errmsg_internal("memprof: %s", err.pg->message ? err.pg->message : "error"),
				 err.pg->detail ? errdetail_internal("%s", err.pg->detail) : 0));
		FreeErrorData(err.pg);
		return;
	}
	ereport(elevel,
			(errcode(err.sqlstate),
			 errmsg_internal("%s", err.message),
			 err.detail[0] ? errdetail_internal("%s", err.detail) : 0,
			 err.hint[0] ? errhint("%s", err.hint) : 0));
}

}								/* namespace memprof */
