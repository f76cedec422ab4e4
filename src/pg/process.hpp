/*
 * process.hpp: named PostgreSQL operations on processes, signals, waits
 * and reports.  Each one throws PgError (never longjmps) unless its name
 * ends in _Unsafe; those marked noexcept raise nothing.
 */
#pragma once

#include "boundary.hpp"

#include <vector>

namespace memprof::pg {

/*
 * The PGPROC number of the live backend or auxiliary process pid, or -1
 * when pid is not one.
 */
int			ProcNumberOfPid(int32 pid);

/*
 * The pid of every PGPROC in [0, nprocs) that is a live process (0 where
 * none): a backend's PGPROC keeps its old pid after the backend exits, so a
 * PGPROC counts only while the proc array (or the auxiliary-process table)
 * still maps its pid to it.
 */
std::vector<int32> LiveProcessPids(uint32 nprocs);

/*
 * Asks pid to report its memory contexts at its next interrupt check
 * (the signal behind pg_log_backend_memory_contexts).  False when the
 * signal could not be sent (the process is gone).
 */
bool		SignalLogMemoryContexts(int32 pid);

/* Sleeps on cv for at most ms; a cancel or terminate request raises. */
void		SleepOnCondition(ConditionVariable *cv, long ms);

/* Wakes every process sleeping on cv. */
void		WakeAll(ConditionVariable *cv) noexcept;

/* Ends the current condition-variable sleep, if any. */
void		CancelConditionSleep() noexcept;

/* Runs fn(code, arg) when this process exits (before_shmem_exit). */
void		AtProcessExit(pg_on_exit_callback fn);

/* Reports e (message, detail, hint, SQLSTATE) at WARNING. */
void		Warn(const Error &e);

}								/* namespace memprof::pg */
