/*
 * budget.cpp: the server's memory total and budget (see budget.hpp).
 *
 * Everything reached from the allocator (BudgetReserve, Release) is plain
 * code: atomics, reads of other processes' slots, kill(); no allocation, no
 * PostgreSQL call that could raise.  Log lines decided there wait in static
 * buffers for BudgetFlushLog, called at a statement's end and at
 * transaction end.
 */
#include "budget.hpp"
#include "alloc/counters.hpp"
#include "pg/tuples.hpp"
#include "shmem.hpp"

#include <csignal>
#include <sys/types.h>

namespace memprof {

int			max_total_memory_kb = 0;
int			total_memory_warning_kb = 0;
int			budget_action = BUDGET_ERROR;
bool		budget_log_pending = false;

namespace {

constexpr int64 kCancelGapMs = 500;

/* pending log lines (written by BudgetFlushLog) */
bool		log_cancel = false;
int32		cancelled_pid = 0;
int64		cancelled_held = 0;
int64		cancel_total = 0;
bool		log_warning = false;
int64		warning_total = 0;

inline int64
RoundUp(int64 v)
{
	return (v + kChunk - 1) / kChunk * kChunk;
}

void
SetRelease()
{
	alloc.release_at = alloc.reserved - 2 * kChunk;
	if (alloc.release_at == INT64_MIN)
		alloc.release_at++;
	UpdateLimit();
}

/* Gives back what held no longer needs, keeping one chunk of slack. */
void
Release()
{
	if (shared == nullptr || alloc.release_at == INT64_MIN)
		return;

	int64		keep = RoundUp(alloc.held) + kChunk;

	if (keep < alloc.reserved)
	{
		uint64		total = pg_atomic_sub_fetch_u64(&shared->budget_reserved,
													static_cast<uint64>(alloc.reserved - keep));

		alloc.reserved = keep;
		if (total_memory_warning_kb > 0 &&
			static_cast<int64>(total) < static_cast<int64>(total_memory_warning_kb) * 1024)
			pg_atomic_write_u32(&shared->budget_warned, 0);
	}
	SetRelease();
}

/* The client backend holding the most, other than this one: its pid, or 0. */
int32
Largest(int64 &held)
{
	int32		best = 0;

	held = -1;
	for (uint32 i = 0; i < shared->nslots; i++)
	{
		ProcSlot   *s = SlotAt(i);
		int32		pid = s->s.pid;
		int64		h = s->live.held;

		if (pid == 0 || s->s.backend_type != B_BACKEND || h <= held)
			continue;
		best = pid;
		held = h;
	}
	return best;
}

}								/* namespace */

void
AssignBudget(int newval, void *)
{
	(void) newval;
	UpdateLimit();
}

void
BudgetProcessInit()
{
	if (shared == nullptr || InterceptStatus() != InterceptState::Active)
		return;
	alloc.reserved = RoundUp(alloc.held) + kChunk;
	pg_atomic_fetch_add_u64(&shared->budget_reserved, static_cast<uint64>(alloc.reserved));
	release_hook = Release;
	SetRelease();
}

void
BudgetProcessExit()
{
	if (shared == nullptr || alloc.release_at == INT64_MIN)
		return;
	pg_atomic_fetch_sub_u64(&shared->budget_reserved, static_cast<uint64>(alloc.reserved));
	alloc.reserved = 0;
	alloc.release_at = INT64_MIN;
	UpdateLimit();
}

bool
BudgetReserve(int64 request, bool refusable, int64 &total_out, int64 &limit_out)
{
	int64		need = RoundUp(alloc.held + request - alloc.reserved) + kChunk;
	int64		total = static_cast<int64>(pg_atomic_add_fetch_u64(&shared->budget_reserved,
																  static_cast<uint64>(need)));
	int64		budget = static_cast<int64>(max_total_memory_kb) * 1024;

	if (total_memory_warning_kb > 0 && total > static_cast<int64>(total_memory_warning_kb) * 1024)
	{
		uint32		expected = 0;

		if (pg_atomic_compare_exchange_u32(&shared->budget_warned, &expected, 1))
		{
			log_warning = true;
			budget_log_pending = true;
			warning_total = total;
		}
	}
	if (budget > 0 && total > budget && refusable)
	{
		if (budget_action == BUDGET_CANCEL_LARGEST)
		{
			int64		victim_held;
			int32		victim = Largest(victim_held);

			if (victim != 0 && victim != MyProcPid && victim_held > alloc.held)
			{
				TimestampTz now = GetCurrentTimestamp();
				uint64		last = pg_atomic_read_u64(&shared->budget_last_cancel);

				if (now - static_cast<TimestampTz>(last) >= kCancelGapMs * 1000 &&
					pg_atomic_compare_exchange_u64(&shared->budget_last_cancel, &last,
												   static_cast<uint64>(now)))
				{
					kill(victim, SIGINT);
					pg_atomic_fetch_add_u64(&shared->budget_cancels, 1);
					log_cancel = true;
					budget_log_pending = true;
					cancelled_pid = victim;
					cancelled_held = victim_held;
					cancel_total = total;
				}
				/* the victim frees its memory: go on, within a bound */
				if (total <= budget + static_cast<int64>(shared->nslots) * kChunk)
				{
					alloc.reserved += need;
					SetRelease();
					return false;
				}
			}
		}
		pg_atomic_fetch_sub_u64(&shared->budget_reserved, static_cast<uint64>(need));
		pg_atomic_fetch_add_u64(&shared->budget_refusals, 1);
		total_out = total;
		limit_out = budget;
		return true;
	}
	alloc.reserved += need;
	SetRelease();
	return false;
}

void
BudgetWriteLog()
{
	budget_log_pending = false;
	if (!log_cancel && !log_warning)
		return;

	char		a[32], b[32], c[32];

	if (log_cancel)
	{
		log_cancel = false;
		snprintf(a, sizeof(a), "%lld", static_cast<long long>(cancelled_held));
		snprintf(b, sizeof(b), "%lld", static_cast<long long>(cancel_total));
		snprintf(c, sizeof(c), "%lld", static_cast<long long>(max_total_memory_kb) * 1024);
		ereport(LOG,
				(errmsg("memprof: cancelled the statement of process %d, the largest (%s bytes): the server's total of %s bytes passed memprof.max_total_memory (%s bytes)",
						cancelled_pid, a, b, c)));
	}
	if (log_warning)
	{
		log_warning = false;
		snprintf(a, sizeof(a), "%lld", static_cast<long long>(warning_total));
		snprintf(b, sizeof(b), "%lld", static_cast<long long>(total_memory_warning_kb) * 1024);
		ereport(LOG,
				(errmsg("memprof: the server's memory total (%s bytes) passed memprof.total_memory_warning (%s bytes)",
						a, b)));
	}
}

/*---- SQL ----*/

/*
 * memprof_server(): the server's total (reserved sum and live sum over the
 * slots), the budget, headroom, refusals and cancels.
 */
MEMPROF_FUNCTION(memprof_server_fn)
{
	RequireShared("memprof_server");
	int64		live = 0;
	int64		processes = 0;

	for (uint32 i = 0; i < shared->nslots; i++)
	{
		ProcSlot   *s = SlotAt(i);
		int64		h = s->live.held;

		if (s->s.pid != 0 && h > 0)
		{
			live += h;
			processes++;
		}
	}

	int64		reserved = static_cast<int64>(pg_atomic_read_u64(&shared->budget_reserved));
	int64		budget = static_cast<int64>(max_total_memory_kb) * 1024;

	return pg::ReturnRow(fcinfo, [&](Datum *v, bool *n) {
		v[0] = Int64GetDatum(live);
		v[1] = Int64GetDatum(reserved);
		v[2] = Int64GetDatum(processes);
		v[3] = Int64GetDatum(budget);
		n[3] = budget == 0;
		v[4] = Int64GetDatum(budget - reserved);
		n[4] = budget == 0;
		v[5] = Int64GetDatum(static_cast<int64>(pg_atomic_read_u64(&shared->budget_refusals)));
		v[6] = Int64GetDatum(static_cast<int64>(pg_atomic_read_u64(&shared->budget_cancels)));
		v[7] = Int64GetDatum(static_cast<int64>(shared->nslots) * kChunk);
	});
}

}								/* namespace memprof */
