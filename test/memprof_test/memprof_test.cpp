/*
 * memprof_test.cpp: test-only SQL functions for memprof's own tests.
 *
 * Built and installed only by test/run.  Every function is declared with
 * memprof's MEMPROF_FUNCTION, so the tests of the C++/PostgreSQL boundary
 * exercise memprof.so's own boundary code.
 */
#include "pg/boundary.hpp"

#include <map>
#include <stdexcept>

extern "C" {
#include "utils/fmgroids.h"
#include "executor/tuptable.h"
#include "nodes/execnodes.h"
PG_MODULE_MAGIC;

/*
 * Report lines of PostgreSQL's memory-context report this process's
 * emit_log_hook saw (only when preloaded, before memprof).
 */
static int64 report_lines_seen = 0;
static emit_log_hook_type prev_emit_log_hook = NULL;

static void
CountReportLines(ErrorData *edata)
{
	const char *id = edata->message_id;

	if (id != NULL &&
		(strcmp(id, "logging memory contexts of PID %d") == 0 ||
		 strncmp(id, "level: %d; ", 11) == 0 || strncmp(id, "Grand total: ", 13) == 0))
		report_lines_seen++;
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/*
 * Our own _PG_init: without it, PostgreSQL's dlsym(handle, "_PG_init") on
 * this library would find memprof.so's (a dependency of this one) and run
 * it a second time.  Preloaded (listed before memprof), it installs a log
 * hook ahead of memprof's, to show which report lines such a hook sees.
 */
void		_PG_init(void);
void
_PG_init(void)
{
	if (process_shared_preload_libraries_in_progress)
	{
		prev_emit_log_hook = emit_log_hook;
		emit_log_hook = CountReportLines;
	}
}
}

namespace {

/* Long-lived contexts the leak and tree helpers allocate in. */
MemoryContext leak_cxt = nullptr;
MemoryContext tree_cxt = nullptr;
int64		destructors_run = 0;

struct CountsDestruction
{
	~CountsDestruction() { destructors_run++; }
};

}								/* namespace */

/*---- the boundary ----*/

/*
 * memprof_test_throw(kind): raises an error of the given kind from C++.
 * 'runtime_error', 'bad_alloc', 'int' throw C++ exceptions;
 * 'memprof_error' throws memprof::Error (SQLSTATE 22023);
 * 'pg_error' raises a PostgreSQL error (division_by_zero) inside PgCall
 * while a C++ object with a destructor is alive in the calling frame;
 * the destructor must run (see memprof_test_destructors()).
 */
MEMPROF_FUNCTION(memprof_test_throw)
{
	std::string kind(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	CountsDestruction guard;

	if (kind == "runtime_error")
		throw std::runtime_error("test exception from memprof_test");
	if (kind == "bad_alloc")
		throw std::bad_alloc();
	if (kind == "int")
		throw 42;
	if (kind == "memprof_error")
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE, "test error %d", 7)
			.Detail("Raised by memprof_test.").Hint("Nothing to do.");
	if (kind == "pg_error")
		memprof::PgCall([]() {
			ereport(ERROR, (errcode(ERRCODE_DIVISION_BY_ZERO),
							errmsg("test PostgreSQL error inside PgCall")));
		});
	if (kind == "none")
		PG_RETURN_INT32(0);
	throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE, "unknown kind \"%s\"", kind.c_str());
}

MEMPROF_FUNCTION(memprof_test_destructors)
{
	PG_RETURN_INT64(destructors_run);
}

/*---- agreement with core ----*/

namespace {

struct ViewSums
{
	int64		contexts = 0;
	int64		total = 0;
	int64		used = 0;
	std::map<std::string, int64> per_name;
};

/* Attribute number of the column called name, or 0. */
int
AttrByName(TupleDesc desc, const char *name)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);

		if (!a->attisdropped && strcmp(NameStr(a->attname), name) == 0)
			return i + 1;
	}
	return 0;
}

/*
 * Sums one view's result, found by column name (core's columns moved
 * between versions).  per_name counts rows by name, depth below the root
 * (core numbers levels from 0 or from 1 depending on the version) and, when
 * with_type, the type column.
 */
