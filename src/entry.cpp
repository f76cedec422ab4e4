/*
 * entry.cpp: module initialisation: _PG_init, the settings, and the hooks
 * and callbacks memprof registers.  Each feature's SQL-callable functions
 * live with the feature (snapshot.cpp, leakcheck.cpp, remote.cpp,
 * publish.cpp, rows.cpp, statements.cpp, statement_table.cpp, budget.cpp).
 */
#include "alloc/counters.hpp"
#include "pg/boundary.hpp"
#include "pg/hooks.hpp"
#include "budget.hpp"
#include "leakcheck.hpp"
#include "publish.hpp"
#include "remote.hpp"
#include "shmem.hpp"
#include "snapshot.hpp"
#include "statement_table.hpp"
#include "statements.hpp"


extern "C" {
PG_MODULE_MAGIC;
void		_PG_init(void);
}

/*---- hooks: thin C adapters over the C++ bodies ----*/

namespace {

/*
 * memprof looks first: a report line it keeps out of the log is not shown
 * to the hooks installed before it either (they see only what the server
 * log gets).  Hooks installed after memprof decide themselves whether they
 * call it first.
 */
void
MemprofEmitLogHook(ErrorData *edata)
{
	/* a guard's refusal reads as the guard's error to every later hook */
	memprof::RewriteGuardErrorForLog(edata);
	/* errors here would recurse into the log: swallowed (elevel 0) */
	memprof::InvokeHook(0, [edata]() { memprof::OnEmitLog(edata); });
	if (edata->output_to_server)
		memprof::pg::NextEmitLog(edata);
}

void
MemprofXactCallback(XactEvent event, void *arg)
{
	(void) arg;
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT)
		return;
	if (!memprof::ProcessInitDone())
		memprof::InvokeHook(WARNING, []() { memprof::EnsureProcessInit(); });
	/* a context report cut short by an error may have left them parked */
	memprof::RestoreContextTree();
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		memprof::StatementAbort(false);

	/* the statement's start: no clock read at every commit, and none unless used */
	if (memprof::publish_interval_ms >= 0 || memprof::kept_sample != nullptr)
	{
		TimestampTz now = GetCurrentStatementStartTimestamp();

		if (memprof::PublishDue(now))
			memprof::InvokeHook(WARNING, [now]() { memprof::MaybePublish(now); });
		memprof::ForgetKeptSample(now);
	}
	if (memprof::budget_log_pending)
		memprof::InvokeHook(WARNING, []() { memprof::BudgetWriteLog(); });
}

/* memprof.max_total_memory: the budget's limit, and whether statements need the hooks */
void
AssignMaxTotalMemory(int newval, void *extra)
{
	memprof::AssignBudget(newval, extra);
	memprof::StatementSettingsChanged();
}

void
MemprofSubXactCallback(SubXactEvent event, SubTransactionId, SubTransactionId, void *)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		memprof::StatementAbort(true);
}

}								/* namespace */

/*---- module load ----*/

