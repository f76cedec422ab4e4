/*
 * budget.hpp: the server's memory total and its budget
 * (memprof.max_total_memory), read from the allocator counters.
 *
 * The total.  Each counted process (every process once it ran its first
 * transaction or was set up otherwise: client backends, autovacuum,
 * background and parallel workers) reserves bytes from one shared atomic
 * sum in chunks of kChunk, always at least what it holds.  Its malloc
 * wrappers touch the sum only when the process's reservation runs out
 * (through limit_at, the same slow path as the guards) or when it falls two
 * chunks below it, so the common allocation does not contend.  The sum is
 * the server's total, read in one atomic load; memprof_server() also sums
 * the live figures of all slots.  The postmaster and processes that never
 * set up (most auxiliary processes) are not in it.
 *
 * The budget.  When a client backend's new reservation would take the sum
 * over memprof.max_total_memory, the allocation fails the way an
 * out-of-memory does and becomes the error "server memory budget exceeded"
 * (SQLSTATE 53200) in that backend: its statement fails, the session and the
 * other sessions go on.  With memprof.budget_action = cancel_largest the
 * client backend holding the most is cancelled instead (SIGINT, as
 * pg_cancel_backend; at most one every kCancelGapMs), with a LOG line naming
 * it, and the allocation goes through unless the sum is past the budget by
 * more than the worst-case overshoot.  Critical sections, error recovery,
 * process exit and processes other than client backends are never refused:
 * what they take may pass the budget.
 *
 * Worst-case overshoot of the real total over the budget: none from the
 * chunks (the sum counts reservations, which are at least what each process
 * holds); beyond that, what non-refusable work takes.
 */
#pragma once

#include "pg/hidden.hpp"
#include "pg/pg.hpp"

namespace memprof {

constexpr int64 kChunk = 1024 * 1024;

/* GUCs (PGC_SIGHUP) */
extern int	max_total_memory_kb MEMPROF_HIDDEN;	/* 0: no budget */
extern int	total_memory_warning_kb;	/* 0: no warning */
extern int	budget_action;			/* BudgetAction */

enum BudgetAction
{
	BUDGET_ERROR = 0,
	BUDGET_CANCEL_LARGEST = 1,
};

void		AssignBudget(int newval, void *extra);

/* This process starts or stops counting in the server total. */
void		BudgetProcessInit();
void		BudgetProcessExit();

/*
 * From the refusal path: held + request passes the reservation.  Reserves
 * more; returns true when the block is to be refused (budget error), with
 * the figures in total/limit.  May cancel another backend instead.
 */
bool		BudgetReserve(int64 request, bool refusable, int64 &total, int64 &limit);

/* Log lines decided inside the allocator, written at a safe point. */
extern bool budget_log_pending MEMPROF_HIDDEN;
void		BudgetWriteLog();

inline void
BudgetFlushLog()
{
	if (budget_log_pending)
		BudgetWriteLog();
}

}								/* namespace memprof */
