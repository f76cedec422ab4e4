/*
 * statements.cpp: statement windows, the statement table's feed, and the
 * guards (see statements.hpp for what is counted, and alloc/counters.hpp for
 * the counters).
 *
 * The hooks hold no C++ objects and need no PG_TRY: which statement is top
 * level is told by `top`, the error-context frame memprof pushes while a
 * top-level statement runs.  An error that unwinds past the frame also
 * unwinds PostgreSQL's error_context_stack past it; the (sub)transaction
 * abort callbacks notice that the frame is gone and close the statement.
 */
#include "statements.hpp"
#include "alloc/counters.hpp"
#include "pg/hooks.hpp"
#include "pg/tuples.hpp"
#include "budget.hpp"
#include "fingerprint.hpp"
#include "publish.hpp"
#include "shmem.hpp"
#include "statement_table.hpp"
#include "walker.hpp"

namespace memprof {

bool		track_statements = true;
int			log_min_statement_memory_kb = -1;
int			max_statement_memory_kb = 0;
int			max_backend_memory_kb = 0;
int			guard_action = GUARD_ERROR;
bool		intercept_allocator = true;

namespace {

/*---- the running top-level statement ----*/

struct Frame
{
	ErrorContextCallback cb;
};

/*
 * Only the top-level statement has a frame, and there is one at a time: it
 * lives here rather than on the stack (no address of a local escapes, so the
 * hooks need no stack protector).
 */
Frame		top_frame;
Frame	   *top = nullptr;		/* &top_frame while the top-level statement runs */
QueryDesc  *top_qd = nullptr;	/* the top-level executor statement */
bool		guards_apply = false;	/* this process may be refused (client backend) */

/* A refusal waiting to be reported as the guard's error. */
struct Refusal
{
	bool		pending;
	bool		budget;			/* the server's budget (then figure is the total) */
	bool		backend;		/* which limit: backend or statement */
	int64		figure;			/* what the process or statement would have held */
	int64		limit;
	int64		request;
};

Refusal		refusal;
constexpr int64 kRetryFloor = 1024 * 1024;
bool		warned = false;		/* guard_action = warn: once per statement */
Refusal		warning;			/* what to warn about at the statement's end */

bool
Active()
{
	return InterceptStatus() == InterceptState::Active;
}

/*
 * Whether statements need the hooks at all: recording, the log line, or a
 * limit that can refuse (the guards, the server budget).  When none is on,
 * the hooks only pass through, and the window is opened afresh when one is
 * switched on.  The answer is kept and worked out again only after one of
 * those settings changed (their assign hooks call StatementSettingsChanged;
 * an assign hook runs before the new value is stored, so the next hook call
 * does the work).
 */
bool		was_wanted = false;
bool		wanted_stale = true;

__attribute__((noinline)) bool
WantedRecompute()
{
	bool		w = Active() &&
		(track_statements || log_min_statement_memory_kb >= 0 || alloc.stmt_limit > 0 ||
		 alloc.backend_limit > 0 || max_total_memory_kb > 0);

	wanted_stale = false;
	if (w != was_wanted)
	{
		if (w)
			OpenWindow();
		was_wanted = w;
	}
	return w;
}

inline bool
Wanted()
{
	if (__builtin_expect(wanted_stale, 0))
		return WantedRecompute();
	return was_wanted;
}

bool
FrameLive()
{
	for (ErrorContextCallback *e = error_context_stack; e != nullptr; e = e->previous)
		if (top != nullptr && e == &top->cb)
			return true;
	return false;
}

void
PrettySize(int64 bytes, char *buf, size_t len)
{
	const char *sign = bytes < 0 ? "-" : "";
	uint64		b = static_cast<uint64>(bytes < 0 ? -bytes : bytes);
	uint64		unit = 1;
	const char *name = "bytes";

	if (b >= 10ULL << 30)
		unit = 1ULL << 30, name = "GB";
	else if (b >= 10ULL << 20)
		unit = 1ULL << 20, name = "MB";
	else if (b >= 10ULL << 10)
		unit = 1ULL << 10, name = "kB";
	/* whole units print whole (a limit of 20 MB), others with one decimal */
	if (b % unit == 0 || unit == 1 || b / unit >= 1000)
		snprintf(buf, len, "%s%llu %s", sign, static_cast<unsigned long long>(b / unit), name);
	else
		snprintf(buf, len, "%s%.1f %s", sign, static_cast<double>(b) / static_cast<double>(unit), name);
}

/* "name 12 MB, name 3 MB, name 1 MB": the three largest contexts now. */
void
LargestContexts(char *buf, size_t len)
{
	MemoryContext best[3] = {nullptr, nullptr, nullptr};
	size_t		off = 0;

	if (TopMemoryContext != nullptr)
		ForEachContext(TopMemoryContext, [&best](MemoryContext x) {
			for (int i = 0; i < 3; i++)
			{
				if (best[i] == nullptr || x->mem_allocated > best[i]->mem_allocated)
				{
					for (int j = 2; j > i; j--)
						best[j] = best[j - 1];
					best[i] = x;
					return;
				}
			}
		});
	buf[0] = '\0';
	for (int i = 0; i < 3 && best[i] != nullptr && off < len; i++)
	{
		char		size[32];

		PrettySize(static_cast<int64>(best[i]->mem_allocated), size, sizeof(size));
		off += snprintf(buf + off, len - off, "%s%s %s", i ? ", " : "",
						best[i]->name ? best[i]->name : "?", size);
	}
}

struct GuardText
{
	int			sqlstate;
	char		msg[256];
	char		detail[512];
	char		hint[256];
	const char *guc;
};

void
FormatGuard(const Refusal &r, GuardText &t)
{
	char		fig[32], lim[32], req[32], own[32], largest[400];

	PrettySize(r.figure, fig, sizeof(fig));
	PrettySize(r.limit, lim, sizeof(lim));
	PrettySize(r.request, req, sizeof(req));
	LargestContexts(largest, sizeof(largest));
	if (r.budget)
	{
		t.sqlstate = ERRCODE_OUT_OF_MEMORY;
		t.guc = "memprof.max_total_memory";
		PrettySize(alloc.held, own, sizeof(own));
		snprintf(t.msg, sizeof(t.msg), "server memory budget exceeded: total %s would pass %s (%s)",
				 fig, t.guc, lim);
		snprintf(t.detail, sizeof(t.detail),
				 "This backend holds %s; a request for %s was refused. Largest contexts here: %s.",
				 own, req, largest);
		snprintf(t.hint, sizeof(t.hint),
				 "Raise %s, or run this when other sessions hold less memory.", t.guc);
		return;
	}
	t.sqlstate = ERRCODE_CONFIGURATION_LIMIT_EXCEEDED;
	t.guc = r.backend ? "memprof.max_backend_memory" : "memprof.max_statement_memory";
	snprintf(t.msg, sizeof(t.msg), "%s memory %s exceeds %s (%s)",
			 r.backend ? "backend" : "statement", fig, t.guc, lim);
	snprintf(t.detail, sizeof(t.detail),
			 "A request for %s was refused. Largest contexts: %s.", req, largest);
	snprintf(t.hint, sizeof(t.hint),
			 "Raise %s, or lower work_mem or the statement's memory use.", t.guc);
}

/*
 * The refusal decision, called from inside malloc when a block would pass
 * limit_at.  Reads process state only: no allocation, no PostgreSQL call.
 */
bool
Refuse(int64_t request)
{
	bool		refusable = guards_apply && CritSectionCount == 0 && InterruptHoldoffCount == 0 &&
		!proc_exit_inprogress;

	/*
	 * While a refusal is on its way to becoming an error, keep refusing
	 * the retries of the same request (AllocSetAlloc halves a new block's
	 * size down to 1 MB and tries again), but let the small allocations of
	 * error processing itself through.
	 */
	if (refusable && refusal.pending)
		return request >= kRetryFloor;

	/* the server's total: reserve more when the block passes the reservation */
	if (alloc.release_at != INT64_MIN && alloc.held + request > alloc.reserved)
	{
		int64		total, budget;

		if (BudgetReserve(request, refusable, total, budget))
		{
			refusal = Refusal{true, true, false, total, budget, request};
			return true;
		}
		if (alloc.held + request <= alloc.limit_at)
			return false;
	}
	if (!refusable)
		return false;

	Refusal		r;

	r.pending = true;
	r.budget = false;
	r.request = request;
	if (alloc.backend_limit > 0 && alloc.held + request > alloc.backend_limit)
	{
		r.backend = true;
		r.figure = alloc.held + request;
		r.limit = alloc.backend_limit;
	}
	else if (alloc.stmt_limit > 0 && alloc.held + request - alloc.low > alloc.stmt_limit)
	{
		r.backend = false;
		r.figure = alloc.held + request - alloc.low;
		r.limit = alloc.stmt_limit;
	}
	else
		return false;
	if (guard_action == GUARD_WARN)
	{
		if (!warned)
		{
			warned = true;
			warning = r;
		}
		/* until the next window; the reservation still bounds it */
		alloc.limit_at = alloc.release_at != INT64_MIN ? alloc.reserved : INT64_MAX;
		return false;
	}
	refusal = r;
	return true;
}

/* Error-context callback of the top-level frame: rewrites a guard's OOM. */
void
GuardErrorCallback(void *arg)
{
	(void) arg;
	if (!refusal.pending || geterrcode() != ERRCODE_OUT_OF_MEMORY)
		return;

	GuardText	t;

	FormatGuard(refusal, t);
	refusal.pending = false;
	errcode(t.sqlstate);
	errmsg_internal("%s", t.msg);
	errdetail_internal("%s", t.detail);
	errhint("%s", t.hint);
}

inline void
PushFrame()
{
	top_frame.cb.callback = GuardErrorCallback;
	top_frame.cb.arg = nullptr;
	top_frame.cb.previous = error_context_stack;
	error_context_stack = &top_frame.cb;
	top = &top_frame;
}

inline void
PopFrame()
{
	error_context_stack = top_frame.cb.previous;
	top = nullptr;
}

/* The guard's warning and the log line at a statement's end. */
__attribute__((noinline)) void
FinishReport(const char *source, int location, int len, int64 peak, int64 held, bool warn, bool log)
{
	const char *text;
	int			text_len;

	StatementText(source, location, len, &text, &text_len);
	if (warn)
	{
		GuardText	t;

		FormatGuard(warning, t);
		ereport(WARNING,
				(errcode(t.sqlstate),
				 errmsg_internal("%s", t.msg),
				 errdetail_internal("%s", t.detail)));
	}
	if (log)
	{
		char		p[32], h[32], largest[400];

		PrettySize(peak, p, sizeof(p));
		PrettySize(held, h, sizeof(h));
		LargestContexts(largest, sizeof(largest));
		ereport(LOG,
				(errmsg("memory peak: %s  held at end: %s  statement: %.*s",
						p, h, text_len, text),
				 errdetail("Largest contexts at the end: %s.", largest),
				 errhidestmt(true)));
	}
}

/* Records the window as one statement and opens the next window. */
inline __attribute__((always_inline)) void
Finish(const char *source, int location, int len, uint64 queryid, bool worker, bool utility)
{
	int64		peak = alloc.rise;
	int64		held = alloc.held - alloc.low;
	bool		warn = warned;

	OpenWindow();
	warned = false;
	refusal.pending = false;
	if (held < 0)
		held = 0;

	BudgetFlushLog();

	bool		log = log_min_statement_memory_kb >= 0 && !worker &&
		peak >= static_cast<int64>(log_min_statement_memory_kb) * 1024;
	bool		record = track_statements && shared != nullptr;

	if (record)
	{
		StatementKey key;

		key.userid = GetUserId();
		key.dbid = MyDatabaseId;
		key.fingerprint = (queryid == 0);
		key.utility = utility;
		if (queryid != 0)
			key.id = queryid;
		else
		{
			const char *text;
			int			text_len;

			StatementText(source, location, len, &text, &text_len);
			key.id = TextFingerprint(text, static_cast<size_t>(text_len), utility);
		}
		/* the text is read again only for a statement not in the table yet */
		StmtStatsRecord(key, source, location, len, peak, held, worker);
	}
	if (__builtin_expect(warn || log, 0))
		FinishReport(source, location, len, peak, held, warn && !worker, log);
}

/*---- hooks ----*/

/*
 * Each hook's common case, a statement nested in a tracked one or nothing
 * wanting the hooks at all, is a tail call to the next hook: the part that
 * carries a frame (and the stack protector that comes with a local whose
 * address is taken) lives in a separate function, reached only by the
 * top-level statement.
 */
using pg::NextExecutorStart;
using pg::NextExecutorRun;
using pg::NextExecutorFinish;
using pg::NextExecutorEnd;
using pg::NextProcessUtility;

__attribute__((noinline)) void
ExecutorStartParallelWorker(QueryDesc *qd, int eflags)
{
	/* a parallel worker counts in the server's total from its start */
	if (!ProcessInitDone())
		InvokeHook(WARNING, []() { EnsureProcessInit(); });
	if (top == nullptr && Wanted())
	{
		top_qd = qd;
		OpenWindow();			/* a worker's window is its executor run */
	}
	NextExecutorStart(qd, eflags);
}

void
MemprofExecutorStart(QueryDesc *qd, int eflags)
{
	/*
	 * No frame here: nothing runs SQL of its own during executor start, and
	 * a guard's refusal in it reaches the client through the emit_log_hook
	 * rewrite (a top-level start) or an enclosing frame (a nested one).
	 */
	if (__builtin_expect(IsParallelWorker(), 0))
		return ExecutorStartParallelWorker(qd, eflags);
	if (top == nullptr && Wanted())
		top_qd = qd;
	NextExecutorStart(qd, eflags);
}

__attribute__((noinline)) void
ExecutorRunFramed(QueryDesc *qd, ScanDirection direction, uint64 count MEMPROF_EXECUTE_ONCE_PARAM)
{
	PushFrame();
	NextExecutorRun(qd, direction, count MEMPROF_EXECUTE_ONCE_ARG);
	PopFrame();
}

void
MemprofExecutorRun(QueryDesc *qd, ScanDirection direction, uint64 count MEMPROF_EXECUTE_ONCE_PARAM)
{
	if (top == nullptr && Wanted())
		return ExecutorRunFramed(qd, direction, count MEMPROF_EXECUTE_ONCE_ARG);
	NextExecutorRun(qd, direction, count MEMPROF_EXECUTE_ONCE_ARG);
}

__attribute__((noinline)) void
ExecutorFinishFramed(QueryDesc *qd)
{
	PushFrame();
	NextExecutorFinish(qd);
	PopFrame();
}

void
MemprofExecutorFinish(QueryDesc *qd)
{
	/*
	 * A plain SELECT's finish runs no code of the user's (AFTER triggers
	 * belong to statements that modify, and a function's own statements
	 * finish inside it): no frame needed, an out-of-memory there is still
	 * rewritten on its way to the client (emit_log_hook).
	 */
	if (top == nullptr && Wanted() &&
		(qd->operation != CMD_SELECT || qd->plannedstmt->hasModifyingCTE))
		return ExecutorFinishFramed(qd);
	NextExecutorFinish(qd);
}

__attribute__((noinline)) void
ExecutorEndTop(QueryDesc *qd)
{
	/* the top-level statement: its text and id outlive the executor state */
	const char *source = qd->sourceText;
	int			location = qd->plannedstmt->stmt_location;
	int			len = qd->plannedstmt->stmt_len;
	uint64		queryid = qd->plannedstmt->queryId;
	bool		explain_only = (qd->estate != nullptr &&
								(qd->estate->es_top_eflags & EXEC_FLAG_EXPLAIN_ONLY) != 0);

	top_qd = nullptr;
	NextExecutorEnd(qd);
	/* after the executor's state is freed: "held" is what outlives it */
	if (!explain_only)
		Finish(source, location, len, queryid, IsParallelWorker(), false);
}

void
MemprofExecutorEnd(QueryDesc *qd)
{
	if (qd == top_qd)
	{
		if (top == nullptr && Wanted())
			return ExecutorEndTop(qd);
		top_qd = nullptr;
	}
	NextExecutorEnd(qd);
}

__attribute__((noinline)) void
ProcessUtilityTop(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				  ProcessUtilityContext context, ParamListInfo params,
				  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	int			location = pstmt->stmt_location;
	int			len = pstmt->stmt_len;
	uint64		queryid = pstmt->queryId;

	PushFrame();
	NextProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	PopFrame();
	Finish(queryString, location, len, queryid, false, true);
}

void
MemprofProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
					  ProcessUtilityContext context, ParamListInfo params,
					  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;

