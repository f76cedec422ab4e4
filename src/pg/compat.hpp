/*
 * compat.hpp: every difference between the PostgreSQL major versions that
 * memprof builds against, keyed on PG_VERSION_NUM, here and nowhere else.
 * Included by pg.hpp after PostgreSQL's headers; the rest of the code uses
 * the names below and never tests the version itself.
 *
 * Tested: 15 and 18.  16 and 17 are expected to build: the guards below
 * follow the version each change came in, but no 16 or 17 server was built
 * against (see README).
 *
 * What changed, by version:
 *   16  utils/queryjumble.h moved to nodes/queryjumble.h.
 *       (Memory chunks carry their context's method id, so pfree and
 *       repalloc no longer pass through context->methods: memprof counts
 *       at the allocator instead, the same on every version.)
 *   17  BackendId became ProcNumber (InvalidBackendId became
 *       INVALID_PROC_NUMBER), PGPROC lost its pgprocno field.
 *       A fourth context type: Bump (T_BumpContext).
 *   18  ExecutorRun_hook lost its execute_once argument.
 */
#pragma once

#if PG_VERSION_NUM < 150000
#error "memprof needs PostgreSQL 15 or later"
#endif

extern "C" {
#if PG_VERSION_NUM >= 160000
#include "nodes/queryjumble.h"
#else
#include "utils/queryjumble.h"
#endif
}

/*
 * ExecutorRun hook parameters: memprof's hook is declared
 *   void Hook(QueryDesc *qd, ScanDirection dir, uint64 count
 *             MEMPROF_EXECUTE_ONCE_PARAM)
 * and passes MEMPROF_EXECUTE_ONCE_ARG on.
 */
#if PG_VERSION_NUM >= 180000
#define MEMPROF_EXECUTE_ONCE_PARAM
#define MEMPROF_EXECUTE_ONCE_ARG
#else
#define MEMPROF_EXECUTE_ONCE_PARAM , bool execute_once
#define MEMPROF_EXECUTE_ONCE_ARG , execute_once
#endif

namespace memprof::compat {

/* "No particular process" for SendProcSignal's last argument. */
#if PG_VERSION_NUM >= 170000
constexpr int kNoProcNumber = INVALID_PROC_NUMBER;
#else
constexpr int kNoProcNumber = InvalidBackendId;
#endif

/* Index of a PGPROC in ProcGlobal->allProcs (negative: none). */
inline int
ProcIndex(const PGPROC *proc)
{
#if PG_VERSION_NUM >= 170000
	return static_cast<int>(GetNumberFromPGProc(proc));
#else
	return proc->pgprocno;
#endif
}

/* Whether cxt is a Bump context (a type that exists from 17 on). */
inline bool
IsBumpContext(MemoryContext cxt)
{
#if PG_VERSION_NUM >= 170000
	return IsA(cxt, BumpContext);
#else
	(void) cxt;
	return false;
#endif
}

}								/* namespace memprof::compat */
