/*
 * boundary.hpp: the C++/PostgreSQL boundary, in one place.
 *
 * The two rules (as in pg_duckdb's CONTRIBUTING.md):
 *   1. No C++ exception ever reaches PostgreSQL.  Every SQL-callable function
 *      is declared with MEMPROF_FUNCTION, every hook or callback body that
 *      can throw runs through InvokeHook; both catch everything, leave the
 *      catch block, and only then raise a PostgreSQL error.  (The executor
 *      and utility hooks in statements.cpp run no code that throws: counters,
 *      a static frame, the statement table's spinlock path; they call the
 *      next hook directly.)
 *   2. No PostgreSQL error (a longjmp) jumps over a live C++ destructor.  C++
 *      code that holds RAII objects calls PostgreSQL only inside PgCall(),
 *      which catches the longjmp with PG_TRY, copies the error, and throws it
 *      as a PgError; the boundary rethrows the original error unchanged
 *      (SQLSTATE, detail, hint, context).
 *
 * Errors that memprof itself raises from C++ are thrown as memprof::Error
 * with a SQLSTATE; at the boundary they become ereport(ERROR).
 *
 * Code *inside* a PgCall lambda and code in a frame without destructors may
 * call PostgreSQL (and ereport) directly; it must not throw C++ exceptions
 * (PgCall catches them anyway and rethrows them after restoring PostgreSQL's
 * exception stack).
 */
#pragma once

#include "pg.hpp"

#include <cstdarg>

namespace memprof {

/*
 * The boundary is also used by other modules linked against memprof.so (the
 * test module): PGDLLEXPORT keeps these names visible where PGXS builds
 * with -fvisibility=hidden.
 */

/* A PostgreSQL error caught by PgCall; edata lives in the caller's context. */
class PGDLLEXPORT PgError : public std::exception
{
public:
	explicit PgError(ErrorData *e) : edata(e) {}
	const char *what() const noexcept override
	{
		return (edata && edata->message) ? edata->message : "PostgreSQL error";
	}
	ErrorData *edata;
};

/* An error memprof raises from C++: a SQLSTATE and fixed-size texts. */
class PGDLLEXPORT Error : public std::exception
{
public:
	Error(int sqlstate, const char *fmt, ...) pg_attribute_printf(3, 4);
	Error &Detail(const char *fmt, ...) pg_attribute_printf(2, 3);
	Error &Hint(const char *fmt, ...) pg_attribute_printf(2, 3);
	const char *what() const noexcept override { return message; }

	int sqlstate;
	char message[512];
	char detail[512];
	char hint[256];
};

/*
 * Run fn (code that calls PostgreSQL) so that a PostgreSQL error becomes a
 * PgError thrown from here, after PostgreSQL's exception stack has been
 * restored.  fn's own frame must hold no destructors: they would be
 * skipped by the longjmp that PG_CATCH catches.
 */
template <typename Fn>
void
PgCall(Fn &&fn)
{
	MemoryContext caller_cxt = CurrentMemoryContext;
	ErrorData *volatile caught = nullptr;
	std::exception_ptr cpp_error;	/* only touched on the non-longjmp path */

	PG_TRY();
	{
		try
		{
			fn();
		}
		catch (...)
		{
			cpp_error = std::current_exception();
		}
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller_cxt);
		caught = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();

	if (caught != nullptr)
		throw PgError(caught);
	if (cpp_error)
	{
		MemoryContextSwitchTo(caller_cxt);
		std::rethrow_exception(cpp_error);
	}
}

/* What the boundary keeps of an exception once its catch block is left. */
struct CaughtError
{
	ErrorData *pg = nullptr;
	int sqlstate = 0;
	char message[512];
	char detail[512];
	char hint[256];
};

/* Fills out from the exception currently being handled.  noexcept. */
PGDLLEXPORT void CaptureCurrentException(CaughtError &out) noexcept;

/* Raises out as a PostgreSQL error at elevel; returns only below ERROR. */
PGDLLEXPORT void RaiseCaught(const CaughtError &out, int elevel);

/*
 * InvokeCpp: body of every SQL-callable function.  No C++ object with a
 * destructor lives in this frame when ereport runs.
 */
template <typename Fn>
Datum
InvokeCpp(FunctionCallInfo fcinfo, Fn fn) noexcept
{
	CaughtError err;

	try
	{
		return fn(fcinfo);
	}
	catch (...)
	{
		CaptureCurrentException(err);
	}
	/* the exception object is gone; now it is safe to longjmp */
	RaiseCaught(err, ERROR);
	pg_unreachable();
}

/*
 * InvokeHook: the same adapter for hooks and callbacks.  elevel is what a
 * failure becomes: ERROR where the hook may raise one (executor hooks), or
 * WARNING where it must not (commit and exit callbacks), in which case the
 * hook's work is abandoned and PostgreSQL carries on, or 0 to swallow the
 * failure silently where even a WARNING would recurse (emit_log_hook).
 */
template <typename Fn>
void
InvokeHook(int elevel, Fn fn) noexcept
{
	CaughtError err;
	bool		failed = false;

	try
	{
		fn();
	}
	catch (...)
	{
		CaptureCurrentException(err);
		failed = true;
	}
	if (failed)
		RaiseCaught(err, elevel);
}

}								/* namespace memprof */

/*
 * Declares a SQL-callable function: the C symbol PostgreSQL calls, its info
 * record, and a C++ body that runs inside InvokeCpp.  Usage:
 *
 *     MEMPROF_FUNCTION(memprof_foo)
 *     {
 *         ... C++ body, fcinfo in scope, returns Datum ...
 *     }
 */
#define MEMPROF_FUNCTION(fname) \
	static Datum fname##_cpp([[maybe_unused]] FunctionCallInfo fcinfo); \
	extern "C" { PG_FUNCTION_INFO_V1(fname); } \
	extern "C" Datum \
	fname(PG_FUNCTION_ARGS) \
	{ \
		return ::memprof::InvokeCpp(fcinfo, fname##_cpp); \
	} \
	static Datum fname##_cpp([[maybe_unused]] FunctionCallInfo fcinfo)
