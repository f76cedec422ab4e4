/*
 * shmem.hpp: memprof's shared memory, sized once at postmaster start
 * (shmem_request_hook, PostgreSQL 15) and never grown.
 *
 *   slots[]    one per PGPROC (backends, auxiliary processes, prepared
 *              transactions), indexed by PGPROC number; a process writes only
 *              its own slot, under a change counter (seqlock) so readers copy
 *              a consistent summary without a lock.
 *   history[]  ring of recently exited processes; under the memprof LWLock.
 *   buffers[]  request/response buffers for remote fetches; each has a
 *              spinlock for its state and a condition variable its requester
 *              sleeps on.  A tree larger than one buffer is sent in several
 *              rounds of the same buffer (see remote.hpp).
 *
 * Locking rules: a slot is written by its owner only; readers retry while
 * the change counter is odd or changed.  The history ring is written in
 * LW_EXCLUSIVE and read in LW_SHARED.  A buffer's state moves only under
 * its spinlock: FREE -> REQUESTED (requester) -> WRITING (target) -> DONE
 * (target) -> FREE (requester); a requester that gives up moves REQUESTED
 * or DONE to FREE itself and WRITING to ABANDONED, which the target turns
 * into FREE when it finishes.  Every round of a request gets a fresh
 * request_id; the target copies the id it answered into answer_id, and the
 * requester decodes only a buffer whose answer_id is its own round's id.
 *
 * A slot also counts the fetch signals memprof sent to its process
 * (signal_pid, signals_sent/posted, under signal_mutex): a report the
 * process starts while it has uncounted memprof signals is memprof's, even
 * when the request behind it was abandoned, and never goes to the server
 * log.
 */
#pragma once

#include "pg/pg.hpp"
#include "alloc/counters.hpp"

namespace memprof {

/* A process's published memory summary. */
struct ProcSummary
{
	int32		pid;
	int32		backend_type;	/* BackendType */
	Oid			dbid;
	Oid			userid;
	TimestampTz started_at;
	TimestampTz published_at;	/* 0: never published */
	int64		publications;
	int64		contexts;
	int64		total_bytes;
	int64		used_bytes;
	int64		peak_total_bytes;
	int64		peak_used_bytes;
	/* total bytes by top-level subtree */
	int64		top_self_bytes;	/* TopMemoryContext itself */
	int64		cache_bytes;	/* CacheMemoryContext */
	int64		message_bytes;	/* MessageContext */
	int64		portal_bytes;	/* TopPortalContext: portals and executors */
	int64		transaction_bytes;	/* TopTransactionContext */
	int64		other_bytes;	/* every other top-level subtree */
	/* from /proc/self/smaps_rollup at publication */
	int64		rss_bytes;
	int64		pss_bytes;
	int64		private_bytes;
	/*
	 * Bytes in use in malloc's heap (glibc mallinfo2: uordblks + hblkhd),
	 * read right after the context totals, in the same process, with no
	 * allocation between: -1 when unknown.
	 */
	int64		malloc_bytes;
};

struct ProcSlot
{
	pg_atomic_uint32 changecount;
	ProcSummary s;
	/* fetch signals sent to this slot's process (requesters write) */
	slock_t		signal_mutex;
	int32		signal_pid;		/* process the counts are for */
	uint64		signals_sent;	/* counted before each signal is sent */
	uint64		signals_posted;	/* counted once it has been sent */
	TimestampTz last_posted_at;
	/*
	 * The owner's allocator figures, stored by its malloc/free wrappers at
	 * every block (plain 64-bit stores, outside the seqlock): valid while
	 * s.pid is the owner's pid.
	 */
	LiveAlloc	live;
};

struct HistoryEntry
{
	ProcSummary s;
	TimestampTz exited_at;
};

enum class BufferState : int32
{
	Free = 0,
	Requested,
	Writing,
	Done,
	Abandoned,
};

struct FetchBuffer
{
	slock_t		mutex;
	BufferState state;
	int32		target_pid;
	int32		requester_pid;
	uint64		request_id;		/* this round's id, fresh every round */
	uint64		answer_id;		/* id of the round the data answers */
	ConditionVariable cv;		/* the requester sleeps here */
	/* set by the requester for each round */
	int32		start_row;		/* first row wanted (0: a fresh sample) */
	uint64		want_sample;	/* sample number of the earlier rounds */
	/* written by the target */
	bool		failed;
	bool		retry;			/* that sample is gone: start again */
	char		error[128];
	int32		backend_type;
	TimestampTz started_at;
	TimestampTz taken_at;
	uint64		sample_no;		/* the target's number for this sample */
	int32		total_rows;		/* rows in the whole sample */
	int32		rows;			/* rows in this round, from start_row */
	int32		omitted;		/* contexts past the fetch limit */
	int64		omitted_total, omitted_free, omitted_nblocks, omitted_chunks;
	Size		used;			/* bytes of data used */
	/* data[buffer_size] follows, MAXALIGNed */
};

struct SharedState
{
	LWLock	   *lock;
	uint32		nslots;
	uint32		history_size;
	uint64		history_next;	/* total ever written; next index = % size */
	uint32		nbuffers;
	Size		buffer_size;
	Size		buffer_stride;
	ConditionVariable pool_cv;	/* a buffer became free */
	pg_atomic_uint64 next_request_id;
	/* the server's memory budget (budget.cpp) */
	pg_atomic_uint64 budget_reserved;	/* bytes reserved by all counted processes */
	pg_atomic_uint64 budget_refusals;
	pg_atomic_uint64 budget_cancels;
	pg_atomic_uint64 budget_last_cancel;	/* TimestampTz of the last cancel */
	pg_atomic_uint32 budget_warned;	/* over memprof.total_memory_warning */
};

/* GUCs, PGC_POSTMASTER */
extern int	fetch_buffers;
extern int	fetch_buffer_kb;
extern int	history_size;

/* NULL when memprof is not in shared_preload_libraries. */
extern SharedState *shared MEMPROF_HIDDEN;

void		InstallShmemHooks();
ProcSlot   *SlotAt(uint32 index);
HistoryEntry *HistoryAt(uint32 index);
FetchBuffer *BufferAt(uint32 index);
char	   *BufferData(FetchBuffer *b);

/* Raises (throws) 55000 naming shared_preload_libraries when not loaded. */
void		RequireShared(const char *what);

/* Seqlock copy of a slot; false if it could not get a stable copy. */
bool		ReadSlot(const ProcSlot *slot, ProcSummary &out);

/* Writes this process's own slot. */
void		WriteOwnSlot(ProcSlot *slot, const ProcSummary &s);

}								/* namespace memprof */