void
_PG_init(void)
{
	memprof::exit_cleanup = memprof::RemoteExitCleanup;

	DefineCustomIntVariable("memprof.max_snapshots",
							"Number of stored snapshots kept; older ones are deleted (0: keep all).",
							NULL, &memprof::max_snapshots, 10000, 0, INT_MAX,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("memprof.leak_min_slope",
							 "Growth, in bytes per iteration, from which a context path counts as growing.",
							 NULL, &memprof::leak_min_slope, 8.0, 0.0, 1e12,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("memprof.leak_min_r2",
							 "R-squared from which steady growth in a session context is called a leak.",
							 NULL, &memprof::leak_min_r2, 0.8, 0.0, 1.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("memprof.leak_min_growth",
							"Growth in bytes over the measured run below which nothing is flagged.",
							NULL, &memprof::leak_min_growth, 1024, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomIntVariable("memprof.publish_interval",
							"Least time between two publications of a process's memory summary (-1: only when asked).",
							NULL, &memprof::publish_interval_ms, 1000, -1, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomBoolVariable("memprof.track_statements",
							 "Records each top-level statement's peak and held memory in memprof_statements.",
							 NULL, &memprof::track_statements, true,
							 PGC_SUSET, 0, NULL, memprof::AssignTrackStatements, NULL);
	DefineCustomIntVariable("memprof.log_min_statement_memory",
							"Logs each statement whose memory peak reaches this size, with its largest contexts (-1: off).",
							NULL, &memprof::log_min_statement_memory_kb, -1, -1, INT_MAX,
							PGC_SUSET, GUC_UNIT_KB, NULL, memprof::AssignLogMinStatementMemory, NULL);
	DefineCustomIntVariable("memprof.max_statement_memory",
							"Memory a statement may take above its lowest point, in allocator bytes (0: no limit).",
							NULL, &memprof::max_statement_memory_kb, 0, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_KB, NULL, memprof::AssignStatementLimit, NULL);
	DefineCustomIntVariable("memprof.max_backend_memory",
							"Allocator bytes a client backend may hold (0: no limit).",
							NULL, &memprof::max_backend_memory_kb, 0, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_KB, NULL, memprof::AssignBackendLimit, NULL);
	{
		static const struct config_enum_entry actions[] = {
			{"warn", memprof::GUARD_WARN, false},
			{"error", memprof::GUARD_ERROR, false},
			{nullptr, 0, false},
		};

		DefineCustomEnumVariable("memprof.guard_action",
								 "What a memory guard does when a limit is passed: warn or error.",
								 NULL, &memprof::guard_action, memprof::GUARD_ERROR, actions,
								 PGC_SUSET, 0, NULL, memprof::AssignGuardAction, NULL);
	}

	DefineCustomIntVariable("memprof.max_total_memory",
							"Allocator bytes all counted processes together may hold; a client backend's allocation past it fails (0: no budget).",
							NULL, &memprof::max_total_memory_kb, 0, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_KB, NULL, AssignMaxTotalMemory, NULL);
	DefineCustomIntVariable("memprof.total_memory_warning",
							"Logs once each time the server's allocator total passes this size (0: off).",
							NULL, &memprof::total_memory_warning_kb, 0, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_KB, NULL, NULL, NULL);
	{
		static const struct config_enum_entry budget_actions[] = {
			{"error", memprof::BUDGET_ERROR, false},
			{"cancel_largest", memprof::BUDGET_CANCEL_LARGEST, false},
			{nullptr, 0, false},
		};

		DefineCustomEnumVariable("memprof.budget_action",
								 "What passing memprof.max_total_memory does: error (the allocating statement fails) or cancel_largest.",
								 NULL, &memprof::budget_action, memprof::BUDGET_ERROR, budget_actions,
								 PGC_SIGHUP, 0, NULL, NULL, NULL);
	}

	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomIntVariable("memprof.max_statements",
								"Number of distinct statements memprof_statements keeps; the least used are evicted.",
								NULL, &memprof::max_tracked_statements, 5000, 100, 1000000,
								PGC_POSTMASTER, 0, NULL, NULL, NULL);
		DefineCustomBoolVariable("memprof.intercept_allocator",
								 "Counts every block the server takes from malloc (statement peaks, live figures, guards).",
								 NULL, &memprof::intercept_allocator, true,
								 PGC_POSTMASTER, 0, NULL, NULL, NULL);
		DefineCustomIntVariable("memprof.fetch_buffers",
								"Number of shared buffers for fetching other processes' context trees.",
								NULL, &memprof::fetch_buffers, 4, 1, 64,
								PGC_POSTMASTER, 0, NULL, NULL, NULL);
		DefineCustomIntVariable("memprof.fetch_buffer_size",
								"Size of each fetch buffer; a larger tree is sent in several rounds.",
								NULL, &memprof::fetch_buffer_kb, 1024, 64, 1024 * 1024,
								PGC_POSTMASTER, GUC_UNIT_KB, NULL, NULL, NULL);
		DefineCustomIntVariable("memprof.history_size",
								"Number of exited processes remembered in memprof_backend_history.",
								NULL, &memprof::history_size, 256, 0, 100000,
								PGC_POSTMASTER, 0, NULL, NULL, NULL);
	}
	MarkGUCPrefixReserved("memprof");

	/*
	 * Statement tracking and guards work wherever the library is loaded
	 * (preloaded, session_preload_libraries, or first use in a session);
	 * their figures go to memprof_statements only with shared memory.
	 */
	memprof::InstallStatementHooks();
	RegisterXactCallback(MemprofXactCallback, nullptr);
	RegisterSubXactCallback(MemprofSubXactCallback, nullptr);

	if (!process_shared_preload_libraries_in_progress)
		return;					/* loaded on first use: no shared memory */

	/*
	 * Count the allocator from here on, in the postmaster, so that every
	 * child inherits it.  Query ids are not switched on for memprof: without
	 * them statements are keyed by a text fingerprint (fingerprint.hpp).
	 */
	memprof::InstallInterception(memprof::intercept_allocator);
	if (memprof::InterceptStatus() == memprof::InterceptState::Active)
		ereport(LOG, (errmsg("memprof: counting the allocator (%s)", memprof::InterceptedSymbols())));
	else
		ereport(memprof::InterceptStatus() == memprof::InterceptState::Off ? LOG : WARNING,
				(errmsg("memprof: allocator not intercepted: %s", memprof::InterceptReason()),
					  errdetail("Statement peaks, live backend figures and memory guards are off; "
								"everything else works.")));
	memprof::InstallShmemHooks();
	memprof::pg::ChainEmitLogHook(MemprofEmitLogHook);
}
