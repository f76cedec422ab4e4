/*
 * shmem.hpp: memprof's shared memory, sized once at postmaster start
 * (shmem_request_hook, PostgreSQL 15) and never grown.
 *
 *   slots[]    one per PGPROC (backends, auxiliary processes, prepared
 *              transactions), indexed by pgprocno; a process writes only
 *              its own slot, under a change counter (seqlock) so readers copy
 *              a consistent summary without a lock.
 *   history[]  ring of recently exited processes; under the memprof LWLock.
 *   buffers[]  request/response buffers for remote fetches; each has a
 *              spinlock for its state and a condition variable its requester
 *              sleeps on.
 *
 * Locking rules: a slot is written by its owner only; readers retry while
 * the change counter is odd or changed.  The history ring is written in
 * LW_EXCLUSIVE and read in LW_SHARED.  A buffer's state moves only under
 * its spinlock: FREE -> REQUESTED (requester) -> WRITING (target) -> DONE
 * (target) -> FREE (requester); a requester that gives up moves REQUESTED
 * or DONE to FREE itself and WRITING to ABANDONED, which the target turns
 * into FREE when it finishes.
 */
#pragma once

#include "pg.hpp"

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
	uint64		request_id;
	ConditionVariable cv;		/* the requester sleeps here */
	/* written by the target */
	bool		failed;
	char		error[128];
	int32		backend_type;
	TimestampTz started_at;
	TimestampTz taken_at;
	int32		rows;			/* rows written */
	int32		omitted;		/* contexts that did not fit */
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
};

/* GUCs, PGC_POSTMASTER */
extern int	fetch_buffers;
extern int	fetch_buffer_kb;
extern int	history_size;

/* NULL when memprof is not in shared_preload_libraries. */
extern SharedState *shared;

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