void
SumView(Tuplestorestate *ts, TupleDesc desc, bool with_type, ViewSums &sums)
{
	int			a_name = AttrByName(desc, "name");
	/* core calls it level, memprof depth (0-based on every version) */
	int			a_level = AttrByName(desc, "level") ? AttrByName(desc, "level") : AttrByName(desc, "depth");
	int			a_type = AttrByName(desc, "type");
	int			a_total = AttrByName(desc, "total_bytes");
	int			a_used = AttrByName(desc, "used_bytes");
	TupleTableSlot *slot;
	std::vector<std::pair<std::string, int32>> keys;
	int32		min_level = INT32_MAX;

	if (a_name == 0 || a_level == 0 || a_total == 0 || a_used == 0 || (with_type && a_type == 0))
		elog(ERROR, "memprof_test: a compared view lacks a column");
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	while (tuplestore_gettupleslot(ts, true, false, slot))
	{
		bool		isnull;
		std::string key = TextDatumGetCString(slot_getattr(slot, a_name, &isnull));
		int32		level = DatumGetInt32(slot_getattr(slot, a_level, &isnull));

		if (with_type)
		{
			Datum		t = slot_getattr(slot, a_type, &isnull);

			key += '\t';
			key += isnull ? "NULL" : TextDatumGetCString(t);
		}
		keys.emplace_back(std::move(key), level);
		min_level = std::min(min_level, level);
		sums.contexts++;
		sums.total += DatumGetInt64(slot_getattr(slot, a_total, &isnull));
		sums.used += DatumGetInt64(slot_getattr(slot, a_used, &isnull));
	}
	ExecDropSingleTupleTableSlot(slot);
	for (auto &k : keys)
		sums.per_name[k.first + '\t' + std::to_string(k.second - min_level)]++;
}

/* Calls a materialized SRF through fmgr with all its memory in `detached`. */
Tuplestorestate *
CallMaterialized(FmgrInfo *flinfo, MemoryContext detached, TupleDesc *desc)
{
	LOCAL_FCINFO(fcinfo, 0);
	ReturnSetInfo *rsi = (ReturnSetInfo *) palloc0(sizeof(ReturnSetInfo));
	ExprContext *econtext = (ExprContext *) palloc0(sizeof(ExprContext));

	econtext->type = T_ExprContext;
	econtext->ecxt_per_query_memory = detached;
	econtext->ecxt_per_tuple_memory = detached;
	rsi->type = T_ReturnSetInfo;
	rsi->econtext = econtext;
	rsi->allowedModes = SFRM_Materialize;
	InitFunctionCallInfoData(*fcinfo, flinfo, 0, InvalidOid, NULL, (Node *) rsi);
	(void) FunctionCallInvoke(fcinfo);
	*desc = rsi->setDesc;
	return rsi->setResult;
}

}								/* namespace */

/*
 * memprof_test_compare_core(memprof_fn regprocedure): reads core's
 * pg_get_backend_memory_contexts() and memprof's function at the same point,
 * inside this one call.  All memory of both calls (result tuplestores,
 * tuple descriptors) lives in a context with no parent, outside the tree
 * both walk, and both are called twice so that catalog caches are warm;
 * the second pair must then see identical trees.
 */