	/* EXECUTE runs a plan through the executor: that is the statement */
	if (top == nullptr && !IsA(parsetree, ExecuteStmt) && !IsA(parsetree, PrepareStmt) &&
		!IsA(parsetree, DeallocateStmt) && Wanted())
		return ProcessUtilityTop(pstmt, queryString, readOnlyTree, context, params,
								 queryEnv, dest, qc);
	NextProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
}

}								/* namespace */

void
StatementSettingsChanged()
{
	wanted_stale = true;
}

void
AssignTrackStatements(bool, void *)
{
	wanted_stale = true;
}

void
AssignLogMinStatementMemory(int, void *)
{
	wanted_stale = true;
}

void
AssignStatementLimit(int newval, void *)
{
	wanted_stale = true;
	alloc.stmt_limit = static_cast<int64>(newval) * 1024;
	UpdateLimit();
}

void
AssignBackendLimit(int newval, void *)
{
	wanted_stale = true;
	alloc.backend_limit = static_cast<int64>(newval) * 1024;
	UpdateLimit();
}

void
AssignGuardAction(int newval, void *)
{
	(void) newval;
	UpdateLimit();
}

void
StatementProcessInit()
{
	RestartProcessPeak();
	OpenWindow();
	guards_apply = Active() && MyBackendType == B_BACKEND;
	refuse_hook = Refuse;
}

