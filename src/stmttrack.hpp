/*
 * stmttrack.hpp: per-statement memory (peak during execution, held at the
 * end) and the memory guards.
 *
 * How the peak is seen.  PostgreSQL 15 dispatches palloc/pfree/repalloc
 * through context->methods, so for the statement's contexts memprof swaps
 * in a method table whose alloc, free, realloc, reset and delete call the
 * original and then add the change in the context's mem_allocated (the
 * block-level bytes it holds from malloc) to a running figure.  A burst
 * allocated and freed inside the statement moves that figure up and down,
 * and the maximum is the peak.  PG16+ differs: chunk headers carry a method
 * id and pfree no longer goes through the context, so this must be revisited
 * on a port.
 *
 * Which contexts.  The statement's executor memory (the es_query_cxt
 * subtree: plan state, expression contexts, sorts, hash tables) or, for a
 * utility statement, the context it runs in; plus TopTransactionContext's
 * subtree (SPI in functions, triggers).  They are wrapped when the top-level
 * statement starts.  Contexts created later start with the stock method
 * table; memprof finds them (1) when their parent is next called (a new
 * child is its parent's firstchild, checked on every wrapped call), and (2)
 * by a full rescan of the subtrees when the executor finishes, before any
 * of its memory is freed, so a sort's or hash table's memory counts.  What
 * stays unseen: memory in a context created and deleted in between without
 * its parent being called (documented in README.md).
 *
 * Nested statements (functions running SQL) are part of the top-level
 * statement that runs them: their memory counts in its peak and they get no
 * entry of their own.  Parallel workers are separate processes and are not
 * counted.
 */
#pragma once

#include "pg.hpp"

extern "C" {
#include "executor/executor.h"
#include "tcop/utility.h"
}

namespace memprof {

/* GUCs */
extern bool track_statements;
extern int	log_min_statement_memory_kb;	/* -1: off */
extern int	max_statement_memory_kb;	/* 0: off */
extern int	max_backend_memory_kb;	/* 0: off */
extern int	guard_action;			/* GuardAction */
extern int	max_tracked_statements;	/* shared hash size, PGC_POSTMASTER */

enum GuardAction
{
	GUARD_WARN = 0,
	GUARD_ERROR = 1,
};

void		InstallStatementHooks();

/* Resets the tracking state (transaction abort). */
void		StatementAbort();

/* Shared statistics (stmtstats.cpp). */
Size		StmtStatsShmemSize();
void		StmtStatsShmemInit();
void		StmtStatsRecord(uint64 queryid, Oid userid, Oid dbid, const char *query,
							int query_len, int64 peak, int64 held);

}								/* namespace memprof */