MEMPROF_FUNCTION(memprof_test_compare_core)
{
	Oid			memprof_fn = PG_GETARG_OID(0);
	ViewSums	core, ours;
	TupleDesc	result_desc = nullptr;
	Datum		values[7];
	bool		nulls[7] = {false};

	memprof::PgCall([&]() {
		MemoryContext detached = AllocSetContextCreate((MemoryContext) NULL,
													   "memprof_test detached",
													   ALLOCSET_DEFAULT_SIZES);
		MemoryContext old = MemoryContextSwitchTo(detached);
		FmgrInfo	core_fn, our_fn;
		Tuplestorestate *core_ts = nullptr;
		Tuplestorestate *our_ts = nullptr;
		TupleDesc	core_desc, our_desc;

		fmgr_info(F_PG_GET_BACKEND_MEMORY_CONTEXTS, &core_fn);
		fmgr_info(memprof_fn, &our_fn);
		for (int pass = 0; pass < 2; pass++)
		{
			/* big results spill to temporary files: end them properly */
			if (core_ts != nullptr)
				tuplestore_end(core_ts);
			if (our_ts != nullptr)
				tuplestore_end(our_ts);
			core_ts = CallMaterialized(&core_fn, detached, &core_desc);
			our_ts = CallMaterialized(&our_fn, detached, &our_desc);
		}

		/*
		 * Now read both results; nothing here changes what was read.  Where
		 * core shows each context's type too, the types must agree as well.
		 */
		bool		with_type = AttrByName(core_desc, "type") != 0;

		SumView(core_ts, core_desc, with_type, core);
		SumView(our_ts, our_desc, with_type, ours);
		tuplestore_end(core_ts);
		tuplestore_end(our_ts);
		MemoryContextSwitchTo(old);
		MemoryContextDelete(detached);
	});

	int32		names_differing = 0;
	for (const auto &kv : core.per_name)
	{
		auto		it = ours.per_name.find(kv.first);
		if (it == ours.per_name.end() || it->second != kv.second)
			names_differing++;
	}
	for (const auto &kv : ours.per_name)
		if (core.per_name.find(kv.first) == core.per_name.end())
			names_differing++;

	values[0] = Int64GetDatum(core.contexts);
	values[1] = Int64GetDatum(ours.contexts);
	values[2] = Int64GetDatum(core.total);
	values[3] = Int64GetDatum(ours.total);
	values[4] = Int64GetDatum(core.used);
	values[5] = Int64GetDatum(ours.used);
	values[6] = Int32GetDatum(names_differing);
	Datum		result = 0;
	memprof::PgCall([&]() {
		if (get_call_result_type(fcinfo, NULL, &result_desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		result_desc = BlessTupleDesc(result_desc);
		result = HeapTupleGetDatum(heap_form_tuple(result_desc, values, nulls));
	});
	return result;
}

/*---- leaks, bursts and big trees ----*/

/*
 * memprof_test_leak(bytes, scope DEFAULT 'session'): allocates bytes in the
 * long-lived context "memprof_test leaks" (a child of TopMemoryContext) and
 * never frees them: a leak of exactly one chunk of that size per call.
 * With scope 'transaction' the chunk goes in TopTransactionContext instead,
 * which the end of the transaction releases.
 */
MEMPROF_FUNCTION(memprof_test_leak)
{
	int32		bytes = PG_GETARG_INT32(0);
	/* no object with a destructor here: MemoryContextAlloc may longjmp */
	const char *scope = text_to_cstring(PG_GETARG_TEXT_PP(1));

	if (bytes <= 0)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE, "bytes must be positive");
	if (strcmp(scope, "transaction") == 0)
	{
		/* released at transaction end: growth, not a leak */
		char	   *p = static_cast<char *>(MemoryContextAlloc(TopTransactionContext, bytes));

		memset(p, 0x5a, bytes);
		PG_RETURN_INT64(static_cast<int64>(TopTransactionContext->mem_allocated));
	}
	if (strcmp(scope, "session") != 0)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE, "scope must be session or transaction");
	if (leak_cxt == nullptr)
		leak_cxt = AllocSetContextCreate(TopMemoryContext, "memprof_test leaks",
										 ALLOCSET_DEFAULT_SIZES);
	char	   *p = static_cast<char *>(MemoryContextAlloc(leak_cxt, bytes));
	memset(p, 0x5a, bytes);
	PG_RETURN_INT64(static_cast<int64>(leak_cxt->mem_allocated));
}

MEMPROF_FUNCTION(memprof_test_leak_free)
{
	bool		had = (leak_cxt != nullptr);

	if (leak_cxt != nullptr)
		MemoryContextDelete(leak_cxt);
	leak_cxt = nullptr;
	PG_RETURN_BOOL(had);
}

/*
 * memprof_test_burst(bytes): allocates bytes in the current context,
 * touches them, frees them, all within the call.
 */
MEMPROF_FUNCTION(memprof_test_burst)
{
	int64		bytes = PG_GETARG_INT64(0);

	if (bytes <= 0)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE, "bytes must be positive");
	char	   *p = static_cast<char *>(MemoryContextAllocHuge(CurrentMemoryContext, bytes));
	memset(p, 0x5a, bytes);
	pfree(p);
	PG_RETURN_INT64(bytes);
}

/*
 * memprof_test_child_burst(bytes, chunk): creates a child of the current
 * context, allocates bytes there in chunks of `chunk` bytes (touched), and
 * deletes the child before returning: memory no context holds afterwards,
 * as private work contexts in core and extensions do.
 */
