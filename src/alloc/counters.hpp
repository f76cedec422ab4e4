/*
 * alloc/counters.hpp: what this process holds from the C allocator, as seen
 * by the interception in alloc/intercept.cpp, and the accounting window of
 * the running statement.
 *
 * Every block any memory context takes from malloc/calloc/realloc (and
 * every strdup by the server) adds its usable size to `held`; every free
 * subtracts it.  The figures are per process and plain (no atomics): a
 * PostgreSQL process allocates from one thread.  Two of them are mirrored
 * into the process's shared-memory slot (`live`) at every change, so other
 * processes read the live figure without signalling anybody.
 *
 * The statement window.  `low` is the least held since the window opened and
 * `rise` the largest climb above a preceding low (max over t of held(t) -
 * min over s <= t of held(s)).  The window opens when the previous top-level
 * statement was recorded (or failed), so it covers reading, parsing,
 * analysing and planning the next statement as well as executing it, in
 * every context, however briefly a context lives.  A statement's peak is the
 * window's rise when it ends; what it held is held - low at that moment.
 *
 * Refusal.  `limit_at` is the held figure above which an allocation is
 * refused (INT64_MAX when no guard applies): the smaller of low + the
 * statement limit and the backend limit.  A refused block fails the way an
 * out-of-memory does (malloc returns NULL), so PostgreSQL's own checks decide
 * where the error is raised: MCXT_ALLOC_NO_OOM callers get NULL, everyone
 * else gets PostgreSQL's out-of-memory error, which memprof rewrites into
 * its guard error (statements.cpp).
 */
#pragma once

#include "pg/hidden.hpp"

#include <cstddef>
#include <cstdint>

namespace memprof {

/* Mirrored into shared memory (the process's slot); plain 64-bit stores. */
struct LiveAlloc
{
	volatile int64_t held;
	volatile int64_t peak;
};

struct AllocCounters
{
	int64_t		held;			/* bytes in live blocks now */
	int64_t		peak;			/* most held since the process started */
	int64_t		low;			/* statement window: least held */
	int64_t		rise;			/* statement window: largest climb */
	int64_t		limit_at;		/* refuse a block that takes held above this */
	int64_t		stmt_limit;		/* memprof.max_statement_memory in bytes, 0: none */
	int64_t		backend_limit;	/* memprof.max_backend_memory in bytes, 0: none */
	LiveAlloc  *live;			/* own slot in shared memory, or a local dummy */
	/*
	 * The server total (budget.cpp): bytes this process reserved from the
	 * shared sum, always at least held once the process counts in it; more
	 * is reserved (slow path, through limit_at) when held would pass it, and
	 * given back when held falls below release_at.
	 */
	int64_t		reserved;
	int64_t		release_at;		/* INT64_MIN: not counted in the server total */
};

extern AllocCounters alloc MEMPROF_HIDDEN;

enum class InterceptState : int
{
	NotLoaded = 0,				/* not preloaded: nothing installed */
	Off,						/* memprof.intercept_allocator = off */
	Active,
	Failed,						/* tried and could not: see InterceptReason() */
};

/* Installs the interception (postmaster, at preload).  Never throws. */
void		InstallInterception(bool enabled);

extern InterceptState intercept_state MEMPROF_HIDDEN;

inline InterceptState
InterceptStatus()
{
	return intercept_state;
}
const char *InterceptReason();	/* "" when active */
const char *InterceptedSymbols(); /* e.g. "malloc calloc realloc free strdup" */

/* Recomputes limit_at from the limits and the window's low. */
inline void
UpdateLimit()
{
	int64_t		at = INT64_MAX;

	if (alloc.stmt_limit > 0)
		at = alloc.low + alloc.stmt_limit;
	if (alloc.backend_limit > 0 && alloc.backend_limit < at)
		at = alloc.backend_limit;
	if (alloc.release_at != INT64_MIN && alloc.reserved < at)
		at = alloc.reserved;
	alloc.limit_at = at;
}

/* Opens a new statement window at the current figure. */
inline void
OpenWindow()
{
	alloc.low = alloc.held;
	alloc.rise = 0;
	UpdateLimit();
}

/* Called when the process's own figures start (after fork). */
inline void
RestartProcessPeak()
{
	alloc.peak = alloc.held;
	alloc.live->held = alloc.held;
	alloc.live->peak = alloc.peak;
}

/* The refusal hook: set by the guards, consulted when held would pass limit_at. */
using RefuseFn = bool (*)(int64_t request);
extern RefuseFn refuse_hook MEMPROF_HIDDEN;

/* Called when held falls below release_at (budget.cpp gives reservation back). */
using ReleaseFn = void (*)();
extern ReleaseFn release_hook MEMPROF_HIDDEN;

}								/* namespace memprof */