void
StatementAbort(bool subtransaction)
{
	refusal.pending = false;
	if (top != nullptr && FrameLive())
		return;					/* the statement goes on (EXCEPTION, ROLLBACK in a procedure) */
	if (subtransaction)
		return;
	/* the top-level statement failed: no entry; the next window starts here */
	top = nullptr;
	top_qd = nullptr;
	warned = false;
	OpenWindow();
}

void
RewriteGuardErrorForLog(ErrorData *edata)
{
	if (!refusal.pending || edata->elevel < ERROR || edata->sqlerrcode != ERRCODE_OUT_OF_MEMORY)
		return;

	GuardText	t;

	FormatGuard(refusal, t);
	refusal.pending = false;
	edata->sqlerrcode = t.sqlstate;
	edata->message = MemoryContextStrdup(ErrorContext, t.msg);
	edata->detail = MemoryContextStrdup(ErrorContext, t.detail);
	edata->hint = MemoryContextStrdup(ErrorContext, t.hint);
}

void
InstallStatementHooks()
{
	pg::ExecutorHooks ours;

	ours.start = MemprofExecutorStart;
	ours.run = MemprofExecutorRun;
	ours.finish = MemprofExecutorFinish;
	ours.end = MemprofExecutorEnd;
	ours.utility = MemprofProcessUtility;
	pg::ChainExecutorHooks(ours);
}

}								/* namespace memprof */

/*==== SQL-callable functions ====*/

/*
 * memprof_allocator(): whether the allocator interception is active, why
 * not, which functions it counts, and this process's figures.
 */
MEMPROF_FUNCTION(memprof_allocator_fn)
{
	static const char *const states[] = {"not loaded", "off", "active", "failed"};
	memprof::InterceptState st = memprof::InterceptStatus();
	const char *reason = memprof::InterceptReason();

	return memprof::pg::ReturnRow(fcinfo, [&](Datum *v, bool *n) {
		v[0] = CStringGetTextDatum(states[static_cast<int>(st)]);
		v[1] = CStringGetTextDatum(st == memprof::InterceptState::NotLoaded
								   ? "memprof is not in shared_preload_libraries" : reason);
		n[1] = (st == memprof::InterceptState::Active);
		v[2] = CStringGetTextDatum(memprof::InterceptedSymbols());
		n[2] = (st != memprof::InterceptState::Active);
		v[3] = Int64GetDatum(memprof::alloc.held);
		n[3] = (st != memprof::InterceptState::Active);
		v[4] = Int64GetDatum(memprof::alloc.peak);
		n[4] = (st != memprof::InterceptState::Active);
	});
}