MEMPROF_FUNCTION(memprof_test_child_burst)
{
	int64		bytes = PG_GETARG_INT64(0);
	int64		chunk = PG_GETARG_INT64(1);

	if (bytes <= 0 || chunk <= 0)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE, "bytes and chunk must be positive");
	MemoryContext child = AllocSetContextCreate(CurrentMemoryContext, "memprof_test burst",
												ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(child);

	for (int64 done = 0; done < bytes; done += chunk)
	{
		Size		n = static_cast<Size>(std::min(chunk, bytes - done));
		char	   *p = static_cast<char *>(MemoryContextAllocHuge(child, n));

		memset(p, 0x5a, n);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(child);
	PG_RETURN_INT64(bytes);
}

/*
 * Deletes root and everything under it leaves first, so that a chain of any
 * depth is freed without recursion (PostgreSQL 15's MemoryContextDelete
 * recurses once per level).
 */
static void
DeleteTree(MemoryContext root)
{
	MemoryContext c = root;

	for (;;)
	{
		while (c->firstchild != nullptr)
			c = c->firstchild;
		if (c == root)
			break;
		MemoryContext parent = c->parent;

		MemoryContextDelete(c);
		c = parent;
	}
	MemoryContextDelete(root);
}

/*
 * memprof_test_hold(bytes, seconds): allocates bytes in a child context in
 * chunks of 1 MB (touched), holds them for seconds (interruptible: a cancel
 * ends it), then deletes the child.
 */
MEMPROF_FUNCTION(memprof_test_hold)
{
	int64		bytes = PG_GETARG_INT64(0);
	double		seconds = PG_GETARG_FLOAT8(1);

	if (bytes <= 0 || seconds < 0 || seconds > 3600)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE,
							 "bytes must be positive and seconds between 0 and 3600");
	MemoryContext child = AllocSetContextCreate(CurrentMemoryContext, "memprof_test hold",
												ALLOCSET_DEFAULT_SIZES);

	for (int64 done = 0; done < bytes; done += 1024 * 1024)
	{
		Size		n = static_cast<Size>(std::min<int64>(1024 * 1024, bytes - done));
		char	   *p = static_cast<char *>(MemoryContextAlloc(child, n));

		memset(p, 0x5a, n);
	}
	for (long waited = 0; waited < static_cast<long>(seconds * 1000); waited += 10)
	{
		CHECK_FOR_INTERRUPTS();
		pg_usleep(10000L);
	}
	MemoryContextDelete(child);
	PG_RETURN_INT64(bytes);
}

/*
 * memprof_test_tree(n, shape): n contexts under "memprof_test tree",
 * either a chain n deep ('deep') or n siblings ('wide').
 */
MEMPROF_FUNCTION(memprof_test_tree)
{
	int32		n = PG_GETARG_INT32(0);
	std::string shape(text_to_cstring(PG_GETARG_TEXT_PP(1)));

	if (n < 0 || n > 1000000)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE, "n must be between 0 and 1000000");
	if (shape != "deep" && shape != "wide")
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE, "shape must be deep or wide");
	bool		deep = (shape == "deep");
	memprof::PgCall([&]() {
		MemoryContext parent;

		if (tree_cxt != nullptr)
			DeleteTree(tree_cxt);
		tree_cxt = AllocSetContextCreate(TopMemoryContext, "memprof_test tree",
										 ALLOCSET_SMALL_SIZES);
		parent = tree_cxt;
		for (int32 i = 0; i < n; i++)
		{
			MemoryContext c = AllocSetContextCreate(parent, "memprof_test node",
													ALLOCSET_SMALL_SIZES);
			if (deep)
				parent = c;
		}
	});
	PG_RETURN_INT32(n);
}

MEMPROF_FUNCTION(memprof_test_tree_drop)
{
	bool		had = (tree_cxt != nullptr);

	if (tree_cxt != nullptr)
		memprof::PgCall([]() { DeleteTree(tree_cxt); });
	tree_cxt = nullptr;
	PG_RETURN_BOOL(had);
}

/*
 * memprof_test_busy(ms): runs for ms milliseconds without processing any
 * interrupt (held off), like a backend deep in code with no interrupt
 * check; signals that arrive meanwhile are handled when it returns.
 */
MEMPROF_FUNCTION(memprof_test_busy)
{
	int32		ms = PG_GETARG_INT32(0);

	if (ms < 0 || ms > 600000)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE, "ms must be between 0 and 600000");
	TimestampTz until = GetCurrentTimestamp() + static_cast<TimestampTz>(ms) * 1000;

	HOLD_INTERRUPTS();
	while (GetCurrentTimestamp() < until)
		pg_usleep(1000);
	RESUME_INTERRUPTS();
	PG_RETURN_INT32(ms);
}

/* memprof_test_report_lines_seen(): see CountReportLines. */
MEMPROF_FUNCTION(memprof_test_report_lines_seen)
{
	PG_RETURN_INT64(report_lines_seen);
}
