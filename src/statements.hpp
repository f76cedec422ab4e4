/*
 * statements.hpp: per-statement memory (peak and held) and the memory guards,
 * read from the allocator counters of alloc/counters.hpp.
 *
 * What a statement is.  A top-level statement: one run through the executor
 * (ExecutorStart .. ExecutorEnd) or one utility command (ProcessUtility) that
 * no other memprof-tracked statement encloses.  Statements it runs (SQL in
 * functions, triggers, procedures) are nested: their memory counts in the
 * top-level one, and they get no entry of their own.  EXECUTE is not a
 * statement of its own: the prepared statement it runs is.
 *
 * What is counted.  The statement window of alloc/counters.hpp: everything
 * since the previous top-level statement was recorded (or failed), so
 * reading, parsing, analysing and planning the statement count as well as
 * executor start, run and end, in every memory context, including contexts
 * created and deleted within one call.  peak = the window's largest climb;
 * held = what was still held above the window's low when it ended (after
 * ExecutorEnd freed the executor state, or after the utility returned).
 *
 * Parallel workers.  Each worker's executor run is its own window; it is
 * recorded in the leader's entry as a worker execution (workers,
 * max_worker_peak_bytes), never as a call.
 *
 * Guards.  memprof.max_statement_memory refuses a block that would take the
 * window's climb above the limit; memprof.max_backend_memory one that would
 * take the process's total above it.  Only client backends are refused, and
 * never inside a critical section, while interrupts are held (error
 * recovery, AbortTransaction) or during process exit.  A refused block fails
 * like an out-of-memory; PostgreSQL's own checks raise the error (or, for
 * MCXT_ALLOC_NO_OOM callers, return NULL), and memprof turns PostgreSQL's
 * "out of memory" into its guard error: SQLSTATE 53400, naming the limit,
 * with the largest contexts in the DETAIL.
 */
#pragma once

#include "pg/hidden.hpp"
#include "pg/pg.hpp"

namespace memprof {

/* GUCs */
extern bool track_statements MEMPROF_HIDDEN;
extern int	log_min_statement_memory_kb MEMPROF_HIDDEN;	/* -1: off */
extern int	max_statement_memory_kb;	/* 0: off */
extern int	max_backend_memory_kb;	/* 0: off */
extern int	guard_action;			/* GuardAction */
extern bool intercept_allocator;	/* PGC_POSTMASTER */

enum GuardAction
{
	GUARD_WARN = 0,
	GUARD_ERROR = 1,
};

/* GUC assign hooks for the limits and the action. */
void		AssignTrackStatements(bool newval, void *extra);
void		AssignLogMinStatementMemory(int newval, void *extra);
void		AssignStatementLimit(int newval, void *extra);
void		AssignBackendLimit(int newval, void *extra);
void		AssignGuardAction(int newval, void *extra);

/* A setting that decides whether the statement hooks work has changed. */
void		StatementSettingsChanged();

void		InstallStatementHooks();

/* Per-process start: the process's own peak, and whether it may be refused. */
void		StatementProcessInit();

/* Transaction and subtransaction abort (from the xact callbacks). */
void		StatementAbort(bool subtransaction);

/* emit_log_hook: turns an out-of-memory caused by a guard into its error. */
void		RewriteGuardErrorForLog(ErrorData *edata);

}								/* namespace memprof */
