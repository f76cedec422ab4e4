/*
 * hooks.hpp: putting memprof's hooks in front of PostgreSQL's hook
 * variables, and calling on to the hook that was there before (or to
 * PostgreSQL's standard function when there was none).
 *
 * The Next* calls are inline and read hidden globals: an executor hook that
 * only passes through compiles to a tail call (see statements.cpp).  Bodies
 * that can throw run through InvokeHook (boundary.hpp); the executor and
 * utility hooks run no code that throws.
 */
#pragma once

#include "hidden.hpp"
#include "pg.hpp"

namespace memprof::pg {

/* The executor and utility hooks: memprof's, or the ones installed before. */
struct ExecutorHooks
{
	ExecutorStart_hook_type start = nullptr;
	ExecutorRun_hook_type run = nullptr;
	ExecutorFinish_hook_type finish = nullptr;
	ExecutorEnd_hook_type end = nullptr;
	ProcessUtility_hook_type utility = nullptr;
};

extern ExecutorHooks next_executor_hooks MEMPROF_HIDDEN;

void		ChainExecutorHooks(const ExecutorHooks &ours);
void		ChainShmemHooks(shmem_request_hook_type request, shmem_startup_hook_type startup);
void		ChainEmitLogHook(emit_log_hook_type ours);

void		NextShmemRequest();
void		NextShmemStartup();
void		NextEmitLog(ErrorData *edata);

/* Non-deduced argument types for CallNext. */
template <typename T>
struct Same
{
	using type = T;
};

/* Calls the hook installed before memprof's, or PostgreSQL's standard function. */
template <typename... Args>
inline void
CallNext(void (*next)(Args...), void (*standard)(Args...), typename Same<Args>::type... args)
{
	if (next)
		next(args...);
	else
		standard(args...);
}

inline void
NextExecutorStart(QueryDesc *qd, int eflags)
{
	CallNext(next_executor_hooks.start, standard_ExecutorStart, qd, eflags);
}

inline void
NextExecutorRun(QueryDesc *qd, ScanDirection direction, uint64 count MEMPROF_EXECUTE_ONCE_PARAM)
{
	CallNext(next_executor_hooks.run, standard_ExecutorRun, qd, direction, count
			 MEMPROF_EXECUTE_ONCE_ARG);
}

inline void
NextExecutorFinish(QueryDesc *qd)
{
	CallNext(next_executor_hooks.finish, standard_ExecutorFinish, qd);
}

inline void
NextExecutorEnd(QueryDesc *qd)
{
	CallNext(next_executor_hooks.end, standard_ExecutorEnd, qd);
}

inline void
NextProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				   ProcessUtilityContext context, ParamListInfo params,
				   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	CallNext(next_executor_hooks.utility, standard_ProcessUtility, pstmt, queryString,
			 readOnlyTree, context, params, queryEnv, dest, qc);
}

}								/* namespace memprof::pg */
