/*
 * process.cpp: processes, signals, waits and reports (see process.hpp).
 */
#include "process.hpp"

namespace memprof::pg {

int
ProcNumberOfPid(int32 pid)
{
	int			procno = -1;

	PgCall([&]() {
		PGPROC	   *proc = BackendPidGetProc(pid);

		if (proc == nullptr)
			proc = AuxiliaryPidGetProc(pid);
		if (proc != nullptr)
			procno = compat::ProcIndex(proc);
	});
	return procno;
}

std::vector<int32>
LiveProcessPids(uint32 nprocs)
{
	std::vector<int32> live(std::min(nprocs, ProcGlobal->allProcCount), 0);

	PgCall([&]() {
		LWLockAcquire(ProcArrayLock, LW_SHARED);
		for (uint32 i = 0; i < live.size(); i++)
		{
			PGPROC	   *proc = &ProcGlobal->allProcs[i];
			int32		pid = proc->pid;

			if (pid != 0 &&
				(BackendPidGetProcWithLock(pid) == proc || AuxiliaryPidGetProc(pid) == proc))
				live[i] = pid;
		}
		LWLockRelease(ProcArrayLock);
	});
	return live;
}

bool
SignalLogMemoryContexts(int32 pid)
{
	int			rc = 0;

	PgCall([&]() {
		rc = SendProcSignal(pid, PROCSIG_LOG_MEMORY_CONTEXT, compat::kNoProcNumber);
	});
	return rc == 0;
}

void
SleepOnCondition(ConditionVariable *cv, long ms)
{
	PgCall([&]() { ConditionVariableTimedSleep(cv, ms, PG_WAIT_EXTENSION); });
}

void
WakeAll(ConditionVariable *cv) noexcept
{
	/* takes the variable's spinlock and sets latches: raises nothing */
	ConditionVariableBroadcast(cv);
}

void
CancelConditionSleep() noexcept
{
	/* takes the variable's spinlock and raises nothing */
	ConditionVariableCancelSleep();
}

void
AtProcessExit(pg_on_exit_callback fn)
{
	PgCall([&]() { before_shmem_exit(fn, (Datum) 0); });
}

void
Warn(const Error &e)
{
	PgCall([&]() {
		ereport(WARNING,
				(errcode(e.sqlstate),
				 errmsg_internal("%s", e.message),
				 e.detail[0] ? errdetail_internal("%s", e.detail) : 0,
				 e.hint[0] ? errhint("%s", e.hint) : 0));
	});
}

}								/* namespace memprof::pg */
