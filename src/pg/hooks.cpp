/*
 * hooks.cpp: hook chaining (see hooks.hpp).
 */
#include "hooks.hpp"

namespace memprof::pg {

ExecutorHooks next_executor_hooks;

namespace {

shmem_request_hook_type next_shmem_request = nullptr;
shmem_startup_hook_type next_shmem_startup = nullptr;
emit_log_hook_type next_emit_log = nullptr;

}								/* namespace */

void
ChainExecutorHooks(const ExecutorHooks &ours)
{
	next_executor_hooks.start = ExecutorStart_hook;
	ExecutorStart_hook = ours.start;
	next_executor_hooks.run = ExecutorRun_hook;
	ExecutorRun_hook = ours.run;
	next_executor_hooks.finish = ExecutorFinish_hook;
	ExecutorFinish_hook = ours.finish;
	next_executor_hooks.end = ExecutorEnd_hook;
	ExecutorEnd_hook = ours.end;
	next_executor_hooks.utility = ProcessUtility_hook;
	ProcessUtility_hook = ours.utility;
}

void
ChainShmemHooks(shmem_request_hook_type request, shmem_startup_hook_type startup)
{
	next_shmem_request = shmem_request_hook;
	shmem_request_hook = request;
	next_shmem_startup = shmem_startup_hook;
	shmem_startup_hook = startup;
}

void
ChainEmitLogHook(emit_log_hook_type ours)
{
	next_emit_log = emit_log_hook;
	emit_log_hook = ours;
}

void
NextShmemRequest()
{
	if (next_shmem_request)
		next_shmem_request();
}

void
NextShmemStartup()
{
	if (next_shmem_startup)
		next_shmem_startup();
}

void
NextEmitLog(ErrorData *edata)
{
	if (next_emit_log)
		next_emit_log(edata);
}

}								/* namespace memprof::pg */
